"""Compiling the fast kernels ahead of a run (with progress), knowing when the cache is cold,
and choosing numba's threads."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import pytest

import minitorch
from minitorch import fast_ops, kernel_compile, operators, threads

ROOT = Path(__file__).resolve().parents[1]


def test_an_unknown_kernel_name_fails_before_compiling_anything_and_lists_the_known():
    with pytest.raises(KeyError, match="no fast kernel named 'gelu_map'.*relu_map"):
        kernel_compile.compile_kernels(["neg_map", "gelu_map"])
    with pytest.raises(KeyError, match="'neg_map/gpu'"):
        kernel_compile.cold_kernels(["neg_map/gpu"])


def test_every_name_resolves_to_a_kernel_with_both_variants():
    names = kernel_compile.kernel_names()
    assert {"relu_map", "add_zip/parallel", "max_reduce", "matrix_multiply", "conv"} <= set(names)
    assert set(kernel_compile.MNIST_KERNELS) <= set(names)


def test_ahead_of_time_compiles_the_very_specialisation_a_tensor_operation_calls():
    # Tests run before this one in the same process may have compiled these kernels for
    # other dtypes (the real tasks train in float32): what is checked is that the real
    # calls find the specialisation compile_kernels made and compile nothing more.
    kernel_compile.compile_kernels(["neg_map", "max_reduce"])
    serial = minitorch.FastBackend.neg_map.kernel.serial
    reduce = minitorch.FastBackend.max_reduce.kernel.serial
    compiled = (len(serial.signatures), len(reduce.signatures))
    assert min(compiled) >= 1
    a = minitorch.tensor([[1.0, -2.0], [3.0, 0.5]], backend=minitorch.FastBackend)
    assert (-a).to_numpy().tolist() == [[-1.0, 2.0], [-3.0, -0.5]]
    assert minitorch.max(a, 1).to_numpy().tolist() == [[1.0], [3.0]]
    # no second compile for the real calls
    assert (len(serial.signatures), len(reduce.signatures)) == compiled
    assert {"neg_map", "max_reduce"} <= set(kernel_compile.used_kernels())
    assert kernel_compile.cold_kernels(["neg_map", "max_reduce"]) == []


WARM_UP = textwrap.dedent(
    """
    from minitorch import kernel_compile
    names = ["neg_map", "add_reduce", "neg_map"]
    print("cold", kernel_compile.cold_kernels(names))
    kernel_compile.compile_kernels(names, progress=lambda *a: print("progress", *a))
    print("used", kernel_compile.used_kernels())
    """
)


def _warm_up(cache: Path) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", WARM_UP], env=env, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_cold_cache_is_reported_then_compiled_with_progress_and_is_warm_next_time(tmp_path):
    first = _warm_up(tmp_path)
    assert "cold ['neg_map', 'add_reduce']" in first
    assert "progress 1 2 neg_map\nprogress 2 2 add_reduce\n" in first
    assert "used ['neg_map', 'add_reduce']" in first
    second = _warm_up(tmp_path)
    assert "cold []" in second  # loaded from the disk cache: nothing to say, nothing to wait for


@pytest.mark.parametrize(
    "cores, load, expected",
    [(2, 0.0, 2), (2, 0.4, 2), (2, 1.0, 1), (2, 3.5, 1), (4, 1.4, 3), (1, 0.0, 1)],
)
def test_threads_are_the_cores_other_processes_leave_idle(cores, load, expected):
    assert threads.choose_threads(cores, load) == min(expected, numba.config.NUMBA_NUM_THREADS)


def test_choosing_threads_rejects_nonsense_naming_it():
    with pytest.raises(ValueError, match="got 0, 0.5"):
        threads.choose_threads(0, 0.5)
    with pytest.raises(ValueError, match=r"from 1 to \d+ .*got 0"):
        threads.set_threads(0)
    with pytest.raises(ValueError, match="got '2'"):
        threads.set_threads("2")  # type: ignore[arg-type]


def test_one_thread_runs_even_large_work_serially_so_the_parallel_variant_never_compiles():
    before = numba.get_num_threads()
    kernel = fast_ops.tensor_map(numba.njit()(lambda x: x * 2.0))  # a fresh, uncached kernel
    size = fast_ops.PARALLEL_WORK
    a = minitorch.zeros((size,), backend=minitorch.FastBackend) + 1.5
    out = minitorch.zeros((size,), backend=minitorch.FastBackend)
    try:
        assert threads.set_threads(1) == 1 and numba.get_num_threads() == 1
        kernel(*out._tensor.tuple(), *a._tensor.tuple())
        assert out[size - 1] == 3.0
        assert kernel.serial.signatures and not kernel.parallel.signatures
        # ... and compiling ahead leaves the parallel variants out
        assert kernel_compile.cold_kernels(["neg_map/parallel"]) == []
        calls = []
        kernel_compile.compile_kernels(["neg_map", "neg_map/parallel"], lambda *a: calls.append(a))
        assert calls == [(1, 1, "neg_map")]
    finally:
        threads.set_threads(before)
    assert not fast_ops.Kernel.serial_only
    assert operators.id(1.0) == 1.0
