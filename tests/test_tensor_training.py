"""The tensor classifier trains the same network as the scalar one, with the same optimizer."""

from __future__ import annotations

import json

import pytest

import minitorch
from minitorch.models import ScalarMLP
from minitorch.tasks.classic.train import build_model, model_options
from minitorch.tensor_models import TensorMLP
from minitorch.train import TrainConfig, train


@pytest.mark.parametrize(
    "name, backend", [("simple", minitorch.SimpleBackend), ("fast", minitorch.FastBackend)]
)
def test_tensor_backends_build_the_tensor_network(name, backend):
    config = TrainConfig(backend=name, hidden=3)
    model = build_model(model_options(config), minitorch.backend_named(name))
    assert isinstance(model, TensorMLP) and model.backend == backend
    assert all(p.value.backend == backend for p in model.parameters())


def test_the_scalar_engine_builds_the_scalar_network():
    config = TrainConfig(backend="scalar", hidden=3)
    assert isinstance(build_model(model_options(config), None), ScalarMLP)


def test_fast_is_the_default_backend():
    assert TrainConfig().backend == "fast"


@pytest.mark.parametrize("spelling", ["xor", "XOR", "Xor", "xOr"])
def test_dataset_names_accept_any_letter_case(spelling):
    assert TrainConfig(dataset=spelling).dataset == "Xor"


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
        (2, 4),
        (4,),
        (4, 4),
        (4,),
        (4, 1),
        (1,),
    ]


@pytest.mark.parametrize("backend", ["simple", "fast"])
@pytest.mark.parametrize("batch", [None, 3])
def test_training_follows_the_scalar_backends_loss_curve(backend, batch):
    config = dict(dataset="Split", hidden=4, epochs=4, points=10, seed=1, batch=batch)
    scalar = train(TrainConfig(backend="scalar", **config))
    tensor = train(TrainConfig(backend=backend, **config))
    assert tensor.losses == pytest.approx(scalar.losses, rel=1e-9)
    assert tensor.correct == scalar.correct


def test_a_batch_of_every_point_is_full_batch_training():
    config = dict(dataset="Xor", hidden=4, epochs=5, points=10, seed=2)
    assert train(TrainConfig(batch=10, **config)).losses == train(TrainConfig(**config)).losses
    assert train(TrainConfig(batch=99, **config)).losses == train(TrainConfig(**config)).losses


def test_mini_batches_take_one_step_per_batch():
    # ceil(10 / 3) = 4 steps per epoch: after one epoch the parameters moved 4 times.
    steps = []
    config = TrainConfig(
        dataset="Xor", hidden=3, epochs=1, points=10, seed=0, batch=3, backend="simple"
    )  # no warm-up step to count
    original = minitorch.SGD.step
    try:
        minitorch.SGD.step = lambda self: (steps.append(1), original(self))[1]
        train(config)
    finally:
        minitorch.SGD.step = original
    assert len(steps) == 4


def test_mini_batch_training_learns_split_like_the_course():
    # The course's fast training: Split, 50 points, hidden 100, batch 10, lr 0.05.
    result = train(TrainConfig(dataset="Split", hidden=100, batch=10, lr=0.05, epochs=60))
    assert result.correct >= 45


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


@pytest.mark.parametrize("backend", ["simple", "fast"])
def test_the_command_line_trains_with_a_tensor_backend(tmp_path, capsys, backend):
    from minitorch.cli import main

    args = [
        "train",
        "--backend",
        backend,
        "--dataset",
        "diag",
        "--epochs",
        "3",
        "--batch",
        "4",
        "--points",
        "10",
        "--hidden",
        "3",
        "--out",
        str(tmp_path),
        "--no-plots",
        "--quiet",
    ]
    assert main(args) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["backend"] == backend and len(metrics["losses"]) == 3
    assert metrics["dataset"] == "Diag" and metrics["batch"] == 4
    assert "Diag:" in capsys.readouterr().out
