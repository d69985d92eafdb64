"""The training job behind `minitorch train`: a config, one loop, a result.

The loop never prints: progress goes to the optional `callback`, once per epoch.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from .autodiff import no_grad
from .datasets import Graph, datasets
from .fast_ops import FastBackend
from .models import Classifier, ScalarMLP
from .optim import SGD
from .tensor_models import TensorMLP
from .tensor_ops import SimpleBackend

__all__ = ["TrainConfig", "EpochReport", "TrainResult", "BACKENDS", "BackendUnavailable", "train"]


class BackendUnavailable(RuntimeError):
    """The chosen backend cannot run on this machine; the message says how to get it."""


def _cuda_mlp(hidden: int, seed: int) -> Classifier:
    """The tensor network on the GPU; numba-cuda (an optional extra) loads only when asked."""
    try:
        from .cuda_ops import cuda_backend

        backend = cuda_backend()
    except ImportError as e:  # numba-cuda missing, or no GPU (CudaUnavailableError)
        raise BackendUnavailable(str(e)) from None
    return TensorMLP(hidden, seed, backend=backend)


# name -> model factory `(hidden, seed) -> Classifier`
BACKENDS: dict[str, Callable[[int, int], Classifier]] = {
    "fast": lambda hidden, seed: TensorMLP(hidden, seed, FastBackend),  # numba, all cores
    "simple": lambda hidden, seed: TensorMLP(hidden, seed, SimpleBackend),  # pure-Python kernels
    "scalar": ScalarMLP,  # one Scalar per number: the Module-1 engine
    "cuda": _cuda_mlp,  # the tensor network on the GPU (or numba's simulator), data kept there
}


@dataclass
class TrainConfig:
    """What to train, and how."""

    dataset: str = "Xor"  # one of minitorch.datasets: Simple, Diag, Split, Xor, Circle, Spiral
    backend: str = "fast"  # which engine computes: a key of BACKENDS
    hidden: int = 10  # units in each of the two hidden layers
    epochs: int = 300  # full passes over the data, one SGD step each
    lr: float = 0.5  # SGD learning rate
    points: int = 50  # size of the generated data set
    seed: int = 0  # fixes the data, the initial weights and the batch order: same seed, same run
    batch: int | None = None  # points per SGD step, reshuffled each epoch; None: all at once

    def __post_init__(self) -> None:
        for name in ("hidden", "epochs", "points") + (("batch",) if self.batch is not None else ()):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"--{name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"--lr must be positive, got {self.lr!r}")
        names = {name.lower(): name for name in datasets}  # any letter case: xor, XOR, Xor
        if str(self.dataset).lower() not in names:
            raise ValueError(
                f"unknown --dataset {self.dataset!r}; choose one of {', '.join(datasets)}"
            )
        self.dataset = names[str(self.dataset).lower()]
        if self.backend not in BACKENDS:
            raise ValueError(
                f"unknown --backend {self.backend!r}; choose one of {', '.join(BACKENDS)}"
            )


@dataclass
class EpochReport:
    """Where training stands after one epoch (before that epoch's step)."""

    epoch: int
    epochs: int
    loss: float
    correct: int
    total: int


@dataclass
class TrainResult:
    """A finished run: the final model evaluated on its data, and the loss curve."""

    config: TrainConfig
    final_loss: float
    correct: int
    total: int
    seconds_per_epoch: float
    losses: list[float] = field(repr=False)
    model: Classifier = field(repr=False)
    graph: Graph = field(repr=False)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total

    def metrics(self) -> dict[str, Any]:
        """The run as plain JSON-ready values."""
        return {
            **asdict(self.config),
            "final_loss": self.final_loss,
            "correct": self.correct,
            "total": self.total,
            "accuracy": self.accuracy,
            "seconds_per_epoch": self.seconds_per_epoch,
            "losses": self.losses,
        }


def count_correct(probs: list[float], y: list[int]) -> int:
    """How many points the probabilities put on the right side of 0.5."""
    return sum(1 for p, label in zip(probs, y) if (p > 0.5) == (label == 1))


def train(config: TrainConfig, callback: Callable[[EpochReport], None] | None = None) -> TrainResult:
    """Train the classifier of `config.backend` on `config.dataset` with SGD.

    One step per epoch on all points, or with `config.batch` one step per batch of points
    drawn in a fresh (seeded) order each epoch.

    Args:
        config: what to train.
        callback: called after every epoch with an `EpochReport`.

    Returns:
        The result, with the final model evaluated on the training points.
    """
    graph = datasets[config.dataset](config.points, seed=config.seed)
    model = BACKENDS[config.backend](config.hidden, config.seed)
    optim = SGD(model.parameters(), config.lr)
    batch = min(config.batch or graph.N, graph.N)
    order = list(range(graph.N))
    shuffle = random.Random(config.seed).shuffle
    losses = []
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        if batch < graph.N:
            shuffle(order)
        total_loss, probs = 0.0, [0.0] * graph.N
        for first in range(0, graph.N, batch):
            points = order[first : first + batch]
            # forward: mean loss over the batch
            optim.zero_grad()
            loss, batch_probs = model.loss([graph.X[i] for i in points], [graph.y[i] for i in points])
            # backward and update
            loss.backward()
            optim.step()
            total_loss += _item(loss) * len(points)
            for i, p in zip(points, batch_probs):
                probs[i] = p
        # report: the epoch's mean loss, and the points each batch got right before its step
        losses.append(total_loss / graph.N)
        if callback is not None:
            correct = count_correct(probs, graph.y)
            callback(EpochReport(epoch, config.epochs, losses[-1], correct, graph.N))
    seconds_per_epoch = (time.perf_counter() - start) / config.epochs

    # evaluate the final parameters, without history
    with no_grad():
        loss, probs = model.loss(graph.X, graph.y)
    return TrainResult(
        config=config,
        final_loss=_item(loss),
        correct=count_correct(probs, graph.y),
        total=graph.N,
        seconds_per_epoch=seconds_per_epoch,
        losses=losses,
        model=model,
        graph=graph,
    )


def _item(loss: Any) -> float:
    """A scalar loss (Scalar or one-element Tensor) as a float."""
    return float(loss.item()) if hasattr(loss, "item") else float(loss.data)
