"""The one training loop every task runs on, the reports it makes and the state it keeps.

The command line, the app's pages and the tests all drive `fit`. It never prints: it hands a
`CompileReport` (before and after the first step compiles the kernels), a `StepReport` per
optimizer step and an `EvalReport` per evaluation to an optional callback. Everything a run
needs to continue lives in one `LoopState` (epoch, iteration, curves, shuffling RNG, the
optimizer and its state), and a `stop` event is honoured at every step boundary.

A run that diverges stops by itself: a loss that is not finite (checked every step) or a
parameter that is not (checked before every evaluation) ends `fit` with `state.divergence`
saying where, before anything non-finite is evaluated or checkpointed. After every evaluation
of finite parameters `fit` calls its `checkpoint` hook, which saves `state.state_dict()`;
`LoopState.load_state_dict` puts a run back exactly where that left it.

Two schedules: `Schedule(epochs=E)` evaluates after every pass over the training set (the
classic job, digits, sentiment); `Schedule(iterations=N, eval_every=K)` counts optimizer
steps and evaluates every K of them (a language model).
"""

from __future__ import annotations

import copy
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
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
    "Divergence",
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
    epoch: list[int] = field(default_factory=list)

    def add(self, r: EvalReport) -> None:
        self.train_loss.append(r.train_loss)
        self.train_accuracy.append(r.train_accuracy)
        self.val_loss.append(r.val_loss)
        self.val_accuracy.append(r.val_accuracy)
        self.seconds.append(r.seconds)
        self.iteration.append(r.iteration)
        self.epoch.append(r.epoch)

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

    def thinned(self, limit: int) -> Curves:
        """At most about `limit` evaluations, evenly spaced, always with the first and last.

        For drawing a long run (a picture has a few hundred pixels across); `epoch` and
        `iteration` keep each kept point's place on the axis.
        """
        n = len(self)
        keep = range(n) if n <= limit else sorted({*range(0, n, -(-n // limit)), n - 1})
        return Curves(*([column[i] for i in keep] for column in self._columns()))

    def copy(self) -> Curves:
        return Curves(*(list(column) for column in self._columns()))

    def _columns(self) -> tuple[list, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

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


@dataclass(frozen=True)
class Divergence:
    """Where and how a run stopped being finite."""

    epoch: int  # 1-based epoch in progress
    step: int | None  # 1-based step within it; None: found evaluating after the epoch
    what: str  # "the loss is nan", "3 of the 40 values of parameter ... are nan or inf", ...

    def __str__(self) -> str:
        where = (
            f"epoch {self.epoch}, step {self.step}"
            if self.step
            else f"the end of epoch {self.epoch}"
        )
        return f"{where}: {self.what}"


@dataclass
class LoopState:
    """Everything a run needs to continue where it stopped.

    `state_dict()` holds the counters, `curves`, the generators (the loop's shuffling one,
    Python's `random` and numpy's global one, which initial weights and dropout draw from) and
    the optimizer's per-parameter state; `load_state_dict` puts them back, and
    `fit(..., state=...)` continues as if the run had never stopped.
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
    divergence: Divergence | None = None  # the run stopped because it stopped being finite

    @classmethod
    def start(cls, optimizer: Any, seed: int) -> LoopState:
        return cls(optimizer=optimizer, rng=np.random.default_rng(seed))

    @property
    def stop_reason(self) -> str | None:
        """None (the schedule ran out), "diverged" or "interrupted"."""
        if self.divergence is not None:
            return "diverged"
        return "interrupted" if self.stopped else None

    def state_dict(self) -> dict[str, Any]:
        """Where the run stands, as JSON-ready values and numpy arrays (the optimizer's
        per-parameter moments, each `{"kind", "values"}`; see `_moment_array`)."""
        py_version, py_keys, py_gauss = random.getstate()
        np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
        return {
            "epoch": self.epoch,
            "iteration": self.iteration,
            "step_in_epoch": self.step_in_epoch,
            "compile_seconds": self.compile_seconds,
            "rng": self.rng.bit_generator.state,
            "epoch_rng": self.epoch_rng_state,
            "python_random": [py_version, list(py_keys), py_gauss],
            "numpy_random": [np_name, np_keys.tolist(), np_pos, np_has_gauss, np_gauss],
            "curves": {k: list(v) for k, v in vars(self.curves).items()},
            "optimizer": [
                {key: _moment_array(v) for key, v in moments.items()}
                for moments in getattr(self.optimizer, "state", [])
            ],
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Continue from `saved` (a `state_dict()`): counters, curves, every generator, and
        the optimizer's moments, rebuilt like their parameters (backend, Tensor or Scalar).

        Raises:
            ValueError: the optimizer's state does not fit this optimizer's parameters.
        """
        moments = saved["optimizer"]
        parameters = list(getattr(self.optimizer, "parameters", []))
        if len(moments) != len(parameters):
            raise ValueError(
                f"the saved optimizer state has {len(moments)} entries, the optimizer "
                f"{len(parameters)} parameters"
            )
        restored = []
        for p, entry in zip(parameters, moments):
            restored.append({key: _moment_like(v, p.value) for key, v in entry.items()})
        self.optimizer.state = restored
        self.epoch = int(saved["epoch"])
        self.iteration = int(saved["iteration"])
        self.step_in_epoch = int(saved["step_in_epoch"])
        self.compile_seconds = float(saved["compile_seconds"])
        self.rng.bit_generator.state = saved["rng"]
        self.epoch_rng_state = saved["epoch_rng"]
        version, keys, gauss = saved["python_random"]
        random.setstate((version, tuple(keys), gauss))
        name, keys, pos, has_gauss, cached = saved["numpy_random"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        self.curves = Curves(
            **{
                k: [v if v is not None else float("nan") for v in vs]
                for k, vs in saved["curves"].items()
            }
        )
        self.stopped, self.divergence = False, None


def _moment_array(value: Any) -> Any:
    """An optimizer moment as saved: a Tensor, Scalar or numpy array (a fused optimizer's
    flat state) as `{"kind", "values"}`, the values a numpy array; a number as is."""
    if hasattr(value, "to_numpy"):
        return {"kind": "tensor", "values": np.array(value.to_numpy(), copy=True)}
    if isinstance(value, np.ndarray):
        return {"kind": "array", "values": value.copy(), "dtype": str(value.dtype)}
    if hasattr(value, "data"):  # a Scalar
        return {"kind": "scalar", "values": np.array(float(value.data))}
    return value


def _moment_like(value: Any, like: Any) -> Any:
    """A saved moment back in its kind, next to its parameter's value `like` (whose backend
    and dtype a Tensor moment takes)."""
    if not isinstance(value, dict) or "kind" not in value:
        return value
    values = np.asarray(value["values"])
    if value["kind"] == "array":
        return values.astype(value["dtype"])
    if value["kind"] == "scalar":
        from ..scalar import Scalar

        return Scalar(float(values))
    from ..tensor_create import tensor

    if values.shape != tuple(like.shape):
        raise ValueError(
            f"a saved optimizer moment has shape {values.shape}, its parameter {tuple(like.shape)}"
        )
    return tensor(values, backend=like.backend, dtype=like.dtype)  # float32 stays float32


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
    checkpoint: Callable[[LoopState], None] | None = None,
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
        checkpoint: called with `state` after every evaluation (so after every epoch of an
            epoch schedule), to save it; never with parameters that are not finite.

    Returns:
        `state`, advanced; `state.divergence` says where, if the loss or a parameter stopped
        being finite (training stops there: nothing non-finite is evaluated or saved).
    """
    from ..distributed import agreed_stop, distribute

    task = distribute(task)  # under MPI: this rank's shard of every batch; else task itself
    stop = agreed_stop(task, stop)  # under MPI: every rank stops at the same step boundary
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
            value = _item(loss)
            if not math.isfinite(value):  # a step on it would poison every parameter
                state.divergence = Divergence(state.epoch + 1, k + 1, f"the loss is {value}")
                return state
            loss.backward()
            state.optimizer.step()
            state.iteration += 1
            state.step_in_epoch = k + 1
            losses.append(value)
            right += int(np.sum(predicted == batch.labels))
            seen += len(batch.labels)
            if callback is not None:
                callback(StepReport(state.epoch + 1, k + 1, steps, state.iteration, losses[-1]))
            due = (
                schedule.eval_every is not None and state.iteration % schedule.eval_every == 0
            ) or state.iteration == total_steps
            if total_steps is not None and due:
                seconds += time.perf_counter() - start
                if not _finite_parameters(task.model, state, k + 1):
                    return state
                if not _report(task, schedule, state, losses, right, seen, seconds, callback):
                    return state
                if checkpoint is not None:
                    checkpoint(state)
                losses, right, seen, seconds = [], 0, 0, 0.0
                task.model.train()
                start = time.perf_counter()
                if state.iteration >= total_steps:
                    break
        seconds += time.perf_counter() - start
        if state.step_in_epoch >= steps:
            if schedule.epochs is not None and not _finite_parameters(task.model, state, steps):
                return state
            state.epoch += 1
            state.step_in_epoch = 0
            if schedule.epochs is not None:
                if not _report(task, schedule, state, losses, right, seen, seconds, callback):
                    return state
                if checkpoint is not None:
                    checkpoint(state)
                losses, right, seen, seconds = [], 0, 0, 0.0
    return state


def _finite_parameters(model: Any, state: LoopState, step: int) -> bool:
    """Whether every parameter of `model` is finite; if not, `state.divergence` says which."""
    for name, values in parameter_snapshot(model).items():
        bad = int(values.size - np.count_nonzero(np.isfinite(values)))
        if bad:
            what = f"{bad} of the {values.size} values of parameter {name} are nan or inf"
            state.divergence = Divergence(state.epoch + 1, step, what)
            return False
    return True


def _report(
    task: TaskLoop,
    schedule: Schedule,
    state: LoopState,
    losses: list[float],
    right: int,
    seen: int,
    seconds: float,
    callback: Callback | None,
) -> bool:
    """Evaluate, add to the curves, and report with a snapshot of the parameters; whether the
    validation loss is finite (if not, `state.divergence` says so)."""
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
    if not math.isfinite(val_loss):  # finite parameters whose answers overflow
        what = f"the validation loss is {val_loss}"
        state.divergence = (
            Divergence(state.epoch + 1, state.step_in_epoch, what)
            if state.step_in_epoch  # mid-epoch, on an iteration schedule
            else Divergence(state.epoch, None, what)
        )
        return False
    return True


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
            p.update(tensor(values, backend=p.value.backend, dtype=p.value.dtype))
        else:
            p.update(Scalar(float(values[0])))
    return model
