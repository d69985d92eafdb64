"""Registers, shared and local memory of every CUDA kernel, compiled for a GPU on any machine.

Each kernel of `minitorch.cuda_ops` (and the course's practice kernels) is compiled to PTX
for `--cc` (default 9.0, the H100/H200) and linked by NVIDIA's nvJitLink, whose report gives
what the hardware will allot per thread and per block. No GPU is needed, only the compiler
wheels (`pip install "minitorch[cuda]"`); `tests/test_cuda_compile.py` asserts a table of
limits over these figures.

    NUMBA_ENABLE_CUDASIM=0 python bench/gpu_limits.py [--cc 9.0]

Run from the repository root (`PYTHONPATH=.` if minitorch is not installed).
"""

from __future__ import annotations

import argparse
import re
import types
from dataclasses import dataclass
from typing import Any

from numba import cuda
from numba import types as nt


@dataclass(frozen=True)
class Limits:
    registers: int  # per thread
    shared: int  # bytes of shared memory per block
    local: int  # bytes of local memory per thread
    stack: int  # bytes of stack frame per thread
    spill_stores: int  # bytes
    spill_loads: int  # bytes


def _compile_anywhere() -> None:
    """Let numba compile for a GPU where there is none: it asks the current device for its
    compute capability only to pick a default target, and `cc` is given explicitly here."""
    if not cuda.is_available():
        from numba.cuda import dispatcher

        dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))


def catalogue() -> list[tuple[str, Any, tuple[Any, ...]]]:
    """(name, kernel, argument types) for every kernel, with the argument types of a typical
    launch (tuple lengths are the number of dimensions)."""
    from minitorch import cuda_ops, cuda_practice, operators

    arr, i64 = nt.Array(nt.float64, 1, "C"), nt.int64

    def dims(n: int) -> Any:
        return nt.UniTuple(i64, n)

    kernels = []
    for fn in (
        operators.neg,
        operators.sigmoid,
        operators.relu,
        operators.log,
        operators.exp,
        operators.id,
        operators.inv,
        operators.sqrt,
    ):
        row_major, strided, wide = cuda_ops.tensor_map(fn).kernels
        kernels.append((f"map {fn.__name__} row-major", row_major, (arr, arr, i64)))
        strided_args = (arr, dims(3), dims(3), arr, dims(3), i64, i64, i64)
        kernels.append((f"map {fn.__name__} strided", strided, strided_args))
        if fn is operators.neg:  # the 64-bit twin, for tensors past 2^31 values
            kernels.append((f"map {fn.__name__} strided 64-bit", wide, strided_args))
    for fn in (
        operators.add,
        operators.mul,
        operators.lt,
        operators.eq,
        operators.is_close,
        operators.relu_back,
        operators.log_back,
        operators.inv_back,
    ):
        row_major, strided, wide = cuda_ops.tensor_zip(fn).kernels
        kernels.append((f"zip {fn.__name__} row-major", row_major, (arr, arr, arr, i64)))
        strided_args = (arr, dims(3), dims(3), arr, dims(3), arr, dims(3), i64, i64, i64)
        kernels.append((f"zip {fn.__name__} strided", strided, strided_args))
        if fn is operators.add:
            kernels.append((f"zip {fn.__name__} strided 64-bit", wide, strided_args))
    reduce_args = (arr, dims(2), dims(2), arr, dims(2), dims(2), i64, i64, i64, i64, nt.boolean)
    for fn in (operators.add, operators.mul, operators.max):
        per_thread, per_warp, *wide = cuda_ops.tensor_reduce(fn).kernels
        kernels.append((f"reduce {fn.__name__} per-thread", per_thread, reduce_args))
        kernels.append((f"reduce {fn.__name__} per-warp", per_warp, reduce_args))
        if fn is operators.add:  # the 64-bit twins, for tensors past 2^31 values
            kernels.append((f"reduce {fn.__name__} per-thread 64-bit", wide[0], reduce_args))
            kernels.append((f"reduce {fn.__name__} per-warp 64-bit", wide[1], reduce_args))
    for name, tiles in (("gpu", cuda_ops.GPU_TILES), ("simulator", cuda_ops.SIMULATOR_TILES)):
        kernels.append(
            (
                f"matmul {name} tiles",
                cuda_ops.matmul_kernel(tiles),
                (arr, dims(3), dims(3)) * 3 + (i64, i64),
            )
        )
    kernels.append(("conv", cuda_ops._conv_kernel, (arr, dims(4), dims(4)) * 3 + (i64, i64)))
    kernels.append(("fill", cuda_ops._fill, (arr, nt.float64, i64)))
    kernels.append(("practice sum", cuda_practice._block_sums, (arr, arr, i64, i64)))
    kernels.append(
        ("practice matmul", cuda_practice._block_matmul, (arr, arr, dims(2), arr, dims(2), i64))
    )
    return kernels


_USED = re.compile(
    r"used (\d+) registers.*?(\d+) stack, (\d+) bytes smem.*?(\d+) bytes lmem", re.DOTALL
)
_SPILLS = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")


def limits_of(kernel: Any, args: tuple[Any, ...], cc: tuple[int, int] = (9, 0)) -> Limits:
    """What `kernel` compiled for `args` needs on a GPU of compute capability `cc`."""
    from cuda.bindings import nvjitlink

    ptx, _ = cuda.compile_ptx(kernel.py_func, args, cc=cc)
    options = [f"-arch=sm_{cc[0]}{cc[1]}", "-verbose"]
    max_registers = kernel.targetoptions.get("max_registers")
    if max_registers:
        options.append(f"-maxrregcount={max_registers}")
    handle = nvjitlink.create(len(options), options)
    try:
        data = ptx.encode()
        nvjitlink.add_data(handle, nvjitlink.InputType.PTX, data, len(data), "kernel")
        nvjitlink.complete(handle)
        log = bytearray(nvjitlink.get_info_log_size(handle))
        nvjitlink.get_info_log(handle, log)
    finally:
        nvjitlink.destroy(handle)
    text = log.decode(errors="replace")
    used, spills = _USED.search(text), _SPILLS.search(text)
    if used is None or spills is None:
        raise RuntimeError(f"nvJitLink's report has no resource usage:\n{text}")
    registers, stack, shared, local = (int(x) for x in used.groups())
    return Limits(registers, shared, local, stack, *(int(x) for x in spills.groups()))


def table(cc: tuple[int, int] = (9, 0)) -> dict[str, Limits]:
    """`limits_of` every kernel of the catalogue."""
    _compile_anywhere()
    from minitorch import cuda_ops

    cuda_ops.numpy_compat()
    return {name: limits_of(kernel, args, cc) for name, kernel, args in catalogue()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cc", default="9.0", help="compute capability to compile for")
    cc = tuple(int(x) for x in parser.parse_args().cc.split("."))
    print(f"{'kernel':32s} {'regs':>5s} {'smem B':>7s} {'lmem B':>7s} {'stack B':>7s} spills")
    for name, lim in table(cc).items():
        print(
            f"{name:32s} {lim.registers:5d} {lim.shared:7d} {lim.local:7d} {lim.stack:7d} "
            f"{lim.spill_stores}/{lim.spill_loads}"
        )


if __name__ == "__main__":
    main()
