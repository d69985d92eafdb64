"""The GPU side of the CUDA backend, checked without a GPU: every kernel compiles for sm_90
(the H100/H200) within a table of limits, launches configure, the disk cache sees edits.

The simulator runs kernels as Python, so it cannot tell whether numba can type and compile
them for a GPU, nor what they cost there. These tests run in a child process without the
simulator. Compiling needs NVIDIA's compiler libraries (`pip install "minitorch[cuda]"`, as
CI does) and skips without them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("minitorch.cuda_ops", reason="numba-cuda is not installed")

ROOT = Path(__file__).resolve().parent.parent

HAVE_COMPILER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, "bench")
    import gpu_limits
    from numba import cuda
    from numba import types as nt
    gpu_limits._compile_anywhere()
    try:
        cuda.compile_ptx(lambda a: None, (nt.float64[::1],), cc=(9, 0))
        from cuda.bindings import nvjitlink  # noqa: F401
    except Exception as e:  # the compiler libraries are missing
        print("SKIP", type(e).__name__, str(e).splitlines()[0])
        raise SystemExit(0)
    """
)

TABLE = HAVE_COMPILER + textwrap.dedent(
    """
    import dataclasses, json
    from minitorch import cuda_ops
    cuda_ops.THREADS = 8  # as tests once did: no kernel's shared memory may follow it
    print(json.dumps({k: dataclasses.asdict(v) for k, v in gpu_limits.table().items()}))
    """
)


def run_without_simulator(code: str, *flags: str, root: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0", "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def compiled(code: str, root: Path = ROOT) -> str:
    """The child's output, or a skip where the compiler libraries are missing."""
    done = run_without_simulator(code, root=root)
    assert done.returncode == 0, done.stderr[-3000:]
    if done.stdout.startswith("SKIP"):
        pytest.skip(f"NVIDIA's compiler libraries are not installed: {done.stdout.strip()}")
    return done.stdout


@pytest.fixture(scope="module")
def limits() -> dict[str, dict[str, int]]:
    return json.loads(compiled(TABLE).strip().splitlines()[-1])


def test_every_kernel_compiles_for_sm90_without_spills_or_local_memory(limits):
    from minitorch import cuda_ops

    # map and zip (row-major and strided each, and one 64-bit twin), reduce, matmul, the rest
    expected = (8 * 2 + 1) + (8 * 2 + 1) + (3 * 2 + 2) + 2 + 4
    assert len(limits) == expected
    for name, lim in limits.items():
        assert lim["spill_stores"] == lim["spill_loads"] == 0, f"{name} spills: {lim}"
        assert lim["local"] == 0 and lim["stack"] == 0, f"{name} uses local memory: {lim}"
    assert limits["matmul gpu tiles"]["registers"] <= cuda_ops.MATMUL_MAX_REGISTERS


# registers per thread: at most these (a block of 256 threads at 128 registers leaves room
# for two blocks per SM; the elementwise kernels should stay far below)
REGISTERS = {"map": 64, "zip": 64, "reduce": 64, "conv": 80, "fill": 32, "practice": 40}


def test_registers_per_thread_stay_within_the_table(limits):
    for name, lim in limits.items():
        kind = name.split()[0]
        if kind in REGISTERS:
            assert lim["registers"] <= REGISTERS[kind], f"{name}: {lim['registers']} registers"


def test_shared_memory_is_sized_by_constants_a_launch_cannot_change(limits):
    """The reduce's shared array once followed `THREADS` when it compiled (64 bytes with the
    8 threads tests set), while a later 256-thread launch wrote past its end."""
    from minitorch import cuda_ops, cuda_practice

    # the driver reserves some shared memory in every block that uses any (1 KiB on sm_90)
    reserved = limits["practice sum"]["shared"] - 8 * cuda_practice.PRACTICE_BLOCK
    assert 0 <= reserved <= 1024
    for fn in ("add", "mul", "max"):  # a warp combines its lanes by shuffles
        assert limits[f"reduce {fn} per-warp"]["shared"] == 0
        assert limits[f"reduce {fn} per-thread"]["shared"] == 0
    tiles = cuda_ops.GPU_TILES
    matmul = 8 * tiles.bk * (tiles.rows + tiles.cols) + reserved
    assert limits["matmul gpu tiles"]["shared"] == matmul <= 48 * 1024


PTX = HAVE_COMPILER + textwrap.dedent(
    """
    import json, re
    from minitorch import cuda_ops, operators
    cuda_ops.numpy_compat()
    arr, i64 = types.Array(types.float64, 1, "C"), types.int64
    d2, d3 = types.UniTuple(i64, 2), types.UniTuple(i64, 3)
    _, strided, wide = cuda_ops.tensor_zip(operators.add).kernels
    zip_args = (arr, d3, d3, arr, d3, arr, d3, i64, i64, i64)
    _, per_warp, _, _ = cuda_ops.tensor_reduce(operators.add).kernels
    reduce_args = (arr, d2, d2, arr, d2, d2, i64, i64, i64, i64, types.boolean)
    found = {}
    for name, kernel, args in (
        ("zip strided", strided, zip_args),
        ("zip strided 64-bit", wide, zip_args),
        ("reduce per-warp", per_warp, reduce_args),
    ):
        ptx, _ = cuda.compile_ptx(kernel.py_func, args, cc=(9, 0))
        ops = re.findall(r"\\b(div|rem|shfl\\.sync\\.down|bar\\.sync)\\.?([su]\\d+)?", ptx)
        found[name] = sorted(".".join(x for x in op if x) for op in ops)
    print(json.dumps(found))
    """
).replace("types.", "nt.")


@pytest.fixture(scope="module")
def ptx_ops() -> dict[str, list[str]]:
    """Division, remainder, shuffle and barrier instructions in a few kernels' sm_90 PTX."""
    return json.loads(compiled(PTX).strip().splitlines()[-1])


def test_the_3d_strided_zip_divides_in_32_bits_once_per_row(ptx_ops):
    """A GPU divides 64-bit integers in a software routine (a loop of tens of instructions).
    The 3-D strided zip divides only to find a job's row and that row's start: a 32-bit
    division for the job and one for the middle dimension, whose remainder LLVM takes from
    the quotient; none in the loop along the row, and none in 64 bits. (It once had 7 64-bit
    divisions and remainders, each beside LLVM's 32-bit bypass for small values: a `range`
    counts its steps by dividing, and each element found its index by dividing.)"""
    assert ptx_ops["zip strided"] == ["div.u32", "div.u32", "rem.u32"]
    assert "div.s64" in ptx_ops["zip strided 64-bit"]  # the twin for tensors past 2^31 values


def test_a_warp_folds_its_lanes_by_shuffles_without_barriers(ptx_ops):
    ops = ptx_ops["reduce per-warp"]
    # five offsets (16, 8, 4, 2, 1), unrolled (LLVM may copy the tree into each path that
    # reaches it), each a pair of 32-bit shuffles of a float64
    shuffles = ops.count("shfl.sync.down")
    assert shuffles > 0 and shuffles % (2 * 5) == 0
    assert "bar.sync" not in ops
    assert {op for op in ops if op.startswith(("div", "rem"))} <= {"div.u32", "rem.u32"}


def test_gpu_launches_are_configured_once_and_quietly():
    """Configuring a launch costs microseconds and warns of low occupancy for small grids."""
    done = run_without_simulator(
        "from minitorch import cuda_ops\n"
        "first = cuda_ops._launch(cuda_ops._fill, 1, 32)\n"
        "assert cuda_ops._launch(cuda_ops._fill, 1, 32) is first\n"
        "assert cuda_ops._launch(cuda_ops._fill, 2, 32) is not first\n",
        "-W",
        "error",  # the low-occupancy warning would fail the run
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_importing_minitorch_leaves_numpy_alone_until_the_cuda_target_is_needed():
    """numba-cuda's target needs `np.row_stack` (gone in numpy 2.5): the shim that restores it
    runs at the first launch, not on `import minitorch`."""
    code = textwrap.dedent(
        """
        import numpy as np
        if hasattr(np, "row_stack"):
            del np.row_stack  # as in numpy 2.5
        import minitorch, minitorch.cuda_practice
        from minitorch import cuda_ops
        assert not hasattr(np, "row_stack"), "import patched numpy"
        x = minitorch.tensor([1.0, 2.0], backend=cuda_ops.CudaBackend)
        assert not hasattr(np, "row_stack"), "building a backend patched numpy"
        x + 1.0  # a launch
        assert np.row_stack is np.vstack
        """
    )
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_editing_a_source_the_kernels_compile_changes_their_disk_cache(tmp_path):
    """numba-cuda checks a cached kernel against its own file only: after an edit to
    `tensor_data.py` (the index helpers every strided kernel compiles), a kernel must not be
    read back from the cache written before."""
    shutil.copytree(ROOT / "minitorch", tmp_path / "minitorch")
    code = (
        "from minitorch import cuda_ops, operators\n"
        "for kernel in (*cuda_ops.tensor_map(operators.neg).kernels, cuda_ops._conv_kernel):\n"
        "    print(kernel._cache._cache_file._index_name)\n"
    )
    before = run_without_simulator(code, root=tmp_path)
    with open(tmp_path / "minitorch" / "tensor_data.py", "a") as f:
        f.write("\n# an edit\n")
    after = run_without_simulator(code, root=tmp_path)
    assert before.returncode == after.returncode == 0, before.stderr[-2000:] + after.stderr
    names = before.stdout.split(), after.stdout.split()
    assert len(set(names[0])) == 4 and not set(names[0]) & set(names[1])


def test_the_gpu_benchmark_without_a_gpu_says_so_in_one_line():
    code = textwrap.dedent(
        """
        import runpy
        from numba import cuda
        if cuda.is_available():
            raise SystemExit(3)  # a GPU is here: the benchmark would run for minutes
        runpy.run_path("bench/gpu.py", run_name="__main__")
        """
    )
    done = run_without_simulator(code)
    if done.returncode == 3:
        pytest.skip("a GPU is here")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "NUMBA_ENABLE_CUDASIM=1" in done.stderr
