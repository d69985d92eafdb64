"""The course's two shared-memory exercises, on the CUDA backend's storage and launches.

They are teaching code, not part of the backend: `minitorch.sum_practice(a)` sums a 1-D tensor
in blocks of 32, `minitorch.mm_practice(a, b)` multiplies two small square matrices in one
block. Both take tensors on any backend and return a host `TensorData`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numba
from numba import cuda

from .cuda_ops import _launch, _on_device, _to_host, _to_storage, _zeros
from .tensor_data import IndexingError, Storage, TensorData

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["PRACTICE_BLOCK", "mm_practice", "sum_practice"]

PRACTICE_BLOCK = 32  # block size of the two exercises


@cuda.jit(cache=True)
def _block_sums(out: Storage, a: Storage, size: int, stride: int) -> None:
    """out[block] = the sum of that block's PRACTICE_BLOCK values of `a` (a shared-memory tree)."""
    cache = cuda.shared.array(PRACTICE_BLOCK, numba.float64)
    t = cuda.threadIdx.x
    i = cuda.blockIdx.x * PRACTICE_BLOCK + t
    cache[t] = a[i * stride] if i < size else 0.0
    cuda.syncthreads()
    half = PRACTICE_BLOCK // 2
    while half > 0:
        if t < half:
            cache[t] += cache[t + half]
        cuda.syncthreads()
        half //= 2
    if t == 0:
        out[cuda.blockIdx.x] = cache[0]


@cuda.jit(cache=True)
def _block_matmul(
    out: Storage, a: Storage, a_strides: Any, b: Storage, b_strides: Any, size: int
) -> None:
    """out = a @ b for square `size x size` matrices in one block; thread (j, i) makes out[i, j]."""
    a_tile = cuda.shared.array((PRACTICE_BLOCK, PRACTICE_BLOCK), numba.float64)
    b_tile = cuda.shared.array((PRACTICE_BLOCK, PRACTICE_BLOCK), numba.float64)
    i = cuda.threadIdx.y
    j = cuda.threadIdx.x
    a_tile[i, j] = a[i * a_strides[0] + j * a_strides[1]]  # each global value read once
    b_tile[i, j] = b[i * b_strides[0] + j * b_strides[1]]
    cuda.syncthreads()
    acc = 0.0
    for k in range(size):
        acc += a_tile[i, k] * b_tile[k, j]
    out[i * size + j] = acc


def _device_storage(t: Tensor) -> Storage:
    """A tensor's storage on the GPU (copied there once when it is on a CPU backend)."""
    storage = t._tensor._storage
    return storage if _on_device(storage) else _to_storage(storage)


def sum_practice(a: Tensor) -> TensorData:
    """Sums of a 1-D tensor's values in blocks of 32 (the course's shared-memory exercise).

    Args:
        a: a 1-D tensor, on any backend.

    Returns:
        A host `TensorData` whose `_storage[i]` is the sum of values `32 i .. 32 i + 31`.

    Raises:
        IndexingError: when `a` is not 1-D.
    """
    if a.dims != 1:
        raise IndexingError(f"sum_practice needs a 1-D tensor, got shape {a.shape}")
    (size,) = a.shape
    blocks = max(1, -(-size // PRACTICE_BLOCK))
    out = _zeros(blocks)
    if size:
        storage, stride = _device_storage(a), a._tensor.strides[0]
        _launch(_block_sums, blocks, PRACTICE_BLOCK)(out, storage, size, stride)
    return TensorData(_to_host(out), (blocks,))


def mm_practice(a: Tensor, b: Tensor) -> TensorData:
    """`a @ b` for two square matrices of one size, at most 32, in a single block (the
    course's shared-memory exercise).

    Args:
        a: a `(size, size)` tensor, on any backend.
        b: a `(size, size)` tensor.

    Returns:
        A host `TensorData` of shape `(size, size)` holding the row-major product.

    Raises:
        IndexingError: naming the shapes, unless both are square, equal and at most 32.
    """
    size = a.shape[0] if a.dims == 2 else -1
    if a.shape != (size, size) or b.shape != a.shape or not 1 <= size <= PRACTICE_BLOCK:
        raise IndexingError(
            f"mm_practice needs two square matrices of one size from 1 to {PRACTICE_BLOCK}, "
            f"got {a.shape} @ {b.shape}"
        )
    out = _zeros(size * size)
    _launch(_block_matmul, 1, (size, size))(
        out, _device_storage(a), a._tensor.strides, _device_storage(b), b._tensor.strides, size
    )
    return TensorData(_to_host(out), (size, size))
