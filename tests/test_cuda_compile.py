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

    expected = 8 * 2 + 8 * 2 + 3 * 2 + 2 + 4  # map, zip, reduce, matmul, conv/fill/practice
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
    assert len(names[0]) == 3 and not set(names[0]) & set(names[1])
