"""Higher-order derivatives: `create_graph=True` and `minitorch.grad`, on Scalars and Tensors.

Second derivatives of the whole catalogue are checked two ways: against a central difference
of the library's own first derivative, and against PyTorch's double backward (where torch is
installed). Each catalogue function `f` is squared before differentiating, so that the
Hessian, $2 J^T J + 2 f f''$, goes through `f`'s recorded backward even when `f` is linear.
"""

from __future__ import annotations

import gc
import random
import weakref

import numpy as np
import pytest

import minitorch
from minitorch import MathTestVariable, Scalar, Tensor

from .backends import CPU_BACKENDS, on

try:
    import torch
except ImportError:  # the comparisons with PyTorch skip; the central differences still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

one_arg, two_arg, red_arg = MathTestVariable._tests()
POINTS = [-0.83, 0.41, 1.37]  # away from every kink of the catalogue (relu at -5.5, -0.7)


# ---- helpers --------------------------------------------------------------------------------


def squared(fn):
    """`fn(*xs) ** 2`: nonlinear in `fn`'s output, so that `fn`'s backward must be recorded."""

    def g(*xs):
        out = fn(*xs)
        if torch is not None and isinstance(out, torch.Tensor) and out.dtype == torch.bool:
            out = out.double()
        return out * out

    return g


def scalar_second(fn, xs: list[float]) -> np.ndarray:
    """The Hessian of `fn` at `xs` by `minitorch.grad` twice (rows: d/dx_i of the gradient)."""
    vs = [Scalar(x) for x in xs]
    firsts = minitorch.grad(fn(*vs), vs, create_graph=True)
    rows = []
    for d in firsts:
        if d.is_constant():  # the first derivative depends on no input
            rows.append([0.0] * len(vs))
        else:
            rows.append([float(h) for h in minitorch.grad(d, vs, materialize_grads=True)])
    return np.array(rows)


def scalar_first(fn, xs: list[float]) -> np.ndarray:
    vs = [Scalar(x) for x in xs]
    return np.array(minitorch.grad(fn(*vs), vs))


def scalar_central(fn, xs: list[float], eps: float = 1e-5) -> np.ndarray:
    """Each column j: the central difference of the library's gradient along x_j."""
    cols = []
    for j in range(len(xs)):
        up, down = list(xs), list(xs)
        up[j] += eps
        down[j] -= eps
        cols.append((scalar_first(fn, up) - scalar_first(fn, down)) / (2 * eps))
    return np.array(cols).T


def torch_scalar_second(fn, xs: list[float]) -> np.ndarray:
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = fn(*ts)
    if not out.requires_grad:  # a comparison: torch records no graph for it
        return np.zeros((len(xs), len(xs)))
    firsts = torch.autograd.grad(out, ts, create_graph=True)
    rows = []
    for d in firsts:
        if not d.requires_grad:
            rows.append([0.0] * len(ts))
            continue
        hs = torch.autograd.grad(d, ts, allow_unused=True, retain_graph=True)
        rows.append([0.0 if h is None else float(h) for h in hs])
    return np.array(rows)


def hvp(fn, xs: list[Tensor], vs: list[np.ndarray], weight: np.ndarray) -> list[np.ndarray]:
    """$H v$ of $L = \\sum w \\cdot fn(xs)$, by `minitorch.grad` twice."""
    backend = xs[0].backend
    loss = (fn(*xs) * on(backend, weight)).sum()
    firsts = minitorch.grad(loss, xs, create_graph=True)
    dot = None
    for g, v in zip(firsts, vs):
        term = (g * on(backend, v)).sum()
        dot = term if dot is None else dot + term
    if dot.is_constant():
        return [np.zeros(x.shape) for x in xs]
    return [h.to_numpy() for h in minitorch.grad(dot, xs, materialize_grads=True)]


def first(fn, xs: list[Tensor], weight: np.ndarray) -> list[np.ndarray]:
    loss = (fn(*xs) * on(xs[0].backend, weight)).sum()
    return [g.to_numpy() for g in minitorch.grad(loss, xs)]


def hvp_central(fn, values, vs, weight, backend, eps: float = 1e-5) -> list[np.ndarray]:
    """$H v \\approx (\\nabla L(x + \\epsilon v) - \\nabla L(x - \\epsilon v)) / 2\\epsilon$,
    with the library's own first-order gradient."""

    def grads_at(sign: float) -> list[np.ndarray]:
        xs = [on(backend, x + sign * eps * v).requires_grad_() for x, v in zip(values, vs)]
        return first(fn, xs, weight)

    return [(u - d) / (2 * eps) for u, d in zip(grads_at(1.0), grads_at(-1.0))]


def torch_hvp(fn, values, vs, weight) -> list[np.ndarray]:
    ts = [torch.tensor(x, requires_grad=True) for x in values]
    loss = (fn(*ts) * torch.tensor(weight)).sum()
    if not loss.requires_grad:  # a comparison: torch records no graph for it
        return [np.zeros(x.shape) for x in values]
    firsts = torch.autograd.grad(loss, ts, create_graph=True)
    dot = sum((g * torch.tensor(v)).sum() for g, v in zip(firsts, vs))
    if not dot.requires_grad:
        return [np.zeros(x.shape) for x in values]
    hs = torch.autograd.grad(dot, ts, allow_unused=True)
    return [np.zeros(x.shape) if h is None else h.numpy() for x, h in zip(values, hs)]


def case(fn, shapes, backend, seed=0):
    """Inputs, directions and output weights for `fn` (all float64, fixed by `seed`)."""
    rng = np.random.default_rng(seed)
    values = [rng.uniform(-1.0, 1.0, size=s) for s in shapes]
    vs = [rng.normal(size=s) for s in shapes]
    xs = [on(backend, x).requires_grad_() for x in values]
    out_shape = fn(*[on(backend, x) for x in values]).shape
    weight = rng.normal(size=out_shape)
    return values, xs, vs, weight


def assert_close(got, expected, name):
    for i, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6, err_msg=f"{name}: input {i}")


# ---- Scalars: the catalogue's second derivatives ---------------------------------------------

SCALAR_CASES = [(name, fn, 1) for name, fn in one_arg] + [(name, fn, 2) for name, fn in two_arg]


@pytest.mark.parametrize("name, fn, arity", SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
def test_scalar_second_derivatives_match_central_differences(name, fn, arity) -> None:
    for x in POINTS:
        xs = [x, -x / 2][:arity]
        got = scalar_second(squared(fn), xs)
        np.testing.assert_allclose(
            got, scalar_central(squared(fn), xs), rtol=1e-4, atol=1e-6, err_msg=name
        )


@needs_torch
@pytest.mark.parametrize("name, fn, arity", SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
def test_scalar_second_derivatives_match_torch(name, fn, arity) -> None:
    for x in POINTS:
        xs = [x, -x / 2][:arity]
        got = scalar_second(squared(fn), xs)
        np.testing.assert_allclose(
            got, torch_scalar_second(squared(fn), xs), rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_scalar_third_derivative() -> None:
    # f = x^3 sigmoid(x) / (1 + log(2 + x)), three times by recorded backward passes
    def f(x):
        return x * x * x * x.sigmoid() / ((x + 2.0).log() + 1.0)

    x = Scalar(0.7)
    (d1,) = minitorch.grad(f(x), x, create_graph=True)
    (d2,) = minitorch.grad(d1, x, create_graph=True)
    (d3,) = minitorch.grad(d2, x)

    # the third derivative against a central difference of the library's second derivative
    def second(v):
        s = Scalar(v)
        (g,) = minitorch.grad(f(s), s, create_graph=True)
        return float(minitorch.grad(g, s)[0])

    assert d3 == pytest.approx((second(0.7 + 1e-5) - second(0.7 - 1e-5)) / 2e-5, rel=1e-5)
    if torch is not None:
        t = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
        (t1,) = torch.autograd.grad(f(t), t, create_graph=True)
        (t2,) = torch.autograd.grad(t1, t, create_graph=True)
        (t3,) = torch.autograd.grad(t2, t)
        assert float(d1) == pytest.approx(t1.item(), rel=1e-12)
        assert float(d2) == pytest.approx(t2.item(), rel=1e-12)
        assert d3 == pytest.approx(float(t3), rel=1e-10)


def test_scalar_backward_with_create_graph_leaves_differentiable_derivatives() -> None:
    x, y = Scalar(1.5), Scalar(-0.5)
    z = x * x * y + y.exp()  # dz/dx = 2xy, dz/dy = x^2 + e^y
    z.backward(create_graph=True)
    dx, dy = x.derivative, y.derivative
    assert isinstance(dx, Scalar) and dx.data == pytest.approx(2 * 1.5 * -0.5)
    assert isinstance(dy, Scalar) and dy.data == pytest.approx(1.5**2 + np.exp(-0.5))
    x.derivative = y.derivative = None
    dx.backward()  # d(2xy)/dx = 2y, d(2xy)/dy = 2x
    assert (x.derivative, y.derivative) == pytest.approx((2 * -0.5, 2 * 1.5))


def test_a_long_chain_differentiates_twice_without_recursion() -> None:
    # y = x^n by n - 1 products: y'' = n (n - 1) x^(n - 2), through 2n recorded nodes
    n = 3000
    x = Scalar(1.0)
    y = x
    for _ in range(n - 1):
        y = y * x
    (d1,) = minitorch.grad(y, x, create_graph=True)
    (d2,) = minitorch.grad(d1, x)
    assert (float(d1), d2) == (float(n), float(n * (n - 1)))


def test_scalar_first_order_backward_still_gives_floats() -> None:
    x = Scalar(2.0)
    (x * x).backward()
    assert type(x.derivative) is float and x.derivative == 4.0


def test_a_reused_variable_accumulates_both_second_order_contributions() -> None:
    x = Scalar(0.3)
    (d,) = minitorch.grad(x.exp() * x.exp(), x, create_graph=True)  # (e^{2x})' = 2 e^{2x}
    assert float(minitorch.grad(d, x)[0]) == pytest.approx(4 * np.exp(0.6))


def test_a_scalar_function_saving_a_derived_value_cannot_be_differentiated_twice() -> None:
    class Cube(minitorch.ScalarFunction):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(3.0 * a * a)  # neither the input nor the output
            return a * a * a

        @staticmethod
        def backward(ctx, d_output):
            (slope,) = ctx.saved_values
            return slope * d_output

    x = Scalar(2.0)
    assert minitorch.grad(Cube.apply(x), x) == (12.0,)  # first order is fine
    with pytest.raises(TypeError, match="Cube cannot be differentiated twice"):
        minitorch.grad(Cube.apply(x), x, create_graph=True)


# ---- minitorch.grad's contract -----------------------------------------------------------------


def test_grad_leaves_derivatives_untouched() -> None:
    x = Scalar(3.0)
    x.derivative = 10.0
    assert minitorch.grad(x * x, x) == (6.0,)
    assert x.derivative == 10.0
    t = minitorch.tensor([1.0, 2.0], requires_grad=True)
    (g,) = minitorch.grad((t * t).sum(), [t])
    assert g.to_numpy().tolist() == [2.0, 4.0] and t.grad is None


def test_grad_of_an_unused_input_names_it_or_gives_zeros_with_the_flag() -> None:
    x, y = Scalar(1.0, name="x"), Scalar(2.0, name="unused_y")
    with pytest.raises(ValueError, match="unused_y.*materialize_grads"):
        minitorch.grad(x * x, [x, y])
    assert minitorch.grad(x * x, [x, y], materialize_grads=True) == (2.0, 0.0)
    a = minitorch.tensor([1.0, 2.0], requires_grad=True)
    b = minitorch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    _, gb = minitorch.grad(a.sum(), [a, b], materialize_grads=True)
    assert gb.shape == (1, 3) and gb.to_numpy().tolist() == [[0.0, 0.0, 0.0]]


def test_grad_takes_intermediate_inputs_several_outputs_and_grad_outputs() -> None:
    x = minitorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * x
    y1, y2 = h.sum(), (h * 2.0).sum()
    (gh,) = minitorch.grad([y1, y2], h)  # 1 + 2 everywhere
    assert gh.to_numpy().tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="needs a grad_output"):
        minitorch.grad(h, x)
    (gx,) = minitorch.grad(h, x, grad_outputs=minitorch.tensor([1.0, 0.0, 2.0]))
    assert gx.to_numpy().tolist() == [2.0, 0.0, 12.0]


def test_grad_rejects_constants_by_name() -> None:
    x = Scalar(1.0)
    c = Scalar(2.0, None, name="c")
    with pytest.raises(ValueError, match="input 1 .*'c'.* does not require"):
        minitorch.grad(x * c, [x, c])


# ---- Tensors: the catalogue's Hessian-vector products, on every CPU backend -------------------

TENSOR_CASES = (
    [(name, fn, [(2, 3)]) for name, fn in one_arg]
    + [(name, fn, [(2, 3), (2, 3)]) for name, fn in two_arg]
    + [("broadcast_" + name, fn, [(2, 3), (3,)]) for name, fn in two_arg if name != "eq2"]
    + [(name, fn, [(3, 4)]) for name, fn in red_arg]
)


def _torch_nn(name):
    """The PyTorch twin of an nn catalogue entry (our pooling keeps the shape rules of torch)."""
    F = torch.nn.functional
    return {
        "matmul": lambda a, b: a @ b,
        "permute": lambda a: a.permute(1, 0).exp(),
        "view": lambda a: a.contiguous().view(6).sigmoid(),
        "sum_dim": lambda a: a.sum(1, keepdim=True).exp(),
        "max": lambda a: torch.amax(a * a, 1, keepdim=True),
        "softmax": lambda a: torch.softmax(a, 1),
        "logsoftmax": lambda a: torch.log_softmax(a, 1),
        "avgpool2d": lambda a: F.avg_pool2d(a * a, (2, 2)),
        "maxpool2d": lambda a: F.max_pool2d(a.exp(), (2, 2)),
        "conv1d": lambda a, w: F.conv1d(F.pad(a, (0, w.shape[-1] - 1)), w).sigmoid(),
        "conv2d": lambda a, w: (
            F.conv2d(F.pad(a, (0, w.shape[-1] - 1, 0, w.shape[-2] - 1)), w) * a.sum()
        ),
    }[name]


NN_CASES = [
    ("matmul", lambda a, b: a @ b, [(2, 3), (3, 4)]),
    ("permute", lambda a: a.permute(1, 0).exp(), [(2, 3)]),
    ("view", lambda a: a.contiguous().view(6).sigmoid(), [(2, 3)]),
    ("sum_dim", lambda a: a.sum(1).exp(), [(2, 3)]),
    ("max", lambda a: minitorch.max(a * a, 1), [(2, 3)]),
    ("softmax", lambda a: minitorch.softmax(a, 1), [(2, 3)]),
    ("logsoftmax", lambda a: minitorch.logsoftmax(a, 1), [(2, 3)]),
    ("avgpool2d", lambda a: minitorch.avgpool2d(a * a, (2, 2)), [(1, 2, 4, 4)]),
    ("maxpool2d", lambda a: minitorch.maxpool2d(a.exp(), (2, 2)), [(1, 2, 4, 4)]),
    ("conv1d", lambda a, w: minitorch.conv1d(a, w).sigmoid(), [(2, 2, 5), (3, 2, 2)]),
    ("conv2d", lambda a, w: minitorch.conv2d(a, w) * a.sum(), [(1, 2, 4, 4), (2, 2, 2, 3)]),
]


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("name, fn, shapes", TENSOR_CASES, ids=[c[0] for c in TENSOR_CASES])
def test_tensor_catalogue_hvp_matches_central_differences(backend, name, fn, shapes) -> None:
    values, xs, vs, weight = case(squared(fn), shapes, backend)
    got = hvp(squared(fn), xs, vs, weight)
    assert_close(got, hvp_central(squared(fn), values, vs, weight, backend), name)


@needs_torch
@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("name, fn, shapes", TENSOR_CASES, ids=[c[0] for c in TENSOR_CASES])
def test_tensor_catalogue_hvp_matches_torch(backend, name, fn, shapes) -> None:
    values, xs, vs, weight = case(squared(fn), shapes, backend)
    got = hvp(squared(fn), xs, vs, weight)
    assert_close(got, torch_hvp(squared(fn), values, vs, weight), name)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("name, fn, shapes", NN_CASES, ids=[c[0] for c in NN_CASES])
def test_nn_hvp_matches_central_differences(backend, name, fn, shapes) -> None:
    values, xs, vs, weight = case(fn, shapes, backend)
    assert_close(hvp(fn, xs, vs, weight), hvp_central(fn, values, vs, weight, backend), name)


@needs_torch
@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("name, fn, shapes", NN_CASES, ids=[c[0] for c in NN_CASES])
def test_nn_hvp_matches_torch(backend, name, fn, shapes) -> None:
    values, xs, vs, weight = case(fn, shapes, backend)
    expected = torch_hvp(_torch_nn(name), values, vs, weight)
    assert_close(hvp(fn, xs, vs, weight), expected, name)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_dropout_hvp_matches_central_differences(backend) -> None:
    # the same seed draws the same mask for every evaluation
    def fn(a):
        return minitorch.dropout(a.exp(), 0.4, rng=random.Random(7))

    values, xs, vs, weight = case(fn, [(3, 4)], backend)
    assert_close(hvp(fn, xs, vs, weight), hvp_central(fn, values, vs, weight, backend), "dropout")


def test_checker_catches_a_backward_that_is_not_recorded() -> None:
    # A backward written with raw kernels gives right first derivatives but a graph-less
    # gradient: its second derivative is wrong, and the central difference says so.
    class Square(minitorch.tensor_functions.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a.backend.mul_zip(a, a)

        @staticmethod
        def backward(ctx, grad_output):
            (a,) = ctx.saved_values
            return a.backend.mul_zip(grad_output, a.backend.add_zip(a, a))  # not recorded

    backend = minitorch.SimpleBackend
    fn = Square.apply
    values, xs, vs, weight = case(fn, [(2, 3)], backend)
    with pytest.raises(AssertionError):
        assert_close(hvp(fn, xs, vs, weight), hvp_central(fn, values, vs, weight, backend), "sq")


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_tensor_backward_with_create_graph_fills_differentiable_grads(backend) -> None:
    x = on(backend, [1.0, 2.0]).requires_grad_()
    (x * x * x).sum().backward(create_graph=True)  # grad 3x^2
    g = x.grad
    assert g.requires_grad() and g.to_numpy().tolist() == [3.0, 12.0]
    x.zero_grad_()
    g.sum().backward()  # d/dx sum 3x^2 = 6x
    assert x.grad.to_numpy().tolist() == [6.0, 12.0]


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_first_order_backward_keeps_graphs_free_of_cycles(backend) -> None:
    # create_graph=False must leave nothing behind: with the collector off, a graph whose
    # gradients went to the leaves is freed as soon as its output goes
    x = minitorch.rand((3, 4), backend=backend, requires_grad=True)
    enabled = gc.isenabled()
    gc.disable()
    try:
        y = minitorch.logsoftmax(x.exp(), 1)
        (g,) = minitorch.grad(y.sum(), x)
        y.sum().backward()
        ref = weakref.ref(y)
        del y
        assert ref() is None
        assert g.history is None and x.grad.history is None
    finally:
        if enabled:
            gc.enable()


# ---- A small MLP: Hessian-vector products, and a gradient-penalty training run ---------------


def _mlp_params(rng):
    return [
        rng.normal(size=(3, 5)) * 0.5,
        rng.normal(size=(5,)) * 0.1,
        rng.normal(size=(5, 2)) * 0.5,
        rng.normal(size=(2,)) * 0.1,
    ]


def _mlp_loss(params, x, y_onehot, lib):
    w1, b1, w2, b2 = params
    hidden = (x @ w1 + b1).sigmoid()
    logits = hidden @ w2 + b2
    if lib == "torch":
        logp = torch.log_softmax(logits, 1)
    else:
        logp = minitorch.logsoftmax(logits, 1)
    return -(logp * y_onehot).sum() / x.shape[0]


def _mlp_data(rng):
    x = rng.normal(size=(6, 3))
    y = np.eye(2)[rng.integers(0, 2, size=6)]
    return x, y


@needs_torch
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_mlp_hessian_vector_product_matches_torch(backend) -> None:
    rng = np.random.default_rng(3)
    values, (x, y) = _mlp_params(rng), _mlp_data(rng)
    vs = [rng.normal(size=p.shape) for p in values]
    params = [on(backend, p).requires_grad_() for p in values]
    loss = _mlp_loss(params, on(backend, x), on(backend, y), "minitorch")
    grads = minitorch.grad(loss, params, create_graph=True)
    dot = sum(((g * on(backend, v)).sum() for g, v in zip(grads, vs)), on(backend, [0.0]))
    ours = minitorch.grad(dot, params)

    ts = [torch.tensor(p, requires_grad=True) for p in values]
    tloss = _mlp_loss(ts, torch.tensor(x), torch.tensor(y), "torch")
    tgrads = torch.autograd.grad(tloss, ts, create_graph=True)
    theirs = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(tgrads, vs)), ts)
    assert_close([h.to_numpy() for h in ours], [h.numpy() for h in theirs], "mlp hvp")


@needs_torch
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_gradient_penalty_training_matches_torch_step_for_step(backend) -> None:
    # loss + lambda * |d loss / d params|^2, minimised by SGD: each step needs the gradient of
    # a gradient. Parameters must agree with PyTorch's after every step.
    rng = np.random.default_rng(5)
    values, (x, y) = _mlp_params(rng), _mlp_data(rng)
    lr, penalty = 0.5, 0.1
    params = [on(backend, p).requires_grad_() for p in values]
    ts = [torch.tensor(p, requires_grad=True) for p in values]
    for step in range(4):
        loss = _mlp_loss(params, on(backend, x), on(backend, y), "minitorch")
        grads = minitorch.grad(loss, params, create_graph=True)
        total = loss + penalty * sum(((g * g).sum() for g in grads), on(backend, [0.0]))
        total.backward()
        with minitorch.no_grad():
            params = [(p - lr * p.grad).detach().requires_grad_() for p in params]

        tloss = _mlp_loss(ts, torch.tensor(x), torch.tensor(y), "torch")
        tgrads = torch.autograd.grad(tloss, ts, create_graph=True)
        ttotal = tloss + penalty * sum((g * g).sum() for g in tgrads)
        ttotal.backward()
        with torch.no_grad():
            ts = [(t - lr * t.grad).detach().requires_grad_() for t in ts]

        assert total.item() == pytest.approx(ttotal.item(), rel=1e-10), f"step {step}"
        assert_close(
            [p.to_numpy() for p in params], [t.detach().numpy() for t in ts], f"step {step}"
        )


# ---- CUDA, on the simulator (or a GPU) ------------------------------------------------------


@pytest.mark.parametrize(
    "name, fn, shapes",
    [NN_CASES[0], NN_CASES[6], ("log_inv", lambda a: (a * a + 1.0).log() / (a + 3.0), [(2, 3)])],
    ids=["matmul", "logsoftmax", "log_inv"],
)
def test_cuda_hvp_matches_the_cpu(name, fn, shapes) -> None:
    cuda_support = pytest.importorskip("tests.cuda_support")
    values, xs, vs, weight = case(fn, shapes, minitorch.SimpleBackend)
    expected = hvp(fn, xs, vs, weight)
    gpu = [on(cuda_support.CudaBackend, v).requires_grad_() for v in values]
    assert_close(hvp(fn, gpu, vs, weight), expected, name)


# ---- plot_function with the library's derivatives -------------------------------------------


def test_plot_function_draws_first_and_second_derivatives_from_the_library() -> None:
    from minitorch.viz import plot_function

    def cube(x):
        return x * x * x

    fig = plot_function("cube", cube, arange=[-1.0, 0.5, 2.0], derivatives=2)
    assert [t.name for t in fig.data] == ["cube", "cube'", "cube''"]
    _, first_trace, second_trace = fig.data
    assert list(first_trace.y) == pytest.approx([3.0, 0.75, 12.0])
    assert list(second_trace.y) == pytest.approx([-6.0, 3.0, 12.0])


def test_plot_function_derivatives_leave_gaps_where_the_function_is_undefined() -> None:
    from minitorch.viz import plot_function

    fig = plot_function("log", lambda x: x.log(), arange=[-1.0, 2.0], derivatives=2)
    assert [list(t.y) for t in fig.data[1:]] == [[None, 0.5], [None, pytest.approx(-0.25)]]


def test_derivative_of_a_linear_function_is_zero_beyond_the_first() -> None:
    from minitorch.viz.functions import derivative

    assert derivative(lambda x: 3.0 * x + 1.0, 1)(2.0) == 3.0
    assert derivative(lambda x: 3.0 * x + 1.0, 2)(2.0) == 0.0
    assert derivative(lambda x: x.sigmoid(), 3)(0.0) == pytest.approx(-1 / 8)
    with pytest.raises(ValueError, match="derivatives must be 0, 1 or 2"):
        from minitorch.viz import plot_function

        plot_function("f", lambda x: x, derivatives=3)
