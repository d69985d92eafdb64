"""Convolutions: forward against numpy (and PyTorch), backward against central differences,
the numba kernel against the composed path, and the errors for shapes that cannot work."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch
from minitorch.conv import _convolve, _convolve_composed
from tests.backends import CPU_BACKENDS, on, strided

SETTINGS = settings(max_examples=8, deadline=None)


def conv_reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """numpy: `out[b, o, *p] = sum_{c, *k} x[b, c, *(p + k)] w[o, c, *k]`, zero past the end."""
    spatial = x.ndim - 2
    pad = [(0, 0), (0, 0)] + [(0, k - 1) for k in w.shape[2:]]
    padded = np.pad(x, pad)
    windows = np.lib.stride_tricks.sliding_window_view(
        padded, w.shape[2:], axis=tuple(range(2, 2 + spatial))
    )  # (B, C, *P, *K)
    letters = "hw"[2 - spatial :]
    kernel = "ij"[2 - spatial :]
    return np.einsum(f"bc{letters}{kernel},oc{kernel}->bo{letters}", windows, w)


FEW_CHANNELS = st.integers(1, 3)


@st.composite
def conv_cases(
    draw: st.DrawFn, spatial: int, channels: st.SearchStrategy[int] = FEW_CHANNELS
) -> tuple[np.ndarray, np.ndarray]:
    """Random input and weight: batch, channels, sizes and kernel sizes all drawn."""
    b, c, o = draw(st.integers(1, 2)), draw(channels), draw(channels)
    size = [draw(st.integers(1, 6)) for _ in range(spatial)]
    kernel = [draw(st.integers(1, n)) for n in size]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.normal(size=(b, c, *size)), rng.normal(size=(o, c, *kernel))


def test_conv1d_reads_past_the_end_as_zero():
    t = minitorch.tensor([0, 1, 2, 3]).view(1, 1, 4)
    out = minitorch.Conv1dFun.apply(t, minitorch.tensor([[1, 2, 3]]).view(1, 1, 3))
    assert [out[0, 0, i] for i in range(4)] == [0 + 2 + 6, 1 + 4 + 9, 2 + 6, 3]


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("spatial", [1, 2])
@SETTINGS
@given(data=st.data())
def test_conv_matches_numpy_and_passes_grad_check(backend, spatial, data):
    x, w = data.draw(conv_cases(spatial))
    layout = strided if data.draw(st.booleans()) else on
    input, weight = layout(backend, x), layout(backend, w)
    fun = minitorch.Conv1dFun if spatial == 1 else minitorch.Conv2dFun
    out = (minitorch.conv1d if spatial == 1 else minitorch.conv2d)(input, weight)
    assert out.shape == (x.shape[0], w.shape[0], *x.shape[2:])
    np.testing.assert_allclose(out.to_numpy(), conv_reference(x, w), atol=1e-10)
    minitorch.grad_check(fun.apply, input, weight)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_conv_accumulates_when_a_tensor_is_used_twice(backend):
    x = on(backend, np.random.default_rng(3).normal(size=(1, 1, 5))).requires_grad_(True)
    minitorch.grad_check(lambda a: minitorch.conv1d(a, a) * a, x)
    # d/dx sum(conv1d(x, x)) = sum_i x[i + j] (as weight) + sum_j x[i + j] (as input)
    x.zero_grad_()
    minitorch.conv1d(x, x).sum().backward()
    v = x.to_numpy().ravel()
    expected = [v[j:].sum() + v[: p + 1].sum() for j, p in zip(range(5), range(5))]
    np.testing.assert_allclose(x.grad.to_numpy().ravel(), expected)


def test_conv_matches_pytorch_forward_and_backward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(3, 2, 7, 6)), rng.normal(size=(4, 2, 3, 2))
    xt, wt = minitorch.tensor(x, requires_grad=True), minitorch.tensor(w, requires_grad=True)
    out = minitorch.conv2d(xt, wt)
    (out * out).sum().backward()
    xr, wr = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(xr, (0, 1, 0, 2)), wr)
    (ref * ref).sum().backward()
    np.testing.assert_allclose(out.to_numpy(), ref.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(xt.grad.to_numpy(), xr.grad.numpy(), atol=1e-9)
    np.testing.assert_allclose(wt.grad.to_numpy(), wr.grad.numpy(), atol=1e-9)


@pytest.mark.parametrize("reverse", [False, True])
@SETTINGS
@given(data=st.data())
def test_numba_kernel_agrees_with_the_composed_path(reverse, data):
    """Both implementations of `_convolve`, on every output size: forward (out the input's
    size), the reversed input gradient, and the wide-kernel weight gradient; with few
    channels and with many (the kernel's channels-innermost loop order)."""
    x, w = data.draw(conv_cases(2, st.integers(1, 3) | st.integers(16, 18)))
    out_size = (data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6)))
    xt = strided(minitorch.FastBackend, x)  # a layout without unit stride along rows too
    wt = strided(minitorch.FastBackend, w)
    fast = _convolve(xt, wt, out_size, reverse).to_numpy()  # the backend's kernel
    composed = _convolve_composed(xt, wt, out_size, reverse).to_numpy()
    np.testing.assert_allclose(fast, composed, atol=1e-10)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_conv_rejects_shapes_that_cannot_work(backend):
    x = on(backend, np.zeros((2, 3, 5, 5)))
    with pytest.raises(ValueError, match=r"3 channels but the weight expects 2.*\(4, 2, 3, 3\)"):
        minitorch.conv2d(x, on(backend, np.zeros((4, 2, 3, 3))))
    with pytest.raises(ValueError, match=r"kernel is larger than the input.*\(4, 3, 6, 1\)"):
        minitorch.conv2d(x, on(backend, np.zeros((4, 3, 6, 1))))
    with pytest.raises(ValueError, match=r"Conv1dFun needs 3-D input and weight"):
        minitorch.conv1d(x, on(backend, np.zeros((4, 3, 2))))
    with pytest.raises(ValueError, match=r"kernel is larger than the input"):
        minitorch.conv1d(on(backend, np.zeros((1, 1, 2))), on(backend, np.zeros((1, 1, 3))))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_conv_gradients_reach_only_what_requires_them(backend):
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=(2, 3, 6)), rng.normal(size=(4, 3, 2))
    image = on(backend, x)  # a constant, as a first layer's input usually is
    weight = on(backend, w).requires_grad_(True)
    minitorch.conv1d(image, weight).sum().backward()
    assert image.grad is None
    # d sum(out) / d w[o, c, j] = sum over batch and positions i of x[b, c, i + j]
    expected = [[x[:, c, j:].sum() for j in range(2)] for c in range(3)]
    np.testing.assert_allclose(weight.grad.to_numpy(), np.broadcast_to(expected, (4, 3, 2)))


@pytest.mark.parametrize(
    ("x_shape", "w_shape"),
    [((3, 5, 7), (18, 5, 3)), ((2, 17, 5, 4), (16, 17, 2, 3))],
    ids=["1d", "2d"],
)
def test_many_channel_convolutions_agree_across_backends(x_shape, w_shape):
    """With 16 or more output channels the fast kernel loops over channels innermost (the
    input gradient too, with 17 channels): it must agree with the composed path."""
    rng = np.random.default_rng(6)
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    g = rng.normal(size=(x_shape[0], w_shape[0], *x_shape[2:]))
    results = []
    for backend in (minitorch.SimpleBackend, minitorch.FastBackend):
        xt, wt = on(backend, x).requires_grad_(True), on(backend, w).requires_grad_(True)
        out = (minitorch.conv1d if len(x_shape) == 3 else minitorch.conv2d)(xt, wt)
        (out * on(backend, g)).sum().backward()
        results.append((out.to_numpy(), xt.grad.to_numpy(), wt.grad.to_numpy()))
    np.testing.assert_allclose(results[0][0], conv_reference(x, w), atol=1e-10)
    for simple, fast in zip(*results):
        np.testing.assert_allclose(fast, simple, atol=1e-10)


def test_a_backend_supplies_its_convolution_through_the_kernel_slot():
    """Forward, then the input gradient (reversed), then the weight gradient: each one call
    of the backend's `conv_kernel`; a backend without one (SimpleOps) composes instead."""
    calls = []

    class Spy(minitorch.FastOps):
        @staticmethod
        def conv_kernel(*args):
            calls.append(args[-1])
            minitorch.FastOps.conv_kernel(*args)

    assert minitorch.SimpleOps.conv_kernel is None
    rng = np.random.default_rng(7)
    x, w = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 2, 3))
    backend = minitorch.TensorBackend(Spy)
    image, weight = on(backend, x).requires_grad_(True), on(backend, w).requires_grad_(True)
    out = minitorch.conv2d(image, weight)
    np.testing.assert_allclose(out.to_numpy(), conv_reference(x, w), atol=1e-12)
    out.sum().backward()
    assert calls == [False, True, False]
