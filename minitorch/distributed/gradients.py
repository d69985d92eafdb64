"""Gradients summed over the ranks in one flat buffer, and the check that all ranks start alike.

One `Allreduce` per step, whatever the number of parameters: each gradient is copied into its
slice of one buffer, the buffer is summed over the ranks, and each slice becomes the gradient
again. The buffer ends with one number per parameter, 1 where a rank has a gradient for it,
so that a parameter no rank touched keeps no gradient (the optimizer then skips it, as it
would in one process), and one more, 1 where a rank asks the job to stop.

On the CUDA backend the buffer lives in host memory unless the MPI library is CUDA-aware:
then it stays on the GPU and MPI reads device memory. `last_path` says which path ran.
"""

from __future__ import annotations

import functools
import os
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autodiff import no_grad
from ..tensor import Tensor
from .world import allreduce, broadcast, world

__all__ = ["allreduce_gradients", "check_same_start", "cuda_aware_mpi", "last_path"]

last_path = "none"  # "host" or "device": where the last gradient buffer was reduced


def allreduce_gradients(
    parameters: Sequence[Any], scale: float = 1.0, *, stop: bool = False
) -> bool:
    r"""Replace each parameter's `.grad` by $\text{scale} \cdot \sum_\text{ranks} \text{grad}$.

    Args:
        parameters: `Parameter`s whose `.value.grad` to reduce, in the same order on every
            rank.
        scale: multiplies every local gradient first (1 when each rank's loss is already its
            share of the global mean, as `ShardedTask` makes it).
        stop: this rank asks the job to stop (carried in the same buffer).

    Returns:
        Whether any rank passed `stop=True` (the same answer on every rank).
    """
    global last_path
    params = list(parameters)
    grads = [p.value.grad for p in params]
    on_gpu = any(g is not None and g.backend.cuda for g in grads)
    if on_gpu and cuda_aware_mpi():
        last_path = "device"
        return _reduce_on_device(params, grads, scale, stop)
    last_path = "host"
    sizes = [p.value.size for p in params]
    total = sum(sizes)
    buffer = np.zeros(total + len(params) + 1)  # [gradients..., has-gradient flags..., stop]
    buffer[-1] = float(stop)
    lo = 0
    for i, (g, n) in enumerate(zip(grads, sizes)):
        if g is not None:
            buffer[lo : lo + n] = g.to_numpy().reshape(n)
            buffer[total + i] = 1.0
        lo += n
    if scale != 1.0:
        buffer[:total] *= scale
    allreduce(buffer, f"the gradient all-reduce ({total} values)")
    lo = 0
    for i, (p, n) in enumerate(zip(params, sizes)):
        if buffer[total + i] > 0:
            value = p.value
            dtype = getattr(value, "dtype", np.float64)  # summed in float64, kept in its own
            grad = np.array(buffer[lo : lo + n], dtype=dtype)
            value.grad = Tensor.make(grad, value.shape, backend=value.backend)
        lo += n
    return bool(buffer[-1] > 0)


def _reduce_on_device(params: list[Any], grads: list[Any], scale: float, stop: bool) -> bool:
    """`allreduce_gradients` with the buffer in GPU memory (a CUDA-aware MPI reads it there)."""
    from numba import cuda

    sizes = [p.value.size for p in params]
    total = sum(sizes)
    buffer = cuda.to_device(np.zeros(total + len(params) + 1))
    flags = np.zeros(len(params) + 1)  # has-gradient flags, then stop
    flags[-1] = float(stop)
    lo = 0
    for i, (g, n) in enumerate(zip(grads, sizes)):
        if g is not None:
            if scale != 1.0:
                with no_grad():
                    g = g * scale  # on the GPU
            buffer[lo : lo + n].copy_to_device(g.contiguous()._tensor._storage[:n])
            flags[i] = 1.0
        lo += n
    buffer[total:].copy_to_device(flags)
    cuda.synchronize()  # MPI reads the buffer outside CUDA's streams
    allreduce(buffer, f"the gradient all-reduce on the GPU ({total} values)")
    flags = buffer[total:].copy_to_host()
    lo = 0
    for i, (p, n) in enumerate(zip(params, sizes)):
        if flags[i] > 0:
            storage = cuda.device_array(n, dtype=np.float64)
            storage.copy_to_device(buffer[lo : lo + n])
            p.value.grad = Tensor.make(storage, p.value.shape, backend=p.value.backend)
        lo += n
    return bool(flags[-1] > 0)


@functools.cache
def cuda_aware_mpi() -> bool:
    """Whether MPI can read GPU memory: `MINITORCH_CUDA_AWARE_MPI=1/0` decides if set, else
    the MPI 4.1 key `mpi_memory_alloc_kinds` (Open MPI and MPICH report `cuda` there when
    built with CUDA support)."""
    forced = os.environ.get("MINITORCH_CUDA_AWARE_MPI")
    if forced is not None:
        return forced.strip().lower() in ("1", "true", "yes")
    if world().size == 1:
        return False
    from mpi4py import MPI

    try:
        kinds = MPI.INFO_ENV.Get("mpi_memory_alloc_kinds") or ""
    except MPI.Exception:  # an MPI older than 4.1
        return False
    return "cuda" in kinds


def check_same_start(model: Any) -> None:
    """Start every rank from rank 0's random state; make sure `model` has rank 0's weights.

    Ranks that start alike stay alike: the same shuffles, the same dropout keys, the same
    updates. The random generators (Python's `random`, numpy's global one) are copied from
    rank 0, as a task need not have seeded them. Weights are only compared: ranks that built
    different models (other options, other data) would silently train N different ones, so
    that fails here, naming the first parameter that differs.

    Raises:
        RuntimeError: on the ranks whose weights differ from rank 0's.
    """
    params = list(model.named_parameters())
    _set_random_states(broadcast(_random_states(), "the random states"))
    values = [p.value.to_numpy().reshape(-1) for _, p in params]
    mine = np.concatenate(values) if values else np.zeros(0)
    theirs = broadcast(mine.copy(), "the start check")
    lo = 0
    for (name, _), v in zip(params, values):
        if not np.array_equal(v, theirs[lo : lo + v.size]):
            raise RuntimeError(
                f"rank {world().rank}'s initial value of parameter {name!r} differs from "
                f"rank 0's: every rank must build the model from the same options and seed"
            )
        lo += v.size


def _random_states() -> np.ndarray:
    """Python's `random` and numpy's global generator, as numbers (all exact in float64)."""
    version, words, gauss = random.getstate()  # words: 624 32-bit words and a position
    _, keys, pos, has_gauss, cached = np.random.get_state()
    python = [version, *words, gauss is not None, gauss or 0.0]
    return np.array([*python, *keys, pos, has_gauss, cached], dtype=np.float64)


def _set_random_states(values: np.ndarray) -> None:
    n = len(random.getstate()[1])
    version, words = int(values[0]), tuple(int(v) for v in values[1 : 1 + n])
    has_gauss, gauss = values[1 + n], float(values[2 + n])
    random.setstate((version, words, gauss if has_gauss else None))
    keys = values[3 + n : 3 + n + 624].astype(np.uint32)
    pos, has_numpy_gauss, cached = values[3 + n + 624 :]
    np.random.set_state(("MT19937", keys, int(pos), int(has_numpy_gauss), float(cached)))
