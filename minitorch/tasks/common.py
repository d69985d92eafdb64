"""What the tasks share besides the loop (`loop.py`) and the errors (`errors.py`): answers
and metrics, seeds, the options every task has (backend, seed, dtype), the course's
initialisation and checkpoints with the options evaluation needs.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError, MissingData, TaskError
from .loop import Curves, LoopState
from .options import option

__all__ = [
    "Answers",
    "Evaluation",
    "result_summary",
    "config_json",
    "run_metrics",
    "seed_everything",
    "task_backend",
    "backend_option",
    "seed_option",
    "dtype_option",
    "DTYPES",
    "check_common",
    "task_dtype",
    "cast_parameters",
    "model_dtype",
    "course_init",
    "train_task",
    "confusion_matrix",
    "save_checkpoint",
    "read_checkpoint_metadata",
    "checkpoint_shapes",
    "load_checkpoint",
]


# ---------------------------------------------------------------------------------------------
# Answers on a labelled set


class Answers:
    """What a model answered on a labelled set: subclasses give `labels`, `predicted` and the
    number of `classes`."""

    classes: int

    @property
    def labels(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def predicted(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def correct(self) -> int:
        return int(np.sum(self.predicted == self.labels))

    @property
    def total(self) -> int:
        return len(self.labels)

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.total, 1)

    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.labels, self.predicted, self.classes)


def result_summary(task: str, where: str, val: Answers, curves: Curves) -> str:
    """A training run's one line: `where` the accuracy was taken, the final train loss and the
    mean epoch time (the same figures `metrics.json` holds)."""
    seconds = f", {np.mean(curves.seconds):.1f} s/epoch" if len(curves) else ""
    loss = f", final train loss {curves.train_loss[-1]:.4f}" if len(curves) else ""
    figures = f"{val.accuracy:.2%} ({val.correct}/{val.total})"
    return f"{task}: {where} accuracy {figures}{loss}{seconds}"


class Evaluation:
    """A checkpoint's answers on a labelled set (`minitorch eval TASK`): subclasses are
    dataclasses with a `config` (naming the `checkpoint`) and `predictions`, and give the
    `task` and `where` the answers were taken."""

    task: str
    config: Any
    predictions: Answers

    @property
    def where(self) -> str:
        raise NotImplementedError

    def metrics(self) -> dict[str, Any]:
        """The evaluation as `metrics.json` holds it."""
        p = self.predictions
        return {
            "task": self.task,
            "checkpoint": str(self.config.checkpoint),
            "data": self.where,
            "accuracy": p.accuracy,
            "correct": p.correct,
            "total": p.total,
        }

    def summary(self) -> str:
        p = self.predictions
        return f"{self.task}: accuracy {p.accuracy:.2%} ({p.correct}/{p.total}) on {self.where}"


def config_json(config: Any) -> dict[str, Any]:
    """A config dataclass as JSON-ready values (paths as strings, tuples as lists)."""
    out = {}
    for key, value in asdict(config).items():
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def run_metrics(
    task: str, config: Any, val: Answers, curves: Curves, state: LoopState, **extra: Any
) -> dict[str, Any]:
    """A finished run as `metrics.json` holds it: options, `extra` figures, the final model's
    accuracy on the validation set, and the per-epoch curves. Epoch times leave out the
    first step's kernel compilation, which is `compile_seconds`."""
    return {
        "task": task,
        **config_json(config),
        **extra,
        "accuracy": val.accuracy,
        "correct": val.correct,
        "total": val.total,
        "epochs_done": state.epoch,
        "stopped": state.stopped,
        "stop_reason": state.stop_reason,  # None, "diverged" or "interrupted"
        "divergence": str(state.divergence) if state.divergence else None,
        "seconds_per_epoch": float(np.mean(curves.seconds)) if len(curves) else None,
        "compile_seconds": state.compile_seconds,
        **curves.as_dict(),
    }


# ---------------------------------------------------------------------------------------------
# Seeds and backends


def seed_everything(seed: int) -> None:
    """Seed the generators that initial weights and dropout draw from.

    `minitorch.rand` uses Python's `random`; layers and dropout may use numpy's global
    generator. Seeding both makes a run with the same seed the same run.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)


def backend_option() -> Any:
    """The `backend` field every task config has."""
    from ..backends import BACKEND_NAMES

    return option("fast", "which kernels compute", choices=BACKEND_NAMES)


def seed_option() -> Any:
    """The `seed` field every task config has."""
    return option(0, "fixes initial weights, shuffling and dropout: same seed, same run")


DTYPES = ("float64", "float32")


def dtype_option(default: str = "float64") -> Any:
    """The `dtype` field every task config has: float64 for the toy tasks (gradient checks,
    the course), float32 for the real ones, as PyTorch trains."""
    return option(default, "the parameters' and data's floating-point type", choices=DTYPES)


def check_common(config: Any) -> None:
    """Check the fields every task config has (`backend`, `seed`, `dtype`) by name."""
    from ..backends import BACKEND_NAMES

    if config.backend not in BACKEND_NAMES:
        raise TaskError(
            f"unknown --backend {config.backend!r}; choose one of {', '.join(BACKEND_NAMES)}"
        )
    if not isinstance(config.seed, int) or isinstance(config.seed, bool):
        raise TaskError(f"--seed must be an integer, got {config.seed!r}")
    if config.dtype not in DTYPES:
        raise TaskError(f"unknown --dtype {config.dtype!r}; choose one of {', '.join(DTYPES)}")


def task_backend(name: str) -> Any:
    """The tensor backend called `name`, or a `TaskError` saying why it cannot run here."""
    from ..backends import BackendUnavailable, backend_named

    try:
        return backend_named(name)
    except (ValueError, BackendUnavailable) as err:
        raise TaskError(f"--backend {name}: {err}") from None


def task_dtype(name: str) -> Any:
    """The core's dtype called `name` (`float64`, `float32`).

    Raises:
        TaskError: an unknown name, or float32 where this build of the core has none.
    """
    if name not in DTYPES:
        raise TaskError(f"unknown --dtype {name!r}; choose one of {', '.join(DTYPES)}")
    try:
        if name == "float32":
            from .. import float32 as found
        else:
            from .. import float64 as found
    except ImportError:  # the core has no dtypes yet
        found = None
    if found is None:
        if name == "float64":
            return np.float64  # the core's only type until dtypes land
        raise TaskError(
            f"--dtype {name}: this build of minitorch computes in float64 only; use --dtype float64"
        )
    return found


def cast_parameters(model: Any, dtype: Any) -> Any:
    """Every tensor parameter of `model` converted to `dtype` (a no-op for float64)."""
    if np.dtype(dtype) == np.float64:
        return model
    for p in model.parameters():
        if hasattr(p.value, "to"):
            p.update(p.value.to(dtype))
    return model


def model_dtype(model: Any) -> Any:
    """The dtype of `model`'s parameters (the first one's; float64 for a model without any):
    what its inputs are built in, so that no step promotes to float64."""
    from .. import float64

    for p in model.parameters():
        return p.value.dtype
    return float64


def course_init(model: Any, backend: Any) -> None:
    """The course's initialisation: every parameter uniform in [-0.05, 0.05), in its dtype."""
    from ..tensor_create import rand

    for p in model.parameters():
        value = rand(p.value.shape, backend=backend, dtype=p.value.dtype)
        p.update(0.1 * (value - 0.5))


def fit_task(
    config: Any,
    model: Any,
    state: LoopState,
    loop: Any,
    options: dict[str, Any],
    schedule: Any = None,
    callback: Any = None,
    stop: Any = None,
    run: Any = None,
    warm_up: bool | None = None,
) -> None:
    """Every task's last step: resume `run` (or start it), then the shared loop.

    Args:
        schedule: `Schedule(epochs=config.epochs)` by default.
        warm_up: compile the kernels before the first timed step; by default on every
            backend but the pure-Python one.
        The others: as in `train_task`; `options` are the checkpoint's.
    """
    from .loop import Schedule, fit
    from .resume import resume_or_start  # resume imports this module

    checkpoint = resume_or_start(run, config, model, state, options)
    fit(
        loop,
        Schedule(epochs=config.epochs) if schedule is None else schedule,
        state,
        callback,
        stop=stop,
        warm_up=config.backend != "simple" if warm_up is None else warm_up,
        seed=config.seed,
        checkpoint=checkpoint,
    )


def train_task(
    config: Any,
    model: Any,
    backend: Any,
    loop: Any,
    options: dict[str, Any],
    callback: Any = None,
    stop: Any = None,
    run: Any = None,
) -> LoopState:
    """A real task's training, once its model and loop are built: the course's init if
    `config.init` asks for it, the optimizer, resuming `run` (or starting it), then the
    shared loop for `config.epochs`. `options` are the checkpoint's (see `model_options`).

    Returns:
        The loop's state at the end (curves, epochs done, why it stopped).
    """
    from .optimizers import make_optimizer

    if config.init == "course":
        course_init(model, backend)
    state = LoopState.start(
        make_optimizer(config.optimizer, model.parameters(), config.lr), config.seed
    )
    fit_task(config, model, state, loop, options, callback=callback, stop=stop, run=run)
    return state


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """`m[i, j]` counts the examples of class `i` predicted as `j`."""
    m = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(m, (np.asarray(labels, int), np.asarray(predicted, int)), 1)
    return m


# ---------------------------------------------------------------------------------------------
# Checkpoints: parameters through minitorch.save, plus what eval needs to rebuild the model

_META_KEY = "minitorch.task"


def save_checkpoint(model: Any, path: Path, options: dict[str, Any]) -> None:
    """Save `model`'s parameters to `path` with `options` (JSON-able) as metadata."""
    from ..checkpoint import save

    save(model, path, metadata={_META_KEY: json.dumps(options, sort_keys=True)})


def read_checkpoint_metadata(path: Path, task: str) -> dict[str, Any]:
    """The options a `minitorch train TASK` checkpoint was saved with, checked against the
    task's `checkpoint_schema` (types, ranges; lists come back as tuples) and the parameter
    shapes they describe against the file's (`parameter_shapes`), before anything is built.

    Raises:
        MissingData: no file at `path`.
        DataError: the file holds no task options, another task's, options that do not fit
            `schema`, or parameters whose shapes the options do not describe.
    """
    from ..checkpoint import CheckpointError, json_metadata, read_metadata, validate_metadata

    path = Path(path)
    if not path.is_file():
        raise MissingData(
            f"no checkpoint at {path}: pass --checkpoint OUT/model.safetensors, as written by "
            f"minitorch train {task} --out OUT"
        )
    try:
        metadata = read_metadata(path)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read the checkpoint {path}: {err}") from None
    if _META_KEY not in metadata:
        raise DataError(
            f"{path} holds parameters but no task options: it was not written by "
            f"minitorch train {task}"
        )
    try:
        options = json_metadata(metadata, _META_KEY, path)
    except CheckpointError as err:
        raise DataError(str(err)) from None
    if options.get("task") != task:
        raise DataError(
            f"{path} is a checkpoint of the {options.get('task')!r} task, not {task!r}: "
            f"use minitorch eval {options.get('task')}"
        )
    from .registry import task_named

    record = task_named(task)
    schema, shapes = record.checkpoint_schema, record.parameter_shapes
    if schema is None:
        return options
    try:
        options = validate_metadata(options, schema, str(path))
    except CheckpointError as err:
        raise DataError(str(err)) from None
    if shapes is not None:
        expected, found = shapes(options), checkpoint_shapes(path)
        if expected != found:
            wrong = sorted(
                name for name in set(expected) | set(found) if expected.get(name) != found.get(name)
            )
            described = {name: expected.get(name) for name in wrong}
            held = {name: found.get(name) for name in wrong}
            raise DataError(
                f"{path}: its options describe parameters {described}, the file holds {held}"
            )
    return options


def checkpoint_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Each parameter's shape in the checkpoint `path`, from its header (no data is read)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            return {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
    except (OSError, SafetensorError) as err:
        raise DataError(f"cannot read the checkpoint {path}: {err}") from None


def load_checkpoint(model: Any, path: Path) -> None:
    """Load the parameters at `path` into `model` (shapes must match)."""
    from ..checkpoint import load

    try:
        load(model, path)
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"cannot load {path} into the model: {err}") from None
