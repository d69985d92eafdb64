"""The transformer functions and layers, checked against PyTorch and central differences on
every CPU backend (strided inputs included), and their errors."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import minitorch
from minitorch.layers import Embedding, LayerNorm
from minitorch.transformer_functions import (
    causal_softmax,
    cross_entropy,
    embedding,
    gelu,
    layer_norm,
)

from .backends import CPU_BACKENDS, on, strided

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _torch(values: np.ndarray) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def _close(ours: minitorch.Tensor | None, theirs: torch.Tensor, atol: float = 1e-10) -> None:
    assert ours is not None, "no gradient"
    np.testing.assert_allclose(ours.to_numpy(), theirs.detach().numpy(), atol=atol, rtol=1e-8)


def _weights(shape: tuple[int, ...], seed: int = 3) -> np.ndarray:
    """Fixed random weights for the output, so that the checked derivative is not flat."""
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_embedding_gathers_rows_and_scatter_adds_repeated_ids(backend) -> None:
    w = np.random.default_rng(0).standard_normal((5, 3))
    ids = np.array([[1, 4, 1], [0, 1, 2]])  # id 1 three times: its gradient rows add up
    g = _weights((2, 3, 3))
    ours = strided(backend, w).requires_grad_()
    out = embedding(ours, ids)
    (out * on(backend, g)).sum().backward()
    theirs = _torch(w)
    t_out = F.embedding(torch.tensor(ids), theirs)
    (t_out * torch.tensor(g)).sum().backward()
    assert out.shape == (2, 3, 3)
    _close(out, t_out)
    _close(ours.grad, theirs.grad)
    assert ours.grad.to_numpy()[3].tolist() == [0.0, 0.0, 0.0]  # an id never used


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_embedding_takes_whole_number_tensors_and_rejects_others(backend) -> None:
    w = on(backend, np.eye(3))
    out = embedding(w, on(backend, [2.0, 0.0]))
    assert out.to_numpy().tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(ValueError, match=r"value 3 at index \(1,\).*\[0, 3\)"):
        embedding(w, [0, 3])
    with pytest.raises(ValueError, match=r"value 0.5"):
        embedding(w, [0.5])
    with pytest.raises(ValueError, match=r"\(vocab, dim\) weight, got shape \(3,\)"):
        embedding(on(backend, [1.0, 2.0, 3.0]), [0])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_layer_norm_matches_torch_forward_and_backward(backend) -> None:
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((3, 4, 6)) * 3 + 1, rng.standard_normal(6), rng.standard_normal(6)
    g = _weights((3, 4, 6))
    xs, ws, bs = strided(backend, x), on(backend, w), on(backend, b)
    for t in (xs, ws, bs):
        t.requires_grad_()
    out = layer_norm(xs, ws, bs)
    (out * on(backend, g)).sum().backward()
    tx, tw, tb = _torch(x), _torch(w), _torch(b)
    t_out = F.layer_norm(tx, (6,), tw, tb)
    (t_out * torch.tensor(g)).sum().backward()
    _close(out, t_out)
    for ours, theirs in ((xs, tx), (ws, tw), (bs, tb)):
        _close(ours.grad, theirs.grad)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_layer_norm_gradient_matches_central_differences(backend) -> None:
    g = on(backend, _weights((2, 5)))
    x = on(backend, np.random.default_rng(2).standard_normal((2, 5)))
    minitorch.grad_check(lambda a: layer_norm(a) * g, x, rng=random.Random(4))
    w = on(backend, np.random.default_rng(3).standard_normal(5))
    for seed in range(3):  # the scale's gradient sums over the rows
        minitorch.grad_check(lambda a, s: layer_norm(a, s) * g, x, w, rng=random.Random(seed))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_gelu_matches_torch_exact_gelu(backend) -> None:
    x = np.array([[-6.0, -1.5, -0.1, 0.0], [0.3, 1.0, 2.5, 8.0]])
    g = _weights((2, 4))
    ours = strided(backend, x).requires_grad_()
    out = gelu(ours)
    (out * on(backend, g)).sum().backward()
    theirs = _torch(x)
    t_out = F.gelu(theirs)
    (t_out * torch.tensor(g)).sum().backward()
    _close(out, t_out, atol=1e-14)
    _close(ours.grad, theirs.grad, atol=1e-14)
    minitorch.grad_check(gelu, on(backend, x[:, 1:3]))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_causal_softmax_matches_torch_masked_softmax(backend) -> None:
    a = np.random.default_rng(5).standard_normal((2, 4, 4)) * 4
    g = _weights((2, 4, 4))
    ours = strided(backend, a).requires_grad_()
    out = causal_softmax(ours, scale=0.5)
    (out * on(backend, g)).sum().backward()
    theirs = _torch(a)
    mask = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
    t_out = torch.softmax((theirs * 0.5).masked_fill(mask, -math.inf), dim=-1)
    (t_out * torch.tensor(g)).sum().backward()
    _close(out, t_out)
    _close(ours.grad, theirs.grad)
    assert np.all(out.to_numpy()[:, np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]] == 0.0)
    weights = on(backend, g)
    minitorch.grad_check(lambda s: causal_softmax(s, 0.5) * weights, on(backend, a))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_causal_softmax_is_stable_and_checks_its_shape(backend) -> None:
    out = causal_softmax(on(backend, [[1000.0, -1000.0], [1000.0, 1001.0]]))
    np.testing.assert_allclose(
        out.to_numpy(), [[1.0, 0.0], [1 / (1 + math.e), 1 / (1 + 1 / math.e)]]
    )
    with pytest.raises(ValueError, match=r"\(\.\.\., T, T\) scores, got shape \(2, 3\)"):
        causal_softmax(on(backend, np.zeros((2, 3))))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_cross_entropy_matches_torch_and_is_stable(backend) -> None:
    logits = np.random.default_rng(6).standard_normal((5, 4)) * 3
    logits[0] += 1000.0  # exp(1000) overflows: the max is taken out first
    targets = np.array([2, 0, 3, 3, 1])
    ours = strided(backend, logits).requires_grad_()
    loss = cross_entropy(ours, targets)
    loss.backward()
    theirs = _torch(logits)
    t_loss = F.cross_entropy(theirs, torch.tensor(targets))
    t_loss.backward()
    assert loss.shape == (1,)
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    _close(ours.grad, theirs.grad)
    minitorch.grad_check(lambda x: cross_entropy(x, targets[1:]), on(backend, logits[1:] / 3))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_cross_entropy_names_bad_targets(backend) -> None:
    logits = on(backend, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"value 3 at index \(1,\)"):
        cross_entropy(logits, [0, 3])
    with pytest.raises(ValueError, match=r"3 targets for logits of shape \(2, 3\)"):
        cross_entropy(logits, [0, 1, 2])
    with pytest.raises(ValueError, match=r"\(N, V\) logits, got shape \(3,\)"):
        cross_entropy(on(backend, [0.0, 1.0, 2.0]), [0])


def test_a_wrong_backward_fails_the_check() -> None:
    """The checker can fail: LayerNorm's backward without its last term is caught."""
    from minitorch.transformer_functions import LayerNormFun

    class Broken(LayerNormFun):
        @staticmethod
        def backward(ctx, grad_output):  # type: ignore[no-untyped-def]
            _, rstd, *_ = ctx.saved_values
            return rstd * (grad_output - grad_output.mean(-1))

    g = minitorch.tensor(_weights((2, 5)))
    x = minitorch.tensor(np.random.default_rng(2).standard_normal((2, 5)))
    with pytest.raises(AssertionError, match="grad_check failed"):
        minitorch.grad_check(lambda a: Broken.apply(a, eps=1e-5) * g, x)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_layers_start_like_pytorch_and_name_bad_sizes(backend) -> None:
    ln = LayerNorm(4, backend=backend)
    assert ln.weights.value.to_numpy().tolist() == [1.0] * 4
    assert ln.bias.value.to_numpy().tolist() == [0.0] * 4
    assert [n for n, _ in LayerNorm(4, bias=False, backend=backend).named_parameters()] == [
        "weights"
    ]
    table = Embedding(50, 40, backend=backend, rng=random.Random(0))
    values = table.weights.value.to_numpy()
    assert abs(values.std() - 1.0) < 0.05 and abs(values.mean()) < 0.05  # N(0, 1) as torch's
    assert table([[1, 2]]).shape == (1, 2, 40)
    with pytest.raises(ValueError, match="positive sizes, got 0 x 3"):
        Embedding(0, 3)
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) does not fit input \(2, 3\)"):
        layer_norm(on(backend, np.zeros((2, 3))), on(backend, np.ones(4)))
