"""The classic job: the course's 2 -> hidden -> hidden -> 1 classifier on a toy data set.

A config, the task as the loop sees it, and a result; `minitorch train` (no task name) and the
app's Training page both run `train_classic`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ...datasets import Graph, datasets
from ...models import Classifier, ScalarMLP
from ...optim import SGD
from ...tensor_models import TensorMLP
from ..common import cast_parameters, fit_task, task_backend, task_dtype
from ..errors import TaskError
from ..loop import Batch, Batches, Callback, Curves, LoopState, batch_indices
from ..options import option
from ..resume import Run

__all__ = ["ClassicConfig", "ClassicResult", "train_classic", "build_model", "model_options"]

SCALAR = "scalar"  # one Scalar per number: the Module-1 engine, not a tensor backend


def _backend_choices() -> tuple[str, ...]:
    from ...backends import BACKEND_NAMES

    return (*BACKEND_NAMES, SCALAR)


@dataclass
class ClassicConfig:
    """What `minitorch train` trains, and how (the defaults are the command's)."""

    dataset: str = option(
        "Xor", "the toy data set, in any letter case", choices=tuple(datasets), label="data set"
    )
    backend: str = option(
        "fast", "which engine computes (scalar: one Scalar per number)", choices=_backend_choices
    )
    hidden: int = option(10, "units in each of the two hidden ReLU layers", label="hidden units")
    epochs: int = option(300, "full passes over the points")
    lr: float = option(0.5, "SGD learning rate", label="learning rate")
    points: int = option(50, "size of the generated data set")
    seed: int = option(0, "fixes the data, the initial weights and the batch order")
    batch: int | None = option(
        None, "points per SGD step, reshuffled each epoch (default: all points, one step)"
    )
    dtype: str = option(
        "float64", "the parameters' floating-point type", choices=("float64", "float32")
    )

    def __post_init__(self) -> None:
        for name in ("hidden", "epochs", "points") + (("batch",) if self.batch is not None else ()):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise TaskError(f"--{name} must be a positive integer, got {value!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise TaskError(f"--lr must be a finite positive number, got {self.lr!r}")
        names = {name.lower(): name for name in datasets}  # any letter case: xor, XOR, Xor
        if str(self.dataset).lower() not in names:
            raise TaskError(
                f"unknown --dataset {self.dataset!r}; choose one of {', '.join(datasets)}"
            )
        self.dataset = names[str(self.dataset).lower()]
        if self.backend not in _backend_choices():
            raise TaskError(
                f"unknown --backend {self.backend!r}; choose one of {', '.join(_backend_choices())}"
            )
        if self.dtype not in ("float64", "float32"):
            raise TaskError(f"unknown --dtype {self.dtype!r}; choose one of float64, float32")


def model_options(config: ClassicConfig) -> dict[str, Any]:
    """What rebuilds the network (checkpoint metadata, schema 1)."""
    return {
        "task": "classic",
        "schema": 1,
        "hidden": config.hidden,
        "seed": config.seed,
        "scalar": config.backend == SCALAR,
        "dtype": config.dtype,
    }


def build_model(options: dict[str, Any], backend: Any, dtype: Any = None) -> Classifier:
    """The classifier `options` describe, its initial weights fixed by `options["seed"]`."""
    if options.get("scalar"):
        if dtype is not None and np.dtype(dtype) != np.float64:
            raise TaskError("--dtype float32: the scalar engine computes in Python floats only")
        return ScalarMLP(options["hidden"], options["seed"])
    model = TensorMLP(options["hidden"], options["seed"], backend)
    return cast_parameters(model, dtype if dtype is not None else np.float64)


class _ClassicLoop:
    """The classic job as the loop sees it: every point validates (there is no held-out set),
    so each evaluation is the loss and accuracy of the parameters after that epoch."""

    def __init__(self, model: Classifier, graph: Graph, batch: int) -> None:
        self.model, self.graph, self.batch = model, graph, batch
        self.labels = np.asarray(graph.y, dtype=np.int64)

    def _make(self, index: np.ndarray) -> Batch[Any]:
        return Batch([self.graph.X[i] for i in index], self.labels[index])

    def train_batches(self, rng: np.random.Generator) -> Batches[Any]:
        shuffled = rng if self.batch < self.graph.N else None  # full batch: nothing to shuffle
        return Batches(batch_indices(self.graph.N, self.batch, shuffled), self._make)

    def val_batches(self) -> Batches[Any]:
        return Batches(batch_indices(self.graph.N, self.graph.N), self._make)

    def loss(self, batch: Batch[Any]) -> tuple[Any, np.ndarray]:
        loss, probs = self.model.loss(batch.x, [int(v) for v in batch.labels])
        return loss, (np.asarray(probs) > 0.5).astype(np.int64)


@dataclass
class ClassicResult:
    """A finished (or stopped) run: the final figures come from its last evaluation."""

    config: ClassicConfig
    final_loss: float
    correct: int
    total: int
    curves: Curves = field(repr=False)
    state: LoopState = field(repr=False)
    model: Classifier = field(repr=False)
    graph: Graph = field(repr=False)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total

    @property
    def losses(self) -> list[float]:
        """The loss of the parameters after each epoch, on every point."""
        return list(self.curves.val_loss)

    @property
    def seconds_per_epoch(self) -> float:
        return float(np.mean(self.curves.seconds)) if len(self.curves) else 0.0

    def metrics(self) -> dict[str, Any]:
        """The run as JSON-ready values."""
        return {
            "task": "classic",
            **asdict(self.config),
            "final_loss": self.final_loss,
            "correct": self.correct,
            "total": self.total,
            "accuracy": self.accuracy,
            "epochs_done": self.state.epoch,
            "stopped": self.state.stopped,
            "stop_reason": self.state.stop_reason,
            "divergence": str(self.state.divergence) if self.state.divergence else None,
            "seconds_per_epoch": self.seconds_per_epoch,
            "compile_seconds": self.state.compile_seconds,
            "losses": self.losses,
            "train_loss": list(self.curves.train_loss),
        }

    def checkpoint_options(self) -> dict[str, Any]:
        return model_options(self.config)

    def summary(self) -> str:
        c = self.config
        return (
            f"{c.dataset}: {self.correct}/{self.total} correct ({self.accuracy:.0%}), "
            f"final loss {self.final_loss:.4f}, {self.seconds_per_epoch * 1e3:.1f} ms/epoch"
        )


def make_graph(config: ClassicConfig) -> Graph:
    """The config's data set."""
    return datasets[config.dataset](config.points, seed=config.seed)


def train_classic(
    config: ClassicConfig,
    callback: Callback | None = None,
    stop: threading.Event | None = None,
    run: Run | None = None,
) -> ClassicResult:
    """Train the classifier of `config.backend` on `config.dataset` with SGD.

    One step per epoch on all points, or with `config.batch` one step per batch of points
    drawn in a fresh (seeded) order each epoch. After every epoch the loop evaluates the
    parameters on all points: the last evaluation is the run's final figure.
    """
    graph = make_graph(config)
    scalar = config.backend == SCALAR
    backend = None if scalar else task_backend(config.backend)
    model = build_model(model_options(config), backend, task_dtype(config.dtype))
    state = LoopState.start(SGD(model.parameters(), config.lr), config.seed)
    loop = _ClassicLoop(model, graph, min(config.batch or graph.N, graph.N))
    warm = not scalar and config.backend != "simple"
    fit_task(config, model, state, loop, model_options(config), None, callback, stop, run, warm)
    curves = state.curves
    if len(curves):
        final_loss, accuracy = curves.val_loss[-1], curves.val_accuracy[-1]
    else:  # stopped before the first epoch ended: the initial parameters
        from ..loop import evaluate

        final_loss, accuracy = evaluate(loop)
    correct = int(round(accuracy * graph.N))
    return ClassicResult(config, final_loss, correct, graph.N, curves, state, model, graph)
