r"""Strided storage: how a flat array of floats is read as a tensor of any shape.

A tensor's elements live in one flat `storage` of float64 (the default) or float32 values:
the storage's dtype is the tensor's. Its `shape` says how many entries
each dimension has; its `strides` say how far apart, in storage, two neighbours along each
dimension are. Element `index` lives at position $\sum_i index_i \cdot strides_i$.
Permuting dimensions only permutes `shape` and `strides`: no data moves.

The index helpers (`index_to_position`, `to_index`, `broadcast_index`) are plain loops over
integer numpy arrays with no Python objects, so the same source compiles unchanged with
`numba.njit` (and `cuda.jit(device=True)`) for the fast backends.
"""

from __future__ import annotations

import math
import random
from typing import Iterable, Sequence, Union

import numpy as np
import numpy.typing as npt

__all__ = [
    "IndexingError",
    "DType",
    "DTypeLike",
    "float32",
    "float64",
    "as_dtype",
    "Storage",
    "OutIndex",
    "Index",
    "Shape",
    "Strides",
    "UserIndex",
    "UserShape",
    "UserStrides",
    "index_to_position",
    "to_index",
    "broadcast_index",
    "shape_broadcast",
    "strides_from_shape",
    "dim_index",
    "TensorData",
]

MAX_DIMS = 32


class IndexingError(RuntimeError):
    """An index or a shape that does not fit the tensor it is used with."""


DType = np.dtype
DTypeLike = np.dtype | type | str

float32: DType = np.dtype(np.float32)
"""Single precision: what PyTorch trains in; half the memory and about twice the speed."""
float64: DType = np.dtype(np.float64)
"""Double precision: the default (gradient checks and the course's tests assume it)."""
_DTYPES = (float64, float32)


def as_dtype(dtype: DTypeLike) -> DType:
    """`dtype` as `float32` or `float64`: accepts those, numpy's types or dtypes, and names.

    Raises:
        TypeError: naming the value, for anything else (integers, float16, ...).
    """
    if dtype is float64 or dtype is float32:
        return dtype
    try:
        found = np.dtype(dtype)
    except TypeError:
        found = None
    if found not in _DTYPES:
        raise TypeError(f"tensors are float32 or float64, not {dtype!r}")
    return found


Storage = npt.NDArray[np.floating]
OutIndex = npt.NDArray[np.int32]
Index = npt.NDArray[np.int32]
Shape = npt.NDArray[np.int32]
Strides = npt.NDArray[np.int32]

UserIndex = Sequence[int]
UserShape = Sequence[int]
UserStrides = Sequence[int]


def index_to_position(index: Index, strides: Strides) -> int:
    r"""Storage position of a multidimensional index: $\sum_i index_i \cdot strides_i$.

    Args:
        index: one entry per dimension (it may be longer, as a kernel's fixed-size index
            buffer is: only the first `len(strides)` entries are read).
        strides: the tensor's strides.

    Returns:
        The position in storage.
    """
    position = 0
    for i in range(len(strides)):
        position += index[i] * strides[i]
    return position


def to_index(ordinal: int, shape: Shape, out_index: OutIndex) -> None:
    """Write into `out_index` the index of the `ordinal`-th element in row-major order.

    The inverse of numbering the elements 0 .. size-1 with the last dimension fastest, so
    `ordinal` walks every index of `shape` exactly once, whatever the tensor's strides.

    Args:
        ordinal: a number in [0, prod(shape)).
        shape: the tensor's shape.
        out_index: filled with one entry per dimension.
    """
    rest = ordinal
    for i in range(len(shape) - 1, -1, -1):
        out_index[i] = rest % shape[i]
        rest = rest // shape[i]


def broadcast_index(big_index: Index, big_shape: Shape, shape: Shape, out_index: OutIndex) -> None:
    """Map an index of the broadcast shape `big_shape` to the index it reads in `shape`.

    Numpy's rule, read backwards: `shape` is aligned with the trailing dimensions of
    `big_shape`; a dimension of size 1 is read at 0 whatever the big index says.

    Args:
        big_index: an index into `big_shape`.
        big_shape: the broadcast (larger) shape.
        shape: the smaller shape, broadcastable to `big_shape`.
        out_index: filled with the matching index into `shape`.
    """
    offset = len(big_shape) - len(shape)
    for i in range(len(shape)):
        if shape[i] == 1:
            out_index[i] = 0
        else:
            out_index[i] = big_index[i + offset]


def shape_broadcast(shape1: UserShape, shape2: UserShape) -> tuple[int, ...]:
    """The shape two tensors broadcast to, by numpy's rules.

    Shapes are aligned on their last dimension; missing leading dimensions count as 1, and
    each pair of sizes must be equal or contain a 1.

    Args:
        shape1: the first shape.
        shape2: the second shape.

    Returns:
        The broadcast shape.

    Raises:
        IndexingError: naming both shapes, when they do not broadcast.
    """
    n = max(len(shape1), len(shape2))
    a = (1,) * (n - len(shape1)) + tuple(shape1)
    b = (1,) * (n - len(shape2)) + tuple(shape2)
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(int(x))
        elif x == 1:
            out.append(int(y))
        else:
            raise IndexingError(
                f"shapes {tuple(shape1)} and {tuple(shape2)} do not broadcast "
                f"(size {x} against {y})"
            )
    return tuple(out)


def dim_index(dim: object, shape: UserShape) -> int:
    """`dim` as a dimension of `shape`, counted from the end when negative (as in PyTorch).

    Raises:
        TypeError: when `dim` is not an integer (`1.5`, `"0"`, `True`): a float would
            otherwise fail deep inside a kernel, or be silently truncated.
        IndexingError: naming `dim` and `shape` and the valid range, when out of range.
    """
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dimension must be an integer, got {dim!r} for shape {tuple(shape)}")
    n = len(shape)
    if not -n <= dim < n:
        raise IndexingError(
            f"dimension {dim} is out of range for shape {tuple(shape)} (expected {-n} to {n - 1})"
        )
    return int(dim) % n


def strides_from_shape(shape: UserShape) -> tuple[int, ...]:
    """Contiguous (row-major) strides: the last dimension has stride 1.

    Args:
        shape: the tensor's shape.

    Returns:
        Strides such that neighbours along the last dimension are adjacent in storage.
    """
    strides = []
    step = 1
    for size in reversed(tuple(shape)):
        strides.append(step)
        step *= int(size)
    return tuple(reversed(strides))


_Layout = tuple[tuple[int, ...], tuple[int, ...], int, int, Shape, Strides, int, bool]

# Validated layouts by `(shape, strides)` as given: tensors are created for every operation,
# mostly with a handful of recurring shapes, and checking a layout and building its index
# arrays costs more than the kernel of a small operation. The cached index arrays are
# shared between tensors, so nothing may write to them.
_LAYOUTS: dict[tuple[object, object], _Layout] = {}
_MAX_LAYOUTS = 10_000


def cached_layout(shape: UserShape, strides: UserStrides | None = None) -> _Layout:
    """The checked layout of `shape` and `strides` (see `_layout`), from the cache when it
    has been seen (every `TensorData` is built through it; kernels' glue reads index arrays
    of layouts no tensor has, such as a matrix read as a batch of one, from it too)."""
    try:
        return _LAYOUTS[(shape, strides)]
    except (KeyError, TypeError):  # a new layout, or one given as lists
        layout = _layout(shape, strides)
        hashable = type(shape) is tuple and type(strides) in (tuple, type(None))
        if len(_LAYOUTS) < _MAX_LAYOUTS and hashable:
            _LAYOUTS[(shape, strides)] = layout
        return layout


def _layout(shape: UserShape, strides: UserStrides | None) -> _Layout:
    """Check a shape and its strides; return them with size, dims, index arrays, the last
    storage position they read and whether they are row-major (size-1 dimensions aside)."""
    shape = tuple(int(s) for s in shape)
    strides = strides_from_shape(shape) if strides is None else tuple(int(s) for s in strides)
    if len(strides) != len(shape):
        raise IndexingError(f"strides {strides} and shape {shape} have different lengths")
    if len(shape) > MAX_DIMS:
        raise IndexingError(f"shape {shape} has more than {MAX_DIMS} dimensions")
    if any(s < 0 for s in shape) or any(s < 0 for s in strides):
        raise IndexingError(f"shape {shape} and strides {strides} must be non-negative")
    last = sum((n - 1) * s for n, s in zip(shape, strides))
    row_major = strides_from_shape(shape)
    contiguous = all(n == 1 or s == e for n, s, e in zip(shape, strides, row_major))
    return (
        shape,
        strides,
        math.prod(shape),
        len(shape),
        np.array(shape, dtype=np.int32),
        np.array(strides, dtype=np.int32),
        last,
        contiguous,
    )


class TensorData:
    """A flat float64 or float32 storage viewed through a shape and strides.

    Args:
        storage: the flat values (a float64 or float32 array, numpy's or a device
            backend's, is used as is, without a copy; anything else becomes float64).
        shape: the size of each dimension.
        strides: the storage step of each dimension; contiguous row-major by default.

    Raises:
        IndexingError: when strides and shape differ in length, or the layout reads past
            the end of storage.
    """

    __slots__ = (
        "_storage",
        "shape",
        "strides",
        "size",
        "dims",
        "_shape",
        "_strides",
        "_contiguous",
    )

    def __init__(
        self,
        storage: Union[Sequence[float], Storage],
        shape: UserShape,
        strides: UserStrides | None = None,
    ) -> None:
        dtype = getattr(storage, "dtype", None)
        # an array: no copy (`is not None` first: numpy reads `dtype == None` as float64)
        if dtype is float64 or dtype is float32 or (dtype is not None and dtype in _DTYPES):
            self._storage = storage
        else:
            self._storage = np.array(storage, dtype=np.float64)
        try:
            layout = _LAYOUTS[(shape, strides)]
        except (KeyError, TypeError):  # a new layout, or one given as lists
            layout = cached_layout(shape, strides)
        (
            self.shape,
            self.strides,
            self.size,
            self.dims,
            self._shape,
            self._strides,
            last,
            self._contiguous,
        ) = layout
        if self.size > 0 and last >= len(self._storage):
            raise IndexingError(
                f"shape {self.shape} with strides {self.strides} reads position {last}, "
                f"past the end of a storage of {len(self._storage)} values"
            )

    @classmethod
    def row_major(cls, storage: Storage, shape: tuple[int, ...]) -> TensorData:
        """The row-major layout of `shape` over `storage`, an array of exactly that many
        values the caller has just allocated (a kernel's output): the constructor without
        its checks, which such storage cannot fail, on the path of every operation."""
        try:
            layout = _LAYOUTS[(shape, None)]
        except KeyError:
            return cls(storage, shape)
        data = object.__new__(cls)
        data._storage = storage
        (
            data.shape,
            data.strides,
            data.size,
            data.dims,
            data._shape,
            data._strides,
            _,
            data._contiguous,
        ) = layout
        return data

    @property
    def dtype(self) -> DType:
        """The storage's dtype, `float64` or `float32`."""
        return self._storage.dtype

    @staticmethod
    def shape_broadcast(shape_a: UserShape, shape_b: UserShape) -> tuple[int, ...]:
        """The shape two tensors broadcast to (see `shape_broadcast`)."""
        return shape_broadcast(shape_a, shape_b)

    def is_contiguous(self) -> bool:
        """Whether the layout is row-major with no gaps, so `storage` reads in index order.

        Dimensions of size 1 are never stepped along, so their stride does not matter.
        """
        return self._contiguous

    def index(self, index: Union[int, UserIndex, Index]) -> int:
        """Storage position of `index` (an int for 1-D tensors, else one int per dimension).

        Raises:
            IndexingError: naming the index and the shape, when it has the wrong length or
                an entry out of range.
        """
        key = (index,) if isinstance(index, (int, np.integer)) else tuple(index)
        if len(key) != self.dims:
            raise IndexingError(
                f"index {key} has {len(key)} entries but the shape {self.shape} has "
                f"{self.dims} dimensions"
            )
        for i, (k, n) in enumerate(zip(key, self.shape)):
            if not 0 <= k < n:
                raise IndexingError(
                    f"index {key} is out of range for shape {self.shape} (dimension {i})"
                )
        return int(index_to_position(np.array(key, dtype=np.int64), self._strides))

    def indices(self) -> Iterable[UserIndex]:
        """Every index of the shape, in row-major order."""
        out_index = np.zeros(self.dims, dtype=np.int32)
        for ordinal in range(self.size):
            to_index(ordinal, self._shape, out_index)
            yield tuple(int(i) for i in out_index)

    def sample(self) -> UserIndex:
        """A random index (from Python's `random`, so `random.seed` makes it repeatable)."""
        return tuple(random.randint(0, n - 1) for n in self.shape)

    def get(self, key: Union[int, UserIndex]) -> float:
        """The value at index `key`."""
        return float(self._storage[self.index(key)])

    def set(self, key: Union[int, UserIndex], val: float) -> None:
        """Write `val` at index `key` (into the shared storage)."""
        self._storage[self.index(key)] = val

    def tuple(self) -> tuple[Storage, Shape, Strides]:
        """`(storage, shape, strides)` as numpy arrays: what the kernels take."""
        return (self._storage, self._shape, self._strides)

    def permute(self, *order: int) -> TensorData:
        """The same storage with dimensions reordered: dimension `i` of the result is
        dimension `order[i]` of this tensor.

        Raises:
            IndexingError: when `order` is not a permutation of `range(dims)`.
        """
        if sorted(order) != list(range(self.dims)):
            raise IndexingError(
                f"permute order {tuple(order)} is not a permutation of the "
                f"{self.dims} dimensions of shape {self.shape}"
            )
        return TensorData(
            self._storage,
            tuple(self.shape[i] for i in order),
            tuple(self.strides[i] for i in order),
        )

    def to_string(self, indent: int = 0) -> str:
        """The values as nested brackets, one innermost row per line.

        Args:
            indent: extra spaces before continuation lines (to align under a prefix).
        """
        if self.dims == 0:
            return f"{float(self._storage[0]):.4f}"
        return _format(self, (), indent=indent + 1)


def _format(data: TensorData, prefix: tuple[int, ...], indent: int) -> str:
    """Nested-bracket text for the sub-tensor at `prefix` (one bracket level per dimension)."""
    depth = len(prefix)
    if depth == data.dims - 1:
        values = (data.get(prefix + (i,)) for i in range(data.shape[depth]))
        return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"
    sep = "," + "\n" * (data.dims - depth - 1) + " " * (indent + depth)
    parts = (_format(data, prefix + (i,), indent) for i in range(data.shape[depth]))
    return "[" + sep.join(parts) + "]"
