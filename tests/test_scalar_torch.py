"""Scalar gradients against PyTorch's autograd (skipped when torch is not installed)."""

import pytest
from hypothesis import given

from minitorch import MathTestVariable, Scalar

from .strategies import small_floats

torch = pytest.importorskip("torch")

one_arg, two_arg, _ = MathTestVariable._comp_testing()


def _torch_grads(fn, *xs: float) -> list[float]:
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = fn(*ts)
    if not out.requires_grad:  # comparisons: flat, zero gradient
        return [0.0] * len(xs)
    out.backward()
    return [0.0 if t.grad is None else t.grad.item() for t in ts]


def _ours(fn, *xs: float) -> list[float]:
    ss = [Scalar(x) for x in xs]
    out = fn(*ss)
    if not out.is_constant():
        out.backward()
    return [0.0 if s.derivative is None else s.derivative for s in ss]


@given(small_floats)
@pytest.mark.parametrize("name, fn, variable_fn", one_arg)
def test_one_arg_gradients_match_torch(name, fn, variable_fn, x: float) -> None:
    assert _ours(variable_fn, x) == pytest.approx(_torch_grads(variable_fn, x), rel=1e-9, abs=1e-12)


@given(small_floats, small_floats)
@pytest.mark.parametrize("name, fn, variable_fn", two_arg)
def test_two_arg_gradients_match_torch(name, fn, variable_fn, x: float, y: float) -> None:
    assert _ours(variable_fn, x, y) == pytest.approx(
        _torch_grads(variable_fn, x, y), rel=1e-9, abs=1e-12
    )
