"""Timing the same tensor operation on each backend, for the Backends page."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends import available_backends, backend_named
from ..tensor_create import tensor

__all__ = ["OPERATIONS", "Timing", "timed_backends", "time_operation"]

# name -> (what it computes, the operation on two (n, n) tensors)
OPERATIONS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "map": ("a.relu()", lambda a, b: a.relu()),
    "zip": ("a + b", lambda a, b: a + b),
    "reduce": ("a.sum(0)", lambda a, b: a.sum(0)),
    "matmul": ("a @ b", lambda a, b: a @ b),
}


def timed_backends() -> dict[str, Any]:
    """The backends that can run here (the registry's), by the name the page shows: CUDA under
    numba's simulator is "cuda (simulator)", correct but far too slow to time against the
    others."""
    from numba import config

    found = {}
    for name in available_backends():
        label = f"{name} (simulator)" if name == "cuda" and config.ENABLE_CUDASIM else name
        found[label] = backend_named(name)
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


def time_operation(
    backend_name: str,
    backend: Any,
    operation: str,
    n: int,
    repeats: int = 3,
    budget: float = 5.0,
    seed: int = 0,
) -> Timing:
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
