"""NaN, ±inf and ±0 through every unary, binary and reduce operation, against PyTorch.

One table of special values, run on every backend (simple, fast, and CUDA on numba's
simulator or a GPU): values and gradients must be PyTorch's, NaN included (`max` of a row
with a NaN is NaN, `argmax` points at the first NaN, `relu(nan)` and `exp(nan)` are NaN).
Zeros are compared with their sign in elementwise operations (`relu(-0.0)` is `-0.0`).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable

import numpy as np
import pytest

import minitorch
from minitorch import Tensor

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's, on the simulator

NAN, INF = math.nan, math.inf
VALUES = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 2.5, -0.5, 1000.0, -1000.0]


def _cuda_backend() -> object:
    try:
        from minitorch import cuda_ops

        if cuda_ops.cuda.is_available():
            return pytest.param(cuda_ops.CudaBackend, id="cuda")
    except ImportError:
        pass
    return pytest.param(None, id="cuda", marks=pytest.mark.skip(reason="no numba-cuda"))


BACKENDS = [
    pytest.param(minitorch.SimpleBackend, id="simple"),
    pytest.param(minitorch.FastBackend, id="fast"),
    _cuda_backend(),
]

# Every pair of special values, as two columns.
PAIRS = np.array(list(itertools.product(VALUES, VALUES)))
XS, YS = PAIRS[:, 0].copy(), PAIRS[:, 1].copy()


def on(backend: minitorch.TensorBackend, values: np.ndarray, grad: bool = False) -> Tensor:
    return minitorch.tensor(np.asarray(values, dtype=float), backend=backend, requires_grad=grad)


def ref(values: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=float), dtype=torch.float64, requires_grad=grad)


def assert_same(got: Tensor | np.ndarray, want: torch.Tensor, signed_zeros: bool = True) -> None:
    """Equal values, NaN where PyTorch has NaN, the same infinities, and (optionally) the
    same sign on zeros; finite values to a relative 1e-12 (ulps of exp and friends)."""
    got = got.to_numpy() if isinstance(got, Tensor) else np.asarray(got)
    want = want.detach().numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0.0, equal_nan=True)
    if signed_zeros:
        zeros = want == 0.0
        np.testing.assert_array_equal(
            np.signbit(got[zeros]), np.signbit(want[zeros]), err_msg="sign of zero differs"
        )


# ---- The operations, side by side ----------------------------------------------------------------

UNARY: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "neg": (lambda x: -x, torch.neg),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid),
    "relu": (lambda x: x.relu(), torch.relu),
    "log": (lambda x: x.log(), torch.log),
    "exp": (lambda x: x.exp(), torch.exp),
    "inv": (lambda x: 1.0 / x, torch.reciprocal),
}

BINARY: dict[str, tuple[Callable[..., Tensor], Callable[..., torch.Tensor]]] = {
    "add": (lambda a, b: a + b, torch.add),
    "sub": (lambda a, b: a - b, torch.sub),
    "mul": (lambda a, b: a * b, torch.mul),
    "div": (lambda a, b: a / b, torch.div),
}

COMPARISONS: dict[str, tuple[Callable[..., Tensor], Callable[..., torch.Tensor]]] = {
    "lt": (lambda a, b: a < b, torch.lt),
    "gt": (lambda a, b: a > b, torch.gt),
    "eq": (lambda a, b: a == b, torch.eq),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_and_gradients_match_pytorch(backend, name):
    ours, theirs = UNARY[name]
    # every special value, under every special incoming gradient
    x, d = on(backend, XS, grad=True), on(backend, YS)
    tx = ref(XS, grad=True)
    out, tout = ours(x), theirs(tx)
    assert_same(out, tout)
    out.backward(d)
    tout.backward(ref(YS))
    assert_same(x.grad, tx.grad, signed_zeros=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_kernels_without_a_tensor_method_match_pytorch(backend):
    x = on(backend, XS)
    assert_same(backend.sqrt_map(x), torch.sqrt(ref(XS)))
    assert_same(backend.id_map(x), ref(XS))
    assert_same(backend.inv_map(x), torch.reciprocal(ref(XS)))
    for zip_name, fn in [
        ("relu", torch.relu),
        ("log", torch.log),
        ("reciprocal", torch.reciprocal),
    ]:
        tx = ref(XS, grad=True)
        fn(tx).backward(ref(YS))
        kernel = {
            "relu": backend.relu_back_zip,
            "log": backend.log_back_zip,
            "reciprocal": backend.inv_back_zip,
        }[zip_name]
        assert_same(kernel(x, on(backend, YS)), tx.grad, signed_zeros=False)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_and_gradients_match_pytorch(backend, name):
    ours, theirs = BINARY[name]
    a, b = on(backend, XS, grad=True), on(backend, YS, grad=True)
    ta, tb = ref(XS, grad=True), ref(YS, grad=True)
    out, tout = ours(a, b), theirs(ta, tb)
    assert_same(out, tout, signed_zeros=name != "div")  # a * (1/b): -0.0 * inf is the same
    grad = np.resize([1.0, -2.5, 0.0], len(XS))
    out.backward(on(backend, grad))
    tout.backward(ref(grad))
    assert_same(a.grad, ta.grad, signed_zeros=False)
    assert_same(b.grad, tb.grad, signed_zeros=False)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_are_false_for_nan_like_pytorch(backend, name):
    ours, theirs = COMPARISONS[name]
    got = ours(on(backend, XS), on(backend, YS))
    assert_same(got, theirs(ref(XS), ref(YS)).double(), signed_zeros=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_is_close_holds_for_equal_infinities_and_never_for_nan(backend):
    got = on(backend, XS).is_close(on(backend, YS)).to_numpy()
    want = torch.isclose(ref(XS), ref(YS), rtol=0.0, atol=1e-2).double().numpy()
    np.testing.assert_array_equal(got, want)


# ---- Reductions ----------------------------------------------------------------------------------


def _rows() -> np.ndarray:
    """Hand-picked rows (the issue's cases, ties of infinities, signed zeros), then random."""
    rows = [
        [5.0, NAN, 3.0, 1.0, 0.0],
        [NAN, 1.0, -2.0, 0.0, 0.0],
        [1.0, -2.0, NAN, NAN, 0.0],
        [INF, 1.0, INF, 2.0, 0.0],
        [-INF, -INF, -INF, -INF, -INF],
        [INF, -INF, 0.0, 1.0, 2.0],
        [-0.0, 0.0, -1.0, -2.0, -3.0],
        [1.0, 3.0, 3.0, 2.0, -1.0],
    ]
    rng = random.Random(0)
    rows += [[rng.choice(VALUES) for _ in range(5)] for _ in range(24)]
    return np.array(rows)


ROWS = _rows()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dim", [0, -1])
def test_sum_and_product_match_pytorch(backend, dim):
    values = ROWS if dim else ROWS.T.copy()
    x, tx = on(backend, values), ref(values)
    assert_same(x.sum(dim), tx.sum(dim, keepdim=True), signed_zeros=False)
    assert_same(backend.mul_reduce(x, dim), tx.prod(dim, keepdim=True), signed_zeros=False)
    assert_same(x.mean(dim), tx.mean(dim, keepdim=True), signed_zeros=False)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dim", [0, 1])
def test_max_and_its_gradient_match_torch_amax(backend, dim):
    values = ROWS.T.copy() if dim == 0 else ROWS
    x, tx = on(backend, values, grad=True), ref(values, grad=True)
    out, tout = minitorch.max(x, dim), torch.amax(tx, dim, keepdim=True)
    assert_same(out, tout, signed_zeros=False)
    grad = np.resize([1.0, -2.5, 0.0, 4.0], tout.shape)
    out.backward(on(backend, grad))
    tout.backward(ref(grad))
    assert_same(x.grad, tx.grad, signed_zeros=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_of_a_row_holding_nan_is_nan(backend):
    # The issue's cases: the fast backend used to give 3 and 1.
    x = on(backend, [[5.0, NAN, 3.0], [NAN, 1.0, -2.0]])
    assert np.isnan(minitorch.max(x, 1).to_numpy()).all()
    assert np.isnan(minitorch.max(x).to_numpy()).all()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dim", [0, 1])
def test_argmax_points_at_the_first_nan_or_the_first_maximum(backend, dim):
    values = ROWS.T.copy() if dim == 0 else ROWS
    got = minitorch.argmax(on(backend, values), dim).to_numpy()
    index = torch.argmax(ref(values), dim, keepdim=True).numpy()
    want = np.zeros_like(values)
    np.put_along_axis(want, index, 1.0, axis=dim)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_argmax_of_the_issues_row_is_one_hot_at_the_nan(backend):
    got = minitorch.argmax(on(backend, [[1.0, -2.0, NAN]]), 1).to_numpy()
    assert got.tolist() == [[0.0, 0.0, 1.0]]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(minitorch.softmax, torch.softmax), (minitorch.logsoftmax, torch.log_softmax)],
    ids=["softmax", "logsoftmax"],
)
def test_softmax_and_logsoftmax_match_pytorch(backend, ours, theirs):
    x, tx = on(backend, ROWS, grad=True), ref(ROWS, grad=True)
    out, tout = ours(x, 1), theirs(tx, 1)
    np.testing.assert_allclose(out.to_numpy(), tout.detach().numpy(), rtol=1e-10, equal_nan=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_matmul_propagates_nan_and_inf_like_pytorch(backend):
    rng = np.random.default_rng(0)
    a = rng.choice(VALUES, size=(6, 5))
    b = rng.choice(VALUES, size=(5, 7))
    got = on(backend, a) @ on(backend, b)
    assert_same(got, ref(a) @ ref(b), signed_zeros=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_maxpool_keeps_nan_in_its_tile(backend):
    image = np.arange(16.0).reshape(1, 1, 4, 4)
    image[0, 0, 0, 1] = NAN
    got = minitorch.maxpool2d(on(backend, image), (2, 2)).to_numpy()
    want = torch.nn.functional.max_pool2d(ref(image), 2).numpy()
    np.testing.assert_array_equal(got, want)


# ---- Library inputs: dims and pooling kernels ----------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS[:2])
def test_negative_dims_count_from_the_end_as_in_pytorch(backend):
    values = np.arange(6.0).reshape(2, 3)
    x = on(backend, values)
    np.testing.assert_array_equal(x.sum(-1).to_numpy(), values.sum(-1, keepdims=True))
    np.testing.assert_array_equal(x.mean(-2).to_numpy(), values.mean(-2, keepdims=True))
    np.testing.assert_array_equal(minitorch.max(x, -1).to_numpy(), [[2.0], [5.0]])
    np.testing.assert_array_equal(
        minitorch.softmax(x, -1).to_numpy(), minitorch.softmax(x, 1).to_numpy()
    )
    np.testing.assert_array_equal(x.sum(np.int64(1)).to_numpy(), [[3.0], [12.0]])


@pytest.mark.parametrize(
    "call",
    [
        lambda x: minitorch.softmax(x, 1.5),
        lambda x: minitorch.logsoftmax(x, 1.0),
        lambda x: minitorch.argmax(x, "0"),
        lambda x: minitorch.max(x, True),
        lambda x: x.sum(0.5),
        lambda x: x.mean(1.5),
        lambda x: x.all(1.0),
    ],
    ids=["softmax", "logsoftmax", "argmax", "max-bool", "sum", "mean", "all"],
)
def test_a_dim_that_is_not_an_integer_is_refused_by_name(call):
    with pytest.raises(TypeError, match=r"dimension must be an integer, got .* for shape \(2, 3\)"):
        call(on(minitorch.SimpleBackend, np.zeros((2, 3))))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.mean(-3),
        lambda x: x.sum(2),
        lambda x: minitorch.softmax(x, 2),
        lambda x: minitorch.max(x, -3),
        lambda x: minitorch.argmax(x, 5),
    ],
    ids=["mean", "sum", "softmax", "max", "argmax"],
)
def test_a_dim_out_of_range_is_refused_naming_it_the_shape_and_the_range(call):
    with pytest.raises(minitorch.IndexingError, match=r"out of range for shape \(2, 3\).*-2 to 1"):
        call(on(minitorch.SimpleBackend, np.zeros((2, 3))))


@pytest.mark.parametrize("pool", [minitorch.avgpool2d, minitorch.maxpool2d])
@pytest.mark.parametrize(
    "kernel", [(2.5, 2), (2, 0), (-2, 2), ("2", 2), (2,), (2, 2, 2), 2, (True, 2)]
)
def test_pooling_kernels_must_be_two_positive_integers(pool, kernel):
    x = on(minitorch.SimpleBackend, np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"two positive integers .*got"):
        pool(x, kernel)


def test_pooling_accepts_numpy_integers_and_lists():
    x = on(minitorch.SimpleBackend, np.arange(16.0).reshape(1, 1, 4, 4))
    want = minitorch.avgpool2d(x, (2, 2)).to_numpy()
    np.testing.assert_array_equal(minitorch.avgpool2d(x, (np.int64(2), 2)).to_numpy(), want)
    np.testing.assert_array_equal(minitorch.avgpool2d(x, [2, 2]).to_numpy(), want)


# The composed convolution (simple and CUDA backends) unfolds windows with 0/1 matrix
# products, and 0 * nan is nan: one NaN pixel turns every output NaN. Conv moves to a
# backend slot on the `cuda` branch; this marks what that work must keep local.
_COMPOSED_CONV_SPREADS_NAN = pytest.mark.xfail(
    strict=True, reason="the composed conv unfolds by 0/1 matmul: a NaN reaches every window"
)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param(minitorch.SimpleBackend, id="simple", marks=_COMPOSED_CONV_SPREADS_NAN),
        pytest.param(minitorch.FastBackend, id="fast"),
    ],
)
def test_conv2d_keeps_nan_and_inf_in_the_windows_that_read_them(backend):
    rng = np.random.default_rng(0)
    image = rng.random((1, 2, 6, 6))
    image[0, 0, 2, 2], image[0, 1, 4, 1] = NAN, INF
    weight = rng.random((3, 2, 3, 3))
    got = minitorch.conv2d(on(backend, image), on(backend, weight))
    # the course's conv reads in[y + i, x + j], zero past the bottom and right edges
    padded = torch.nn.functional.pad(ref(image), (0, 2, 0, 2))
    assert_same(got, torch.nn.functional.conv2d(padded, ref(weight)), signed_zeros=False)
