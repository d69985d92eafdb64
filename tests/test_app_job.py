"""Background jobs of the app: they run a task on the one loop, report, stop when asked, and
survive failures; the page's numbers are the command line's for the same seed."""

import json

import numpy as np
import pytest

from minitorch.app.job import TrainJob
from minitorch.cli import main
from minitorch.tasks.classic.train import build_model, model_options
from minitorch.tasks.loop import load_snapshot
from minitorch.tasks.registry import task_named
from minitorch.train import TrainConfig, train

CLASSIC = task_named("classic")


def test_the_app_job_and_the_command_line_give_the_same_numbers(tmp_path):
    config = TrainConfig(dataset="Split", backend="fast", epochs=15, hidden=4, seed=5)
    job = TrainJob(CLASSIC, config).start()
    assert job.join(timeout=120)
    view = job.progress()
    assert view.state == "done" and view.last.epoch == 15 and not view.running
    args = [
        "train",
        "--dataset",
        "Split",
        "--backend",
        "fast",
        "--epochs",
        "15",
        "--hidden",
        "4",
        "--seed",
        "5",
        "--out",
        str(tmp_path),
        "--quiet",
        "--no-plots",
    ]
    assert main(args) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [r.val_loss for r in view.evals] == metrics["losses"]
    assert view.last.val_loss == metrics["final_loss"]
    assert round(view.last.val_accuracy * 50) == metrics["correct"]


def test_each_report_carries_a_snapshot_of_that_moment():
    config = TrainConfig(dataset="Xor", backend="simple", epochs=6, hidden=3)
    job = TrainJob(CLASSIC, config).start()
    assert job.join(timeout=60)
    evals = job.progress().evals
    first, last = evals[0].snapshot, evals[-1].snapshot
    assert set(first) == {name for name, _ in job.result.model.named_parameters()}
    assert any(not np.array_equal(first[k], last[k]) for k in first)  # it trained in between
    # a model rebuilt from the last snapshot is the trained model
    model = load_snapshot(build_model(model_options(config), job.result.model.backend), last)
    points = [(0.1, 0.2), (0.9, 0.9)]
    assert model.predict(points) == pytest.approx(job.result.model.predict(points))


def test_the_job_matches_a_direct_run_of_the_task():
    config = TrainConfig(dataset="Split", backend="simple", epochs=10, hidden=4)
    job = TrainJob(CLASSIC, config).start()
    assert job.join(timeout=60)
    assert [r.val_loss for r in job.progress().evals] == train(config).losses


def test_the_job_stops_at_a_step_when_asked():
    job = TrainJob(CLASSIC, TrainConfig(backend="simple", epochs=100_000)).start()
    job.stop()
    assert job.join(timeout=60)
    view = job.progress()
    assert view.state == "stopped" and len(view.evals) < 100_000
    assert job.result.state.stopped


def test_a_failing_job_says_why(monkeypatch):
    from minitorch import cuda_ops

    monkeypatch.setattr(cuda_ops.cuda, "is_available", lambda: False)  # no GPU, no simulator
    job = TrainJob(CLASSIC, TrainConfig(backend="cuda", epochs=2)).start()
    assert job.join(timeout=60)
    assert job.state == "failed" and "--backend cuda" in job.error and "NVIDIA GPU" in job.error
