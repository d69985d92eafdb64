"""Backends: a small table of kernels, and the glue around them written once.

A backend supplies four low-level kernels over raw `(storage, shape, strides)` triples:

* `map_kernel(fn)`:    `out[i] = fn(a[broadcast(i)])`
* `zip_kernel(fn)`:    `out[i] = fn(a[broadcast(i)], b[broadcast(i)])`
* `reduce_kernel(fn)`: `out[.., 0, ..] = fold(fn, out[.., 0, ..], a[.., :, ..])` along one dimension
* `matrix_multiply_kernel`: `out[n] = a[n] @ b[n]` for 3-D operands, broadcast over `n`

`TensorOps` turns them into tensor operations: it checks and broadcasts shapes, allocates the
output, and promotes 2-D matrix products to 3-D. Faster backends subclass it and replace only
the kernels. `TensorBackend` names the operations a `Tensor` calls (`add_zip`, `exp_map`, ...).
"""

from __future__ import annotations

import functools
import math
import operator
from typing import TYPE_CHECKING, Any, Callable, Protocol

import numpy as np

from . import operators
from .tensor_data import (
    DType,
    IndexingError,
    Shape,
    Storage,
    Strides,
    TensorData,
    cached_layout,
    dim_index,
    float64,
    shape_broadcast,
)

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "MapKernel",
    "ZipKernel",
    "ReduceKernel",
    "MatMulKernel",
    "TensorOps",
    "TensorBackend",
    "copy_to_backend",
    "SimpleOps",
    "SimpleBackend",
    "tensor_map",
    "tensor_zip",
    "tensor_reduce",
    "tensor_matrix_multiply",
]


class MapKernel(Protocol):
    def __call__(
        self,
        out: Storage,
        out_shape: Shape,
        out_strides: Strides,
        in_storage: Storage,
        in_shape: Shape,
        in_strides: Strides,
    ) -> None: ...


class ZipKernel(Protocol):
    def __call__(
        self,
        out: Storage,
        out_shape: Shape,
        out_strides: Strides,
        a_storage: Storage,
        a_shape: Shape,
        a_strides: Strides,
        b_storage: Storage,
        b_shape: Shape,
        b_strides: Strides,
    ) -> None: ...


class ReduceKernel(Protocol):
    def __call__(
        self,
        out: Storage,
        out_shape: Shape,
        out_strides: Strides,
        a_storage: Storage,
        a_shape: Shape,
        a_strides: Strides,
        reduce_dim: int,
    ) -> None: ...


MatMulKernel = ZipKernel  # the same nine arguments, all 3-D


class TensorOps:
    """The glue shared by every backend. Subclasses provide the kernels only."""

    # Where storage lives: "host" (numpy arrays) or "cuda" (GPU memory; then the hooks below
    # differ). Operands on different devices meet through `ToBackend` at the Tensor level.
    device: str = "host"

    # Storage hooks: how this backend allocates storage and moves values between it and the
    # host. Allocators take a dtype (`float64` or `float32`) after the size. The CPU backends
    # keep numpy arrays, so these are numpy's own functions or near enough (nothing extra on
    # their hot path). A device backend replaces all five.
    zeros_storage = staticmethod(np.zeros)  # (size, dtype) -> storage of zeros
    output_storage = staticmethod(np.empty)  # (size, dtype) -> storage a kernel overwrites
    to_host = staticmethod(np.array)  # storage -> a new host numpy array, same dtype

    @staticmethod
    def full_storage(size: int, value: float, dtype: DType = float64) -> Storage:
        """Storage holding `value` everywhere (quicker than np.full at the sizes reduce makes)."""
        storage = np.empty(size, dtype)
        storage[:] = value
        return storage

    @staticmethod
    def to_storage(values: Any) -> Storage:
        """Host values (a float64 or float32 array keeps its dtype) as this backend's storage
        (`Tensor.make` calls it on device backends only)."""
        return values

    @staticmethod
    def map_kernel(fn: Callable[[float], float]) -> MapKernel:
        raise NotImplementedError("a backend must provide map_kernel")

    @staticmethod
    def zip_kernel(fn: Callable[[float, float], float]) -> ZipKernel:
        raise NotImplementedError("a backend must provide zip_kernel")

    @staticmethod
    def reduce_kernel(fn: Callable[[float, float], float]) -> ReduceKernel:
        raise NotImplementedError("a backend must provide reduce_kernel")

    @staticmethod
    def matrix_multiply_kernel(*args: Any) -> None:
        raise NotImplementedError("a backend must provide matrix_multiply_kernel")

    # Optional: a convolution kernel over 4-D operands, called as
    # `conv_kernel(*out.tuple(), *input.tuple(), *weight.tuple(), reverse)` into a contiguous
    # `out` of zeros (see `minitorch.conv._convolve` for the math). None: `conv` composes
    # convolution from matrix products on this backend.
    conv_kernel: Callable[..., None] | None = None

    @classmethod
    def map(cls, fn: Callable[[float], float]) -> Callable[..., Tensor]:
        """Lift `fn` to tensors: `map(fn)(a, out=None)` applies it to every element.

        `a` may broadcast to a given `out` (that is how a gradient is spread over a larger
        shape); without `out`, a new contiguous tensor of `a`'s shape is allocated.
        """
        kernel = cls.map_kernel(fn)
        flat = getattr(kernel, "flat", None)  # see `zip`

        output_storage, row_major = cls.output_storage, TensorData.row_major

        def apply(a: Tensor, out: Tensor | None = None) -> Tensor:
            x = a._tensor
            if out is None:
                if flat is not None and x._contiguous:  # as in `zip`
                    storage = output_storage(x.size, x._storage.dtype)
                    flat(storage, x._storage)
                    return a._new(row_major(storage, x.shape))
                out = _output(cls, a, x.shape, x._storage.dtype)
            elif shape_broadcast(x.shape, out.shape) != out.shape:
                raise IndexingError(f"map: shape {x.shape} does not broadcast to {out.shape}")
            o = out._tensor
            kernel(o._storage, o._shape, o._strides, x._storage, x._shape, x._strides)
            return out

        apply.kernel = kernel  # type: ignore[attr-defined]  # for inspection and tests
        return apply

    @classmethod
    def zip(cls, fn: Callable[[float, float], float]) -> Callable[[Tensor, Tensor], Tensor]:
        """Lift `fn` to pairs of tensors, broadcasting them to a common shape."""
        kernel = cls.zip_kernel(fn)
        # A backend's kernel may have `flat`: the same loop over storages that share one
        # row-major layout (no shapes, strides or index math), called with the storages.
        flat = getattr(kernel, "flat", None)

        output_storage, row_major = cls.output_storage, TensorData.row_major

        def apply(a: Tensor, b: Tensor) -> Tensor:
            x, y = a._tensor, b._tensor
            xs, ys = x._storage, y._storage
            if x.shape == y.shape:
                if flat is not None and x._contiguous and y._contiguous:
                    # the common case, `_output` written out: a tenth of its cost is the call
                    storage = output_storage(x.size, _promote(xs.dtype, ys.dtype))
                    flat(storage, xs, ys)
                    return a._new(row_major(storage, x.shape))
                shape = x.shape
            else:
                shape = shape_broadcast(x.shape, y.shape)
            out = _output(cls, a, shape, _promote(xs.dtype, ys.dtype))
            o = out._tensor
            kernel(
                o._storage,
                o._shape,
                o._strides,
                x._storage,
                x._shape,
                x._strides,
                y._storage,
                y._shape,
                y._strides,
            )
            return out

        apply.kernel = kernel  # type: ignore[attr-defined]
        return apply

    @classmethod
    def reduce(
        cls, fn: Callable[[float, float], float], start: float = 0.0
    ) -> Callable[[Tensor, int], Tensor]:
        """Lift `fn` to a fold along one dimension, which stays with size 1."""
        kernel = cls.reduce_kernel(fn)

        def apply(a: Tensor, dim: int) -> Tensor:
            dim = dim_index(dim, a.shape)
            out_shape = a.shape[:dim] + (1,) + a.shape[dim + 1 :]
            storage = cls.full_storage(math.prod(out_shape), start, a._tensor._storage.dtype)
            out = a._new(TensorData(storage, out_shape))
            kernel(*out._tensor.tuple(), *a._tensor.tuple(), dim)
            return out

        apply.kernel = kernel  # type: ignore[attr-defined]
        return apply

    @classmethod
    def matrix_multiply(cls, a: Tensor, b: Tensor) -> Tensor:
        r"""Matrix product $out_{n,i,j} = \sum_k a_{n,i,k} b_{n,k,j}$.

        Operands are 2-D `(i, k)` or 3-D `(batch, i, k)`; a 2-D operand is read as a batch of
        one, and the batch dimension broadcasts. Two 2-D operands give a 2-D result.

        Raises:
            IndexingError: naming both shapes, when they cannot be multiplied.
        """
        x, y = a._tensor, b._tensor
        if x.dims not in (2, 3) or y.dims not in (2, 3):
            raise IndexingError(f"matmul needs 2-D or 3-D operands, got {a.shape} @ {b.shape}")
        (x_batch, rows, inner), x_shape, x_strides = _batched(x)
        (y_batch, y_inner, cols), y_shape, y_strides = _batched(y)
        if inner != y_inner:
            raise IndexingError(
                f"matmul: inner sizes differ in {a.shape} @ {b.shape} ({inner} against {y_inner})"
            )
        if x_batch != y_batch and 1 not in (x_batch, y_batch):
            raise IndexingError(f"matmul: batch sizes of {a.shape} @ {b.shape} do not broadcast")
        batch = max(x_batch, y_batch)
        dtype = _promote(x._storage.dtype, y._storage.dtype)
        storage = cls.output_storage(batch * rows * cols, dtype)
        # two 2-D operands give a 2-D result, which the kernel writes as (1, i, j)
        shape = (rows, cols) if x.dims == 2 and y.dims == 2 else (batch, rows, cols)
        out = TensorData.row_major(storage, shape)
        _, out_shape, out_strides = _batched(out)
        cls.matrix_multiply_kernel(
            storage, out_shape, out_strides, x._storage, x_shape, x_strides, y._storage, y_shape,
            y_strides
        )  # fmt: skip
        return a._new(out)


def _output(ops: type[TensorOps], like: Tensor, shape: tuple[int, ...], dtype: DType) -> Tensor:
    """A new row-major tensor on `like`'s backend, for a kernel that writes every element."""
    return like._new(TensorData.row_major(ops.output_storage(math.prod(shape), dtype), shape))


def _promote(a: DType, b: DType) -> DType:
    """The dtype of a result computed from both: float64 unless both are float32."""
    return a if a == b else float64


def copy_to_backend(t: Tensor, backend: TensorBackend) -> Tensor:
    """A constant copy of `t`'s values, layout kept, on `backend` (across host and GPU).

    Operands on different devices meet on the first one's side: `gpu_out == cpu_labels`
    computes on the GPU, as the course's scripts expect (there every backend's storage was
    a host array), and a gradient that arrives from the other device is brought home.
    """
    data = t._tensor
    storage = backend.ops.to_storage(t.backend.ops.to_host(data._storage))
    return type(t)(TensorData(storage, data.shape, data.strides), backend=backend)


def _batched(data: TensorData) -> tuple[tuple[int, ...], Shape, Strides]:
    """The 3-D shape `(batch, i, k)` of a 2-D or 3-D layout, and its shape and strides as
    the kernels take them: a 2-D layout is a batch of one, `(1, i, k)` with stride 0."""
    if data.dims == 3:
        return data.shape, data._shape, data._strides
    shape, strides, _, _, index_shape, index_strides, _, _ = cached_layout(
        (1, *data.shape), (0, *data.strides)
    )
    return shape, index_shape, index_strides


class TensorBackend:
    """The named tensor operations built from one `TensorOps` class.

    Args:
        ops: the backend's ops class (e.g. `SimpleOps`).
    """

    def __init__(self, ops: type[TensorOps]) -> None:
        self.ops = ops
        self.device = ops.device
        self.cuda = ops.device == "cuda"  # the course's flag

        self.neg_map = ops.map(operators.neg)
        self.sigmoid_map = ops.map(operators.sigmoid)
        self.relu_map = ops.map(operators.relu)
        self.log_map = ops.map(operators.log)
        self.exp_map = ops.map(operators.exp)
        self.id_map = ops.map(operators.id)
        self.inv_map = ops.map(operators.inv)
        # Adam's denominator: exp(log(v) / 2) would fail where v is 0.
        self.sqrt_map = ops.map(operators.sqrt)

        self.add_zip = ops.zip(operators.add)
        self.mul_zip = ops.zip(operators.mul)
        self.lt_zip = ops.zip(operators.lt)
        self.eq_zip = ops.zip(operators.eq)
        self.is_close_zip = ops.zip(operators.is_close)
        self.relu_back_zip = ops.zip(operators.relu_back)
        self.log_back_zip = ops.zip(operators.log_back)
        self.inv_back_zip = ops.zip(operators.inv_back)
        self.sigmoid_back_zip = ops.zip(operators.sigmoid_back)

        self.add_reduce = ops.reduce(operators.add, 0.0)
        self.mul_reduce = ops.reduce(operators.mul, 1.0)
        # A kernel, not a composition: max pooling and the stable (log)softmax need it.
        self.max_reduce = ops.reduce(operators.max, -math.inf)
        self.matrix_multiply = ops.matrix_multiply

    def __eq__(self, other: object) -> bool:
        # Two backends built from the same ops compute the same way: the course's scripts
        # build their own `TensorBackend(FastOps)` and compare it with what tensors carry.
        return isinstance(other, TensorBackend) and other.ops is self.ops

    def __hash__(self) -> int:
        return hash(self.ops)

    def __repr__(self) -> str:
        return f"TensorBackend({self.ops.__name__})"


# ---- The pure-Python kernels ---------------------------------------------------------------------
# `fn` is called once per element from Python. numpy only reads and writes storage through
# (shape, strides), as `as_strided` views: the gather and scatter around the Python loop.


def _view(storage: Storage, shape: Shape, strides: Strides) -> np.ndarray:
    """`storage` seen through `shape` and `strides` (a view: writes go to storage)."""
    return np.ndarray(
        tuple(shape.tolist()),
        storage.dtype,
        storage,
        0,
        tuple(s * storage.itemsize for s in strides.tolist()),
    )


def _values(storage: Storage, shape: Shape, strides: Strides, out_shape: Shape) -> list[float]:
    """The values read for every output index, in row-major order of `out_shape`."""
    view = _view(storage, shape, strides)
    target = tuple(out_shape.tolist())
    if view.shape != target:
        view = np.broadcast_to(view, target)
    return view.ravel().tolist()


def _write(out: Storage, out_shape: Shape, out_strides: Strides, values: list[Any]) -> None:
    """Write row-major `values` into `out` through its shape and strides."""
    target = _view(out, out_shape, out_strides)
    target[...] = np.array(values, dtype=out.dtype).reshape(target.shape)


def tensor_map(fn: Callable[[float], float]) -> MapKernel:
    """The pure-Python map kernel: `out[i] = fn(in[broadcast(i)])`."""

    def _map(
        out: Storage,
        out_shape: Shape,
        out_strides: Strides,
        in_storage: Storage,
        in_shape: Shape,
        in_strides: Strides,
    ) -> None:
        values = _values(in_storage, in_shape, in_strides, out_shape)
        _write(out, out_shape, out_strides, list(map(fn, values)))

    return _map


def tensor_zip(fn: Callable[[float, float], float]) -> ZipKernel:
    """The pure-Python zip kernel: `out[i] = fn(a[broadcast(i)], b[broadcast(i)])`."""

    def _zip(
        out: Storage,
        out_shape: Shape,
        out_strides: Strides,
        a_storage: Storage,
        a_shape: Shape,
        a_strides: Strides,
        b_storage: Storage,
        b_shape: Shape,
        b_strides: Strides,
    ) -> None:
        a = _values(a_storage, a_shape, a_strides, out_shape)
        b = _values(b_storage, b_shape, b_strides, out_shape)
        _write(out, out_shape, out_strides, list(map(fn, a, b)))

    return _zip


def tensor_reduce(fn: Callable[[float, float], float]) -> ReduceKernel:
    """The pure-Python reduce kernel: fold `fn` along `reduce_dim`, starting from `out`."""

    def _reduce(
        out: Storage,
        out_shape: Shape,
        out_strides: Strides,
        a_storage: Storage,
        a_shape: Shape,
        a_strides: Strides,
        reduce_dim: int,
    ) -> None:
        a = np.moveaxis(_view(a_storage, a_shape, a_strides), reduce_dim, -1)  # (..., n)
        target = np.moveaxis(_view(out, out_shape, out_strides), reduce_dim, -1)  # (..., 1)
        if a.size == 0:
            return
        rows = a.reshape(-1, a.shape[-1]).tolist()
        starts = target.reshape(-1).tolist()
        folded = [functools.reduce(fn, row, start) for row, start in zip(rows, starts)]
        target[...] = np.array(folded, dtype=out.dtype).reshape(target.shape)

    return _reduce


def tensor_matrix_multiply(
    out: Storage,
    out_shape: Shape,
    out_strides: Strides,
    a_storage: Storage,
    a_shape: Shape,
    a_strides: Strides,
    b_storage: Storage,
    b_shape: Shape,
    b_strides: Strides,
) -> None:
    r"""The pure-Python batched matmul kernel: $out_{n,i,j} = \sum_k a_{n,i,k} b_{n,k,j}$."""
    batch, rows, cols = (int(n) for n in out_shape)
    if out.size == 0 or batch * rows * cols == 0:
        return
    a = np.broadcast_to(_view(a_storage, a_shape, a_strides), (batch, rows, int(a_shape[2])))
    b = np.broadcast_to(_view(b_storage, b_shape, b_strides), (batch, int(b_shape[1]), cols))
    a_rows = a.tolist()  # [n][i] -> row i of a[n]
    b_cols = np.swapaxes(b, 1, 2).tolist()  # [n][j] -> column j of b[n]
    values = [
        [[sum(map(operator.mul, row, col)) for col in cols_n] for row in rows_n]
        for rows_n, cols_n in zip(a_rows, b_cols)
    ]
    _write(out, out_shape, out_strides, values)


class SimpleOps(TensorOps):
    """Pure-Python kernels: each element goes through the Python float function."""

    map_kernel = staticmethod(tensor_map)
    zip_kernel = staticmethod(tensor_zip)
    reduce_kernel = staticmethod(tensor_reduce)
    matrix_multiply_kernel = staticmethod(tensor_matrix_multiply)


SimpleBackend = TensorBackend(SimpleOps)
