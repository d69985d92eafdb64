"""Writing result files so that a crash never leaves half of one behind."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "write_json_atomic",
    "strict_json",
    "atomic_file",
    "umask",
    "remove_stale_temporaries",
]


def strict_json(value: Any) -> Any:
    """`value` with every nan and ±inf (JSON has no such numbers) replaced by None (null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


@contextmanager
def atomic_file(target: Path) -> Iterator[str]:
    """A temporary path beside `target` to write, renamed over `target` once written whole.

    A reader sees the old file or the whole new one (`os.replace` is atomic). A write that
    fails (Ctrl-C included) removes its temporary file; one killed outright (`kill -9`)
    cannot, so each write first removes the temporary files of `target` whose writing
    process is gone. The file gets the permissions the user's umask allows.
    """
    target = Path(target)
    remove_stale_temporaries(target)
    # The writer's pid in the name tells a later write whether the writer is still alive.
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"
    )
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp's 0600 would make the file private
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write `data` to `path` so that a reader sees the old file or the whole new one
    (`atomic_file`).

    The file is strict JSON: a nan or ±inf among the values is written as null.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp, open(tmp, "w") as f:
        json.dump(strict_json(data), f, indent=2, allow_nan=False)
        f.write("\n")


def umask() -> int:
    """The process's umask (Linux reports it; elsewhere it is set and restored at once)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_stale_temporaries(target: Path) -> None:
    """Remove `target`'s temporary files (`.NAME.PID.XXXX.tmp`) left by dead processes.

    A live writer's file is left alone, so two processes saving to one folder do not
    interfere (a pid reused since is taken for alive: its file goes on a later save).
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[^.]+\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            match = pattern.fullmatch(entry.name)
            if match and not _alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, from an earlier write of this process that is not running now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process (or not a pid)
        return True
    return True
