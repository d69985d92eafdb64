"""Where numba keeps minitorch's compiled kernels: a per-user cache folder, never the package.

numba's `cache=True` writes compiled code next to the source file by default, into the
package's own `__pycache__`. For an installed package that is wrong: pip does not know those
files, so uninstalling leaves `site-packages/minitorch/__pycache__/` behind, and that leftover
folder then shadows a later editable install as an empty namespace package (`minitorch` with no
`__all__`, no `FastBackend`). So the kernels of every module in this package are cached in

* `$NUMBA_CACHE_DIR` when it is set (numba's own override, honoured as numba does), else
* the per-user cache folder: `$XDG_CACHE_HOME/minitorch/numba` (`~/.cache/minitorch/numba`),
  `~/Library/Caches/minitorch/numba` on macOS, `%LOCALAPPDATA%\\minitorch\\numba` on Windows,
* or, where that folder cannot be written, `minitorch-<user>/numba` in the temporary folder.

Inside it, each source folder gets its own subfolder (numba's `<folder>_<sha1 of its path>`),
so an installed copy and a checkout never share compiled code, and each source file's content
hash is checked on load, so an edited file never runs stale code.

numba picks a cache folder when a function is decorated, through a list of "locators" it tries
in turn; `route_kernel_caches` puts ours first. It claims only files inside this package, so
other numba code in the same process keeps numba's defaults.
"""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from numba.core import caching

__all__ = ["PACKAGE_DIR", "UserCacheLocator", "cache_dir", "route_kernel_caches"]

PACKAGE_DIR = Path(__file__).resolve().parent


def _user_cache_home() -> Path:
    """The platform's per-user cache folder."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def cache_dir() -> Path:
    """The folder numba caches minitorch's kernels in (see the module doc for the order).

    Read at each call, so a changed `NUMBA_CACHE_DIR` or `XDG_CACHE_HOME` applies to kernels
    defined afterwards. The folder is created if missing.

    Returns:
        An absolute path that this process can write to.
    """
    override = os.environ.get("NUMBA_CACHE_DIR")
    if override:
        return Path(override).expanduser().absolute()
    home = _user_cache_home() / "minitorch" / "numba"
    if _writable(home):
        return home.absolute()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"minitorch-{user}" / "numba"


def _in_package(py_file: str) -> bool:
    try:
        return Path(py_file).resolve().is_relative_to(PACKAGE_DIR)
    except OSError:
        return False


class UserCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):  # type: ignore[misc]
    """numba cache locator for this package's source files: `cache_dir()/<folder>_<hash>`."""

    def __init__(self, py_func: Any, py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = str(cache_dir() / self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self) -> str:
        return self._cache_path

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> UserCacheLocator | None:
        if not _in_package(py_file):
            return None  # someone else's numba code: numba's own locators decide
        return super().from_function(py_func, py_file)


def route_kernel_caches() -> None:
    """Make numba cache this package's kernels under `cache_dir()`, never in the package.

    Puts `UserCacheLocator` first in numba's locator list, for the CPU target and, when numba's
    CUDA target is already imported, for it too. Call it before decorating a kernel with
    `cache=True` (numba picks the folder at decoration); calling it again does nothing new.
    """
    impls = [caching.CacheImpl]
    cuda_caching = sys.modules.get("numba.cuda.core.caching")  # numba-cuda's own copy
    if cuda_caching is not None:
        impls.append(cuda_caching.CacheImpl)
    for impl in impls:
        if UserCacheLocator not in impl._locator_classes:
            impl._locator_classes = [UserCacheLocator, *impl._locator_classes]
