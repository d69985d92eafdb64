"""Making tensors: from nested lists or numpy arrays, of zeros, or of random values."""

from __future__ import annotations

import math
import random
from typing import Any, Sequence

import numpy as np

from .tensor import Tensor
from .tensor_data import UserShape
from .tensor_ops import SimpleBackend, TensorBackend

__all__ = ["tensor", "zeros", "rand"]


def tensor(
    data: Any, backend: TensorBackend = SimpleBackend, requires_grad: bool = False
) -> Tensor:
    """A tensor holding a copy of `data`.

    Args:
        data: nested lists (or tuples) of numbers, a numpy array, or a single number
            (which gives shape `(1,)`).
        backend: the kernels to compute with.
        requires_grad: make it a leaf that collects `.grad`.

    Returns:
        A float64 tensor of the data's shape.

    Raises:
        ValueError: for a ragged nested list, naming where it breaks.
    """
    if isinstance(data, np.ndarray):
        values = np.array(data, dtype=np.float64).ravel()
        shape: tuple[int, ...] = data.shape if data.ndim > 0 else (1,)
    elif isinstance(data, (list, tuple)):
        try:  # numpy walks the lists in C: the common case, a few microseconds
            array = np.array(data, dtype=np.float64)
        except (ValueError, TypeError):
            array = None
        if array is not None:
            values, shape = array.ravel(), array.shape
        else:  # ragged, or not numbers: walk it ourselves to say where it breaks
            flat, shape = _flatten(data)
            values = np.array(flat, dtype=np.float64)
    else:
        values, shape = np.array([float(data)]), (1,)
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


def zeros(shape: UserShape, backend: TensorBackend = SimpleBackend) -> Tensor:
    """A constant tensor of zeros."""
    size = math.prod(shape)
    return Tensor.make(backend.ops.zeros_storage(size), tuple(shape), backend=backend)


def rand(
    shape: UserShape, backend: TensorBackend = SimpleBackend, requires_grad: bool = False
) -> Tensor:
    """A tensor of uniform values in [0, 1) from Python's `random` (seed it to repeat)."""
    size = math.prod(shape)
    values = np.array([random.random() for _ in range(size)])
    return Tensor.make(values, tuple(shape), backend=backend).requires_grad_(requires_grad)
