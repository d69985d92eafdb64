"""dtypes: float64 (the default) and float32 tensors, their promotion, gradients and storage."""

from __future__ import annotations

import random

import numpy as np
import pytest
from safetensors import safe_open

import minitorch
from minitorch import Tensor, float32, float64

from .backends import CPU_BACKENDS

DTYPES = [pytest.param(float64, id="float64"), pytest.param(float32, id="float32")]


def values(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape)


# ---- Making tensors -----------------------------------------------------------------------------


def test_the_default_dtype_is_float64() -> None:
    assert minitorch.tensor([1.0, 2.0]).dtype == float64
    assert minitorch.zeros((2,)).dtype == float64
    assert minitorch.ones((2,)).dtype == float64
    assert minitorch.rand((2,)).dtype == float64
    # a numpy array's own dtype is not kept: the course's code assumes float64 throughout
    assert minitorch.tensor(np.ones(3, np.float32)).dtype == float64


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("spelling", [float32, np.float32, np.dtype("float32"), "float32"])
def test_every_constructor_takes_a_dtype(backend: minitorch.TensorBackend, spelling) -> None:
    made = [
        minitorch.tensor([[1.0, 2.0]], backend=backend, dtype=spelling),
        minitorch.tensor(np.ones((2, 2)), backend=backend, dtype=spelling),
        minitorch.tensor(3.0, backend=backend, dtype=spelling),
        minitorch.zeros((2, 3), backend=backend, dtype=spelling),
        minitorch.ones((2, 3), backend=backend, dtype=spelling),
        minitorch.rand((2, 3), backend=backend, dtype=spelling),
    ]
    for t in made:
        assert t.dtype == float32 and t._tensor._storage.dtype == np.float32
    assert made[4].to_numpy().tolist() == [[1.0] * 3] * 2
    assert made[3].zeros().dtype == float32


@pytest.mark.parametrize("bad", [np.int32, "float16", np.float16, int])
def test_a_dtype_other_than_float32_or_float64_is_refused_by_name(bad) -> None:
    with pytest.raises(TypeError, match="float32 or float64, not"):
        minitorch.tensor([1.0], dtype=bad)
    with pytest.raises(TypeError, match="float32 or float64"):
        minitorch.zeros((1,)).to(bad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rand_is_uniform_and_repeats_under_random_seed(dtype) -> None:
    random.seed(3)
    a = minitorch.rand((50, 40), dtype=dtype).to_numpy()
    random.seed(3)
    b = minitorch.rand((50, 40), dtype=dtype).to_numpy()
    assert a.dtype == dtype and np.array_equal(a, b)
    assert 0.0 <= a.min() and a.max() < 1.0 and 0.4 < a.mean() < 0.6


@pytest.mark.parametrize("make", [minitorch.zeros, minitorch.ones, minitorch.rand])
def test_sizes_past_memory_or_int64_are_refused_at_once_naming_the_shape(make) -> None:
    with pytest.raises(MemoryError, match=r"shape \(1048576, 1048576\) in float64 needs"):
        make((2**20, 2**20))
    with pytest.raises(ValueError, match=r"more than an int64"):
        make((2**40, 2**40))
    with pytest.raises(ValueError, match=r"shape \(2, -1\)"):
        make((2, -1))


# ---- Computing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_float32_stays_float32_and_python_numbers_do_not_promote(backend) -> None:
    a = minitorch.tensor(values((3, 4)), backend=backend, dtype=float32)
    b = minitorch.tensor(values((4, 2), 1), backend=backend, dtype=float32)
    results = [
        a + a,
        a * 2.0,
        1.5 - a,
        a / 3,
        -a,
        a.exp(),
        (a * a + 1).log(),
        a.sigmoid(),
        a.relu(),
        a < 0.5,
        a == a * 1.0,
        a.sum(),
        a.sum(1),
        a.mean(0),
        a @ b,
        a.permute(1, 0).contiguous(),
        minitorch.max(a, 1),
        minitorch.softmax(a, 1),
        minitorch.logsoftmax(a, 1),
    ]
    for out in results:
        assert out.dtype == float32
    np.testing.assert_allclose(
        (a @ b).to_numpy(), a.to_numpy() @ b.to_numpy(), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_mixed_dtypes_promote_to_float64(backend) -> None:
    a = minitorch.tensor(values((3, 4)), backend=backend, dtype=float32)
    b = minitorch.tensor(values((3, 4), 1), backend=backend)
    w = minitorch.tensor(values((4, 2), 2), backend=backend)
    for out in (a + b, b * a, a @ w, w.permute(1, 0) @ a.permute(1, 0), a < b):
        assert out.dtype == float64
    expected = a.to_numpy().astype(np.float64) @ w.to_numpy()
    np.testing.assert_allclose((a @ w).to_numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_gradients_have_their_tensors_dtype(backend) -> None:
    a = minitorch.tensor(values((3, 4)), backend=backend, dtype=float32, requires_grad=True)
    b = minitorch.tensor(values((4,), 1), backend=backend, requires_grad=True)
    w = minitorch.tensor(values((4, 2), 2), backend=backend, dtype=float32, requires_grad=True)
    ((a * b) @ w + (a * a).sum()).sigmoid().sum().backward()  # float64 result
    assert (a.grad.dtype, b.grad.dtype, w.grad.dtype) == (float32, float64, float32)
    # the same in float64 throughout: float32 gradients agree with it to float32 precision
    a64, w64 = (minitorch.tensor(t.to_numpy(), backend=backend) for t in (a, w))
    for t in (a64, b, w64):
        t.requires_grad_(True).zero_grad_()
    ((a64 * b) @ w64 + (a64 * a64).sum()).sigmoid().sum().backward()
    np.testing.assert_allclose(a.grad.to_numpy(), a64.grad.to_numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.grad.to_numpy(), w64.grad.to_numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_to_casts_differentiably_and_is_identity_on_the_same_dtype(backend) -> None:
    a = minitorch.tensor(values((2, 3)), backend=backend, requires_grad=True)
    assert a.to(float64) is a and a.double() is a and a.to("float64") is a
    low = a.float()
    assert low.dtype == float32 and low.float() is low
    np.testing.assert_allclose(low.to_numpy(), a.to_numpy(), rtol=1e-7)
    (low * low).sum().backward()
    assert a.grad.dtype == float64
    np.testing.assert_allclose(a.grad.to_numpy(), 2 * low.to_numpy(), rtol=1e-6)
    # a gradient reaching a float32 leaf used twice, once through float64, accumulates
    x = minitorch.tensor([1.0, 2.0], backend=backend, dtype=float32, requires_grad=True)
    (x.double() * 3.0 + x).sum().backward()
    assert x.grad.dtype == float32 and x.grad.to_numpy().tolist() == [4.0, 4.0]


def test_backward_from_a_float32_tensor_takes_a_float64_gradient() -> None:
    x = minitorch.tensor([1.0, 2.0], dtype=float32, requires_grad=True)
    (x * x).backward(minitorch.tensor([1.0, 1.0]))
    assert x.grad.dtype == float32 and x.grad.to_numpy().tolist() == [2.0, 4.0]


def test_grad_check_works_in_float64_on_float32_inputs() -> None:
    x = minitorch.tensor(values((2, 3)), backend=minitorch.FastBackend, dtype=float32)
    minitorch.grad_check(lambda t: (t * t).exp(), x)

    class Wrong(minitorch.tensor_functions.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a.backend.mul_zip(a, a)

        @staticmethod
        def backward(ctx, grad_output):
            (a,) = ctx.saved_values
            return grad_output * a  # should be 2a

    with pytest.raises(AssertionError, match="grad_check failed"):
        minitorch.grad_check(Wrong.apply, x)


# ---- Layers, optimizers, checkpoints ----------------------------------------------------------


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("optimizer", [minitorch.SGD, minitorch.Adam])
def test_float32_layers_and_optimizers_keep_their_dtype(backend, optimizer) -> None:
    conv = minitorch.Conv2d(1, 2, 3, 3, backend=backend, dtype=float32)
    linear = minitorch.Linear(2 * 4, 3, backend=backend, dtype="float32")
    params = list(conv.parameters()) + list(linear.parameters())
    assert all(p.value.dtype == float32 for p in params)
    opt = optimizer(params, lr=0.1)
    x = minitorch.tensor(values((2, 1, 4, 4)), backend=backend, dtype=float32)
    for _ in range(2):
        opt.zero_grad()
        h = minitorch.avgpool2d(conv(x).relu(), (2, 2))  # (2, 2, 2, 2)
        h = minitorch.dropout(h, 0.25)
        out = minitorch.logsoftmax(linear(h.view(2, 8)), 1)
        assert h.dtype == out.dtype == float32
        (-out.sum()).backward()
        assert all(p.value.grad.dtype == float32 for p in params)
        opt.step()
    assert all(p.value.dtype == float32 for p in params)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_conv_in_float32_matches_float64(backend) -> None:
    x, w = values((2, 3, 6, 5)), values((4, 3, 2, 3), 1)
    lo = minitorch.conv2d(
        minitorch.tensor(x, backend=backend, dtype=float32),
        minitorch.tensor(w, backend=backend, dtype=float32),
    )
    hi = minitorch.conv2d(
        minitorch.tensor(x, backend=backend), minitorch.tensor(w, backend=backend)
    )
    mixed = minitorch.conv2d(
        minitorch.tensor(x, backend=backend, dtype=float32), minitorch.tensor(w, backend=backend)
    )
    assert (lo.dtype, hi.dtype, mixed.dtype) == (float32, float64, float64)
    np.testing.assert_allclose(lo.to_numpy(), hi.to_numpy(), rtol=1e-5, atol=1e-5)


def test_checkpoints_store_each_dtype_and_load_into_the_models(tmp_path) -> None:
    path = tmp_path / "m.safetensors"
    low = minitorch.Linear(3, 2, dtype=float32)
    minitorch.save(low, path)
    with safe_open(str(path), framework="np") as f:
        assert f.get_tensor("weights").dtype == np.float32
    high = minitorch.Linear(3, 2)
    minitorch.load(high, path)
    assert high.weights.value.dtype == float64
    np.testing.assert_array_equal(
        high.weights.value.to_numpy(), low.weights.value.to_numpy().astype(np.float64)
    )
    minitorch.save(high, path)
    other = minitorch.Linear(3, 2, dtype=float32)
    minitorch.load(other, path)
    assert other.bias.value.dtype == float32
    np.testing.assert_array_equal(other.bias.value.to_numpy(), low.bias.value.to_numpy())


def test_a_float32_tensor_reads_back_as_float32_numpy() -> None:
    t = minitorch.tensor([[1.5, 2.5]], dtype=float32)
    assert t.to_numpy().dtype == np.float32 and t[0, 1] == 2.5 and isinstance(t.item, object)
    assert repr(t) == "tensor([[1.5000, 2.5000]])"
    assert Tensor.make(np.zeros(2, np.float32), (2,)).dtype == float32


def test_cuda_tensors_can_be_float32() -> None:
    support = pytest.importorskip("tests.cuda_support")  # skips without numba-cuda or a GPU
    cuda = support.CudaBackend
    a = minitorch.tensor(values((2, 3)), backend=cuda, dtype=float32, requires_grad=True)
    b = minitorch.tensor(values((3, 2), 1), backend=cuda, dtype=float32)
    out = (a @ b).relu().sum(1)
    assert support.on_device(out) and out.dtype == float32
    out.sum().backward()
    assert a.grad.dtype == float32 and support.on_device(a.grad)
    assert minitorch.ones((2,), backend=cuda, dtype=float32).to_numpy().dtype == np.float32
    assert (a + minitorch.tensor([1.0, 2.0, 3.0], backend=cuda)).dtype == float64


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "sizes",
    [(3, 2, 7, 8, 5, 2, 3), (2, 3, 5, 4, 2, 3, 4), (4, 1, 9, 11, 3, 1, 1), (2, 6, 4, 7, 20, 2, 3)],
)
def test_fast_conv2d_and_both_gradients_match_pytorch(dtype, sizes) -> None:
    torch = pytest.importorskip("torch")
    n, c, h, w, o, kh, kw = sizes
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, kh, kw))
    fast = minitorch.FastBackend
    tx = minitorch.tensor(x, backend=fast, dtype=dtype, requires_grad=True)
    tk = minitorch.tensor(k, backend=fast, dtype=dtype, requires_grad=True)
    out = minitorch.conv2d(tx, tk)
    g = rng.standard_normal(out.shape)
    out.backward(minitorch.tensor(g, backend=fast, dtype=dtype))
    rx, rk = torch.tensor(x, requires_grad=True), torch.tensor(k, requires_grad=True)
    # minitorch reads zeros past the right and bottom edges
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(rx, (0, kw - 1, 0, kh - 1)), rk)
    ref.backward(torch.tensor(g))
    tol = 1e-4 if dtype == float32 else 1e-10
    for ours, theirs in ((out, ref), (tx.grad, rx.grad), (tk.grad, rk.grad)):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours.to_numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)
