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
  the fast path indexes storage directly; otherwise operands are read through strides
  aligned to the output (0 where broadcast), a thread walking each short row and a warp
  each piece of a long one, with 32-bit index math where the tensors allow it.
* reduce: a thread per output where the reduced dimension is not contiguous (or short), a
  warp per output where it is, its lanes combined by shuffles; long rows are split across
  many threads, then a second pass.
* matmul: tiles of A and B staged in shared memory, and register blocking: each thread
  accumulates a `TM x TN` block of outputs from values it holds in registers, so every value
  read from shared memory feeds several multiply-adds.
* conv (the `conv_kernel` slot): one thread per output element, for the forward pass and
  both gradients (`minitorch.conv`).

Shapes and strides travel as kernel arguments (tuples, by value), so a launch copies no
metadata either. Grid-stride loops cover any size, whatever the grid limits.

Without a GPU, everything runs on numba's simulator: set `NUMBA_ENABLE_CUDASIM=1` before
numba is first imported (slow: each CUDA thread is a Python thread).
"""

from __future__ import annotations

import functools
import hashlib
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

try:
    import numba
    from numba import cuda
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"minitorch's CUDA backend needs numba-cuda: pip install 'minitorch[cuda]' ({e})"
    ) from e

from . import fast_ops, operators, tensor_data
from .fast_ops import kernel_source, stable_id
from .kernel_cache import route_kernel_caches
from .tensor_data import Shape, Storage, Strides, strides_from_shape
from .tensor_ops import MapKernel, ReduceKernel, TensorBackend, TensorOps, ZipKernel

route_kernel_caches()  # numba-cuda's caches too: per user, never in the package

__all__ = [
    "GPU_TILES",
    "MATMUL_TILES",
    "SIMULATED",
    "SIMULATOR_TILES",
    "THREADS",
    "CudaBackend",
    "CudaOps",
    "CudaUnavailableError",
    "MatMulTiles",
    "cuda_backend",
    "install_pool",
    "matmul_kernel",
    "numpy_compat",
    "tensor_conv",
    "tensor_map",
    "tensor_matrix_multiply",
    "tensor_reduce",
    "tensor_zip",
]

SIMULATED = bool(numba.config.ENABLE_CUDASIM)  # numba's CUDA simulator instead of a GPU
THREADS = 256  # threads per block of map, zip, conv and the per-thread reduce
WARP = 32  # threads that run in lockstep (and may shuffle values between them)
MAX_BLOCKS = 65535  # the smallest grid limit (y and z); grid-stride loops do the rest


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


@functools.cache
def numpy_compat() -> None:
    """Give numpy back `np.row_stack` (as `np.vstack`) if it lacks it: numba-cuda's CUDA
    target still registers it (gone in numpy 2.5) and fails to compile anything without it.

    Called where the CUDA target is first needed (a launch, which compiles the kernel on
    first use; `tests/test_cuda_compile.py` calls it before compiling by hand), so that
    `import minitorch` leaves numpy alone.
    """
    if not hasattr(np, "row_stack"):
        np.row_stack = np.vstack


# ---- Kernels' disk cache ----------------------------------------------------------------------


def _digest(*paths: str) -> str:
    """A short digest of the files' contents."""
    sha = hashlib.sha256()
    for path in paths:
        sha.update(Path(path).read_bytes())
    return sha.hexdigest()[:16]


# Every source a kernel compiles: the index helpers and operators, their IEEE twins, this file.
SOURCE_KEY = _digest(operators.__file__, tensor_data.__file__, fast_ops.__file__, __file__)


def _jit(cache: bool = True, **options: Any) -> Callable[[Callable[..., None]], Any]:
    """`cuda.jit` for a kernel whose disk cache is keyed on `SOURCE_KEY` too.

    numba-cuda checks a cached kernel against its own file's timestamp, its bytecode and its
    closure values, in which device functions appear by module and name only: an edit to
    `operators.py` or `tensor_data.py` would leave cached kernels running the old code. The
    digest of every source goes into the kernel's qualified name, which names its cache files
    (stale ones are never read again).
    """

    def build(py: Callable[..., None]) -> Any:
        if cache:
            py.__qualname__ = f"{py.__qualname__}.src_{SOURCE_KEY}"
        return cuda.jit(cache=cache, **options)(py)

    return build


# ---- Device functions ----------------------------------------------------------------------------
# The operators are the very functions the CPU backends use, compiled for the GPU. Index math
# is the kernels' own: 32-bit where a tensor allows it, which `tensor_data`'s 64-bit helpers
# (`to_index`, `index_to_position`, over index arrays) cannot be.


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


@functools.cache
def install_pool() -> None:
    """Have numba allocate device memory through `cuda_pool`. Called before the backend's
    first allocation or copy, which create the GPU's context: a context made earlier (by
    other numba code) keeps numba's own allocator."""
    if not SIMULATED:  # the simulator allocates numpy arrays
        from .cuda_pool import pool_memory_manager

        cuda.set_memory_manager(pool_memory_manager())


def _device_array(size: int, dtype: Any = np.float64) -> Any:
    """Uninitialised device storage, with a clear error where there is no GPU."""
    install_pool()
    try:
        return cuda.device_array(size, dtype=dtype)
    except ImportError:  # numba's CudaSupportError: no driver or no device
        raise CudaUnavailableError(HOW_TO_GET_A_GPU) from None


@_jit()
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
    numpy_compat()  # the launch compiles the kernel on first use
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


def _zeros(size: int, dtype: Any = np.float64) -> Storage:
    """Device storage of zeros."""
    out = _device_array(size, dtype)
    if size == 0:
        return out
    if SIMULATED:  # the simulator has no memset
        _launch(_fill, *_grid(size))(out, 0.0, size)
    else:
        out.gpu_data.memset(0)  # a driver memset, cheaper than launching a kernel
    return out


def _full(size: int, value: float, dtype: Any = np.float64) -> Storage:
    """Device storage holding `value` everywhere (the value travels as a kernel argument)."""
    if value == 0.0:
        return _zeros(size, dtype)
    out = _device_array(size, dtype)
    if size:
        _launch(_fill, *_grid(size))(out, float(value), size)
    return out


def _to_storage(values: Any) -> Storage:
    """Host values (numpy array or list) as device storage: one copy; a device array as is."""
    if _on_device(values):
        return values
    dtype = getattr(values, "dtype", None)  # float32 stays float32; the rest is float64
    dtype = dtype if dtype in (np.float32, np.float64) else np.float64
    host = np.ascontiguousarray(values, dtype=dtype).reshape(-1)
    if host.size == 1:  # a lone number: a fill kernel takes it as an argument, no copy
        return _full(1, float(host[0]), dtype)
    install_pool()  # (a first copy creates the GPU's context)
    try:
        return cuda.to_device(host)
    except ImportError:
        raise CudaUnavailableError(HOW_TO_GET_A_GPU) from None


def _to_host(storage: Any) -> np.ndarray:
    """A new host numpy array holding the storage's values (one copy from the GPU)."""
    if _on_device(storage):
        return storage.copy_to_host()
    return np.array(storage)


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


def _layout(shape: Shape, strides: Strides) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """`(shape, strides)` as tuples, a 0-dim layout as `(1,), (1,)` (the same one value): an
    empty tuple compiles on the simulator but not for a GPU (`getitem(Tuple(), int64)`)."""
    if len(shape) == 0:
        return (1,), (1,)
    return _ints(shape), _ints(strides)


# ---- map and zip ---------------------------------------------------------------------------------
# The strided kernels read each operand through strides aligned to the output's dimensions
# (0 where it broadcasts), after dimensions of size 1 are dropped and neighbours every operand
# lays out as one are merged (`_plan`, on the host, once per layout). Each job is a piece of a
# row along the last dimension: its start is found by dividing once, then the job's threads
# step along it. A row shorter than a warp is a thread's job; a longer one is cut into pieces
# of up to `ROW_CHUNK` values per lane, each a warp's job, so neighbouring lanes read
# neighbouring values. Index math is 32-bit unsigned where every count and position fits
# (a GPU divides 32-bit integers in hardware, 64-bit ones in a software routine).

ROW_CHUNK = 8  # values each lane of a warp takes from a row per job
INDEX32_LIMIT = 2**31  # counts and positions below this: 32-bit index math


@dataclass(frozen=True)
class _Plan:
    """How a strided map or zip is launched (`_plan`)."""

    shape: tuple[int, ...]  # the output's, without size-1 dimensions, merged where possible
    out_strides: tuple[int, ...]
    strides: tuple[tuple[int, ...], ...]  # each operand's, aligned to `shape`
    wide: bool  # a count or position needs 64-bit index math
    grid: int
    block: tuple[int, int]  # (threads along a row, rows per block)
    jobs: int  # pieces of rows
    chunks: int  # pieces per row
    chunk: int  # values per piece


def _collapse(
    shape: tuple[int, ...], layouts: list[tuple[int, ...]]
) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """`shape` and the strides in `layouts` (all aligned to it) without size-1 dimensions,
    and with each dimension merged into the next where every layout steps over the next one
    whole (`s[d] == s[d + 1] * shape[d + 1]`): the same positions, in fewer dimensions."""
    dims = [d for d, n in enumerate(shape) if n != 1]
    if not dims:
        return (1,), [(0,)] * len(layouts)
    sizes = [shape[dims[-1]]]  # innermost first
    steps = [[s[dims[-1]]] for s in layouts]
    for d in reversed(dims[:-1]):
        if all(s[d] == step[-1] * sizes[-1] for s, step in zip(layouts, steps)):
            sizes[-1] *= shape[d]
        else:
            sizes.append(shape[d])
            for s, step in zip(layouts, steps):
                step.append(s[d])
    return tuple(reversed(sizes)), [tuple(reversed(step)) for step in steps]


@functools.lru_cache(maxsize=4096)
def _plan(
    shape: tuple[int, ...],
    out_strides: tuple[int, ...],
    layouts: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...],
    threads: int,
    max_blocks: int,
) -> _Plan:
    """The launch of a strided map or zip writing `(shape, out_strides)` from operands laid
    out as `layouts` ((shape, strides) each), with blocks of `threads` threads."""
    aligned = [_aligned(n, s, len(shape)) for n, s in layouts]
    shape, (out_strides, *strides) = _collapse(shape, [out_strides, *aligned])
    size, last = math.prod(shape), shape[-1]
    furthest = max(_furthest(shape, lay) for lay in (out_strides, *strides))
    width = min(1 if last < WARP else WARP, threads)
    chunk = last if width == 1 else width * min(ROW_CHUNK, -(-last // width))
    chunks = -(-last // chunk)
    jobs = size // last * chunks
    per_block = threads // width
    return _Plan(
        shape,
        out_strides,
        tuple(strides),
        wide=max(size, furthest) >= INDEX32_LIMIT,
        grid=min(-(-jobs // per_block), max_blocks),
        block=(width, per_block),
        jobs=jobs,
        chunks=chunks,
        chunk=chunk,
    )


def _furthest(shape: tuple[int, ...], strides: tuple[int, ...]) -> int:
    """The largest position a layout reaches (0 for one value)."""
    return sum((n - 1) * s for n, s in zip(shape, strides))


def _aligned(shape: tuple[int, ...], strides: tuple[int, ...], dims: int) -> tuple[int, ...]:
    """Strides reading a layout broadcast to `dims` dimensions: 0 where it is broadcast."""
    pad = (0,) * (dims - len(shape))
    return pad + tuple(s if n > 1 else 0 for n, s in zip(shape, strides))


def _elementwise(row_major: Any, strided: Any, wide: Any) -> Callable[..., None]:
    """The launcher of a map or zip kernel, called as `(out, out_shape, out_strides,
    *operands)` with a `(storage, shape, strides)` triple per operand. Where every operand
    is row-major with the output's shape, `row_major(out, *storages, size)` runs; otherwise
    `strided` (or `wide`, its 64-bit twin, for the largest tensors) as
    `(out, shape, strides, *(storage, aligned strides) per operand, jobs, chunks, chunk)`.
    """

    def run(out: Storage, out_shape: Shape, out_strides: Strides, *operands: Any) -> None:
        shape, strides = _layout(out_shape, out_strides)
        size = math.prod(shape)
        if size == 0:
            return
        storages = _on_gpu(out, *operands[0::3])
        layouts = tuple(_layout(n, s) for n, s in zip(operands[1::3], operands[2::3]))
        if strides == _row_major(shape) and all(lay == (shape, strides) for lay in layouts):
            _launch(row_major, *_grid(size))(out, *storages, size)
            return
        plan = _plan(shape, strides, layouts, THREADS, MAX_BLOCKS)
        pairs = [x for storage, s in zip(storages, plan.strides) for x in (storage, s)]
        kernel = wide if plan.wide else strided
        _launch(kernel, plan.grid, plan.block)(
            out, plan.shape, plan.out_strides, *pairs, plan.jobs, plan.chunks, plan.chunk
        )

    run.kernels = (row_major, strided, wide)  # type: ignore[attr-defined]  # for inspection
    return run


@functools.cache
def tensor_map(fn: Callable[[float], float]) -> MapKernel:
    """The CUDA map kernel: `out[i] = fn(a[broadcast(i)])` (cached per `fn`)."""
    f, cacheable = _device(fn)

    @_jit(cache=cacheable)
    def row_major(out: Storage, a: Storage, size: int) -> None:
        for i in range(cuda.grid(1), size, cuda.gridsize(1)):
            out[i] = f(a[i])

    def strided_with(ix: Any) -> Any:
        """The strided kernel with index math in integers of type `ix`."""

        def strided(
            out: Storage,
            out_shape: Any,
            out_strides: Any,
            a: Storage,
            a_strides: Any,
            jobs: int,
            chunks: int,
            chunk: int,
        ) -> None:
            last = len(out_shape) - 1
            per_block, n_chunks, n_chunk = ix(cuda.blockDim.y), ix(chunks), ix(chunk)
            first = ix(ix(cuda.blockIdx.x) * per_block + ix(cuda.threadIdx.y))
            step, job = ix(ix(cuda.gridDim.x) * per_block), first
            while job < ix(jobs):  # (a `range` would divide to count its steps)
                row = ix(job // n_chunks)
                lo = ix(job - row * n_chunks) * n_chunk
                rest, o, p = row, ix(0), ix(0)
                for d in range(last - 1, -1, -1):  # the row's start: the only divisions
                    n = ix(out_shape[d])
                    k = ix(rest % n)
                    rest = ix(rest // n)
                    o += k * ix(out_strides[d])
                    p += k * ix(a_strides[d])
                o_step, p_step = ix(out_strides[last]), ix(a_strides[last])
                hi = min(ix(out_shape[last]), lo + n_chunk)
                x = lo + ix(cuda.threadIdx.x)
                while x < hi:
                    out[o + x * o_step] = f(a[p + x * p_step])
                    x += ix(cuda.blockDim.x)
                job = ix(job + step)

        strided.__qualname__ += f"_{ix}"  # each twin its own disk cache files
        return _jit(cache=cacheable)(strided)

    return _elementwise(row_major, strided_with(numba.uint32), strided_with(numba.int64))


@functools.cache
def tensor_zip(fn: Callable[[float, float], float]) -> ZipKernel:
    """The CUDA zip kernel: `out[i] = fn(a[broadcast(i)], b[broadcast(i)])` (cached per `fn`)."""
    f, cacheable = _device(fn)

    @_jit(cache=cacheable)
    def row_major(out: Storage, a: Storage, b: Storage, size: int) -> None:
        for i in range(cuda.grid(1), size, cuda.gridsize(1)):
            out[i] = f(a[i], b[i])

    def strided_with(ix: Any) -> Any:
        """The strided kernel with index math in integers of type `ix`."""

        def strided(
            out: Storage,
            out_shape: Any,
            out_strides: Any,
            a: Storage,
            a_strides: Any,
            b: Storage,
            b_strides: Any,
            jobs: int,
            chunks: int,
            chunk: int,
        ) -> None:
            last = len(out_shape) - 1
            per_block, n_chunks, n_chunk = ix(cuda.blockDim.y), ix(chunks), ix(chunk)
            first = ix(ix(cuda.blockIdx.x) * per_block + ix(cuda.threadIdx.y))
            step, job = ix(ix(cuda.gridDim.x) * per_block), first
            while job < ix(jobs):  # (a `range` would divide to count its steps)
                row = ix(job // n_chunks)
                lo = ix(job - row * n_chunks) * n_chunk
                rest, o, p, q = row, ix(0), ix(0), ix(0)
                for d in range(last - 1, -1, -1):  # the row's start: the only divisions
                    n = ix(out_shape[d])
                    k = ix(rest % n)
                    rest = ix(rest // n)
                    o += k * ix(out_strides[d])
                    p += k * ix(a_strides[d])
                    q += k * ix(b_strides[d])
                o_step, p_step = ix(out_strides[last]), ix(a_strides[last])
                q_step = ix(b_strides[last])
                hi = min(ix(out_shape[last]), lo + n_chunk)
                x = lo + ix(cuda.threadIdx.x)
                while x < hi:
                    out[o + x * o_step] = f(a[p + x * p_step], b[q + x * q_step])
                    x += ix(cuda.blockDim.x)
                job = ix(job + step)

        strided.__qualname__ += f"_{ix}"  # each twin its own disk cache files
        return _jit(cache=cacheable)(strided)

    return _elementwise(row_major, strided_with(numba.uint32), strided_with(numba.int64))


# ---- reduce --------------------------------------------------------------------------------------
# Sizes fixed when this module is read: a kernel's shared array is sized when it compiles, and
# a compiled kernel may come from the disk cache, so nothing a launch reads may change them.

REDUCE_WARPS = 8  # warps (outputs) per block of the warp-per-output kernel
REDUCE_BLOCK = WARP * REDUCE_WARPS  # its threads
FULL_MASK = 0xFFFFFFFF  # every lane of a warp takes part in its shuffles
SHORT_ROW = 8  # rows up to this long are folded by one thread each, even when contiguous
SEGMENT = 32  # the fewest values a thread folds alone before a long row is split
PARALLEL_THREADS = 1 << 18  # threads that keep a GPU busy (an H200: 132 SMs x 2048)


def _warp_shuffles() -> bool:
    """Whether kernels may shuffle values between a warp's lanes: a GPU can; numba's
    simulator cannot (it has no `shfl_*_sync`) unless something taught it to, as
    tests/cuda_simulator.py does. Without them, contiguous rows fold a thread each."""
    if not SIMULATED:
        return True
    from numba.cuda.simulator.kernelapi import FakeCUDAModule

    return hasattr(FakeCUDAModule, "shfl_down_sync")


@functools.cache
def tensor_reduce(fn: Callable[[float, float], float]) -> ReduceKernel:
    """The CUDA reduce kernel: fold `fn` along `reduce_dim` into `out` (which holds the start).

    `fn` must be associative (add, mul, max): the order of folding is not left to right.
    Two kernels share the work, each over `segments` pieces of every row:

    * `per_thread`: one thread per (output, segment) folds its piece alone. Neighbouring
      threads take neighbouring outputs, so where the reduced dimension is not the
      contiguous one (`sum(0)` of a matrix) a warp reads neighbouring values; rows of at
      most `SHORT_ROW` values go this way too.
    * `per_warp`: one warp per (output, segment) where the reduced dimension has stride 1:
      its lanes read neighbouring values, and a tree of warp shuffles combines them (no
      shared memory, no barrier: each warp goes at its own pace).

    When the outputs alone cannot keep the GPU busy (a full `sum()`), each row is split into
    segments whose partial results a second pass (the same launcher) folds into `out`.
    Index math is 32-bit unsigned where every count and position fits, as in map and zip;
    a piece's row is found by dividing once per piece.
    """
    f, cacheable = _device(fn)

    def kernels_with(ix: Any) -> tuple[Any, Any]:
        """The two kernels with index math in integers of type `ix`."""

        def per_thread(
            out: Storage,
            out_shape: Any,
            out_strides: Any,
            a: Storage,
            a_shape: Any,
            a_strides: Any,
            reduce_dim: int,
            out_size: int,
            segments: int,
            length: int,
            into_out: bool,
        ) -> None:
            n, step = ix(a_shape[reduce_dim]), ix(a_strides[reduce_dim])
            outs, piece, pieces = ix(out_size), ix(length), ix(out_size * segments)
            e, stride = ix(cuda.grid(1)), ix(cuda.gridsize(1))
            while e < pieces:  # (a `range` would divide to count its steps)
                o = ix(e % outs)
                lo = ix(e // outs) * piece
                hi = min(n, lo + piece)
                rest, start, position = o, ix(0), ix(0)
                for d in range(len(out_shape) - 1, -1, -1):  # the row's first element
                    if d != reduce_dim:
                        size = ix(out_shape[d])
                        k = ix(rest % size)
                        rest = ix(rest // size)
                        start += k * ix(a_strides[d])
                        position += k * ix(out_strides[d])
                acc = a[start + lo * step]
                for j in range(lo + ix(1), hi):
                    acc = f(acc, a[start + j * step])
                if into_out:
                    out[position] = f(out[position], acc)
                else:  # partial results, (segment, output) row-major
                    out[e] = acc
                e = ix(e + stride)

        def per_warp(
            out: Storage,
            out_shape: Any,
            out_strides: Any,
            a: Storage,
            a_shape: Any,
            a_strides: Any,
            reduce_dim: int,
            out_size: int,
            segments: int,
            length: int,
            into_out: bool,
        ) -> None:
            lane = ix(cuda.threadIdx.x % WARP)
            n, outs, piece = ix(a_shape[reduce_dim]), ix(out_size), ix(length)
            pieces = ix(out_size * segments)
            w = ix(ix(cuda.blockIdx.x) * ix(REDUCE_WARPS) + ix(cuda.threadIdx.x // WARP))
            stride = ix(ix(cuda.gridDim.x) * ix(REDUCE_WARPS))
            # a warp's lanes share `w`: each runs every round, so the shuffles below see all 32
            while w < pieces:
                o = ix(w % outs)
                lo = ix(w // outs) * piece
                count = min(n, lo + piece) - lo  # >= 1: no piece is empty
                rest, start, position = o, lo, ix(0)  # stride 1 along the row
                for d in range(len(out_shape) - 1, -1, -1):  # the row's first element
                    if d != reduce_dim:
                        size = ix(out_shape[d])
                        k = ix(rest % size)
                        rest = ix(rest // size)
                        start += k * ix(a_strides[d])
                        position += k * ix(out_strides[d])
                # lanes past a short piece hold a value they never pass on (see the tree below)
                acc = a[start + lane] if lane < count else a[start]
                j = lane + ix(WARP)
                while j < count:
                    acc = f(acc, a[start + j])
                    j += ix(WARP)
                # tree: lane i folds in lane i + offset's value, if that lane held one; values
                # pass only from lanes below `count`, so lane 0 ends with the whole piece
                offset = ix(WARP // 2)
                while offset > ix(0):
                    other = cuda.shfl_down_sync(FULL_MASK, acc, offset)
                    if lane + offset < count:
                        acc = f(acc, other)
                    offset = ix(offset // ix(2))
                if lane == 0:
                    if into_out:
                        out[position] = f(out[position], acc)
                    else:
                        out[w] = acc
                w = ix(w + stride)

        per_thread.__qualname__ += f"_{ix}"  # each twin its own disk cache files
        per_warp.__qualname__ += f"_{ix}"
        return _jit(cache=cacheable)(per_thread), _jit(cache=cacheable)(per_warp)

    narrow, wide = kernels_with(numba.uint32), kernels_with(numba.int64)

    def fold(
        out: Storage,
        shape: tuple[int, ...],
        strides: tuple[int, ...],
        a: Storage,
        a_shape: tuple[int, ...],
        a_strides: tuple[int, ...],
        dim: int,
    ) -> None:
        out_size, n = math.prod(shape), a_shape[dim]
        warp = a_strides[dim] == 1 and n > SHORT_ROW and _warp_shuffles()
        lanes = WARP if warp else 1
        # split rows only while the outputs alone leave the GPU idle, into long pieces
        segments = max(1, min(-(-PARALLEL_THREADS // (out_size * lanes)), n // (SEGMENT * lanes)))
        length = -(-n // segments)
        segments = -(-n // length)  # no empty piece
        target = _device_array(out_size * segments) if segments > 1 else out
        furthest = max(
            _furthest(a_shape, a_strides), _furthest(shape, strides), out_size * segments
        )
        per_thread, per_warp = wide if furthest >= INDEX32_LIMIT else narrow
        args = (target, shape, strides, a, a_shape, a_strides, dim)
        args += (out_size, segments, length, segments == 1)
        if warp:
            blocks = min(-(-out_size * segments // REDUCE_WARPS), MAX_BLOCKS)
            _launch(per_warp, blocks, REDUCE_BLOCK)(*args)
        else:
            _launch(per_thread, *_grid(out_size * segments))(*args)
        if segments > 1:  # fold the (segment, output) partial results into `out`
            p_shape = shape[:dim] + (segments,) + shape[dim + 1 :]
            p_strides = list(_row_major(shape))
            p_strides[dim] = out_size
            fold(out, shape, strides, target, p_shape, tuple(p_strides), dim)

    def run(
        out: Storage,
        out_shape: Shape,
        out_strides: Strides,
        a: Storage,
        a_shape: Shape,
        a_strides: Strides,
        reduce_dim: int,
    ) -> None:
        shape, a_shape_ = _ints(out_shape), _ints(a_shape)
        if math.prod(shape) == 0 or a_shape_[reduce_dim] == 0:  # `out` keeps the start value
            return
        (a,) = _on_gpu(out, a)
        fold(out, shape, _ints(out_strides), a, a_shape_, _ints(a_strides), reduce_dim)

    run.kernels = (*narrow, *wide)  # type: ignore[attr-defined]
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
# Two blocks of 256 threads per SM (65,536 registers): unbounded, the 4 x 4 tile took 204
# registers per thread, one block per SM. tests/test_cuda_compile.py checks it spills nothing.
MATMUL_MAX_REGISTERS = 128


@functools.cache
def matmul_kernel(tiles: MatMulTiles = MATMUL_TILES) -> Callable[..., None]:
    r"""A batched matmul kernel $out_{n,i,j} = \sum_k a_{n,i,k} b_{n,k,j}$ with `tiles`' blocking.

    Launched on a grid `(column tiles, row tiles, batch)`, each of whose blocks has
    `(tiles.tx, tiles.ty)` threads, from batch entry `n0` and row tile `tile0` (beyond the
    grid limits, the launcher launches again: loops here would cost registers).
    Tiles of A and B are staged in shared memory by all threads, consecutive threads on
    consecutive columns (coalesced for row-major operands); every size the staging divides
    by is a constant of the compiled kernel (a shift, not a 64-bit division), and tiles
    wholly inside the operands skip the edge checks.
    """
    tm, tn, tx, ty, bk = tiles.tm, tiles.tn, tiles.tx, tiles.ty, tiles.bk
    rows_tile, cols_tile, threads = tiles.rows, tiles.cols, tx * ty
    a_loads = -(-rows_tile * bk // threads)  # values of the A tile each thread stages
    b_loads = -(-bk * cols_tile // threads)
    a_exact = a_loads * threads == rows_tile * bk  # every thread stages a_loads values
    b_exact = b_loads * threads == bk * cols_tile

    @_jit(**({} if SIMULATED else {"max_registers": MATMUL_MAX_REGISTERS}))
    def kernel(
        out: Storage,
        out_shape: Any,
        out_strides: Any,
        a: Storage,
        a_shape: Any,
        a_strides: Any,
        b: Storage,
        b_shape: Any,
        b_strides: Any,
        n0: int,
        tile0: int,
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
        n = n0 + cuda.blockIdx.z
        row0 = (tile0 + cuda.blockIdx.y) * rows_tile
        if n < batch and row0 < rows:
            interior = row0 + rows_tile <= rows and col0 + cols_tile <= cols
            for r in range(tm):
                for c in range(tn):
                    acc[r, c] = 0.0
            for k0 in range(0, inner, bk):
                inside_all = interior and k0 + bk <= inner
                a_start = n * a_batch + row0 * a_strides[1] + k0 * a_strides[2]
                for q in range(a_loads):
                    e = t + q * threads
                    r, c = e // bk, e % bk
                    if a_exact or e < rows_tile * bk:
                        inside = inside_all or (row0 + r < rows and k0 + c < inner)
                        a_tile[r, c] = (
                            a[a_start + r * a_strides[1] + c * a_strides[2]] if inside else 0.0
                        )
                b_start = n * b_batch + k0 * b_strides[1] + col0 * b_strides[2]
                for q in range(b_loads):
                    e = t + q * threads
                    r, c = e // cols_tile, e % cols_tile
                    if b_exact or e < bk * cols_tile:
                        inside = inside_all or (k0 + r < inner and col0 + c < cols)
                        b_tile[r, c] = (
                            b[b_start + r * b_strides[1] + c * b_strides[2]] if inside else 0.0
                        )
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
            out_start = n * out_strides[0] + (row0 + row) * out_strides[1]
            for r in range(tm):
                i = row0 + row + r * ty
                for c in range(tn):
                    j = col0 + col + c * tx
                    if i < rows and j < cols:
                        position = out_start + r * ty * out_strides[1]
                        out[position + j * out_strides[2]] = acc[r, c]

    return kernel


def tensor_matrix_multiply(
    out: Storage,
    out_shape: Shape,
    out_strides: Strides,
    a: Storage,
    a_shape: Shape,
    a_strides: Strides,
    b: Storage,
    b_shape: Shape,
    b_strides: Strides,
    tiles: MatMulTiles = MATMUL_TILES,
) -> None:
    r"""The CUDA batched matmul: $out_{n,i,j} = \sum_k a_{n,i,k} b_{n,k,j}$ (3-D operands)."""
    shape = _ints(out_shape)
    batch, rows, cols = shape
    if batch * rows * cols == 0:  # (an empty inner dimension still writes zeros)
        return
    a, b = _on_gpu(out, a, b)
    kernel = matmul_kernel(tiles)
    layouts = (
        out,
        shape,
        _ints(out_strides),
        a,
        _ints(a_shape),
        _ints(a_strides),
        b,
        _ints(b_shape),
        _ints(b_strides),
    )
    row_tiles = -(-rows // tiles.rows)
    for n0 in range(0, batch, MAX_BLOCKS):  # one launch unless a grid limit is passed
        for tile0 in range(0, row_tiles, MAX_BLOCKS):
            grid = (
                -(-cols // tiles.cols),
                min(row_tiles - tile0, MAX_BLOCKS),
                min(batch - n0, MAX_BLOCKS),
            )
            _launch(kernel, grid, (tiles.tx, tiles.ty))(*layouts, n0, tile0)


# ---- convolution ---------------------------------------------------------------------------------


@_jit()
def _conv_kernel(
    out: Storage,
    out_shape: Any,
    out_strides: Any,
    a: Storage,
    a_shape: Any,
    a_strides: Any,
    w: Storage,
    w_shape: Any,
    w_strides: Any,
    sign: int,
    size: int,
) -> None:
    r"""$out_{n,o,y,x} = \sum_{c,i,j} a_{n,c,y + s i,x + s j} \, w_{o,c,i,j}$, $s$ = `sign`.

    One thread per output element, neighbouring threads on neighbouring columns `x` (so
    reads of `a` along a row coalesce); positions outside `a` read as 0.
    """
    out_ch, out_h, out_w = out_shape[1], out_shape[2], out_shape[3]
    in_ch, height, width = a_shape[1], a_shape[2], a_shape[3]
    kh, kw = w_shape[2], w_shape[3]
    for e in range(cuda.grid(1), size, cuda.gridsize(1)):
        x = e % out_w
        rest = e // out_w
        y = rest % out_h
        rest //= out_h
        o = rest % out_ch
        n = rest // out_ch
        acc = 0.0
        for c in range(in_ch):
            a_image = n * a_strides[0] + c * a_strides[1]
            w_image = o * w_strides[0] + c * w_strides[1]
            for i in range(kh):
                yy = y + sign * i
                if 0 <= yy < height:
                    for j in range(kw):
                        xx = x + sign * j
                        if 0 <= xx < width:
                            acc += (
                                a[a_image + yy * a_strides[2] + xx * a_strides[3]]
                                * w[w_image + i * w_strides[2] + j * w_strides[3]]
                            )
        out[n * out_strides[0] + o * out_strides[1] + y * out_strides[2] + x * out_strides[3]] = acc


def tensor_conv(
    out: Storage,
    out_shape: Shape,
    out_strides: Strides,
    a: Storage,
    a_shape: Shape,
    a_strides: Strides,
    w: Storage,
    w_shape: Shape,
    w_strides: Strides,
    reverse: bool,
) -> None:
    r"""The CUDA convolution (`CudaOps.conv_kernel`), 4-D operands of any layout:
    $out_{n,o,y,x} = \sum_{c,i,j} a_{n,c,y \pm i,x \pm j} \, w_{o,c,i,j}$ ($-$ if `reverse`)."""
    shape = _ints(out_shape)
    size = math.prod(shape)
    if size == 0:
        return
    a, w = _on_gpu(out, a, w)
    _launch(_conv_kernel, *_grid(size))(
        out,
        shape,
        _ints(out_strides),
        a,
        _ints(a_shape),
        _ints(a_strides),
        w,
        _ints(w_shape),
        _ints(w_strides),
        -1 if reverse else 1,
        size,
    )


# ---- The backend ---------------------------------------------------------------------------------


class CudaOps(TensorOps):
    """CUDA kernels over device storage; the glue (shapes, allocation, broadcasting) is
    `TensorOps`'."""

    device = "cuda"
    zeros_storage = staticmethod(_zeros)
    output_storage = staticmethod(_device_array)  # kernels write every element: no memset
    full_storage = staticmethod(_full)
    to_storage = staticmethod(_to_storage)
    to_host = staticmethod(_to_host)

    map_kernel = staticmethod(tensor_map)
    zip_kernel = staticmethod(tensor_zip)
    reduce_kernel = staticmethod(tensor_reduce)
    matrix_multiply_kernel = staticmethod(tensor_matrix_multiply)
    conv_kernel = staticmethod(tensor_conv)


CudaBackend = TensorBackend(CudaOps)
