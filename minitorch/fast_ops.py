"""The fast CPU backend: numba-compiled kernels that run in parallel over all cores.

The kernels have the same contract as the pure-Python ones in `tensor_ops` (raw
`(storage, shape, strides)` triples, outputs written in place) and `FastOps` plugs them into
the shared glue, so output allocation, broadcasting checks and matmul promotion stay written
once. What is different is only how the loops run:

* map / zip: when output and inputs share one row-major layout, a flat loop over storage
  with no index arithmetic; otherwise row by row along the last dimension: `to_index`
  places a chunk's first row, each operand's broadcast folded into its strides (0 where it
  broadcasts), and an odometer steps the positions from row to row; one strided loop runs
  along each row.
* reduce: parallel over runs of outputs along the last kept dimension; a run folds term r
  of all its outputs, then term r + 1 (each output in its own order, as a loop per output
  would, and as one vector operation per term where the run is contiguous).
* matmul: our own blocked kernel (no BLAS): parallel over batch and row blocks, operands
  whose columns are strided are packed first, and a register-blocked inner loop (two rows
  by four terms of the sum) that LLVM turns into vector FMAs.

Compile time. numba compiles a kernel on first use, and a kernel that closes over a
run-time `fn` is normally compiled again in every process: numba keys its on-disk cache by
the pickled closure, and a compiled function pickles with a random per-process id. For the
library's own scalar functions (`minitorch.operators`) we give the
compiled function an id derived from its module, name and bytecode instead, so the pickle is
the same in every process and `cache=True` works: a second process loads every kernel from
the per-user kernel cache (`kernel_cache`; never the package folder). Functions from
elsewhere (a user's lambda) compile per process, uncached, so a stale cache can never run
code that has since changed.

Arithmetic follows IEEE rules, as numpy and PyTorch do: `log(0) = -inf`, `log(-1) = nan`,
`1/0 = inf`, `exp(1000) = inf`, NaN propagates through `max`. The scalar functions in
`minitorch.operators` are written that way, so every backend compiles the same source.
"""

from __future__ import annotations

import hashlib
import sys
import types
import uuid
from typing import Any, Callable

import numpy as np
from numba import njit, prange

from . import tensor_data
from .autodiff import no_grad
from .kernel_cache import route_kernel_caches
from .tensor_ops import MapKernel, ReduceKernel, TensorBackend, TensorOps, ZipKernel

__all__ = [
    "FastOps",
    "FastBackend",
    "tensor_map",
    "tensor_zip",
    "tensor_reduce",
    "tensor_matrix_multiply",
    "Kernel",
    "kernel_source",
    "stable_id",
    "index_to_position",
    "to_index",
    "broadcast_index",
    "on_fast",
    "flat_values",
]

# Before the first `cache=True`: numba caches these kernels per user, not in the package.
route_kernel_caches()

# The index helpers, written once in tensor_data, compiled for the CPU kernels.
index_to_position = njit(inline="always", cache=True)(tensor_data.index_to_position)
to_index = njit(inline="always", cache=True)(tensor_data.to_index)
broadcast_index = njit(inline="always", cache=True)(tensor_data.broadcast_index)

# Elements handled by one task of a parallel loop: enough work to pay for a task, and the
# unit for which the index buffers are allocated.
CHUNK = 4096
# Outputs of a reduction folded together by one task (see `tensor_reduce`).
REDUCE_RUN = 512
# Work (elements touched) from which a kernel runs in parallel; see `Kernel`. Elementwise
# loops run at a fraction of a nanosecond per element, so a parallel region (tens of
# microseconds to start) only pays from a few hundred thousand elements.
PARALLEL_WORK = 262_144


# ---- Scalar functions as numba sees them ---------------------------------------------------------


# modules whose scalar functions are the library's own (stable ids make their kernels cacheable)
_CACHEABLE_MODULES = ("minitorch.operators", "minitorch.transformer_functions", __name__)


def kernel_source(fn: Callable[..., float]) -> Callable[..., float]:
    """The Python function a kernel compiles for `fn` (the operators need no stand-ins:
    they follow IEEE rules themselves).

    Accepts a plain Python function or an already compiled one (`njit()(operators.id)`).
    """
    return getattr(fn, "py_func", fn)


def stable_id(py: Callable[..., float], target: str = "") -> str | None:
    """An id for the compiled form of `py` that is the same in every process, or None.

    Only the library's own functions get one (importable by name, so a cached kernel can
    never run code that has since changed); `target` keeps the ids of the same function
    compiled for different targets (CPU, GPU) apart.
    """
    module = getattr(py, "__module__", None)
    qualname = getattr(py, "__qualname__", "")
    importable = getattr(sys.modules.get(module), qualname, None) is py
    if module not in _CACHEABLE_MODULES or not importable:
        return None
    code = py.__code__
    digest = hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{target}{module}.{qualname}:{digest}"))


def _compile(fn: Callable[..., float]) -> tuple[Any, bool]:
    """`fn` compiled for inlining into kernels, and whether kernels over it may be cached."""
    py = kernel_source(fn)
    compiled = njit(inline="always", error_model="numpy")(py)
    stable = stable_id(py)
    if stable is not None:
        compiled._set_uuid(stable)
    return compiled, stable is not None


class Kernel:
    """One kernel source compiled twice: serially for small work, in parallel for large.

    A map or zip kernel also has `flat`, the same loop over operands that share one
    row-major layout, called with the storages alone: the glue takes it for the common
    case, where numba's dispatch of three arguments instead of nine is half the cost of a
    small operation.

    Starting a parallel region costs tens of microseconds (milliseconds when the other
    core is busy), more than a small tensor operation takes in one thread, so work below
    `PARALLEL_WORK` elements runs serially (numba reads `prange` as `range` there).

    Args:
        py_func: the kernel's Python source.
        work: from the kernel's arguments, about how many elements it touches; None for
            the size of the output (the first argument), checked without a function call
            (elementwise kernels: a Python call is a tenth of a small operation's cost).
        cache: whether numba may cache the compiled code on disk.
        **options: further numba options (e.g. `fastmath`).
    """

    # Set by `threads.set_threads(1)`: with one thread a parallel region is pure overhead,
    # and never calling the parallel variant also spares compiling it (process-wide).
    serial_only = False

    def __init__(
        self,
        py_func: Callable[..., None],
        work: Callable[..., int] | None,
        cache: bool,
        **options: Any,
    ) -> None:
        options = dict(error_model="numpy", cache=cache, **options)
        self.py_func = py_func
        self.work = work
        self.flat: Callable[..., None] | None = None
        self.options = options
        self.parallel = njit(parallel=True, **options)(py_func)
        # A copy under its own name: numba's cache tells functions apart by qualified name,
        # not by compile options, so the two variants must not share one.
        serial = types.FunctionType(
            py_func.__code__,
            py_func.__globals__,
            py_func.__name__,
            py_func.__defaults__,
            py_func.__closure__,
        )
        serial.__qualname__ = py_func.__qualname__ + "_serial"
        serial.__module__ = py_func.__module__
        self.serial = njit(**options)(serial)

    def __call__(self, *args: Any) -> None:
        work = self.work
        if self.serial_only or (args[0].size if work is None else work(*args)) < PARALLEL_WORK:
            return self.serial(*args)
        return self.parallel(*args)

    def parallel_diagnostics(self, signature: Any = None, level: int = 1) -> None:
        """numba's report on how the parallel variant's loops were parallelised.

        numba keeps no diagnostics for code it loaded from its cache; then a fresh, uncached
        copy is compiled for the same signatures and reported on (the course's
        `parallel_check.py` prints this report).
        """
        kernel = self.parallel
        if not kernel.signatures:  # only the serial variant has run: compile the other
            for sig in self.serial.signatures:
                kernel.compile(sig)
        if any(kernel.overloads[sig].metadata is None for sig in kernel.signatures):
            fresh = njit(parallel=True, **{**self.options, "cache": False})(self.py_func)
            for sig in kernel.signatures:
                fresh.compile(sig)
            kernel = fresh
        return kernel.parallel_diagnostics(signature, level)


def _flat(kernel: Kernel) -> Callable[..., None]:
    """`kernel` (over flat storages, output first) as a plain function: the same choice of
    variant as `Kernel.__call__`, a tenth of a microsecond sooner (the glue's common case)."""
    serial, parallel = kernel.serial, kernel.parallel

    def flat(out: np.ndarray, *storages: np.ndarray) -> None:
        if out.size < PARALLEL_WORK or Kernel.serial_only:
            return serial(out, *storages)
        return parallel(out, *storages)

    flat.kernel = kernel  # type: ignore[attr-defined]  # for inspection and tests
    return flat


def _reduce_work(out: np.ndarray, out_shape: Any, out_strides: Any, a: np.ndarray, *_: Any) -> int:
    return a.size


def _matmul_work(
    out: np.ndarray, out_shape: Any, out_strides: Any, a: Any, a_shape: Any, *_: Any
) -> int:
    # One multiply-add of the vectorised inner loop costs about 1/16 of an elementwise op
    # (small products run below the kernel's peak: attention's (48, 64, 32) @ (48, 32, 64)
    # takes about as long as two elementwise passes over 262,144 values, and pays for a
    # parallel region).
    return out.size * int(a_shape[2]) // 16


# ---- Layout helpers ------------------------------------------------------------------------------


@njit(inline="always", cache=True)
def _size(shape: np.ndarray) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


@njit(inline="always", cache=True)
def _row_major(shape: np.ndarray, strides: np.ndarray) -> bool:
    """Whether `strides` are the row-major strides of `shape` (size-1 dims excepted)."""
    step = 1
    for i in range(len(shape) - 1, -1, -1):
        if shape[i] != 1 and strides[i] != step:
            return False
        step *= shape[i]
    return True


@njit(inline="always", cache=True)
def _same(x: np.ndarray, y: np.ndarray) -> bool:
    if len(x) != len(y):
        return False
    for i in range(len(x)):
        if x[i] != y[i]:
            return False
    return True


@njit(inline="always", cache=True)
def _rows(shape: np.ndarray) -> tuple[int, int]:
    """Length of the last dimension and how many rows of it `shape` holds (0-D: one of 1)."""
    if len(shape) == 0:
        return 1, 1
    n = shape[len(shape) - 1]
    return n, (_size(shape) // n if n > 0 else 0)


@njit(inline="always", cache=True)
def _aligned(shape: np.ndarray, strides: np.ndarray, out_shape: np.ndarray) -> np.ndarray:
    """The storage step of a tensor that broadcasts to `out_shape`, per dimension of
    `out_shape`: its own stride, or 0 where it broadcasts (size 1, or no such dimension).

    With these, the position of an output index in the operand is a dot product, and
    stepping the index steps the position: `broadcast_index` once, folded into strides.
    """
    dims = len(out_shape)
    steps = np.zeros(dims, np.int64)
    offset = dims - len(shape)
    for i in range(len(shape)):
        if shape[i] != 1 or out_shape[offset + i] == 1:
            steps[offset + i] = strides[i]
    return steps


@njit(inline="always", cache=True)
def _merged(
    out_shape: np.ndarray, out_strides: np.ndarray, a_strides: np.ndarray, reduce_dim: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A reduction's layout with fewer dimensions: size-1 dimensions dropped, and neighbours
    that both `out` and `a` store row-major merged into one (never the reduced one).

    Returns `(shape, out_strides, a_strides, reduce_dim)` of the merged layout (the reduced
    dimension keeps size 1 in `shape`). Pooling's `(B, C, H/4, 4, W/4, 4)` sum over the last
    dimension becomes `(B C H W / 16, 1)`: one long run of outputs instead of rows of 7.
    """
    dims = len(out_shape)
    shape = np.empty(dims, np.int64)
    out_steps = np.empty(dims, np.int64)
    a_steps = np.empty(dims, np.int64)
    k, merged_reduce = 0, 0
    for i in range(dims):
        size = out_shape[i]
        if i == reduce_dim:
            merged_reduce = k
        elif size == 1:
            continue
        elif (
            k > 0
            and k - 1 != merged_reduce
            and out_steps[k - 1] == out_strides[i] * size
            and a_steps[k - 1] == a_strides[i] * size
        ):
            shape[k - 1] *= size
            out_steps[k - 1], a_steps[k - 1] = out_strides[i], a_strides[i]
            continue
        shape[k], out_steps[k], a_steps[k] = size, out_strides[i], a_strides[i]
        k += 1
    return shape[:k], out_steps[:k], a_steps[:k], merged_reduce


@njit(inline="always", cache=True)
def _next_row(index: np.ndarray, shape: np.ndarray, steps: np.ndarray, at: np.ndarray) -> None:
    """Step `index` to the next row of `shape` (an odometer over all but the last
    dimension, no division), moving each operand's position `at[k]` with it by its aligned
    strides `steps[k]`."""
    for i in range(len(shape) - 2, -1, -1):
        index[i] += 1
        for k in range(len(at)):
            at[k] += steps[k, i]
        if index[i] < shape[i]:
            return
        index[i] = 0
        for k in range(len(at)):
            at[k] -= steps[k, i] * shape[i]


@njit(inline="always", cache=True)
def _dot(index: np.ndarray, steps: np.ndarray) -> int:
    position = 0
    for i in range(len(index)):
        position += index[i] * steps[i]
    return position


# ---- Kernel builders -----------------------------------------------------------------------------


def tensor_map(fn: Callable[[float], float]) -> MapKernel:
    """A parallel kernel computing `out[i] = fn(in[broadcast(i)])`.

    Args:
        fn: a float function (plain or numba-compiled).

    Returns:
        A numba `parallel=True` function of `(out, out_shape, out_strides, in_storage,
        in_shape, in_strides)`.
    """
    f, cache = _compile(fn)

    def _map(out, out_shape, out_strides, in_storage, in_shape, in_strides):  # type: ignore[no-untyped-def]
        size = _size(out_shape)
        if (
            _same(out_shape, in_shape)
            and _same(out_strides, in_strides)
            and _row_major(out_shape, out_strides)
        ):
            for i in prange(size):
                out[i] = f(in_storage[i])
            return
        # Row by row along the last dimension: each row's start is placed once per chunk
        # (`to_index`, then dot products with the aligned strides) and then stepped like an
        # odometer, each operand's position moving with the index; one strided loop runs
        # along each row (stride 0 where the input broadcasts).
        n, rows = _rows(out_shape)
        dims = len(out_shape)
        steps = np.empty((2, dims), np.int64)
        steps[0] = _aligned(out_shape, out_strides, out_shape)
        steps[1] = _aligned(in_shape, in_strides, out_shape)
        out_step = steps[0, dims - 1] if dims else 0
        in_step = steps[1, dims - 1] if dims else 0
        per_chunk = max(1, CHUNK // max(n, 1))
        for chunk in prange((rows + per_chunk - 1) // per_chunk):
            index = np.zeros(dims, np.int64)
            to_index(chunk * per_chunk * n, out_shape, index)
            at = np.array([_dot(index, steps[0]), _dot(index, steps[1])])
            for _ in range(chunk * per_chunk, min(rows, (chunk + 1) * per_chunk)):
                o, p = at[0], at[1]
                if out_step == 1 and in_step == 1:  # slices indexed from 0: vector loads
                    row, src = out[o : o + n], in_storage[p : p + n]
                    for k in range(n):
                        row[k] = f(src[k])
                else:
                    for k in range(n):
                        out[o + k * out_step] = f(in_storage[p + k * in_step])
                _next_row(index, out_shape, steps, at)

    def _map_flat(out, in_storage):  # type: ignore[no-untyped-def]
        for i in prange(out.size):
            out[i] = f(in_storage[i])

    kernel = Kernel(_map, None, cache)
    kernel.flat = _flat(Kernel(_map_flat, None, cache))
    return kernel


def tensor_zip(fn: Callable[[float, float], float]) -> ZipKernel:
    """A parallel kernel computing `out[i] = fn(a[broadcast(i)], b[broadcast(i)])`.

    Args:
        fn: a float function of two arguments (plain or numba-compiled).

    Returns:
        A numba `parallel=True` function of the nine arguments of three tensors.
    """
    f, cache = _compile(fn)

    def _zip(  # type: ignore[no-untyped-def]
        out,
        out_shape,
        out_strides,
        a_storage,
        a_shape,
        a_strides,
        b_storage,
        b_shape,
        b_strides,
    ):
        size = _size(out_shape)
        if (
            _same(out_shape, a_shape)
            and _same(out_shape, b_shape)
            and _same(out_strides, a_strides)
            and _same(out_strides, b_strides)
            and _row_major(out_shape, out_strides)
        ):
            for i in prange(size):
                out[i] = f(a_storage[i], b_storage[i])
            return
        n, rows = _rows(out_shape)  # row by row, as in tensor_map
        dims = len(out_shape)
        steps = np.empty((3, dims), np.int64)
        steps[0] = _aligned(out_shape, out_strides, out_shape)
        steps[1] = _aligned(a_shape, a_strides, out_shape)
        steps[2] = _aligned(b_shape, b_strides, out_shape)
        out_step = steps[0, dims - 1] if dims else 0
        a_step = steps[1, dims - 1] if dims else 0
        b_step = steps[2, dims - 1] if dims else 0
        per_chunk = max(1, CHUNK // max(n, 1))
        for chunk in prange((rows + per_chunk - 1) // per_chunk):
            index = np.zeros(dims, np.int64)
            to_index(chunk * per_chunk * n, out_shape, index)
            at = np.array([_dot(index, steps[0]), _dot(index, steps[1]), _dot(index, steps[2])])
            for _ in range(chunk * per_chunk, min(rows, (chunk + 1) * per_chunk)):
                o, p, q = at[0], at[1], at[2]
                if out_step == 1 and a_step == 1 and b_step == 1:
                    # Slices indexed from 0 let LLVM vectorise; a step of 0
                    # is an operand broadcast along the row: one value.
                    row, xs, ys = out[o : o + n], a_storage[p : p + n], b_storage[q : q + n]
                    for k in range(n):
                        row[k] = f(xs[k], ys[k])
                elif out_step == 1 and a_step == 1 and b_step == 0:
                    row, xs, y = out[o : o + n], a_storage[p : p + n], b_storage[q]
                    for k in range(n):
                        row[k] = f(xs[k], y)
                elif out_step == 1 and a_step == 0 and b_step == 1:
                    row, x, ys = out[o : o + n], a_storage[p], b_storage[q : q + n]
                    for k in range(n):
                        row[k] = f(x, ys[k])
                else:
                    for k in range(n):
                        x, y = a_storage[p + k * a_step], b_storage[q + k * b_step]
                        out[o + k * out_step] = f(x, y)
                _next_row(index, out_shape, steps, at)

    def _zip_flat(out, a_storage, b_storage):  # type: ignore[no-untyped-def]
        for i in prange(out.size):
            out[i] = f(a_storage[i], b_storage[i])

    kernel = Kernel(_zip, None, cache)
    kernel.flat = _flat(Kernel(_zip_flat, None, cache))
    return kernel


def tensor_reduce(fn: Callable[[float, float], float]) -> ReduceKernel:
    """A parallel kernel folding `fn` along `reduce_dim`, starting from the values in `out`.

    Args:
        fn: the fold's float function of two arguments.

    Returns:
        A numba `parallel=True` function of `(out, out_shape, out_strides, a_storage,
        a_shape, a_strides, reduce_dim)`; `out_shape` is `a_shape` with `reduce_dim` set to 1.
    """
    f, cache = _compile(fn)

    def _reduce(out, out_shape, out_strides, a_storage, a_shape, a_strides, reduce_dim):  # type: ignore[no-untyped-def]
        # Outputs are taken in runs of up to REDUCE_RUN along `inner`, the last dimension
        # other than the reduced one, and a run folds all its outputs together: term r of
        # every output, then term r + 1. Each output still folds its own terms in order from
        # its start value, as a loop per output would; a run's independent folds keep the
        # CPU busy (one fold is a chain of dependent operations), and where `a` has unit
        # stride along `inner` each step is one vector operation.
        n = a_shape[reduce_dim]
        step = a_strides[reduce_dim]
        shape, out_steps, a_steps, reduce_dim = _merged(
            out_shape, out_strides, a_strides, reduce_dim
        )
        dims = len(shape)
        inner = dims - 1 if reduce_dim != dims - 1 else dims - 2
        m = shape[inner] if inner >= 0 else 1
        out_step = out_steps[inner] if inner >= 0 else 0
        a_step = a_steps[inner] if inner >= 0 else 0
        rows = _size(shape) // m if m > 0 else 0
        # a strided run reads count * n values per pass: keep them in the L1 cache
        run = REDUCE_RUN if a_step == 1 else max(8, min(REDUCE_RUN, CHUNK // max(n, 1)))
        runs = (m + run - 1) // run
        for job in prange(rows * runs):
            row, first = job // runs, job % runs * run
            count = min(m, first + run) - first
            o, p = first * out_step, first * a_step
            rest = row
            for i in range(dims - 1, -1, -1):  # the row's start: its index, dot the strides
                if i != inner:
                    c = rest % shape[i]
                    rest //= shape[i]
                    o += c * out_steps[i]
                    p += c * a_steps[i]
            if out_step == 1 and a_step == 1:  # slices indexed from 0: vector operations
                acc = out[o : o + count]
                for r in range(n):
                    terms = a_storage[p + r * step : p + r * step + count]
                    for k in range(count):
                        acc[k] = f(acc[k], terms[k])
            elif out_step == 1:
                acc = out[o : o + count]
                for r in range(n):
                    x = p + r * step
                    for k in range(count):
                        acc[k] = f(acc[k], a_storage[x + k * a_step])
            else:
                for r in range(n):
                    x = p + r * step
                    for k in range(count):
                        y = o + k * out_step
                        out[y] = f(out[y], a_storage[x + k * a_step])

    return Kernel(_reduce, _reduce_work, cache)


# ---- Matrix multiply -----------------------------------------------------------------------------

MC = 64  # rows of `out` per parallel task
KC = 256  # terms of the sum per pass over a block of B (a KC x NC block of B stays in L2)
NC = 256  # columns per block: a row of the accumulator tile is 4 KiB


@njit(cache=True)
def _pack(storage, shape, strides):  # type: ignore[no-untyped-def]
    """A row-major copy of a 3-D operand, so its rows are contiguous (O(size): serial)."""
    packed = np.empty(shape[0] * shape[1] * shape[2], storage.dtype)
    rows, cols = shape[1], shape[2]
    for nr in range(shape[0] * rows):
        n, r = nr // rows, nr % rows
        src = n * strides[0] + r * strides[1]
        dst = nr * cols
        for c in range(cols):
            packed[dst + c] = storage[src + c * strides[2]]
    return packed


@njit(inline="always", cache=True, fastmath=True)
def _block(tile, i, nr, nc, kc, a, p, a_row, a_col, b, r, b_row):  # type: ignore[no-untyped-def]
    """tile[i:i+nr, :nc] += a[nr rows, kc terms] @ b[kc rows, nc columns] (nr <= 4).

    Four rows of `a` times four rows of `b` per step: each load of `b` feeds four rows and
    each row of the tile is loaded and stored once per four terms. Rows are read through
    slices indexed from 0, so LLVM knows no index is negative and emits plain vector loads
    (an index that might be negative gets numba's wraparound, which turns loads into gathers).
    """
    if nr == 4:
        t0, t1, t2, t3 = tile[i], tile[i + 1], tile[i + 2], tile[i + 3]
        k = 0
        while k + 4 <= kc:
            q = p + k * a_col
            x00, x01, x02, x03 = a[q], a[q + a_col], a[q + 2 * a_col], a[q + 3 * a_col]
            q += a_row
            x10, x11, x12, x13 = a[q], a[q + a_col], a[q + 2 * a_col], a[q + 3 * a_col]
            q += a_row
            x20, x21, x22, x23 = a[q], a[q + a_col], a[q + 2 * a_col], a[q + 3 * a_col]
            q += a_row
            x30, x31, x32, x33 = a[q], a[q + a_col], a[q + 2 * a_col], a[q + 3 * a_col]
            s = r + k * b_row
            r0, r1 = b[s : s + nc], b[s + b_row : s + b_row + nc]
            r2, r3 = b[s + 2 * b_row : s + 2 * b_row + nc], b[s + 3 * b_row : s + 3 * b_row + nc]
            for j in range(nc):
                b0, b1, b2, b3 = r0[j], r1[j], r2[j], r3[j]
                t0[j] += x00 * b0 + x01 * b1 + x02 * b2 + x03 * b3
                t1[j] += x10 * b0 + x11 * b1 + x12 * b2 + x13 * b3
                t2[j] += x20 * b0 + x21 * b1 + x22 * b2 + x23 * b3
                t3[j] += x30 * b0 + x31 * b1 + x32 * b2 + x33 * b3
            k += 4
        while k < kc:
            q = p + k * a_col
            x0, x1, x2, x3 = a[q], a[q + a_row], a[q + 2 * a_row], a[q + 3 * a_row]
            s = r + k * b_row
            r0 = b[s : s + nc]
            for j in range(nc):
                b0 = r0[j]
                t0[j] += x0 * b0
                t1[j] += x1 * b0
                t2[j] += x2 * b0
                t3[j] += x3 * b0
            k += 1
        return
    for ii in range(nr):  # the last rows of a block
        t = tile[i + ii]
        for k in range(kc):
            x = a[p + ii * a_row + k * a_col]
            s = r + k * b_row
            r0 = b[s : s + nc]
            for j in range(nc):
                t[j] += x * r0[j]


def _matrix_multiply(  # type: ignore[no-untyped-def]
    out,
    out_shape,
    out_strides,
    a_storage,
    a_shape,
    a_strides,
    b_storage,
    b_shape,
    b_strides,
):
    r"""The batched matmul kernel: $out_{n,i,j} = \sum_k a_{n,i,k} b_{n,k,j}$.

    All operands are 3-D; a batch dimension of size 1 broadcasts.
    """
    batch, rows, cols = out_shape[0], out_shape[1], out_shape[2]
    inner = a_shape[2]
    if b_strides[2] != 1 and b_shape[1] * b_shape[2] > 1:
        b_storage = _pack(b_storage, b_shape, b_strides)  # columns were strided
        b_row, b_step = b_shape[2], b_shape[1] * b_shape[2]
    else:
        b_row, b_step = b_strides[1], b_strides[0]
    a_step = a_strides[0] if a_shape[0] > 1 else 0
    b_step = b_step if b_shape[0] > 1 else 0
    a_row, a_col = a_strides[1], a_strides[2]
    row_blocks = (rows + MC - 1) // MC

    for task in prange(batch * row_blocks):
        n, i0 = task // row_blocks, (task % row_blocks) * MC
        mr = min(MC, rows - i0)
        a_base = n * a_step + i0 * a_row
        b_base = n * b_step
        tile = np.empty((min(MC, rows), min(NC, cols)), out.dtype)
        for j0 in range(0, cols, NC):
            nc = min(NC, cols - j0)
            tile[:mr, :nc] = 0.0
            for k0 in range(0, inner, KC):
                kc = min(KC, inner - k0)
                i = 0
                while i < mr:
                    nr = min(4, mr - i)  # rows that share every load of B
                    _block(
                        tile,
                        i,
                        nr,
                        nc,
                        kc,
                        a_storage,
                        a_base + i * a_row + k0 * a_col,
                        a_row,
                        a_col,
                        b_storage,
                        b_base + k0 * b_row + j0,
                        b_row,
                    )
                    i += nr
            o_base = n * out_strides[0] + i0 * out_strides[1] + j0 * out_strides[2]
            if out_strides[2] == 1:  # rows of out are contiguous: slices copy as vectors
                for i in range(mr):
                    o = o_base + i * out_strides[1]
                    out[o : o + nc] = tile[i, :nc]
            else:
                for i in range(mr):
                    for j in range(nc):
                        out[o_base + i * out_strides[1] + j * out_strides[2]] = tile[i, j]


tensor_matrix_multiply = Kernel(_matrix_multiply, _matmul_work, cache=True, fastmath=True)


class FastOps(TensorOps):
    """numba kernels, parallel over the machine's cores."""

    map_kernel = staticmethod(tensor_map)
    zip_kernel = staticmethod(tensor_zip)
    reduce_kernel = staticmethod(tensor_reduce)
    matrix_multiply_kernel = staticmethod(tensor_matrix_multiply)

    @staticmethod
    def conv_kernel(*args: Any) -> None:
        """`fast_conv.convolve` (imported here, on use: that module builds on this one)."""
        from .fast_conv import convolve

        convolve(*args)


FastBackend = TensorBackend(FastOps)


def on_fast(t: Any) -> bool:
    """Whether `t` is a tensor on this backend, whose fused loops (optimizer steps, the
    transformer's kernels) read and write its storage directly."""
    backend = getattr(t, "backend", None)
    return backend is not None and issubclass(backend.ops, FastOps)


def flat_values(t: Any) -> np.ndarray:
    """A fast-backend tensor's values in row-major order as a 1-D array: its own storage
    when it is contiguous, else a contiguous copy's (made without recording history)."""
    if not t._tensor.is_contiguous():
        with no_grad():
            t = t.contiguous()
    return t._tensor._storage[: t.size]
