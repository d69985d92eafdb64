"""Timing the same tensor operation on each backend, for the Backends page."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import tensor_ops
from ..tensor_create import tensor

__all__ = ["OPERATIONS", "Timing", "available_backends", "time_operation"]

# name -> (what it computes, the operation on two (n, n) tensors)
OPERATIONS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "map": ("a.relu()", lambda a, b: a.relu()),
    "zip": ("a + b", lambda a, b: a + b),
    "reduce": ("a.sum(0)", lambda a, b: a.sum(0)),
    "matmul": ("a @ b", lambda a, b: a @ b),
}


def available_backends() -> dict[str, Any]:
    """The backends this installation has: simple always; fast and CUDA when present.

    CUDA counts when `minitorch.cuda_ops` finds a GPU (or numba's simulator, listed as
    "cuda (simulator)": correct, but far too slow to time against the others).
    """
    import minitorch

    found: dict[str, Any] = {"simple": tensor_ops.SimpleBackend}
    fast = getattr(minitorch, "FastBackend", None)
    if fast is not None:
        found["fast"] = fast
    try:
        from ..cuda_ops import SIMULATED, cuda_backend

        cuda = cuda_backend()
    except ImportError:  # numba-cuda missing, or no GPU (its error is an ImportError too)
        return found
    found["cuda (simulator)" if SIMULATED else "cuda"] = cuda
    return found


@dataclass(frozen=True)
class Timing:
    """The best of `repeats` runs of one operation on one backend.

    Attributes:
        seconds: the fastest run (after one untimed warm-up call, which compiles numba code).
        result: the output as a numpy array, to compare backends.
    """

    backend: str
    operation: str
    n: int
    seconds: float
    repeats: int
    result: np.ndarray


def time_operation(backend_name: str, backend: Any, operation: str, n: int, repeats: int = 3,
                   budget: float = 5.0, seed: int = 0) -> Timing:
    """Time `OPERATIONS[operation]` on two random (n, n) tensors of `backend`.

    Stops repeating once `budget` seconds have been spent (at least one timed run).
    """
    rng = np.random.default_rng(seed)
    a = tensor(rng.standard_normal((n, n)), backend=backend)
    b = tensor(rng.standard_normal((n, n)), backend=backend)
    fn = OPERATIONS[operation][1]
    result = fn(a, b)  # warm-up: numba compiles on first use
    best, runs, spent = float("inf"), 0, 0.0
    while runs < repeats and (runs == 0 or spent < budget):
        start = time.perf_counter()
        result = fn(a, b)
        elapsed = time.perf_counter() - start
        best, runs, spent = min(best, elapsed), runs + 1, spent + elapsed
    return Timing(backend_name, operation, n, best, runs, result.to_numpy())
