"""SGD (with momentum) and Adam: step for step against PyTorch, on Tensor and Scalar
parameters, and in the course's loop that never calls zero_grad()."""

from __future__ import annotations

import random

import numpy as np
import pytest

import minitorch
from tests.backends import CPU_BACKENDS, on

START = np.array([[0.5, -1.5, 2.0], [3.0, 0.0, -0.25]])
TARGET = np.array([[1.0, 2.0, -1.0], [0.5, 0.5, 0.5]])


def _bowl(d):
    """Quartic plus quadratic: the gradient changes from step to step."""
    return d * d * d * d + d * d * 3.0


def _loss(x, target):
    return _bowl(x - target).sum()


def _run_minitorch(backend, make_optim, steps):
    p = minitorch.Parameter(on(backend, START))
    optim = make_optim([p])
    target = on(backend, TARGET)
    for _ in range(steps):
        optim.zero_grad()
        _loss(p.value, target).backward()
        optim.step()
    return p.value.to_numpy()


def _run_torch(torch, make_optim, steps):
    x = torch.tensor(START, requires_grad=True)
    optim = make_optim([x])
    target = torch.tensor(TARGET)
    for _ in range(steps):
        optim.zero_grad()
        _loss(x, target).backward()
        optim.step()
    return x.detach().numpy()


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda ps: minitorch.SGD(ps, lr=0.01), lambda t, ps: t.optim.SGD(ps, lr=0.01)),
        (
            lambda ps: minitorch.SGD(ps, lr=0.01, momentum=0.9),
            lambda t, ps: t.optim.SGD(ps, lr=0.01, momentum=0.9),
        ),
        (lambda ps: minitorch.Adam(ps, lr=0.1), lambda t, ps: t.optim.Adam(ps, lr=0.1)),
        (
            lambda ps: minitorch.Adam(ps, lr=0.05, betas=(0.5, 0.9), eps=1e-3),
            lambda t, ps: t.optim.Adam(ps, lr=0.05, betas=(0.5, 0.9), eps=1e-3),
        ),
    ],
    ids=["sgd", "sgd-momentum", "adam", "adam-options"],
)
def test_optimizers_match_pytorch_step_for_step(backend, ours, theirs):
    torch = pytest.importorskip("torch")
    for steps in (1, 6):
        expected = _run_torch(torch, lambda ps: theirs(torch, ps), steps)
        np.testing.assert_allclose(_run_minitorch(backend, ours, steps), expected, rtol=1e-10)


def test_adam_on_scalar_parameters_matches_adam_on_tensors():
    scalars = [minitorch.Parameter(minitorch.Scalar(v)) for v in START.ravel()]
    optim = minitorch.Adam(scalars, lr=0.1)
    for _ in range(5):
        loss = sum(_bowl(p.value - float(t)) for p, t in zip(scalars, TARGET.ravel()))
        loss.backward()
        optim.step()
    expected = _run_minitorch(minitorch.SimpleBackend, lambda ps: minitorch.Adam(ps, lr=0.1), 5)
    np.testing.assert_allclose([p.value.data for p in scalars], expected.ravel(), rtol=1e-10)


def test_sgd_momentum_on_scalar_parameters():
    p = minitorch.Parameter(minitorch.Scalar(1.0))
    optim = minitorch.SGD([p], lr=0.1, momentum=0.5)
    values = []
    for _ in range(3):
        (p.value * p.value).backward()  # gradient 2p
        optim.step()
        values.append(p.value.data)
    # v1 = 2, p = 0.8; v2 = 0.5 * 2 + 1.6 = 2.6, p = 0.54; v3 = 1.3 + 1.08 = 2.38, p = 0.302
    assert values == pytest.approx([0.8, 0.54, 0.302])


@pytest.mark.parametrize(
    "make_optim",
    [
        lambda ps: minitorch.SGD(ps, lr=0.05, momentum=0.9),
        lambda ps: minitorch.Adam(ps, lr=0.05),
    ],
    ids=["sgd-momentum", "adam"],
)
def test_the_course_loop_without_zero_grad_takes_the_same_steps(make_optim):
    """The course's scripts call step() and never zero_grad(): no gradient may leak."""

    def run(zero_grad):
        random.seed(3)
        model = minitorch.Linear(3, 2, rng=random.Random(4))
        optim = make_optim(model.parameters())
        for batch in range(4):
            x = minitorch.tensor(np.random.default_rng(batch).normal(size=(5, 3)))
            if zero_grad:
                optim.zero_grad()
            out = model(x)
            (out * out).sum().view(1).backward()
            optim.step()
        return [p.value.to_numpy() for p in model.parameters()]

    for with_zero, without in zip(run(True), run(False)):
        np.testing.assert_array_equal(with_zero, without)


def test_step_skips_parameters_without_a_gradient():
    used = minitorch.Parameter(minitorch.tensor([1.0, 2.0]))
    unused = minitorch.Parameter(minitorch.tensor([3.0]))
    optim = minitorch.Adam([used, unused], lr=0.1)
    (used.value * used.value).sum().backward()
    optim.step()
    assert unused.value.to_numpy().tolist() == [3.0]
    assert optim.state[1] == {} and optim.state[0]["step"] == 1
    np.testing.assert_allclose(used.value.to_numpy(), [0.9, 1.9])  # Adam's first step is lr


def test_optimizers_reject_bad_settings():
    ps = [minitorch.Parameter(minitorch.tensor([1.0]))]
    with pytest.raises(ValueError, match="positive learning rate, got lr=0"):
        minitorch.SGD(ps, lr=0)
    with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\), got momentum=1.0"):
        minitorch.SGD(ps, momentum=1.0)
    with pytest.raises(ValueError, match=r"betas must be two numbers in \[0, 1\)"):
        minitorch.Adam(ps, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="positive eps"):
        minitorch.Adam(ps, eps=0.0)


@pytest.mark.parametrize(
    "make_optim",
    [
        lambda ps: minitorch.SGD(ps, lr=0.01, momentum=0.9),
        lambda ps: minitorch.Adam(ps, lr=0.1),
    ],
    ids=["sgd-momentum", "adam"],
)
def test_fused_and_composed_updates_take_the_same_steps_and_hand_state_over(make_optim):
    """On the fast backend the update is one compiled loop; it takes the steps the composed
    update takes on the simple backend, keeps float32 parameters float32, and continues from
    moments the composed update left as Tensors (a checkpoint written before fusing)."""
    simple, fast = minitorch.SimpleBackend, minitorch.FastBackend
    p_simple = minitorch.Parameter(on(simple, START))
    p_fast = minitorch.Parameter(on(fast, START))
    o_simple, o_fast = make_optim([p_simple]), make_optim([p_fast])
    target_simple, target_fast = on(simple, TARGET), on(fast, TARGET)
    for step in range(5):
        for p, o, target in ((p_simple, o_simple, target_simple), (p_fast, o_fast, target_fast)):
            o.zero_grad()
            _loss(p.value, target).backward()
            o.step()
        if step == 1:  # hand the composed update's Tensor moments to the fused one
            o_fast.state = [dict(s) for s in o_simple.state]
            p_fast.update(on(fast, p_simple.value.to_numpy()))
        np.testing.assert_allclose(p_fast.value.to_numpy(), p_simple.value.to_numpy(), rtol=1e-12)

    p32 = minitorch.Parameter(minitorch.tensor(START, backend=fast, dtype=minitorch.float32))
    o32 = make_optim([p32])
    for _ in range(2):
        o32.zero_grad()
        _loss(p32.value, minitorch.tensor(TARGET, backend=fast, dtype=minitorch.float32)).backward()
        o32.step()
    assert p32.value.dtype == minitorch.float32
    assert p32.value.requires_grad()
