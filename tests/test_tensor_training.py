"""The tensor classifier trains the same network as the scalar one, with the same optimizer."""

from __future__ import annotations

import json

import pytest

import minitorch
from minitorch.models import ScalarMLP
from minitorch.tensor_models import TensorMLP
from minitorch.train import BACKENDS, TrainConfig, train


def test_the_simple_backend_is_registered_for_training():
    assert BACKENDS["simple"] is TensorMLP


def test_tensor_and_scalar_models_start_from_the_same_weights_and_loss():
    graph = minitorch.datasets["Xor"](12, seed=3)
    scalar, tensor = ScalarMLP(4, seed=3), TensorMLP(4, seed=3)
    s_loss, s_probs = scalar.loss(graph.X, graph.y)
    t_loss, t_probs = tensor.loss(graph.X, graph.y)
    assert t_loss.shape == (1,)
    assert t_loss.item() == pytest.approx(s_loss.data, rel=1e-12)
    assert t_probs == pytest.approx(s_probs, rel=1e-12)
    assert tensor.predict(graph.X) == pytest.approx(s_probs, rel=1e-12)
    assert [p.value.shape for p in tensor.parameters()] == [
        (2, 4), (4,), (4, 4), (4,), (4, 1), (1,)
    ]


def test_training_follows_the_scalar_backends_loss_curve():
    config = dict(dataset="Split", hidden=4, epochs=4, points=10, seed=1)
    scalar = train(TrainConfig(backend="scalar", **config))
    simple = train(TrainConfig(backend="simple", **config))
    assert simple.losses == pytest.approx(scalar.losses, rel=1e-9)
    assert simple.correct == scalar.correct


def test_sgd_updates_tensor_parameters_into_fresh_leaves():
    model = TensorMLP(3, seed=0)
    optim = minitorch.SGD(model.parameters(), lr=0.5)
    before = [p.value.to_numpy() for p in model.parameters()]
    loss, _ = model.loss([(0.1, 0.2), (0.8, 0.9)], [1, 0])
    loss.backward()
    grads = [p.value.grad.to_numpy() for p in model.parameters()]
    optim.step()
    for p, old, grad in zip(model.parameters(), before, grads):
        assert p.value.is_leaf() and p.value.grad is None
        assert p.value.to_numpy() == pytest.approx(old - 0.5 * grad)
    loss, _ = model.loss([(0.1, 0.2)], [1])
    loss.backward()
    optim.zero_grad()
    assert all(p.value.grad is None for p in model.parameters())


def test_the_command_line_trains_with_the_simple_backend(tmp_path, capsys):
    from minitorch.cli import main

    args = ["train", "--backend", "simple", "--dataset", "Diag", "--epochs", "3",
            "--points", "10", "--hidden", "3", "--out", str(tmp_path), "--no-plots", "--quiet"]
    assert main(args) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["backend"] == "simple" and len(metrics["losses"]) == 3
    assert "Diag:" in capsys.readouterr().out
