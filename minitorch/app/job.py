"""Long work in a background thread, so the app stays responsive and can show progress.

A page starts a job, then redraws from `snapshot()` every second or so; `stop()` ends the
run at the next epoch (or step). `TrainingJob` trains the toy-data classifier;
`TaskJob` runs any training function that reports through a callback (the digits and
sentiment tasks).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..datasets import Graph, datasets
from ..optim import SGD
from ..train import BACKENDS, TrainConfig, count_correct

__all__ = ["BackgroundJob", "Stopped", "TrainingJob", "Snapshot", "TaskJob"]


class Stopped(Exception):
    """Raised inside a job's work when `stop()` was asked for."""


class BackgroundJob:
    """A daemon thread running `_work()`, with a state the page can read at any time.

    `state` is "running", then "done", "stopped" (`_work` raised `Stopped`) or "failed"
    (`error` says why; the app keeps running).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards what the page reads while the work writes
        self._stop = threading.Event()
        self.state = "running"
        self.error = ""
        self._start = 0.0
        self._end: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"minitorch-app-{type(self).__name__}",
                                        daemon=True)

    def start(self) -> BackgroundJob:
        self._start = time.perf_counter()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the work to end at its next check."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the work to end; True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def seconds(self) -> float:
        """Wall time so far (or in all, once ended)."""
        return (self._end if self._end is not None else time.perf_counter()) - self._start

    def check_stop(self) -> None:
        """Raise `Stopped` if `stop()` was asked for (the work calls this between steps)."""
        if self._stop.is_set():
            raise Stopped

    def _work(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        state, error = "done", ""
        try:
            self._work()
        except Stopped:
            state = "stopped"
        except Exception as err:  # shown on the page; the app keeps running
            state, error = "failed", f"{type(err).__name__}: {err}"
        with self._lock:
            self.state, self.error, self._end = state, error, time.perf_counter()


@dataclass(frozen=True)
class Snapshot:
    """Where a `TrainingJob` stands.

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


class TrainingJob(BackgroundJob):
    """The toy-data classifier of `config`, trained by full-batch SGD.

    The loop is `minitorch.train`'s (same data, model factory, loss and SGD step), written out
    here because the page needs the live model (for the decision boundary) and a way to
    stop, which the command-line loop does not offer.
    """

    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.config = config
        self.graph: Graph = datasets[config.dataset](config.points, seed=config.seed)
        self.model = BACKENDS[config.backend](config.hidden, config.seed)
        self._losses: list[float] = []
        self._correct = 0

    def predict(self, X: list[tuple[float, float]]) -> list[float]:
        """The current model's P(class 1) for each point (never mid-update)."""
        with self._lock:
            return self.model.predict(X)

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(len(self._losses), self.config.epochs, list(self._losses),
                            self._correct, self.graph.N, self.state, self.error, self.seconds)

    def _work(self) -> None:
        c, graph = self.config, self.graph
        optim = SGD(self.model.parameters(), c.lr)
        for _ in range(c.epochs):
            self.check_stop()
            with self._lock:  # the page's predict never sees half-updated parameters
                # forward, backward and update, as in minitorch.train
                optim.zero_grad()
                loss, probs = self.model.loss(graph.X, graph.y)
                loss.backward()
                optim.step()
                self._losses.append(_item(loss))
                self._correct = count_correct(probs, graph.y)


class TaskJob(BackgroundJob):
    """`run(callback)` in the background: a training function that reports progress.

    Every report the function passes to `callback` is kept (`reports`, the latest last), and
    the callback raises `Stopped` once `stop()` is asked for, which ends the function early.

    Args:
        run: e.g. `lambda callback: train_mnist(config, callback)`.
        label: what runs, for the page.
    """

    def __init__(self, run: Callable[[Callable[[Any], None]], Any], label: str = "") -> None:
        super().__init__()
        self.label = label
        self.result: Any = None
        self._fn = run
        self._reports: list[Any] = []

    def reports(self) -> list[Any]:
        with self._lock:
            return list(self._reports)

    def _report(self, report: Any) -> None:
        with self._lock:
            self._reports.append(report)
        self.check_stop()

    def _work(self) -> None:
        self.result = self._fn(self._report)


def _item(loss: Any) -> float:
    return float(loss.item()) if hasattr(loss, "item") else float(loss.data)
