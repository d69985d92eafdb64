r"""The CUDA backend: numba CUDA kernels over storage that stays in GPU memory.

A tensor on `CudaBackend` keeps its storage as a device array. Kernels read and write device
arrays only, so a chain of operations, forward and backward, copies nothing between host and
GPU. Values cross only where they must: once when a tensor is made from host data
(`minitorch.tensor`, `Tensor.make`), and when the host reads them (`to_numpy`, `item`,
indexing, `repr`). A lone Python number (`x * 2.0`) reaches the GPU as a kernel argument of a
fill kernel, not as a copy. An operand from a CPU backend, or a tensor built directly on a
host `TensorData`, is copied over for the operation that uses it.

Kernels (only these; the glue around them is `TensorOps`, shared with the CPU backends):

* map and zip: grid-stride loops. When every operand is row-major with the output's shape,
  the fast path indexes storage directly; otherwise each element goes through the index
  helpers of `tensor_data`, compiled here as device functions (the same source as the CPU's).
* reduce: one block per output element; each thread folds a strided slice of the reduced
  dimension, then the block combines the partial results in a shared-memory tree.
* matmul: tiles of A and B staged in shared memory, and register blocking: each thread
  accumulates a `TM x TN` block of outputs from values it holds in registers, so every value
  read from shared memory feeds several multiply-adds.

Shapes and strides travel as kernel arguments (tuples, by value), so a launch copies no
metadata either. Grid-stride loops cover any size, whatever the grid limits.

Without a GPU, everything runs on numba's simulator: set `NUMBA_ENABLE_CUDASIM=1` before
numba is first imported (slow: each CUDA thread is a Python thread).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if not hasattr(np, "row_stack"):  # numba-cuda still calls np.row_stack, gone in numpy 2.5
    np.row_stack = np.vstack

try:
    import numba
    from numba import cuda
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"minitorch's CUDA backend needs numba-cuda: pip install 'minitorch[cuda]' ({e})"
    ) from e

from .fast_ops import kernel_source, stable_id
from .kernel_cache import route_kernel_caches
from .tensor_data import (
    MAX_DIMS,
    IndexingError,
    Shape,
    Storage,
    Strides,
    TensorData,
    broadcast_index,
    index_to_position,
    strides_from_shape,
    to_index,
)
from .tensor_ops import MapKernel, ReduceKernel, TensorBackend, TensorOps, ZipKernel

route_kernel_caches()  # numba-cuda's caches too: per user, never in the package

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "CudaUnavailableError",
    "SIMULATED",
    "THREADS",
    "MatMulTiles",
    "GPU_TILES",
    "SIMULATOR_TILES",
    "MATMUL_TILES",
    "cuda_backend",
    "tensor_map",
    "tensor_zip",
    "tensor_reduce",
    "matmul_kernel",
    "tensor_matrix_multiply",
    "sum_practice",
    "mm_practice",
    "CudaOps",
    "CudaBackend",
]

SIMULATED = bool(numba.config.ENABLE_CUDASIM)  # numba's CUDA simulator instead of a GPU
THREADS = 256  # threads per block of map, zip and reduce (a power of two: the reduce tree)
MAX_BLOCKS = 65535  # the smallest grid limit (y and z); grid-stride loops do the rest
PRACTICE_BLOCK = 32  # block size of the two practice exercises


class CudaUnavailableError(ImportError):
    """No GPU (nor the simulator) to run the CUDA backend on. An ImportError, as numba's own
    `CudaSupportError` is, so `except ImportError` catches a missing numba-cuda and a missing
    GPU alike."""


HOW_TO_GET_A_GPU = (
    "the CUDA backend needs an NVIDIA GPU with its driver (numba.cuda.is_available() is "
    "False here); run on a GPU machine, or set NUMBA_ENABLE_CUDASIM=1 to use numba's CUDA "
    "simulator on the CPU (slow, for small tensors)"
)


def cuda_backend() -> TensorBackend:
    """`CudaBackend`, after checking that a GPU (or the simulator) is there.

    Raises:
        CudaUnavailableError: saying how to get a GPU or use the simulator.
    """
    if not cuda.is_available():
        raise CudaUnavailableError(HOW_TO_GET_A_GPU)
    return CudaBackend


# ---- Device functions ----------------------------------------------------------------------------
# The index helpers are the very functions the CPU backends use, compiled for the GPU.

_to_index = cuda.jit(device=True)(to_index)
_index_to_position = cuda.jit(device=True)(index_to_position)
_broadcast_index = cuda.jit(device=True)(broadcast_index)


@functools.cache
def _device(fn: Callable[..., float]) -> tuple[Any, bool]:
    """`fn` compiled as a device function, and whether kernels over it may be cached on disk.

    The operators follow IEEE rules themselves (`log(0) = -inf`, `1/0 = inf`, NaN through
    `max`), so the GPU compiles the same source as the CPU backends.
    numba keys a kernel's disk cache by its pickled closure, `fn`'s compiled form here:
    the library's own functions get an id that is the same in every process, as on the fast
    backend, so a second process loads their kernels from the cache; others compile anew.
    """
    py = kernel_source(fn)
    compiled = cuda.jit(device=True)(py)
    stable = stable_id(py, target="cuda:")
    if stable is not None and not SIMULATED:  # the simulator has no disk cache, nor ids
        compiled._set_uuid(stable)
    return compiled, stable is not None


# ---- Storage: allocation and transfers -----------------------------------------------------------


def _on_device(storage: Any) -> bool:
    return getattr(storage, "__cuda_ndarray__", False)


def _device_array(size: int) -> Any:
    """Uninitialised device storage, with a clear error where there is no GPU."""
    try:
        return cuda.device_array(size, dtype=np.float64)
    except ImportError:  # numba's CudaSupportError: no driver or no device
        raise CudaUnavailableError(HOW_TO_GET_A_GPU) from None


@cuda.jit(cache=True)
def _fill(out: Storage, value: float, size: int) -> None:
    for i in range(cuda.grid(1), size, cuda.gridsize(1)):
        out[i] = value


_LAUNCHERS: dict[tuple[Any, Any, Any], Any] = {}
_MAX_LAUNCHERS = 10_000


def _launch(kernel: Any, grid: Any, block: Any) -> Any:
    """`kernel[grid, block]`, configured once per grid and block rather than on every launch.

    Configuring costs a few microseconds, a tiny operation's budget, and warns of "low
    occupancy" for grids under 128 blocks, which is what a small tensor needs: the warning
    is silenced here. (The simulator's kernels keep their configuration on themselves, so
    there each launch configures anew.)
    """
    if SIMULATED:
        return kernel[grid, block]
    key = (kernel, grid, block)
    launcher = _LAUNCHERS.get(key)
    if launcher is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            launcher = kernel[grid, block]
        if len(_LAUNCHERS) < _MAX_LAUNCHERS:
            _LAUNCHERS[key] = launcher
    return launcher


def _grid(size: int) -> tuple[int, int]:
    """(blocks, threads per block) for a grid-stride loop over `size` elements."""
    threads = min(THREADS, size)
    return min(-(-size // threads), MAX_BLOCKS), threads


def _zeros(size: int) -> Storage:
    """Device storage of zeros."""
    out = _device_array(size)
    if size == 0:
        return out
    if SIMULATED:  # the simulator has no memset
        _launch(_fill, *_grid(size))(out, 0.0, size)
    else:
        out.gpu_data.memset(0)  # a driver memset, cheaper than launching a kernel
    return out


def _full(size: int, value: float) -> Storage:
    """Device storage holding `value` everywhere (the value travels as a kernel argument)."""
    if value == 0.0:
        return _zeros(size)
    out = _device_array(size)
    if size:
        _launch(_fill, *_grid(size))(out, float(value), size)
    return out


def _to_storage(values: Any) -> Storage:
    """Host values (numpy array or list) as device storage: one copy; a device array as is."""
    if _on_device(values):
        return values
    host = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    if host.size == 1:  # a lone number: a fill kernel takes it as an argument, no copy
        return _full(1, float(host[0]))
    try:
        return cuda.to_device(host)
    except ImportError:
        raise CudaUnavailableError(HOW_TO_GET_A_GPU) from None


def _to_host(storage: Any) -> np.ndarray:
    """A new host numpy array holding the storage's values (one copy from the GPU)."""
    if _on_device(storage):
        return storage.copy_to_host()
    return np.array(storage, dtype=np.float64)


def _on_gpu(out: Storage, *inputs: Storage) -> tuple[Storage, ...]:
    """The inputs as device storage, for a kernel writing into device storage `out`.

    Tensors made the library's way hold device arrays already. A tensor built directly on a
    host TensorData (`Tensor(data, backend=CudaBackend)`, as the course's tests do) has its
    values copied to the GPU for this launch: one copy, where numba's automatic transfer
    would also copy them back. An output must be on the device, or the kernel's results
    would land in a temporary copy.
    """
    if not _on_device(out):
        raise TypeError(
            f"a CUDA kernel cannot write into host storage ({type(out).__name__}); make the "
            "output with the CUDA backend (minitorch.zeros(shape, backend=CudaBackend))"
        )
    return tuple(x if _on_device(x) else _to_storage(x) for x in inputs)


_row_major = functools.lru_cache(maxsize=4096)(strides_from_shape)


def _ints(array: Shape | Strides) -> tuple[int, ...]:
    """A shape or strides array as a tuple: kernels take it by value, with no copy."""
    return tuple(array.tolist())


# ---- map and zip ---------------------------------------------------------------------------------


def _elementwise(row_major: Any, strided: Any) -> Callable[..., None]:
    """The launcher of a map or zip kernel pair, called as
    `(out, out_shape, out_strides, *operands)` with a `(storage, shape, strides)` triple per
    operand. Where every operand is row-major with the output's shape, `row_major(out,
    *storages, size)` runs; otherwise `strided(out, shape, strides, *triples, size)`.
    """

    def run(out: Storage, out_shape: Shape, out_strides: Strides, *operands: Any) -> None:
        shape, strides = _ints(out_shape), _ints(out_strides)
        size = math.prod(shape)
        if size == 0:
            return
        storages = _on_gpu(out, *operands[0::3])
        layouts = [(_ints(n), _ints(s)) for n, s in zip(operands[1::3], operands[2::3])]
        grid = _grid(size)
        if strides == _row_major(shape) and all(lay == (shape, strides) for lay in layouts):
            _launch(row_major, *grid)(out, *storages, size)
        else:
            triples = [x for storage, lay in zip(storages, layouts) for x in (storage, *lay)]
            _launch(strided, *grid)(out, shape, strides, *triples, size)

    run.kernels = (row_major, strided)  # type: ignore[attr-defined]  # for inspection and tests
    return run


@functools.cache
def tensor_map(fn: Callable[[float], float]) -> MapKernel:
    """The CUDA map kernel: `out[i] = fn(a[broadcast(i)])` (cached per `fn`)."""
    f, cacheable = _device(fn)

    @cuda.jit(cache=cacheable)
    def row_major(out: Storage, a: Storage, size: int) -> None:
        for i in range(cuda.grid(1), size, cuda.gridsize(1)):
            out[i] = f(a[i])

    @cuda.jit(cache=cacheable)
    def strided(
        out: Storage, out_shape: Any, out_strides: Any,
        a: Storage, a_shape: Any, a_strides: Any, size: int,
    ) -> None:
        out_index = cuda.local.array(MAX_DIMS, numba.int64)
        a_index = cuda.local.array(MAX_DIMS, numba.int64)
        for i in range(cuda.grid(1), size, cuda.gridsize(1)):
            _to_index(i, out_shape, out_index)
            _broadcast_index(out_index, out_shape, a_shape, a_index)
            value = f(a[_index_to_position(a_index, a_strides)])
            out[_index_to_position(out_index, out_strides)] = value

    return _elementwise(row_major, strided)


@functools.cache
def tensor_zip(fn: Callable[[float, float], float]) -> ZipKernel:
    """The CUDA zip kernel: `out[i] = fn(a[broadcast(i)], b[broadcast(i)])` (cached per `fn`)."""
    f, cacheable = _device(fn)

    @cuda.jit(cache=cacheable)
    def row_major(out: Storage, a: Storage, b: Storage, size: int) -> None:
        for i in range(cuda.grid(1), size, cuda.gridsize(1)):
            out[i] = f(a[i], b[i])

    @cuda.jit(cache=cacheable)
    def strided(
        out: Storage, out_shape: Any, out_strides: Any,
        a: Storage, a_shape: Any, a_strides: Any,
        b: Storage, b_shape: Any, b_strides: Any, size: int,
    ) -> None:
        out_index = cuda.local.array(MAX_DIMS, numba.int64)
        a_index = cuda.local.array(MAX_DIMS, numba.int64)
        b_index = cuda.local.array(MAX_DIMS, numba.int64)
        for i in range(cuda.grid(1), size, cuda.gridsize(1)):
            _to_index(i, out_shape, out_index)
            _broadcast_index(out_index, out_shape, a_shape, a_index)
            _broadcast_index(out_index, out_shape, b_shape, b_index)
            value = f(
                a[_index_to_position(a_index, a_strides)],
                b[_index_to_position(b_index, b_strides)],
            )
            out[_index_to_position(out_index, out_strides)] = value

    return _elementwise(row_major, strided)


# ---- reduce --------------------------------------------------------------------------------------


@functools.cache
def tensor_reduce(fn: Callable[[float, float], float]) -> ReduceKernel:
    """The CUDA reduce kernel: fold `fn` along `reduce_dim` into `out` (which holds the start).

    One block per output element: thread `t` folds elements `t, t + T, t + 2T, ...` of the
    reduced dimension, then a shared-memory tree combines the `T` partial results. `fn` must
    be associative (add, mul, max), as the order of folding is not left to right.
    """
    f, cacheable = _device(fn)

    @cuda.jit(cache=cacheable)
    def kernel(
        out: Storage, out_shape: Any, out_strides: Any,
        a: Storage, a_shape: Any, a_strides: Any, reduce_dim: int, out_size: int,
    ) -> None:
        partial = cuda.shared.array(THREADS, numba.float64)
        index = cuda.local.array(MAX_DIMS, numba.int64)
        t = cuda.threadIdx.x
        threads = cuda.blockDim.x  # a power of two, at most THREADS
        n = a_shape[reduce_dim]
        step = a_strides[reduce_dim]
        for o in range(cuda.blockIdx.x, out_size, cuda.gridDim.x):
            _to_index(o, out_shape, index)  # index[reduce_dim] == 0: the slice's first element
            start = _index_to_position(index, a_strides)
            if t < n:
                acc = a[start + t * step]
                for j in range(t + threads, n, threads):
                    acc = f(acc, a[start + j * step])
                partial[t] = acc
            cuda.syncthreads()
            # tree: halve the threads holding a partial result until one holds the total
            active = min(n, threads)
            half = threads // 2
            while half > 0:
                if t < half and t + half < active:
                    partial[t] = f(partial[t], partial[t + half])
                cuda.syncthreads()
                active = min(active, half)
                half //= 2
            if t == 0:
                position = _index_to_position(index, out_strides)
                out[position] = f(out[position], partial[0])
            cuda.syncthreads()  # `partial` is reused for the next output

    def run(
        out: Storage, out_shape: Shape, out_strides: Strides,
        a: Storage, a_shape: Shape, a_strides: Strides, reduce_dim: int,
    ) -> None:
        shape = _ints(out_shape)
        a_shape_ = _ints(a_shape)
        out_size, n = math.prod(shape), a_shape_[reduce_dim]
        if out_size == 0 or n == 0:  # nothing to fold: `out` keeps the start value
            return
        (a,) = _on_gpu(out, a)
        threads = min(THREADS, 1 << (n - 1).bit_length())  # a power of two, for the tree
        blocks = min(out_size, MAX_BLOCKS)
        _launch(kernel, blocks, threads)(
            out, shape, _ints(out_strides), a, a_shape_, _ints(a_strides), reduce_dim, out_size
        )

    run.kernels = (kernel,)  # type: ignore[attr-defined]
    return run


# ---- matmul --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatMulTiles:
    """A matmul kernel's blocking: a block of `tx x ty` threads computes a
    `(ty * tm) x (tx * tn)` output tile, staging `bk`-long slices of A and B in shared memory.
    """

    tm: int  # output rows per thread (the register block)
    tn: int  # output columns per thread
    tx: int = 16  # threads per block along columns
    ty: int = 16  # threads per block along rows
    bk: int = 16  # inner (k) length of a shared-memory tile

    @property
    def rows(self) -> int:
        return self.ty * self.tm

    @property
    def cols(self) -> int:
        return self.tx * self.tn


GPU_TILES = MatMulTiles(tm=4, tn=4)  # 64 x 64 output tiles, 256 threads, 16 KiB shared
# The simulator runs each thread as a Python thread: there, 16 threads per block with 8 x 8
# tiles keep tests quick, and small matrices still span several tiles and their edges.
SIMULATOR_TILES = MatMulTiles(tm=2, tn=2, tx=4, ty=4, bk=4)
MATMUL_TILES = SIMULATOR_TILES if SIMULATED else GPU_TILES


@cuda.jit(device=True)
def _stage(
    tile: Any, src: Storage, start: int, row_stride: int, col_stride: int,
    rows_left: int, cols_left: int, t: int, threads: int,
) -> None:
    """Copy a tile of `src` (from position `start`) into shared `tile`, zeros past the edges.

    The block's `threads` threads share the copy; consecutive threads take consecutive
    columns, so a row-major source is read in coalesced runs.
    """
    tile_rows, tile_cols = tile.shape
    for e in range(t, tile_rows * tile_cols, threads):
        r, c = e // tile_cols, e % tile_cols
        inside = r < rows_left and c < cols_left
        tile[r, c] = src[start + r * row_stride + c * col_stride] if inside else 0.0


@functools.cache
def matmul_kernel(tiles: MatMulTiles = MATMUL_TILES) -> Callable[..., None]:
    r"""A batched matmul kernel $out_{n,i,j} = \sum_k a_{n,i,k} b_{n,k,j}$ with `tiles`' blocking.

    Launched on a grid `(column tiles, row tiles, batch)`, each of whose blocks has
    `(tiles.tx, tiles.ty)` threads; rows and batch beyond the grid limits are looped over.
    """
    tm, tn, tx, ty, bk = tiles.tm, tiles.tn, tiles.tx, tiles.ty, tiles.bk
    rows_tile, cols_tile, threads = tiles.rows, tiles.cols, tx * ty

    @cuda.jit(cache=True)
    def kernel(
        out: Storage, out_shape: Any, out_strides: Any,
        a: Storage, a_shape: Any, a_strides: Any,
        b: Storage, b_shape: Any, b_strides: Any,
    ) -> None:
        a_tile = cuda.shared.array((rows_tile, bk), numba.float64)
        b_tile = cuda.shared.array((bk, cols_tile), numba.float64)
        acc = cuda.local.array((tm, tn), numba.float64)
        a_reg = cuda.local.array(tm, numba.float64)
        b_reg = cuda.local.array(tn, numba.float64)
        batch, rows, cols = out_shape[0], out_shape[1], out_shape[2]
        inner = a_shape[2]
        # a batch of one is read for every batch entry (broadcast)
        a_batch = a_strides[0] if a_shape[0] > 1 else 0
        b_batch = b_strides[0] if b_shape[0] > 1 else 0
        col = cuda.threadIdx.x
        row = cuda.threadIdx.y
        t = row * tx + col
        col0 = cuda.blockIdx.x * cols_tile
        for n in range(cuda.blockIdx.z, batch, cuda.gridDim.z):
            for row0 in range(cuda.blockIdx.y * rows_tile, rows, cuda.gridDim.y * rows_tile):
                for r in range(tm):
                    for c in range(tn):
                        acc[r, c] = 0.0
                for k0 in range(0, inner, bk):
                    a_start = n * a_batch + row0 * a_strides[1] + k0 * a_strides[2]
                    _stage(a_tile, a, a_start, a_strides[1], a_strides[2],
                           rows - row0, inner - k0, t, threads)
                    b_start = n * b_batch + k0 * b_strides[1] + col0 * b_strides[2]
                    _stage(b_tile, b, b_start, b_strides[1], b_strides[2],
                           inner - k0, cols - col0, t, threads)
                    cuda.syncthreads()
                    # each value read from shared memory feeds tm (or tn) multiply-adds
                    for k in range(bk):
                        for r in range(tm):
                            a_reg[r] = a_tile[row + r * ty, k]
                        for c in range(tn):
                            b_reg[c] = b_tile[k, col + c * tx]
                        for r in range(tm):
                            for c in range(tn):
                                acc[r, c] += a_reg[r] * b_reg[c]
                    cuda.syncthreads()  # before the next tiles overwrite these
                for r in range(tm):
                    i = row0 + row + r * ty
                    for c in range(tn):
                        j = col0 + col + c * tx
                        if i < rows and j < cols:
                            position = n * out_strides[0] + i * out_strides[1]
                            out[position + j * out_strides[2]] = acc[r, c]

    return kernel


def tensor_matrix_multiply(
    out: Storage, out_shape: Shape, out_strides: Strides,
    a: Storage, a_shape: Shape, a_strides: Strides,
    b: Storage, b_shape: Shape, b_strides: Strides,
    tiles: MatMulTiles = MATMUL_TILES,
) -> None:
    r"""The CUDA batched matmul: $out_{n,i,j} = \sum_k a_{n,i,k} b_{n,k,j}$ (3-D operands)."""
    shape = _ints(out_shape)
    batch, rows, cols = shape
    if batch * rows * cols == 0:  # (an empty inner dimension still writes zeros)
        return
    a, b = _on_gpu(out, a, b)
    grid = (
        -(-cols // tiles.cols),
        min(-(-rows // tiles.rows), MAX_BLOCKS),
        min(batch, MAX_BLOCKS),
    )
    _launch(matmul_kernel(tiles), grid, (tiles.tx, tiles.ty))(
        out, shape, _ints(out_strides),
        a, _ints(a_shape), _ints(a_strides),
        b, _ints(b_shape), _ints(b_strides),
    )


# ---- The course's two practice exercises ---------------------------------------------------------


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


# ---- The backend ---------------------------------------------------------------------------------


class CudaOps(TensorOps):
    """CUDA kernels over device storage; the glue (shapes, allocation, broadcasting) is
    `TensorOps`'."""

    cuda = True
    zeros_storage = staticmethod(_zeros)
    output_storage = staticmethod(_device_array)  # kernels write every element: no memset
    full_storage = staticmethod(_full)
    to_storage = staticmethod(_to_storage)
    to_host = staticmethod(_to_host)

    map_kernel = staticmethod(tensor_map)
    zip_kernel = staticmethod(tensor_zip)
    reduce_kernel = staticmethod(tensor_reduce)
    matrix_multiply_kernel = staticmethod(tensor_matrix_multiply)


CudaBackend = TensorBackend(CudaOps)
