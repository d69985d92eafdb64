"""The page of a task that has none of its own, generated from its registry record alone.

A training form (`forms.config_form` over the record's `form_fields()`), Train and Stop, the
one loop's progress and curves (`tasks_view.train_controls`), the run's final figures (the
result's `summary()` and `metrics()`, what `metrics.json` holds) and the pictures the record
writes (`pictures`). Where the record evaluates checkpoints (`eval_config`, `evaluate`), a
second form evaluates one, with its figures and `eval_pictures`.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from ..tasks.errors import TaskError
from ..tasks.registry import Task, task_named
from .common import app_message
from .forms import config_form
from .job import TrainJob
from .tasks_view import train_controls

__all__ = ["task_page", "show_task_page", "TRAIN", "EVALUATE"]

TRAIN, EVALUATE = "Train here", "Evaluate a checkpoint"
METRICS_PER_ROW = 4


def task_page(name: str) -> Callable[[], None]:
    """The generic page of task `name`, as a function `st.Page` runs (the record is looked up
    on every run, so a task registered again shows its new record)."""

    def page() -> None:
        show_task_page(task_named(name))

    page.__name__ = f"task_{name}"  # what Streamlit would name the page after
    return page


def show_task_page(task: Task) -> None:
    """Draw the generic page of `task`."""
    st.title(task.title)
    st.markdown(task.description)
    modes = [TRAIN] + ([EVALUATE] if task.eval_config and task.evaluate else [])
    mode = st.radio("model", modes, horizontal=True, key="mode") if len(modes) > 1 else TRAIN
    if mode == TRAIN:
        _train(task)
    else:
        _evaluate(task)


def _train(task: Task) -> None:
    config = config_form(task.config, task.form_fields())
    result_key = f"{task.name}_result"

    def make_job() -> TrainJob | None:
        if isinstance(config, str):
            st.error(f"Cannot train: {config}")
            return None
        return TrainJob(task, config, label=task.title)

    train_controls(f"{task.name}_job", result_key, make_job, lambda result: result)
    result = st.session_state.get(result_key)
    if result is None:
        st.info("Choose the options and press **Train**.")
        return
    st.subheader("The trained model")
    _show_outcome(result.summary(), result.metrics())
    if task.pictures is not None:
        _show_pictures(f"{result_key}_pictures", result, task.pictures)


def _evaluate(task: Task) -> None:
    names = [f.name for f in dataclasses.fields(task.eval_config) if f.init]
    config = config_form(task.eval_config, names)
    key = f"{task.name}_evaluation"
    if st.button("Evaluate", type="primary", key="evaluate", icon=":material/play_arrow:"):
        st.session_state.pop(key, None)
        if isinstance(config, str):
            st.error(f"Cannot evaluate: {config}")
        else:
            try:
                with st.spinner("Evaluating ..."):
                    st.session_state[key] = task.evaluate(config)
            except TaskError as err:
                st.error(f"Cannot evaluate: {app_message(err, task.eval_config)}")
    evaluation = st.session_state.get(key)
    if evaluation is None:
        return
    _show_outcome(evaluation.summary(), evaluation.metrics())
    if task.eval_pictures is not None:
        _show_pictures(f"{key}_pictures", evaluation, task.eval_pictures)


def _show_outcome(summary: str, metrics: dict[str, Any]) -> None:
    """The result's summary line, its single numbers as metrics, and all it holds as JSON."""
    st.success(summary)
    numbers = {
        name: value
        for name, value in metrics.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    items = list(numbers.items())
    for start in range(0, len(items), METRICS_PER_ROW):
        row = st.columns(METRICS_PER_ROW)
        for slot, (name, value) in zip(row, items[start : start + METRICS_PER_ROW]):
            slot.metric(name.replace("_", " "), f"{value:.4g}")
    with st.expander("Everything the run reports (metrics.json)"):
        st.json(metrics, expanded=False)


def _show_pictures(key: str, outcome: Any, write: Callable[[Any, Path], None]) -> None:
    """The pictures `write(outcome, folder)` draws, drawn once per outcome and kept."""
    cached = st.session_state.get(key)
    if cached is None or cached[0] is not outcome:
        with tempfile.TemporaryDirectory() as folder, st.spinner("Drawing the pictures ..."):
            write(outcome, Path(folder))
            found = [(p.stem, p.read_bytes()) for p in sorted(Path(folder).glob("*.png"))]
        cached = st.session_state[key] = (outcome, found)
    for name, data in cached[1]:
        st.image(data, caption=name)
