"""Training in a background thread, so the app stays responsive and can show progress.

The page starts a `TrainingJob`, then redraws from `snapshot()` every second or so; `stop()`
ends the run after the current epoch. The loop is `minitorch.train`'s (same data, model
factory, loss and SGD step), written out here because the page needs the live model (for
the decision boundary) and a way to stop, which the command-line loop does not offer.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..datasets import Graph, datasets
from ..optim import SGD
from ..train import BACKENDS, TrainConfig, count_correct

__all__ = ["TrainingJob", "Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """Where a job stands.

    Attributes:
        epoch: epochs finished.
        losses: the mean loss of each finished epoch.
        correct: points on the right side of 0.5 in the last epoch.
        state: "running", "done", "stopped" or "failed".
        error: what went wrong, when failed.
        seconds: wall time so far.
    """

    epoch: int
    epochs: int
    losses: list[float] = field(repr=False)
    correct: int
    total: int
    state: str
    error: str = ""
    seconds: float = 0.0

    @property
    def running(self) -> bool:
        return self.state == "running"


class TrainingJob:
    """One training run of `config` in a daemon thread.

    Args:
        config: what to train (validated by `TrainConfig`).
    """

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.graph: Graph = datasets[config.dataset](config.points, seed=config.seed)
        self.model = BACKENDS[config.backend](config.hidden, config.seed)
        self._lock = threading.Lock()  # held while parameters change, and while predicting
        self._stop = threading.Event()
        self._losses: list[float] = []
        self._correct = 0
        self._state = "running"
        self._error = ""
        self._start = 0.0
        self._end: float | None = None
        self._thread = threading.Thread(target=self._run, name="minitorch-app-training", daemon=True)

    def start(self) -> TrainingJob:
        self._start = time.perf_counter()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end after the epoch in progress."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the run to end; True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def predict(self, X: list[tuple[float, float]]) -> list[float]:
        """The current model's P(class 1) for each point (never mid-update)."""
        with self._lock:
            return self.model.predict(X)

    def snapshot(self) -> Snapshot:
        with self._lock:
            end = self._end if self._end is not None else time.perf_counter()
            return Snapshot(len(self._losses), self.config.epochs, list(self._losses),
                            self._correct, self.graph.N, self._state, self._error,
                            end - self._start)

    def _run(self) -> None:
        c, graph = self.config, self.graph
        optim = SGD(self.model.parameters(), c.lr)
        state = "done"
        try:
            for _ in range(c.epochs):
                if self._stop.is_set():
                    state = "stopped"
                    break
                with self._lock:
                    # forward, backward and update, as in minitorch.train
                    optim.zero_grad()
                    loss, probs = self.model.loss(graph.X, graph.y)
                    loss.backward()
                    optim.step()
                    self._losses.append(_item(loss))
                    self._correct = count_correct(probs, graph.y)
        except Exception as err:  # shown on the page; the app keeps running
            state, self._error = "failed", f"{type(err).__name__}: {err}"
        with self._lock:
            self._state, self._end = state, time.perf_counter()


def _item(loss: Any) -> float:
    return float(loss.item()) if hasattr(loss, "item") else float(loss.data)
