"""The task registry: one record per task folder, and the one line that names it.

Adding a task is adding a folder `tasks/NAME/` whose `__init__.py` exports `TASK`, a `Task`
record, and one line in `REGISTRY` below. `minitorch train NAME`, `minitorch eval NAME` and
the app's task pages (its sidebar entry, its training form) are generated from the records;
`register` adds one at run time (a test's throwaway task, a plugin).
"""

from __future__ import annotations

import dataclasses
import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .loop import Curves, LoopState

__all__ = [
    "Task",
    "AppField",
    "CONFIG_DEFAULT",
    "TrainResult",
    "EvalResult",
    "REGISTRY",
    "register",
    "task_named",
    "task_names",
    "CLASSIC",
]

CLASSIC = "classic"  # what `minitorch train` runs without a task name

# name -> the module (relative to minitorch.tasks) whose TASK is the record; in --help order
REGISTRY: dict[str, str] = {
    "classic": ".classic",
    "mnist": ".mnist",
    "sentiment": ".sentiment",
    "shakespeare": ".shakespeare",
}

_registered: dict[str, Task] = {}
_lock = threading.Lock()


class TrainResult(Protocol):
    """What a task's `train` returns."""

    model: Any  # the trained minitorch.Module
    curves: Curves  # one entry per evaluation
    state: LoopState  # where the loop stopped (epoch, iteration, optimizer, RNG)

    def metrics(self) -> dict[str, Any]:
        """The run as `metrics.json` holds it (JSON-ready values)."""
        ...

    def checkpoint_options(self) -> dict[str, Any]:
        """What rebuilds the model from a checkpoint (JSON-ready), `task` and `schema` included."""
        ...

    def summary(self) -> str:
        """One line for the command line: the final figures, from the last evaluation."""
        ...


class EvalResult(Protocol):
    """What a task's `evaluate` returns."""

    def metrics(self) -> dict[str, Any]: ...

    def summary(self) -> str: ...


class _ConfigDefault:
    def __repr__(self) -> str:
        return "CONFIG_DEFAULT"


CONFIG_DEFAULT: Any = _ConfigDefault()  # an `AppField` without a default of its own


@dataclass(frozen=True)
class AppField:
    """A config field as the app's training form offers it, where the command line's range is
    too wide for a page (epochs 1-20, not any positive number). The widget, its label and help
    come from the field itself (`options.option`'s metadata); these only narrow them.

    Attributes:
        name: the config field.
        bounds: (lowest, highest) the form accepts, or None (what the config accepts).
        choices: the values a slider offers, instead of a box to type into.
        default: the form's first value, where it is not the config's default (None is
            a value: an empty box).
    """

    name: str
    bounds: tuple[float, float] | None = None
    choices: tuple[Any, ...] = ()
    default: Any = CONFIG_DEFAULT


@dataclass(frozen=True)
class Task:
    """One task, as the command line and the app see it.

    Attributes:
        name: the command-line name (`minitorch train NAME`), also used in code and the app.
        title: how pages show it ("MNIST digits").
        help: one line for `minitorch train --help`.
        description: the paragraph of `minitorch train NAME --help`.
        config: the config dataclass; its fields (declared with `options.option`) are the
            train command's options. It must have `backend`, `seed` and `dtype` fields.
        train: `(config, callback, stop, run=None) -> TrainResult`: load the data, build the
            model and run `loop.fit`, reporting to `callback` and ending at a step once `stop`
            is set; `run` (a `resume.Run`, from the command line) is handed to
            `resume.resume_or_start`, which resumes and checkpoints every epoch.
        build_model: `(options, backend, dtype) -> Module`: the network a checkpoint's options
            describe (the app and `evaluate` use it).
        schema: the version of the checkpoint options `checkpoint_options` writes.
        checkpoint_schema: option name -> `checkpoint.MetadataField`: what each checkpoint
            option must be (type, range, choices); a checkpoint is checked against it before
            anything is built from it (None: not checked).
        parameter_shapes: `(options) -> {name: shape}`: the parameters a checkpoint's
            (checked) options describe, compared with the file's before anything is built.
        pictures: `(result, out)` writes the training pictures into `out`, or None.
        eval_config: the dataclass of `minitorch eval NAME`'s options, or None (no eval).
        evaluate: `(eval_config) -> EvalResult`.
        eval_pictures: `(eval_result, out)` writes evaluation pictures, or None.
        icon: the app's sidebar icon (a Material icon, ":material/NAME:").
        app_fields: the config fields the app's training form offers, in order: a name, or
            an `AppField` that narrows its range; the others keep their defaults. Empty:
            every field.
        page: the task's own app page, a Streamlit script named as a module
            ("minitorch.app.views.mnist"), which the registry never imports; None: the app's
            generic page for the task (a form, progress, curves, metrics and pictures).
    """

    name: str
    title: str
    help: str
    description: str
    config: type
    train: Callable[..., TrainResult]
    build_model: Callable[..., Any]
    schema: int = 1
    checkpoint_schema: Mapping[str, Any] | None = None
    parameter_shapes: Callable[[dict[str, Any]], dict[str, tuple[int, ...]]] | None = None
    pictures: Callable[[Any, Path], None] | None = None
    eval_config: type | None = None
    evaluate: Callable[[Any], EvalResult] | None = None
    eval_pictures: Callable[[Any, Path], None] | None = None
    icon: str = ":material/science:"
    app_fields: tuple[AppField | str, ...] = ()
    page: str | None = None

    def form_fields(self) -> tuple[AppField, ...]:
        """The fields of the app's training form (`app_fields`, each as an `AppField`).

        Raises:
            ValueError: a name in `app_fields` is not a field of `config`.
        """
        names = [f.name for f in dataclasses.fields(self.config) if f.init]
        chosen = [AppField(f) if isinstance(f, str) else f for f in self.app_fields]
        unknown = [f.name for f in chosen if f.name not in names]
        if unknown:
            raise ValueError(
                f"task {self.name!r}: app_fields {', '.join(unknown)} are not fields of "
                f"{self.config.__name__} ({', '.join(names)})"
            )
        return tuple(chosen) or tuple(AppField(name) for name in names)


def register(task: Task) -> Task:
    """Add (or replace) `task` under its name; returns it."""
    with _lock:
        _registered[task.name] = task
    return task


def task_names() -> tuple[str, ...]:
    """Every task's name: the registry's, then those added by `register`."""
    return tuple(dict.fromkeys([*REGISTRY, *_registered]))


def task_named(name: str) -> Task:
    """The record of task `name` (importing its folder on first use).

    Raises:
        KeyError: no such task; the message lists the names.
    """
    with _lock:
        if name in _registered:
            return _registered[name]
    if name not in REGISTRY:
        raise KeyError(f"unknown task {name!r}; the tasks are {', '.join(task_names())}")
    module = importlib.import_module(REGISTRY[name], __package__)
    task = getattr(module, "TASK", None)
    if not isinstance(task, Task):
        raise TypeError(f"{module.__name__} must export TASK, a minitorch.tasks.registry.Task")
    return register(task)
