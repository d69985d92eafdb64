"""How many threads the fast (numba) kernels run on, chosen for the machine as it is now.

numba starts one worker per core and its parallel loops wait for every worker, spinning. On a
machine whose cores are already busy with other processes, a worker that the OS has paused
holds up the whole loop: on a 2-core machine an MNIST epoch took 3.5 s idle, 5.9 s beside one
other busy process and 8-15 s at a load average of 3-4. With as many threads as there are idle
cores, and a single thread (no parallel regions at all) when none is idle, a busy machine
costs what its share of the CPU costs, not more.
"""

from __future__ import annotations

import math
import os

import numba

from . import fast_ops

__all__ = ["available_cores", "choose_threads", "set_threads"]


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def choose_threads(cores: int | None = None, load: float | None = None) -> int:
    """The threads that help: one per core that other processes leave idle, at least one.

    Args:
        cores: cores to share (default: `available_cores()`).
        load: processes running or waiting, from elsewhere (default: the 1-minute load
            average, taken before this process starts its own work; 0 where the OS has none).

    Returns:
        `cores - round(load)`, between 1 and `cores` and at most numba's thread pool size.
    """
    cores = available_cores() if cores is None else cores
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # Windows: no load average
            load = 0.0
    if cores < 1 or not math.isfinite(load) or load < 0:
        raise ValueError(f"choose_threads needs cores >= 1 and a load >= 0, got {cores}, {load}")
    idle = cores - math.floor(load + 0.5)
    return max(1, min(idle, cores, numba.config.NUMBA_NUM_THREADS))


def set_threads(n: int | None = None) -> int:
    """Run the fast kernels on `n` threads (None: `choose_threads()`); returns the number set.

    With one thread the kernels skip their parallel variants altogether (in every thread of
    the process), which also spares compiling them. numba's thread count itself belongs to the
    calling thread: call this in the thread that trains (the command line's `--threads`; the
    app's training thread).

    Raises:
        ValueError: `n` is not between 1 and numba's pool size (`NUMBA_NUM_THREADS`).
    """
    limit = numba.config.NUMBA_NUM_THREADS
    if n is None:
        n = choose_threads()
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= limit:
        raise ValueError(f"threads must be an integer from 1 to {limit} (numba's pool), got {n!r}")
    numba.set_num_threads(n)
    fast_ops.Kernel.serial_only = n == 1
    return n
