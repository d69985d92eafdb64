"""Making tensors: from nested lists or numpy arrays, of zeros or ones, or of random values.

Every constructor takes a `dtype`, `float64` (the default) or `float32`.
"""

from __future__ import annotations

import math
import os
import random
from typing import Any, Sequence

import numpy as np

from .tensor import Tensor
from .tensor_data import DType, DTypeLike, UserShape, as_dtype, float64
from .tensor_ops import SimpleBackend, TensorBackend

__all__ = ["tensor", "zeros", "ones", "rand"]


def tensor(
    data: Any,
    backend: TensorBackend = SimpleBackend,
    requires_grad: bool = False,
    dtype: DTypeLike = float64,
) -> Tensor:
    """A tensor holding a copy of `data`.

    Args:
        data: nested lists (or tuples) of numbers, a numpy array, or a single number
            (which gives shape `(1,)`).
        backend: the kernels to compute with.
        requires_grad: make it a leaf that collects `.grad`.
        dtype: `float64` or `float32` (a numpy array's own dtype is not kept: pass it).

    Returns:
        A tensor of the data's shape.

    Raises:
        ValueError: for a ragged nested list, naming where it breaks.
        TypeError: for a dtype other than float32 and float64.
    """
    dtype = as_dtype(dtype)
    if isinstance(data, np.ndarray):
        values = np.array(data, dtype=dtype).ravel()
        shape: tuple[int, ...] = data.shape if data.ndim > 0 else (1,)
    elif isinstance(data, (list, tuple)):
        try:  # numpy walks the lists in C: the common case, a few microseconds
            array = np.array(data, dtype=dtype)
        except (ValueError, TypeError):
            array = None
        if array is not None:
            values, shape = array.ravel(), array.shape
        else:  # ragged, or not numbers: walk it ourselves to say where it breaks
            flat, shape = _flatten(data)
            values = np.array(flat, dtype=dtype)
    else:
        values, shape = np.array([float(data)], dtype), (1,)
    return Tensor.make(values, shape, backend=backend).requires_grad_(requires_grad)


def _flatten(data: Sequence[Any]) -> tuple[list[float], tuple[int, ...]]:
    """Row-major values and shape of a nested list; every sibling must have the same shape."""
    shape = []
    probe: Any = data
    while isinstance(probe, (list, tuple)):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    flat: list[float] = []

    def walk(node: Any, path: tuple[int, ...]) -> None:
        depth = len(path)
        if depth == len(shape):
            if isinstance(node, (list, tuple)):
                raise ValueError(
                    f"ragged nested list: element {list(path)} is a list, but the first "
                    f"element at that depth is a number (shape {tuple(shape)})"
                )
            flat.append(float(node))
            return
        if not isinstance(node, (list, tuple)) or len(node) != shape[depth]:
            found = (
                f"has {len(node)} entries"
                if isinstance(node, (list, tuple))
                else f"is the number {node!r}"
            )
            raise ValueError(
                f"ragged nested list: element {list(path)} {found}, but the first element "
                f"at that depth has {shape[depth]} entries (shape {tuple(shape)})"
            )
        for i, child in enumerate(node):
            walk(child, path + (i,))

    walk(data, ())
    return flat, tuple(shape)


def zeros(
    shape: UserShape, backend: TensorBackend = SimpleBackend, dtype: DTypeLike = float64
) -> Tensor:
    """A constant tensor of zeros.

    Raises:
        ValueError, MemoryError: for a shape that cannot be allocated (see `_size`).
    """
    dtype = as_dtype(dtype)
    size = _size(shape, dtype)
    return Tensor.make(backend.ops.zeros_storage(size, dtype), tuple(shape), backend=backend)


def ones(
    shape: UserShape, backend: TensorBackend = SimpleBackend, dtype: DTypeLike = float64
) -> Tensor:
    """A constant tensor of ones.

    Raises:
        ValueError, MemoryError: for a shape that cannot be allocated (see `_size`).
    """
    dtype = as_dtype(dtype)
    size = _size(shape, dtype)
    storage = backend.ops.full_storage(size, 1.0, dtype)
    return Tensor.make(storage, tuple(shape), backend=backend)


def rand(
    shape: UserShape,
    backend: TensorBackend = SimpleBackend,
    requires_grad: bool = False,
    dtype: DTypeLike = float64,
) -> Tensor:
    """A tensor of uniform values in [0, 1).

    numpy draws them, from a generator seeded by one draw of Python's `random`: seeding
    `random` repeats them.

    Raises:
        ValueError, MemoryError: for a shape that cannot be allocated (see `_size`).
    """
    dtype = as_dtype(dtype)
    size = _size(shape, dtype)
    values = np.random.default_rng(random.getrandbits(64)).random(size, dtype)
    return Tensor.make(values, tuple(shape), backend=backend).requires_grad_(requires_grad)


_INT64_MAX = 2**63 - 1


def _size(shape: UserShape, dtype: DType) -> int:
    """The number of elements of `shape`, refused at once where it cannot be allocated.

    Raises:
        ValueError: naming the shape, for a size that is negative, not an integer, or past
            what an int64 counts.
        MemoryError: naming the shape and both sizes, when its storage would need more
            bytes than this machine's memory.
    """
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"shape {tuple(shape)!r} needs non-negative integer sizes")
    size = math.prod(int(n) for n in shape)
    if size > _INT64_MAX:
        raise ValueError(
            f"shape {tuple(shape)} has {size} elements, more than an int64 index can reach"
        )
    need = size * dtype.itemsize
    have = _memory_bytes()
    if have is not None and need > have:
        raise MemoryError(
            f"shape {tuple(shape)} in {dtype} needs {need / 2**30:.1f} GiB, more than this "
            f"machine's {have / 2**30:.1f} GiB of memory"
        )
    return size


def _memory_bytes() -> int | None:
    """Physical memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
