"""The fast backend: agreement with the simple one on every layout, the parallel path, the
kernel builders the course calls directly, IEEE arithmetic and numba's on-disk cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import minitorch
from minitorch import FastBackend, SimpleBackend, fast_ops, operators

from .tensor_strategies import on, tensors

ROOT = Path(__file__).resolve().parents[1]


def strided(shape: tuple[int, ...], rng: np.random.Generator, backend=FastBackend):
    """A tensor of `shape` stored in a random dimension order (non-contiguous)."""
    order = rng.permutation(len(shape))
    stored = minitorch.tensor(rng.standard_normal(tuple(shape[i] for i in order)), backend=backend)
    return stored.permute(*np.argsort(order).tolist())


# ---- Fast and simple agree -------------------------------------------------------------------


@settings(max_examples=25)
@given(st.data())
def test_fast_and_simple_agree_on_random_strided_inputs(data):
    a = data.draw(tensors())
    b = data.draw(tensors(shape=a.shape))
    for fn in (lambda x, y: (x * y + x).sigmoid(), lambda x, y: (x - y).relu() / (y * y + 1.0)):
        np.testing.assert_allclose(
            fn(*on(FastBackend, a, b)).to_numpy(),
            fn(*on(SimpleBackend, a, b)).to_numpy(),
            rtol=1e-12,
            atol=1e-12,
        )


@settings(max_examples=25)
@given(st.data())
def test_fast_and_simple_agree_on_reductions_over_every_dimension(data):
    t = data.draw(tensors())
    for dim in range(t.dims):
        np.testing.assert_allclose(
            on(FastBackend, t).sum(dim).to_numpy(),
            on(SimpleBackend, t).sum(dim).to_numpy(),
            rtol=1e-12,
            atol=1e-12,
        )
        assert (
            on(FastBackend, t).all(dim).to_numpy().tolist()
            == on(SimpleBackend, t).all(dim).to_numpy().tolist()
        )


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((3, 4), (5, 4, 2)),  # 2-D @ 3-D
        ((1, 3, 4), (5, 4, 2)),  # batch 1 @ batch n
        ((5, 3, 4), (1, 4, 2)),  # batch n @ batch 1
        ((5, 3, 4), (4, 2)),  # 3-D @ 2-D
        ((1, 1), (1, 1)),
    ],
)
def test_fast_and_simple_agree_on_batched_and_broadcast_matmul(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a, b = strided(shape_a, rng), strided(shape_b, rng)
    fast = (a @ b).to_numpy()
    simple = (on(SimpleBackend, a) @ on(SimpleBackend, b)).to_numpy()
    np.testing.assert_allclose(fast, simple, rtol=1e-12)
    np.testing.assert_allclose(fast, a.to_numpy() @ b.to_numpy(), rtol=1e-12)


# ---- The parallel path (work above the threshold) ------------------------------------------------


def test_large_strided_elementwise_ops_and_reductions_run_in_parallel_and_match_numpy():
    rng = np.random.default_rng(1)
    a = strided((80, 60, 60), rng)  # 288,000 elements, more than PARALLEL_WORK
    b = strided((60, 1), rng)  # broadcast against a
    assert a.size >= fast_ops.PARALLEL_WORK
    x, y = a.to_numpy(), b.to_numpy()
    np.testing.assert_allclose((a * b + a.exp()).to_numpy(), x * y + np.exp(x), rtol=1e-12)
    for dim in range(3):
        np.testing.assert_allclose(a.sum(dim).to_numpy(), x.sum(dim, keepdims=True), rtol=1e-9)
    np.testing.assert_allclose(a.contiguous().to_numpy(), x)
    assert FastBackend.mul_zip.kernel.parallel.signatures, "the parallel variant ran"
    assert FastBackend.add_reduce.kernel.parallel.signatures


def test_large_matmul_with_transposed_operands_runs_in_parallel_and_matches_numpy():
    rng = np.random.default_rng(2)
    a = strided((3, 130, 200), rng)
    b = strided((200, 110), rng)  # the transposed layout the backward pass produces
    work = 3 * 130 * 110 * 200 // 32
    assert work >= fast_ops.PARALLEL_WORK
    np.testing.assert_allclose((a @ b).to_numpy(), a.to_numpy() @ b.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(
        (a @ b.permute(1, 0).contiguous().permute(1, 0)).to_numpy(),
        a.to_numpy() @ b.to_numpy(),
        rtol=1e-10,
    )
    assert fast_ops.tensor_matrix_multiply.parallel.signatures


def test_matmul_blocks_cover_sizes_that_are_not_multiples_of_the_block():
    rng = np.random.default_rng(3)
    for m, k, n in [(fast_ops.MC + 1, fast_ops.KC + 3, fast_ops.NC + 5), (7, 5, 3), (1, 9, 1)]:
        a, b = strided((m, k), rng), strided((k, n), rng)
        np.testing.assert_allclose((a @ b).to_numpy(), a.to_numpy() @ b.to_numpy(), rtol=1e-10)


def test_elementwise_ops_broadcast_along_any_dimension_including_the_last():
    rng = np.random.default_rng(4)
    for shape_a, shape_b in [
        ((4, 5, 6), (5, 1)),
        ((4, 5, 6), (6,)),
        ((4, 1, 6), (5, 1)),
        ((3, 1), (1, 7)),
        ((2, 3), (1,)),
        ((0, 3), (3,)),
        ((3, 0), (1,)),
    ]:
        a, b = strided(shape_a, rng), strided(shape_b, rng)
        np.testing.assert_allclose(
            (a * b - b).to_numpy(), a.to_numpy() * b.to_numpy() - b.to_numpy()
        )
        out = FastBackend.exp_map(
            b, minitorch.zeros(np.broadcast_shapes(shape_a, shape_b), backend=FastBackend)
        )
        np.testing.assert_allclose(out.to_numpy(), np.broadcast_to(np.exp(b.to_numpy()), out.shape))


# ---- The kernel builders, called as the course's parallel_check.py calls them -------------------


def test_kernel_builders_take_numba_compiled_functions_and_raw_tuples():
    out, a, b = minitorch.zeros((10,)), minitorch.rand((10,)), minitorch.rand((10,))
    fast_ops.tensor_map(njit()(operators.neg))(*out.tuple(), *a.tuple())
    np.testing.assert_array_equal(out.to_numpy(), -a.to_numpy())
    fast_ops.tensor_zip(njit()(operators.mul))(*out.tuple(), *a.tuple(), *b.tuple())
    np.testing.assert_array_equal(out.to_numpy(), a.to_numpy() * b.to_numpy())
    total = minitorch.zeros((1,))
    fast_ops.tensor_reduce(njit()(operators.add))(*total.tuple(), *a.tuple(), 0)
    assert total.item() == pytest.approx(a.to_numpy().sum())
    out3 = minitorch.zeros((1, 2, 3))
    x, y = minitorch.rand((1, 2, 4)), minitorch.rand((1, 4, 3))
    fast_ops.tensor_matrix_multiply(*out3.tuple(), *x.tuple(), *y.tuple())
    np.testing.assert_allclose(out3.to_numpy(), x.to_numpy() @ y.to_numpy())


def test_a_users_own_function_compiles_uncached_and_works():
    square_plus_one = fast_ops.tensor_map(lambda x: x * x + 1.0)
    out, a = minitorch.zeros((4,)), minitorch.tensor([0.0, 1.0, 2.0, -3.0])
    square_plus_one(*out.tuple(), *a.tuple())
    assert out.to_numpy().tolist() == [1.0, 2.0, 5.0, 10.0]
    assert square_plus_one.options["cache"] is False  # never reuse compiled code across edits
    assert fast_ops.tensor_map(operators.neg).options["cache"] is True


def test_fast_arithmetic_follows_ieee_rules_like_numpy():
    x = minitorch.tensor([0.0, -1.0, 2.0, 1000.0], backend=FastBackend)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        expected = [np.log(x.to_numpy()), 1.0 / x.to_numpy(), np.exp(x.to_numpy())]
    for got, want in zip([x.log(), 1.0 / x, x.exp()], expected):
        np.testing.assert_array_equal(got.to_numpy(), want)


# ---- Backends mixed in one operation ------------------------------------------------------------


def test_tensors_of_two_cpu_backends_combine_on_the_first_operands_backend():
    # The course's run_fast_tensor.py compares a fast tensor with a default (simple) one.
    fast = minitorch.tensor([1.0, 2.0, 3.0], backend=FastBackend)
    simple = minitorch.tensor([1.0, 0.0, 3.0])
    both = fast == simple
    assert both.backend == FastBackend and both.to_numpy().tolist() == [1.0, 0.0, 1.0]
    assert (simple + fast).backend == SimpleBackend
    assert (simple + fast).to_numpy().tolist() == [2.0, 2.0, 6.0]


# ---- numba's cache and the course's diagnostics, in fresh processes ------------------------------

PROBE = textwrap.dedent(
    """
    from numba import njit
    import minitorch
    from minitorch import fast_ops, operators

    a = minitorch.rand((3, 4), backend=minitorch.FastBackend)
    (a.exp() * a).sum(0)
    # contiguous operands take a map/zip kernel's flat variant
    kernels = (minitorch.FastBackend.exp_map.kernel.flat.kernel,
               minitorch.FastBackend.mul_zip.kernel.flat.kernel,
               minitorch.FastBackend.add_reduce.kernel)
    hits = sum(sum(k.serial.stats.cache_hits.values()) for k in kernels)
    print("cache hits", hits)
    builders = ((fast_ops.tensor_map, 1), (fast_ops.tensor_zip, 2), (fast_ops.tensor_reduce, 2))
    for build, n in builders:
        kernel = build(njit()(operators.id if n == 1 else operators.add))
        out, x = minitorch.zeros((1,)), minitorch.zeros((10,))
        args = (*out.tuple(), *x.tuple(), 0) if build is fast_ops.tensor_reduce else (
            (*minitorch.zeros((10,)).tuple(), *x.tuple()) + ((*x.tuple(),) if n == 2 else ()))
        kernel(*args)
        kernel.parallel_diagnostics(level=1)
    out, x, y = minitorch.zeros((1, 2, 2)), minitorch.zeros((1, 2, 3)), minitorch.zeros((1, 3, 2))
    fast_ops.tensor_matrix_multiply(*out.tuple(), *x.tuple(), *y.tuple())
    fast_ops.tensor_matrix_multiply.parallel_diagnostics(level=1)
    """
)


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_second_process_loads_kernels_from_the_cache_and_still_reports_diagnostics():
    _run(PROBE)  # fills the cache if this checkout's cache is cold
    out = _run(PROBE)
    hits = int(out.split("cache hits", 1)[1].split()[0])
    assert hits >= 3, out[:2000]
    # One parallel-loop listing per kernel, cached or not (parallel_check.py prints these).
    assert out.count("Parallel loop listing") >= 4, out[-3000:]
