"""Pooling, max, argmax, softmax, logsoftmax and dropout: forward against numpy, backward
against central differences, on every CPU backend."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch
from tests.backends import CPU_BACKENDS, on, strided

SETTINGS = settings(max_examples=8, deadline=None)


@st.composite
def images(draw: st.DrawFn) -> tuple[np.ndarray, tuple[int, int]]:
    """A random `(B, C, H, W)` array whose height and width a random kernel divides."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    b, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = kh * draw(st.integers(1, 3)), kw * draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).normal(size=(b, c, h, w)), (kh, kw)


def _tiles(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """numpy reference: `(B, C, H, W) -> (B, C, H/kh, W/kw, kh*kw)`."""
    b, c, h, w = x.shape
    t = x.reshape(b, c, h // kh, kh, w // kw, kw).transpose(0, 1, 2, 4, 3, 5)
    return t.reshape(b, c, h // kh, w // kw, kh * kw)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@SETTINGS
@given(images(), st.booleans())
def test_tile_and_pools_match_numpy(backend, case, permuted):
    x, (kh, kw) = case
    t = (strided if permuted else on)(backend, x)
    tiled, new_h, new_w = minitorch.tile(t, (kh, kw))
    assert (new_h, new_w) == (x.shape[2] // kh, x.shape[3] // kw)
    np.testing.assert_allclose(tiled.to_numpy(), _tiles(x, kh, kw))
    np.testing.assert_allclose(
        minitorch.avgpool2d(t, (kh, kw)).to_numpy(), _tiles(x, kh, kw).mean(4), atol=1e-12
    )
    np.testing.assert_allclose(
        minitorch.maxpool2d(t, (kh, kw)).to_numpy(), _tiles(x, kh, kw).max(4)
    )


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@SETTINGS
@given(images(), st.booleans())
def test_pools_pass_grad_check(backend, case, permuted):
    x, kernel = case
    t = (strided if permuted else on)(backend, x)
    minitorch.grad_check(lambda a: minitorch.tile(a, kernel)[0] * a.sum(), t)
    minitorch.grad_check(lambda a: minitorch.avgpool2d(a, kernel), t)
    minitorch.grad_check(lambda a: minitorch.maxpool2d(a, kernel), t)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_pooling_rejects_a_kernel_that_does_not_divide_the_image(backend):
    t = on(backend, np.zeros((1, 2, 5, 6)))
    with pytest.raises(ValueError, match=r"kernel 2x4 does not divide the 5x6 image"):
        minitorch.avgpool2d(t, (2, 4))
    with pytest.raises(ValueError, match=r"\(1, 2, 5, 6\)"):
        minitorch.maxpool2d(t, (3, 3))
    with pytest.raises(ValueError, match="batch, channel, height, width"):
        minitorch.tile(on(backend, np.zeros((5, 6))), (1, 1))


@st.composite
def arrays_and_dims(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).normal(size=shape), draw(st.integers(0, len(shape) - 1))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@SETTINGS
@given(arrays_and_dims(), st.booleans())
def test_max_matches_numpy_and_passes_grad_check(backend, case, permuted):
    x, dim = case
    t = (strided if permuted else on)(backend, x)
    np.testing.assert_allclose(minitorch.max(t, dim).to_numpy(), x.max(dim, keepdims=True))
    np.testing.assert_allclose(minitorch.max(t).to_numpy(), [x.max()])
    minitorch.grad_check(lambda a: minitorch.max(a, dim), t)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_max_shares_the_gradient_equally_among_ties(backend):
    t = on(backend, [[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]]).requires_grad_(True)
    minitorch.max(t, 1).sum().backward()
    np.testing.assert_allclose(t.grad.to_numpy(), [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_max_accumulates_when_its_input_is_used_twice(backend):
    t = on(backend, [[1.0, 4.0], [5.0, 2.0]]).requires_grad_(True)
    (minitorch.max(t, 0) * 3.0 + t).sum().backward()
    # max(t, 0) broadcasts over both rows of t, so each winner collects 2 * 3, plus 1
    np.testing.assert_allclose(t.grad.to_numpy(), [[1.0, 7.0], [7.0, 1.0]])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@SETTINGS
@given(arrays_and_dims(), st.booleans())
def test_argmax_is_one_hot_at_numpys_argmax(backend, case, permuted):
    x, dim = case
    x = np.round(x)  # rounding makes ties common: the first one must win, as in numpy
    t = (strided if permuted else on)(backend, x).requires_grad_(True)
    hot = minitorch.argmax(t, dim)
    expected = np.zeros_like(x)
    np.put_along_axis(expected, np.expand_dims(x.argmax(dim), dim), 1.0, dim)
    np.testing.assert_array_equal(hot.to_numpy(), expected)
    assert hot.is_constant()


def _log_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    shifted = x - x.max(dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(dim, keepdims=True))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@SETTINGS
@given(arrays_and_dims(), st.booleans())
def test_softmax_and_logsoftmax_match_numpy(backend, case, permuted):
    x, dim = case
    t = (strided if permuted else on)(backend, x)
    np.testing.assert_allclose(
        minitorch.softmax(t, dim).to_numpy(), np.exp(_log_softmax(x, dim)), atol=1e-12
    )
    np.testing.assert_allclose(
        minitorch.logsoftmax(t, dim).to_numpy(), _log_softmax(x, dim), atol=1e-12
    )
    np.testing.assert_allclose(minitorch.softmax(t, dim).sum(dim).to_numpy(), 1.0)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@SETTINGS
@given(arrays_and_dims(), st.booleans())
def test_softmax_and_logsoftmax_pass_grad_check(backend, case, permuted):
    x, dim = case
    t = (strided if permuted else on)(backend, x)
    minitorch.grad_check(lambda a: minitorch.softmax(a, dim) * a, t)
    minitorch.grad_check(lambda a: minitorch.logsoftmax(a, dim) * a, t)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_logsoftmax_is_stable_for_large_inputs(backend):
    x = np.array([[1000.0, 0.0, -1000.0], [1e3, 1e3 + 1.0, 999.0]])
    t = on(backend, x).requires_grad_(True)
    out = minitorch.logsoftmax(t, 1)
    np.testing.assert_allclose(out.to_numpy(), _log_softmax(x, 1), atol=1e-9)
    assert np.isfinite(minitorch.softmax(t, 1).to_numpy()).all()
    out.sum().backward()
    assert np.isfinite(t.grad.to_numpy()).all()


def test_softmax_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).normal(size=(3, 4, 5)) * 30
    t = minitorch.tensor(x, requires_grad=True)
    minitorch.logsoftmax(t, 1).sum().backward()
    ref = torch.tensor(x, requires_grad=True)
    expected = torch.log_softmax(ref, 1)
    expected.sum().backward()
    np.testing.assert_allclose(minitorch.logsoftmax(t, 1).to_numpy(), expected.detach().numpy())
    np.testing.assert_allclose(t.grad.to_numpy(), ref.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_dropout_keeps_scales_or_zeroes_each_value(backend):
    x = np.random.default_rng(2).uniform(1.0, 2.0, size=(50, 40))
    t = on(backend, x).requires_grad_(True)
    out = minitorch.dropout(t, 0.25, rng=random.Random(3))
    kept = out.to_numpy() != 0.0
    np.testing.assert_allclose(out.to_numpy()[kept], x[kept] / 0.75)
    assert abs(kept.mean() - 0.75) < 0.05
    out.sum().backward()  # the gradient is the same mask
    np.testing.assert_allclose(t.grad.to_numpy(), kept / 0.75)
    # the same seed gives the same mask on every call, so central differences apply
    minitorch.grad_check(lambda a: minitorch.dropout(a, 0.5, rng=random.Random(4)) * a, t)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_dropout_edge_rates_and_eval_mode(backend):
    t = on(backend, [[1.0, -2.0], [3.0, 4.0]])
    assert minitorch.dropout(t, 0.0) is t
    assert minitorch.dropout(t, 0.9, ignore=True) is t
    np.testing.assert_array_equal(minitorch.dropout(t, 1.0).to_numpy(), 0.0)
    for rate in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"dropout rate must lie in \[0, 1\]"):
            minitorch.dropout(t, rate)


def test_dropout_repeats_with_the_same_seed():
    t = minitorch.rand((20,))
    random.seed(7)
    first = minitorch.dropout(t, 0.5).to_numpy()
    random.seed(7)
    np.testing.assert_array_equal(minitorch.dropout(t, 0.5).to_numpy(), first)
    other = minitorch.dropout(t, 0.5, rng=random.Random(8)).to_numpy()
    assert not np.array_equal(other, first)


def test_module_mode_follows_train_and_eval():
    outer, inner = minitorch.Module(), minitorch.Module()
    outer.child = inner
    assert outer.mode == inner.mode == "train"
    outer.eval()
    assert outer.mode == inner.mode == "eval"
    outer.train()
    assert inner.mode == "train"
    with pytest.raises(AttributeError):
        outer.mode = "eval"


def test_grad_check_catches_a_wrong_max_backward(monkeypatch):
    """The checker can fail: a Max that sends twice the gradient everywhere is caught."""
    monkeypatch.setattr(minitorch.nn.Max, "backward", staticmethod(lambda ctx, g: g * 2.0))
    t = minitorch.tensor([[1.0, 5.0, 2.0]])
    with pytest.raises(AssertionError, match="grad_check failed"):
        minitorch.grad_check(lambda a: minitorch.max(a, 1), t, rng=random.Random(0))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_the_fused_max_backward_is_the_composed_one_bit_for_bit(dtype, dim):
    # On the fast backend a plain backward takes the one-pass kernel (fast_nn); a recorded
    # one (create_graph) composes tensor operations. Ties, NaN and a strided input included.
    rng = np.random.default_rng(dim)
    values = rng.integers(-3, 4, size=(4, 6, 5)).astype(dtype)  # many ties
    values[1, 2, 3] = np.nan
    fast = minitorch.TensorBackend(minitorch.FastOps)
    g = rng.standard_normal((4, 6, 5)).astype(dtype)
    grads = []
    for create_graph in (False, True):
        t = minitorch.tensor(values.tolist(), backend=fast, dtype=getattr(minitorch, dtype))
        x = t.permute(2, 0, 1).requires_grad_(True)  # strided
        out = minitorch.max(x, dim)
        tg = minitorch.tensor(np.moveaxis(g, 2, 0).tolist(), backend=fast, dtype=x.dtype)
        weight = minitorch.max(tg, dim).detach()
        (out * weight).sum().backward(create_graph=create_graph)
        grads.append(x.grad.to_numpy())
    assert grads[0].dtype == np.dtype(dtype)
    np.testing.assert_array_equal(grads[0], grads[1])  # NaN where NaN
    assert np.isnan(grads[0]).any() and (grads[0] == 0).any()
