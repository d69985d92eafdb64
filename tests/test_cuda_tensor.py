"""The shared tensor catalogue on the CUDA backend: forward, backward and permuted layouts.

The same functions and strategies as tests/test_tensor.py; each input tensor keeps its random
(usually non-row-major) layout on the GPU. The simulator runs every CUDA thread as a Python
thread, so these draw few, small examples.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitorch import grad_check
from minitorch.testing import MathTestVariable

from .cuda_support import on_cuda, on_device
from .tensor_strategies import broadcastable_tensors, shaped_tensors, smooth_floats, tensors

few = settings(max_examples=3)

one_arg, two_arg, red_arg = MathTestVariable._comp_testing()
COMPARISONS = {"gt2", "lt2", "eq2"}  # flat almost everywhere: no gradient to check
smooth_two_arg = [fn for fn in two_arg if fn[0] not in COMPARISONS]


def expected_reduction(name, float_fn, values: np.ndarray) -> np.ndarray:
    """What the catalogue's reduction gives on floats: over dim 0, or over everything."""
    if name == "mean_full_red":
        return np.array([float_fn(values.ravel().tolist())])
    return np.apply_along_axis(lambda column: float_fn(column.tolist()), 0, values)[None]


def check_elementwise(name, float_fn, tensor_fn, *inputs) -> None:
    """`tensor_fn` on the GPU copies of `inputs` against `float_fn` on every (broadcast) element."""
    out = tensor_fn(*(on_cuda(t) for t in inputs))
    assert on_device(out)
    expected = np.vectorize(float_fn, otypes=[float])(*(t.to_numpy() for t in inputs))
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("fn", one_arg, ids=[name for name, _, _ in one_arg])
@few
@given(t=tensors())
def test_one_arg_functions_match_floats_on_the_gpu(fn, t):
    check_elementwise(*fn, t)


@pytest.mark.parametrize("fn", two_arg, ids=[name for name, _, _ in two_arg])
@few
@given(ts=broadcastable_tensors())
def test_two_arg_functions_broadcast_like_numpy_on_the_gpu(fn, ts):
    check_elementwise(*fn, *ts)


@pytest.mark.parametrize("fn", red_arg, ids=[name for name, _, _ in red_arg])
@few
@given(t=tensors())
def test_reductions_match_floats_on_the_gpu(fn, t):
    name, float_fn, tensor_fn = fn
    out = tensor_fn(on_cuda(t))
    expected = expected_reduction(name, float_fn, t.to_numpy())
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("fn", one_arg + red_arg, ids=[n for n, _, _ in one_arg + red_arg])
@few
@given(t=tensors(smooth_floats))
def test_one_arg_gradients_match_central_differences_on_the_gpu(fn, t):
    grad_check(fn[2], on_cuda(t))


@pytest.mark.parametrize("fn", smooth_two_arg, ids=[name for name, _, _ in smooth_two_arg])
@few
@given(ts=shaped_tensors(2, smooth_floats))
def test_two_arg_gradients_sum_back_over_broadcasts_on_the_gpu(fn, ts):
    a, b = (on_cuda(t) for t in ts)
    grad_check(fn[2], a, b)
    grad_check(fn[2], a.sum(0), b)


@few
@given(st.data())
def test_permuted_layouts_and_their_gradients_on_the_gpu(data):
    t = data.draw(tensors(smooth_floats))
    order = data.draw(st.permutations(range(t.dims)))
    x = on_cuda(t)
    np.testing.assert_array_equal(x.permute(*order).to_numpy(), t.to_numpy().transpose(order))
    grad_check(lambda a: a.permute(*order) * a.permute(*order), x)
    grad_check(lambda a: a.contiguous().view(a.size) * 2.0, x)


@few
@given(st.data())
def test_matmul_and_its_gradients_on_the_gpu(data):
    i, k, j, n = (data.draw(st.integers(1, 3)) for _ in range(4))
    a = data.draw(tensors(smooth_floats, shape=(n, i, k)))
    b = data.draw(tensors(smooth_floats, shape=(k, j)))
    out = on_cuda(a) @ on_cuda(b)
    np.testing.assert_allclose(out.to_numpy(), a.to_numpy() @ b.to_numpy(), 1e-9, 1e-9)
    grad_check(lambda x, y: x @ y, on_cuda(a), on_cuda(b))
    grad_check(lambda x, y: x @ y, on_cuda(b).permute(1, 0), on_cuda(a).permute(0, 2, 1))
