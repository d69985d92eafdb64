"""The one training loop: schedules, the stop flag, resuming from its state, the warm-up."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from minitorch.optim import SGD
from minitorch.tasks.loop import (
    CompileReport,
    EvalReport,
    LoopState,
    Schedule,
    StepReport,
    fit,
    load_snapshot,
    parameter_snapshot,
)
from minitorch.tensor_ops import SimpleBackend
from tests.test_task_registry import LineConfig, LineModel, _Line


def line(seed: int = 0) -> tuple[_Line, LoopState]:
    import random

    random.seed(seed)  # Linear's initial weights
    model = LineModel(SimpleBackend)
    task = _Line(LineConfig(points=12), model, SimpleBackend)
    return task, LoopState.start(SGD(model.parameters(), 0.3), seed)


def test_an_epoch_schedule_evaluates_after_every_pass():
    task, state = line()
    seen = []
    fit(task, Schedule(epochs=3), state, seen.append)
    evals = [r for r in seen if isinstance(r, EvalReport)]
    steps = [r for r in seen if isinstance(r, StepReport)]
    assert [r.epoch for r in evals] == [1, 2, 3] and len(steps) == 9  # 12 points, batches of 4
    assert [r.iteration for r in evals] == [3, 6, 9] and state.curves.val_loss == [
        r.val_loss for r in evals
    ]
    assert state.epoch == 3 and state.iteration == 9


def test_an_iteration_schedule_evaluates_every_n_steps_across_epochs():
    task, state = line()
    seen = []
    fit(task, Schedule(iterations=10, eval_every=4), state, seen.append)
    evals = [r for r in seen if isinstance(r, EvalReport)]
    assert [r.iteration for r in evals] == [4, 8, 10]  # and once at the end
    assert state.iteration == 10 and state.epoch == 3 and state.step_in_epoch == 1
    assert all(r.epochs is None and r.iterations == 10 for r in evals)


def test_the_stop_flag_ends_the_run_at_a_step_boundary():
    task, state = line()
    stop = threading.Event()

    def callback(r):
        if isinstance(r, StepReport) and r.iteration == 5:
            stop.set()

    fit(task, Schedule(epochs=100), state, callback, stop=stop)
    assert state.stopped and state.iteration == 5 and state.epoch == 1 and state.step_in_epoch == 2


def test_a_stopped_run_continues_from_its_state_as_if_never_stopped():
    task, state = line()
    fit(task, Schedule(iterations=11, eval_every=3), state)
    whole = state.curves.val_loss

    task, state = line()
    stop = threading.Event()
    fit(
        task,
        Schedule(iterations=11, eval_every=3),
        state,
        lambda r: stop.set() if isinstance(r, StepReport) and r.iteration == 5 else None,
        stop=stop,
    )
    assert state.stopped and state.iteration == 5
    state.stopped = False
    fit(task, Schedule(iterations=11, eval_every=3), state)
    assert state.curves.val_loss == whole


def test_the_warm_up_leaves_no_trace_and_is_reported():
    task, state = line()
    fit(task, Schedule(epochs=2), state)
    plain = state.curves.val_loss
    task, state = line()
    seen = []
    fit(task, Schedule(epochs=2), state, seen.append, warm_up=True)
    assert state.curves.val_loss == plain
    compiles = [r for r in seen if isinstance(r, CompileReport)]
    assert compiles[0].seconds is None and compiles[1].seconds == state.compile_seconds > 0
    assert seen[:2] == compiles  # before any step


def test_a_snapshot_is_a_copy_that_loads_back():
    task, state = line()
    before = parameter_snapshot(task.model)
    fit(task, Schedule(epochs=1), state)
    after = parameter_snapshot(task.model)
    assert any(not np.array_equal(before[k], after[k]) for k in before)
    load_snapshot(task.model, before)
    assert all(np.array_equal(v, parameter_snapshot(task.model)[k]) for k, v in before.items())
    with pytest.raises(KeyError, match="are not the model's"):
        load_snapshot(task.model, {"nope": np.zeros(1)})


@pytest.mark.parametrize("kwargs", [{}, {"epochs": 2, "iterations": 3}, {"epochs": 0}])
def test_a_schedule_needs_one_positive_length(kwargs):
    with pytest.raises(ValueError, match="Schedule"):
        Schedule(**kwargs)
