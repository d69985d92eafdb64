"""Warp shuffles for numba's CUDA simulator, which has none, so that kernels using them run
there from their real source (tests/conftest.py installs them when the simulator is on).

The simulator runs each CUDA thread of a block as a Python thread. `shfl_down_sync(mask,
value, delta)` is emulated as a GPU defines it: every lane named in `mask` publishes its
value, waits until all of them have, reads lane `lane + delta`'s (its own where that is past
the warp), and waits again until all have read, so the next shuffle cannot overwrite a value
still to be read. A lane of `mask` that never arrives (a shuffle inside a branch some lanes
skip: undefined on a GPU) is an error naming the warp and the lanes, after `TIMEOUT` seconds,
rather than a hang; so is reading from a lane outside `mask`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

WARP = 32
TIMEOUT = 20.0  # seconds a lane waits for the others of its mask before failing the kernel


class WarpDivergenceError(RuntimeError):
    """The lanes named in a shuffle's mask did not all reach it."""


@dataclass
class _Warp:
    """A warp's exchange: the values its lanes published, and a reusable barrier."""

    values: dict[int, Any] = field(default_factory=dict)
    arrived: set[int] = field(default_factory=set)
    generation: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)


_WARPS_LOCK = threading.Lock()


def _warp_of(thread: Any) -> tuple[_Warp, int, int]:
    """The calling simulator thread's warp exchange, lane, and the lanes its block has."""
    manager = thread._manager  # one per block being run
    warp_id, lane = divmod(thread.thread_id, WARP)
    with _WARPS_LOCK:
        warps = manager.__dict__.setdefault("_warps", {})
        warp = warps.setdefault(warp_id, _Warp())
    threads = 1
    for n in manager._block_dim:
        threads *= n
    lanes = min(WARP, threads - warp_id * WARP)
    return warp, lane, lanes


def _wait_for(warp: _Warp, lane: int, members: set[int], thread: Any, what: str) -> None:
    """A barrier over `members` (lanes of one warp), which fails after TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    with warp.condition:
        generation = warp.generation
        warp.arrived.add(lane)
        if warp.arrived >= members:
            warp.arrived = set()
            warp.generation += 1
            warp.condition.notify_all()
            return
        while warp.generation == generation:
            if getattr(thread, "abort", False):  # another thread of the block failed
                raise RuntimeError("abort flag set while waiting in a warp shuffle")
            if time.monotonic() > deadline:
                missing = sorted(members - warp.arrived)
                raise WarpDivergenceError(
                    f"{what}: lanes {missing} of warp {thread.thread_id // WARP} in block "
                    f"{tuple(thread.blockIdx)} never reached the shuffle their mask names"
                )
            warp.condition.wait(0.05)


def shfl_down_sync(self: Any, mask: int, value: Any, delta: int) -> Any:
    """`cuda.shfl_down_sync`: lane `i` gets lane `i + delta`'s value (its own past the warp)."""
    thread = threading.current_thread()
    warp, lane, lanes = _warp_of(thread)
    members = {i for i in range(lanes) if mask >> i & 1}
    if lane not in members:
        raise WarpDivergenceError(f"shfl_down_sync: lane {lane} is not in its mask {mask:#x}")
    warp.values[lane] = value
    _wait_for(warp, lane, members, thread, "shfl_down_sync")
    source = lane + delta
    if source >= WARP:
        result = value
    elif source not in members:
        raise WarpDivergenceError(
            f"shfl_down_sync: lane {lane} reads lane {source}, outside its mask {mask:#x}"
        )
    else:
        result = warp.values[source]
    _wait_for(warp, lane, members, thread, "shfl_down_sync (after reading)")
    return result


def install_warp_shuffles() -> None:
    """Teach the simulator's fake `cuda` module `shfl_down_sync` (idempotent)."""
    from numba.cuda.simulator.kernelapi import FakeCUDAModule

    FakeCUDAModule.shfl_down_sync = shfl_down_sync  # type: ignore[attr-defined]
