"""The one training loop every task runs on, the reports it makes and the state it keeps.

The command line, the app's pages and the tests all drive `fit`. It never prints: it hands a
`CompileReport` (before and after the first step compiles the kernels), a `StepReport` per
optimizer step and an `EvalReport` per evaluation to an optional callback. Everything a run
needs to continue lives in one `LoopState` (epoch, iteration, curves, shuffling RNG, the
optimizer and its state), and a `stop` event is honoured at every step boundary.

Two schedules: `Schedule(epochs=E)` evaluates after every pass over the training set (the
classic job, digits, sentiment); `Schedule(iterations=N, eval_every=K)` counts optimizer
steps and evaluates every K of them (a language model).
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

__all__ = [
    "StepReport",
    "EvalReport",
    "CompileReport",
    "Report",
    "Callback",
    "Curves",
    "Schedule",
    "LoopState",
    "Batch",
    "Batches",
    "TaskLoop",
    "fit",
    "evaluate",
    "batch_indices",
    "parameter_snapshot",
    "load_snapshot",
]


# ---------------------------------------------------------------------------------------------
# Progress reports


@dataclass
class CompileReport:
    """The first step, which compiles the backend's kernels, is starting (`seconds` None) or
    done (`seconds` it took; kept out of every epoch's time)."""

    seconds: float | None


@dataclass
class StepReport:
    """One optimizer step done."""

    epoch: int  # 1-based epoch this step belongs to
    step: int  # 1-based, within the epoch
    steps: int  # steps in this epoch
    iteration: int  # optimizer steps since the run began
    loss: float  # this batch's mean loss


@dataclass
class EvalReport:
    """The model evaluated on the validation set, after an epoch (or `eval_every` steps).

    `snapshot` holds a copy of every parameter at this moment: a page draws from it while
    the loop trains on, so all it shows comes from the same instant.
    """

    epoch: int  # epochs finished (epoch schedule), or the epoch in progress (iterations)
    epochs: int | None  # planned epochs; None for an iteration schedule
    iteration: int  # optimizer steps since the run began
    iterations: int | None  # planned steps; None for an epoch schedule
    train_loss: float  # mean over the batches since the last evaluation, while training
    train_accuracy: float  # fraction right over those batches (dropout on)
    val_loss: float
    val_accuracy: float
    seconds: float  # wall time of training since the last evaluation (no eval, no compile)
    snapshot: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def fraction_done(self) -> float:
        if self.epochs is not None:
            return self.epoch / self.epochs
        return self.iteration / max(self.iterations or 1, 1)


Report = CompileReport | StepReport | EvalReport
Callback = Callable[[Report], None]


@dataclass
class Curves:
    """The figures of each evaluation of a run: for `metrics.json` and the curves picture.

    (Not the graph's history of a variable: these are numbers per epoch.)
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    iteration: list[int] = field(default_factory=list)

    def add(self, r: EvalReport) -> None:
        self.train_loss.append(r.train_loss)
        self.train_accuracy.append(r.train_accuracy)
        self.val_loss.append(r.val_loss)
        self.val_accuracy.append(r.val_accuracy)
        self.seconds.append(r.seconds)
        self.iteration.append(r.iteration)

    def __len__(self) -> int:
        return len(self.val_loss)

    def as_dict(self) -> dict[str, list[float]]:
        return {
            "train_loss": list(self.train_loss),
            "train_accuracy": list(self.train_accuracy),
            "val_loss": list(self.val_loss),
            "val_accuracy": list(self.val_accuracy),
            "seconds": list(self.seconds),
        }

    @classmethod
    def of(cls, reports: list[Any]) -> Curves:
        """The curves of the `EvalReport`s among `reports` (a page's collected reports)."""
        curves = cls()
        for r in reports:
            if isinstance(r, EvalReport):
                curves.add(r)
        return curves


# ---------------------------------------------------------------------------------------------
# Schedule and state


@dataclass(frozen=True)
class Schedule:
    """How long to train and when to evaluate: `epochs`, or `iterations` with `eval_every`."""

    epochs: int | None = None  # evaluate after every pass over the training set
    iterations: int | None = None  # count optimizer steps instead
    eval_every: int | None = None  # steps between evaluations (iteration schedule)

    def __post_init__(self) -> None:
        if (self.epochs is None) == (self.iterations is None):
            raise ValueError(
                f"Schedule needs epochs or iterations, exactly one; got epochs={self.epochs!r}, "
                f"iterations={self.iterations!r}"
            )
        for name in ("epochs", "iterations", "eval_every"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"Schedule: {name} must be a positive integer, got {value!r}")


@dataclass
class LoopState:
    """Everything a run needs to continue where it stopped.

    A checkpoint saves the counters, `curves`, `rng.bit_generator.state` and the optimizer's
    `state`; `fit(..., state=...)` continues from them.
    """

    optimizer: Any  # has zero_grad() and step(); its `state` holds per-parameter moments
    rng: np.random.Generator  # shuffles each epoch's batches
    epoch: int = 0  # epochs finished
    iteration: int = 0  # optimizer steps taken
    step_in_epoch: int = 0  # steps of the current epoch taken (iteration schedule)
    epoch_rng_state: dict[str, Any] | None = None  # `rng` as the current epoch began
    curves: Curves = field(default_factory=Curves)
    compile_seconds: float = 0.0  # the first step's extra time, when it compiled kernels
    stopped: bool = False  # `stop` was set: the run ended at a step boundary

    @classmethod
    def start(cls, optimizer: Any, seed: int) -> LoopState:
        return cls(optimizer=optimizer, rng=np.random.default_rng(seed))


# ---------------------------------------------------------------------------------------------
# What a task gives the loop


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
    """What a task gives the loop."""

    model: Any  # a minitorch.Module

    def train_batches(self, rng: np.random.Generator) -> Batches[Any]:
        """The training set in batches, shuffled by `rng`."""
        ...

    def val_batches(self) -> Batches[Any]:
        """The validation set in batches, in a fixed order."""
        ...

    def loss(self, batch: Batch[Any]) -> tuple[Any, np.ndarray]:
        """Mean loss of the batch (a one-element Tensor or a Scalar) and the predicted labels."""
        ...


# ---------------------------------------------------------------------------------------------
# The loop, written once


def _item(loss: Any) -> float:
    """A one-element Tensor or a Scalar as a float."""
    return float(loss.item()) if hasattr(loss, "item") else float(loss.data)


def evaluate(task: TaskLoop) -> tuple[float, float]:
    """Mean loss and accuracy on the validation set: eval mode (no dropout), no graph."""
    from ..autodiff import no_grad  # the package's core, imported late so tasks stay light

    task.model.eval()
    total, right, seen = 0.0, 0, 0
    with no_grad():
        for batch in task.val_batches():
            loss, predicted = task.loss(batch)
            total += _item(loss) * len(batch.labels)
            right += int(np.sum(predicted == batch.labels))
            seen += len(batch.labels)
    return total / max(seen, 1), right / max(seen, 1)


def _warm_up(task: TaskLoop, state: LoopState, seed: int, callback: Callback | None) -> None:
    """One training step and one evaluation on the first batch, untimed by the epochs and
    leaving no trace: the parameters, the optimizer's state and the random generators are
    put back as they were."""
    from ..autodiff import no_grad

    if callback is not None:
        callback(CompileReport(None))
    start = time.perf_counter()
    saved = random.getstate(), np.random.get_state()
    parameters = parameter_snapshot(task.model)
    moments = copy.deepcopy(getattr(state.optimizer, "state", None))
    batches = task.train_batches(np.random.default_rng(seed))
    if len(batches):
        batch = batches.make(batches.groups[0])
        task.model.train()
        state.optimizer.zero_grad()
        loss, _ = task.loss(batch)
        loss.backward()
        state.optimizer.step()
        state.optimizer.zero_grad()
        task.model.eval()
        with no_grad():
            task.loss(batch)
    load_snapshot(task.model, parameters)
    if moments is not None:
        state.optimizer.state = moments
    random.setstate(saved[0])
    np.random.set_state(saved[1])
    state.compile_seconds = time.perf_counter() - start
    if callback is not None:
        callback(CompileReport(state.compile_seconds))


def fit(
    task: TaskLoop,
    schedule: Schedule,
    state: LoopState,
    callback: Callback | None = None,
    *,
    stop: threading.Event | None = None,
    warm_up: bool = False,
    seed: int = 0,
) -> LoopState:
    """Train `task.model` with `state.optimizer` on `schedule`, evaluating as it says.

    Args:
        task: the model, batches and loss.
        schedule: how many epochs (or iterations) and when to evaluate.
        state: where the run stands (`LoopState.start(optimizer, seed)` for a new one).
        callback: receives every report.
        stop: once set, the loop returns at the next step boundary with `state.stopped`.
        warm_up: run the first batch once before timing anything (it compiles the fast
            kernels), reported as `CompileReport`s.
        seed: seeds the warm-up's batch order (it leaves every generator as it was).

    Returns:
        `state`, advanced.
    """
    if warm_up and state.iteration == 0:
        _warm_up(task, state, seed, callback)
    total_steps = schedule.iterations
    losses: list[float] = []
    right = seen = 0
    seconds = 0.0
    while True:
        if schedule.epochs is not None and state.epoch >= schedule.epochs:
            break
        if total_steps is not None and state.iteration >= total_steps:
            break
        # one pass over the shuffled batches (or what is left of it), dropout on
        if state.step_in_epoch == 0 or state.epoch_rng_state is None:
            state.epoch_rng_state = state.rng.bit_generator.state
        else:  # resuming inside an epoch: the same order, from where it stopped
            state.rng.bit_generator.state = state.epoch_rng_state
        batches = task.train_batches(state.rng)
        steps = len(batches)
        task.model.train()
        start = time.perf_counter()
        for k in range(state.step_in_epoch, steps):
            if stop is not None and stop.is_set():
                state.stopped = True
                return state
            batch = batches.make(batches.groups[k])
            state.optimizer.zero_grad()
            loss, predicted = task.loss(batch)
            loss.backward()
            state.optimizer.step()
            state.iteration += 1
            state.step_in_epoch = k + 1
            losses.append(_item(loss))
            right += int(np.sum(predicted == batch.labels))
            seen += len(batch.labels)
            if callback is not None:
                callback(StepReport(state.epoch + 1, k + 1, steps, state.iteration, losses[-1]))
            due = (
                schedule.eval_every is not None and state.iteration % schedule.eval_every == 0
            ) or state.iteration == total_steps
            if total_steps is not None and due:
                seconds += time.perf_counter() - start
                _report(task, schedule, state, losses, right, seen, seconds, callback)
                losses, right, seen, seconds = [], 0, 0, 0.0
                task.model.train()
                start = time.perf_counter()
                if state.iteration >= total_steps:
                    break
        seconds += time.perf_counter() - start
        if state.step_in_epoch >= steps:
            state.epoch += 1
            state.step_in_epoch = 0
            if schedule.epochs is not None:
                _report(task, schedule, state, losses, right, seen, seconds, callback)
                losses, right, seen, seconds = [], 0, 0, 0.0
    return state


def _report(
    task: TaskLoop,
    schedule: Schedule,
    state: LoopState,
    losses: list[float],
    right: int,
    seen: int,
    seconds: float,
    callback: Callback | None,
) -> None:
    """Evaluate, add to the curves, and report with a snapshot of the parameters."""
    val_loss, val_accuracy = evaluate(task)
    report = EvalReport(
        epoch=state.epoch,
        epochs=schedule.epochs,
        iteration=state.iteration,
        iterations=schedule.iterations,
        train_loss=float(np.mean(losses)) if losses else float("nan"),
        train_accuracy=right / max(seen, 1),
        val_loss=val_loss,
        val_accuracy=val_accuracy,
        seconds=seconds,
        snapshot=parameter_snapshot(task.model) if callback is not None else {},
    )
    state.curves.add(report)
    if callback is not None:
        callback(report)


def batch_indices(n: int, size: int, rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Indices `0..n-1` cut into batches of `size` (the last may be smaller); shuffled when
    `rng` is given."""
    order = rng.permutation(n) if rng is not None else np.arange(n)
    return [order[lo : lo + size] for lo in range(0, n, size)]


# ---------------------------------------------------------------------------------------------
# Parameter snapshots


def parameter_snapshot(model: Any) -> dict[str, np.ndarray]:
    """A copy of every parameter's value (Tensor or Scalar) as numpy arrays, by dotted name."""
    out = {}
    for name, p in model.named_parameters():
        value = p.value
        if hasattr(value, "to_numpy"):
            out[name] = np.array(value.to_numpy(), copy=True)
        else:  # a Scalar
            out[name] = np.array([float(value.data)])
    return out


def load_snapshot(model: Any, snapshot: dict[str, np.ndarray]) -> Any:
    """Set `model`'s parameters to the values of `snapshot` (shapes must match); `model`."""
    from ..scalar import Scalar
    from ..tensor_create import tensor

    params = dict(model.named_parameters())
    if set(params) != set(snapshot):
        raise KeyError(
            f"the snapshot's parameters {sorted(snapshot)} are not the model's {sorted(params)}"
        )
    for name, p in params.items():
        values = snapshot[name]
        if hasattr(p.value, "to_numpy"):
            if tuple(p.value.shape) != values.shape:
                raise ValueError(
                    f"snapshot {name}: shape {values.shape} does not match the model's "
                    f"{tuple(p.value.shape)}"
                )
            p.update(tensor(values, backend=p.value.backend))
        else:
            p.update(Scalar(float(values[0])))
    return model
