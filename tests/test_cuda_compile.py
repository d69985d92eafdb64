"""The GPU side of the CUDA backend, checked without a GPU: kernels compile, launches configure.

The simulator runs kernels as Python, so it cannot tell whether numba can type and compile
them for a GPU, nor exercise the launch path it bypasses. These tests run in a child process
without the simulator. Compiling needs NVIDIA's compiler libraries (`pip install nvidia-nvvm
nvidia-cuda-nvrtc`, or a CUDA toolkit; on a GPU machine they come with numba-cuda[cu13]) and
skips without them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("minitorch.cuda_ops", reason="numba-cuda is not installed")

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(
    """
    import types
    from numba import cuda
    from numba import types as nt

    if not cuda.is_available():  # no GPU: compile for an H100/H200 all the same
        import numba.cuda.dispatcher as dispatcher
        dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
    try:
        cuda.compile_ptx(lambda a: None, (nt.float64[::1],), cc=(9, 0))
    except Exception as e:  # the compiler libraries are missing
        print("SKIP", type(e).__name__, str(e).splitlines()[0])
        raise SystemExit(0)

    from minitorch import cuda_ops, cuda_practice, operators

    cuda_ops.numpy_compat()

    arr, i64 = nt.Array(nt.float64, 1, "C"), nt.int64
    def dims(n):
        return nt.UniTuple(i64, n)
    def compile(kernel, *args):
        cuda.compile_ptx(kernel.py_func, args, cc=(9, 0))

    for fn in (operators.neg, operators.sigmoid, operators.relu, operators.log,
               operators.exp, operators.id, operators.inv):
        row_major, strided = cuda_ops.tensor_map(fn).kernels
        compile(row_major, arr, arr, i64)
        compile(strided, arr, dims(3), dims(3), arr, dims(2), dims(2), i64)
    for fn in (operators.add, operators.mul, operators.lt, operators.eq, operators.is_close,
               operators.relu_back, operators.log_back, operators.inv_back):
        row_major, strided = cuda_ops.tensor_zip(fn).kernels
        compile(row_major, arr, arr, arr, i64)
        compile(strided, arr, dims(2), dims(2), arr, dims(2), dims(2), arr, dims(1), dims(1),
                i64)
    for fn in (operators.add, operators.mul, operators.max):
        (kernel,) = cuda_ops.tensor_reduce(fn).kernels
        compile(kernel, arr, dims(2), dims(2), arr, dims(2), dims(2), i64, i64)
    for tiles in (cuda_ops.GPU_TILES, cuda_ops.SIMULATOR_TILES):
        compile(cuda_ops.matmul_kernel(tiles), *([arr, dims(3), dims(3)] * 3))
    compile(cuda_ops._fill, arr, nt.float64, i64)
    compile(cuda_practice._block_sums, arr, arr, i64, i64)
    compile(cuda_practice._block_matmul, arr, arr, dims(2), arr, dims(2), i64)
    print("OK")
    """
)


def run_without_simulator(code: str, *flags: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *flags, "-c", code], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=600,
    )


def test_every_kernel_compiles_for_a_gpu():
    done = run_without_simulator(CHILD)
    assert done.returncode == 0, done.stderr[-3000:]
    if done.stdout.startswith("SKIP"):
        pytest.skip(f"NVIDIA's compiler libraries are not installed: {done.stdout.strip()}")
    assert done.stdout.strip().endswith("OK")


def test_gpu_launches_are_configured_once_and_quietly():
    """Configuring a launch costs microseconds and warns of low occupancy for small grids."""
    done = run_without_simulator(
        "from minitorch import cuda_ops\n"
        "first = cuda_ops._launch(cuda_ops._fill, 1, 32)\n"
        "assert cuda_ops._launch(cuda_ops._fill, 1, 32) is first\n"
        "assert cuda_ops._launch(cuda_ops._fill, 2, 32) is not first\n",
        "-W", "error",  # the low-occupancy warning would fail the run
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_importing_minitorch_leaves_numpy_alone_until_the_cuda_target_is_needed():
    """numba-cuda's target needs `np.row_stack` (gone in numpy 2.5): the shim that restores it
    runs at the first launch, not on `import minitorch`."""
    done = subprocess.run(
        [sys.executable, "-c",
        "import numpy as np\n"
        "if hasattr(np, 'row_stack'):\n"
        "    del np.row_stack  # as in numpy 2.5\n"
        "import minitorch, minitorch.cuda_practice\n"
        "from minitorch import cuda_ops, operators\n"
        "assert not hasattr(np, 'row_stack'), 'import patched numpy'\n"
        "x = minitorch.tensor([1.0, 2.0], backend=cuda_ops.CudaBackend)\n"
        "assert not hasattr(np, 'row_stack'), 'building a backend patched numpy'\n"
        "x + 1.0  # a launch\n"
        "assert np.row_stack is np.vstack\n"],
        env={**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONPATH": str(ROOT)},
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
