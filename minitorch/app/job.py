"""Long work in a background thread, so the app stays responsive and can show progress.

A page starts a job, then redraws from `progress()` every second or so; `stop()` ends the
run at the next step. `TrainJob` runs a registered task on the one training loop (the app has
no training code of its own) and keeps its reports.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..tasks.loop import CompileReport, Curves, EvalReport, StepReport
from ..tasks.registry import Task

__all__ = ["BackgroundJob", "Stopped", "Progress", "TrainJob"]


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
        self._thread = threading.Thread(
            target=self._run, name=f"minitorch-app-{type(self).__name__}", daemon=True
        )

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
        self.pause()
        if self._stop.is_set():
            raise Stopped

    @staticmethod
    def pause() -> None:
        """Hand the interpreter to the page's threads for a moment (the work calls this
        between steps).

        Without it the work starves them: a training thread of small steps took the GIL back
        so fast that the page's thread ran at 1/600 of its speed (a 200,000-step Python
        loop took 6 s instead of 10 ms, importing pyplot a minute), so the page stopped
        redrawing and a click on Stop waited behind the whole run.
        """
        time.sleep(0)

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
class Progress:
    """What a `TrainJob` has reported so far, copied at one moment.

    Attributes:
        curves: the figures of every evaluation so far, oldest first.
        last: the latest evaluation, with its parameter snapshot: everything a page shows
            comes from this one report (the job keeps no older snapshot; a 100,000-epoch run
            would hold 100,000 of them).
        step: the latest step report, or None before the first step.
        compiling: the first step is compiling the backend's kernels right now.
        compile_seconds: how long that took, once done.
        state: "running", "done", "stopped" or "failed"; `error` says why it failed.
        seconds: wall time so far.
    """

    curves: Curves = field(repr=False)
    last: EvalReport | None
    step: StepReport | None
    compiling: bool
    compile_seconds: float | None
    state: str
    error: str = ""
    seconds: float = 0.0

    @property
    def running(self) -> bool:
        return self.state == "running"


class TrainJob(BackgroundJob):
    """A registered task trained by the one loop (`task.train`) in the background.

    The page reads `progress()`; `stop()` sets the loop's stop event, which it honours at the
    next step boundary (the run then counts as "stopped").

    Args:
        task: the registry's record (`minitorch.tasks.registry.task_named`).
        config: the task's config.
        label: what runs, for the page.
    """

    def __init__(self, task: Task, config: Any, label: str = "") -> None:
        super().__init__()
        self.task, self.config, self.label = task, config, label
        self.result: Any = None
        self._curves = Curves()
        self._last: EvalReport | None = None
        self._step: StepReport | None = None
        self._step_losses: list[float] = []  # batch losses since the last evaluation
        self._compiling = False
        self._compile_seconds: float | None = None

    def progress(self) -> Progress:
        with self._lock:
            return Progress(
                self._curves.copy(),
                self._last,
                self._step,
                self._compiling,
                self._compile_seconds,
                self.state,
                self.error,
                self.seconds,
            )

    def step_losses(self) -> list[float]:
        """The batch losses since the last evaluation (the first epoch's curve, while it runs)."""
        with self._lock:
            return list(self._step_losses)

    def _report(self, report: Any) -> None:
        self.pause()
        with self._lock:
            if isinstance(report, EvalReport):
                self._curves.add(report)
                self._last = report
                self._step_losses = []
            elif isinstance(report, StepReport):
                self._step = report
                self._step_losses.append(report.loss)
            elif isinstance(report, CompileReport):
                self._compiling = report.seconds is None
                self._compile_seconds = report.seconds

    def _work(self) -> None:
        result = self.task.train(self.config, self._report, self._stop)
        self.result = result
        if result.state.stopped:
            raise Stopped
