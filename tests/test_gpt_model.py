"""The GPT against its PyTorch twin (bench/gpt.py), AdamW, clipping and the schedule against
PyTorch's, and the model on the CUDA backend (simulator, tiny sizes)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import minitorch
from minitorch.attention import GPT, CausalSelfAttention
from minitorch.optim import AdamW, clip_grad_norm, cosine_lr
from minitorch.transformer_functions import cross_entropy

from .backends import CPU_BACKENDS

torch = pytest.importorskip("torch")
twin_module = pytest.importorskip("bench.gpt")

V, T, B = 11, 5, 3


def _batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))


def _loss(model: GPT, x: np.ndarray, y: np.ndarray) -> minitorch.Tensor:
    return cross_entropy(model(x).view(x.size, model.vocab), y.ravel())


def _torch_loss(twin, x: np.ndarray, y: np.ndarray):  # type: ignore[no-untyped-def]
    logits = twin(torch.tensor(x))
    return torch.nn.functional.cross_entropy(logits.view(x.size, -1), torch.tensor(y.ravel()))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_gpt_logits_and_every_gradient_match_pytorch(backend) -> None:
    model = GPT(V, T, layers=2, heads=2, embed=8, backend=backend, rng=random.Random(1))
    twin = twin_module.torch_twin(model)
    x, y = _batch()
    logits = model(x)
    loss = cross_entropy(logits.view(B * T, V), y.ravel())
    loss.backward()
    t_loss = _torch_loss(twin, x, y)
    t_loss.backward()
    assert logits.shape == (B, T, V)
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    theirs = twin_module.copy_grads(twin)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(
            p.value.grad.to_numpy(), theirs[name], atol=1e-12, rtol=1e-8, err_msg=name
        )


def test_gpt_gradient_matches_central_differences() -> None:
    model = GPT(
        V, T, layers=1, heads=2, embed=4, backend=minitorch.FastBackend, rng=random.Random(2)
    )
    x, y = _batch(1)
    _loss(model, x, y).backward()
    for name, p in model.named_parameters():
        value, grad = p.value, p.value.grad
        index = tuple(int(i) for i in np.unravel_index(7 % value.size, value.shape))
        old = value[index]
        losses = []
        for step in (1e-6, -1e-6):
            value[index] = old + step
            with minitorch.no_grad():
                losses.append(_loss(model, x, y).item())
        value[index] = old
        assert grad[index] == pytest.approx((losses[0] - losses[1]) / 2e-6, abs=1e-7), name


def test_the_head_is_the_token_table_and_positions_are_causal() -> None:
    model = GPT(
        V, T, layers=1, heads=1, embed=4, backend=minitorch.FastBackend, rng=random.Random(3)
    )
    assert "head" not in " ".join(n for n, _ in model.named_parameters())
    x = np.array([[1, 2, 3, 4, 5]])
    changed = x.copy()
    changed[0, 3] = 9  # a later character must not change earlier predictions
    a, b = model(x).to_numpy(), model(changed).to_numpy()
    np.testing.assert_array_equal(a[0, :3], b[0, :3])
    assert not np.allclose(a[0, 3:], b[0, 3:])


def test_gpt_checks_its_input_and_sizes() -> None:
    model = GPT(V, T, layers=1, heads=1, embed=4)
    with pytest.raises(ValueError, match=r"time at most 5, got shape \(1, 6\)"):
        model(np.zeros((1, 6), dtype=int))
    with pytest.raises(ValueError, match=r"value 11 at index \(0, 1\)"):
        model(np.array([[0, 11]]))
    with pytest.raises(ValueError, match="3 heads do not divide 8 channels"):
        CausalSelfAttention(8, 3)
    with pytest.raises(ValueError, match=r"input \(5, 8\) as sequences of length 2"):
        CausalSelfAttention(8, 2)(minitorch.tensor(np.zeros((5, 8))), length=2)


def test_dropout_acts_in_training_only() -> None:
    model = GPT(
        V,
        T,
        layers=1,
        heads=1,
        embed=8,
        dropout=0.5,
        backend=minitorch.FastBackend,
        rng=random.Random(4),
    )
    x, _ = _batch()
    model.eval()
    assert np.array_equal(model(x).to_numpy(), model(x).to_numpy())
    model.train()
    assert not np.array_equal(model(x).to_numpy(), model(x).to_numpy())


def test_attention_maps_are_causal_distributions() -> None:
    model = GPT(
        V, T, layers=2, heads=2, embed=8, backend=minitorch.FastBackend, rng=random.Random(5)
    )
    with pytest.raises(RuntimeError, match="record_attention"):
        model.attention_maps()
    model.record_attention()
    model(np.array([[1, 2, 3]]))
    maps = model.attention_maps()
    assert [m.shape for m in maps] == [(1, 2, 3, 3)] * 2
    for m in maps:
        np.testing.assert_allclose(m.sum(-1), 1.0)
        assert np.all(m[..., np.triu_indices(3, 1)[0], np.triu_indices(3, 1)[1]] == 0.0)


def test_adamw_with_two_groups_and_clipping_follows_pytorch() -> None:
    model = GPT(
        V, T, layers=1, heads=2, embed=8, backend=minitorch.FastBackend, rng=random.Random(6)
    )
    twin = twin_module.torch_twin(model)
    opt = AdamW.for_model(model, lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1)
    decay = [p for n, p in twin.named.items() if p.dim() >= 2]
    rest = [p for n, p in twin.named.items() if p.dim() < 2]
    t_opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
        lr=1e-2,
        betas=(0.9, 0.99),
    )
    for step in range(4):
        x, y = _batch(step)
        lr = cosine_lr(step, 1e-2, 1e-3, 2, 4)
        opt.lr = lr
        for g in t_opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        _loss(model, x, y).backward()
        norm = clip_grad_norm(model.parameters(), 0.5)
        opt.step()
        t_opt.zero_grad()
        _torch_loss(twin, x, y).backward()
        t_norm = torch.nn.utils.clip_grad_norm_(twin.parameters(), 0.5)
        t_opt.step()
        assert norm == pytest.approx(t_norm.item(), rel=1e-10)
    for name, p in model.named_parameters():
        theirs = twin.named[name].detach().numpy()
        theirs = theirs.T if name in twin.transposed else theirs
        np.testing.assert_allclose(p.value.to_numpy(), theirs, atol=1e-12, err_msg=name)


def test_adamw_decays_only_its_decayed_group_and_checks_options() -> None:
    a = minitorch.Parameter(minitorch.tensor([2.0]))
    b = minitorch.Parameter(minitorch.tensor([2.0]))
    opt = AdamW(
        [{"params": [a], "weight_decay": 0.5}, {"params": [b], "weight_decay": 0.0}], lr=0.1
    )
    for p in (a, b):
        p.value.grad = minitorch.tensor([0.0])  # no gradient signal: only the decay moves
    opt.step()
    assert a.value.item() == pytest.approx(2.0 * (1 - 0.1 * 0.5))
    assert b.value.item() == 2.0
    with pytest.raises(ValueError, match="weight_decay >= 0, got -1"):
        AdamW([a], weight_decay=-1.0)
    with pytest.raises(ValueError, match="positive max_norm"):
        clip_grad_norm([a], 0.0)


def test_cosine_schedule_warms_up_decays_and_stays() -> None:
    assert cosine_lr(0, 1.0, 0.1, 10, 100) == pytest.approx(1 / 11)
    assert cosine_lr(9, 1.0, 0.1, 10, 100) == pytest.approx(10 / 11)
    assert cosine_lr(10, 1.0, 0.1, 10, 100) == pytest.approx(1.0)
    assert cosine_lr(55, 1.0, 0.1, 10, 100) == pytest.approx(
        0.1 + 0.45 * (1 + math.cos(math.pi / 2))
    )
    assert cosine_lr(100, 1.0, 0.1, 10, 100) == 0.1
    assert cosine_lr(5000, 1.0, 0.1, 10, 100) == 0.1


def test_gpt_runs_on_the_cuda_backend() -> None:
    """A tiny model's loss and gradients on the CUDA backend (the simulator in CI) equal the
    fast backend's."""
    cuda_support = pytest.importorskip("tests.cuda_support")
    x, y = np.array([[1, 2, 0], [3, 3, 4]]), np.array([[2, 0, 1], [3, 4, 4]])
    results = []
    for backend in (minitorch.FastBackend, cuda_support.CudaBackend):
        model = GPT(5, 3, layers=1, heads=2, embed=4, backend=backend, rng=random.Random(0))
        loss = cross_entropy(model(x).view(6, 5), y.ravel())
        loss.backward()
        results.append(
            (loss.item(), {n: p.value.grad.to_numpy() for n, p in model.named_parameters()})
        )
    (fast_loss, fast), (cuda_loss, cuda) = results
    assert cuda_loss == pytest.approx(fast_loss, rel=1e-12)
    for name in fast:
        np.testing.assert_allclose(cuda[name], fast[name], atol=1e-12, err_msg=name)
