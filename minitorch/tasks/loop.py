"""The training loop both tasks share, and the reports it makes.

The loop never prints: it reports each step and each epoch to an optional callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

__all__ = [
    "StepReport",
    "EpochReport",
    "Callback",
    "History",
    "Batch",
    "Batches",
    "TaskLoop",
    "fit",
    "batch_indices",
]


# ---------------------------------------------------------------------------------------------
# Progress reports


@dataclass
class StepReport:
    """One optimizer step done."""

    epoch: int
    step: int  # 1-based, within the epoch
    steps: int  # steps in this epoch
    loss: float  # this batch's mean loss


@dataclass
class EpochReport:
    """One epoch done and evaluated on the validation set."""

    epoch: int
    epochs: int
    train_loss: float  # mean over the epoch's batches, measured while training
    train_accuracy: float  # fraction right, measured while training (dropout on)
    val_loss: float
    val_accuracy: float
    seconds: float  # wall time of the training pass (validation excluded)


Callback = Callable[[StepReport | EpochReport], None]


@dataclass
class History:
    """Per-epoch figures of a run, ready for `metrics.json` and the curves picture."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, r: EpochReport) -> None:
        self.train_loss.append(r.train_loss)
        self.train_accuracy.append(r.train_accuracy)
        self.val_loss.append(r.val_loss)
        self.val_accuracy.append(r.val_accuracy)
        self.seconds.append(r.seconds)

    def as_dict(self) -> dict[str, list[float]]:
        return {
            "train_loss": self.train_loss,
            "train_accuracy": self.train_accuracy,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "seconds": self.seconds,
        }


# ---------------------------------------------------------------------------------------------
# The training loop, written once


B = TypeVar("B")


@dataclass
class Batch(Generic[B]):
    """Model input for one batch and its integer labels (numpy, shape `(n,)`)."""

    x: B
    labels: np.ndarray


class Batches(Generic[B]):
    """Batches made one at a time from groups of indices, so a data set never exists in its
    model-ready form all at once (the sentiment task embeds each batch as it goes)."""

    def __init__(self, groups: list[np.ndarray], make: Callable[[np.ndarray], Batch[B]]) -> None:
        self.groups = groups
        self.make = make

    def __len__(self) -> int:
        return len(self.groups)

    def __iter__(self) -> Iterator[Batch[B]]:
        return (self.make(g) for g in self.groups)


class TaskLoop(Protocol):
    """What a task gives the shared loop."""

    model: Any  # a minitorch.Module
    optimizer: Any  # has zero_grad() and step()

    def train_batches(self, rng: np.random.Generator) -> Batches[Any]:
        """The training set in batches, shuffled by `rng`."""
        ...

    def val_batches(self) -> Batches[Any]:
        """The validation set in batches, in a fixed order."""
        ...

    def loss(self, batch: Batch[Any]) -> tuple[Any, np.ndarray]:
        """Mean loss of the batch (a one-element Tensor) and the predicted labels."""
        ...


def fit(task: TaskLoop, epochs: int, seed: int, callback: Callback | None = None) -> History:
    """Train `task.model` for `epochs` passes; evaluate on the validation set after each.

    Args:
        task: the model, optimizer, batches and loss.
        epochs: full passes over the training set.
        seed: seeds the shuffling of each epoch.
        callback: receives a `StepReport` after every step and an `EpochReport` after every
            epoch.

    Returns:
        The per-epoch losses, accuracies and times.
    """
    from ..autodiff import no_grad  # the package's core, imported late so tasks stay light

    rng = np.random.default_rng(seed)
    history = History()
    for epoch in range(1, epochs + 1):
        # train: one pass over the shuffled batches, dropout on
        task.model.train()
        start = time.perf_counter()
        batches = task.train_batches(rng)
        losses, right, seen = [], 0, 0
        for step, batch in enumerate(batches, 1):
            task.optimizer.zero_grad()
            loss, predicted = task.loss(batch)
            loss.backward()
            task.optimizer.step()
            losses.append(float(loss.item()))
            right += int(np.sum(predicted == batch.labels))
            seen += len(batch.labels)
            if callback is not None:
                callback(StepReport(epoch, step, len(batches), losses[-1]))
        seconds = time.perf_counter() - start

        # evaluate: validation set, dropout off, no graph
        task.model.eval()
        with no_grad():
            val_loss, val_right, val_seen = 0.0, 0, 0
            for batch in task.val_batches():
                loss, predicted = task.loss(batch)
                val_loss += float(loss.item()) * len(batch.labels)
                val_right += int(np.sum(predicted == batch.labels))
                val_seen += len(batch.labels)
        report = EpochReport(
            epoch=epoch,
            epochs=epochs,
            train_loss=float(np.mean(losses)) if losses else float("nan"),
            train_accuracy=right / max(seen, 1),
            val_loss=val_loss / max(val_seen, 1),
            val_accuracy=val_right / max(val_seen, 1),
            seconds=seconds,
        )
        history.add(report)
        if callback is not None:
            callback(report)
    return history


def batch_indices(n: int, size: int, rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Indices `0..n-1` cut into batches of `size` (the last may be smaller); shuffled when
    `rng` is given."""
    order = rng.permutation(n) if rng is not None else np.arange(n)
    return [order[lo : lo + size] for lo in range(0, n, size)]
