"""Background jobs of the app: they run a task on the one loop, report, stop when asked, and
survive failures; the page's numbers are the command line's for the same seed."""

import json
import time

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
    assert view.curves.val_loss == metrics["losses"]
    assert view.last.val_loss == metrics["final_loss"]
    assert round(view.last.val_accuracy * 50) == metrics["correct"]


def test_the_job_keeps_every_evaluations_figures_and_the_latest_snapshot():
    config = TrainConfig(dataset="Xor", backend="simple", epochs=6, hidden=3)
    job = TrainJob(CLASSIC, config).start()
    assert job.join(timeout=60)
    view = job.progress()
    assert view.curves.epoch == [1, 2, 3, 4, 5, 6]
    assert view.curves.val_loss[-1] == view.last.val_loss and view.last.epoch == 6
    snapshot = view.last.snapshot
    assert set(snapshot) == {name for name, _ in job.result.model.named_parameters()}
    # a model rebuilt from the last snapshot is the trained model
    model = load_snapshot(build_model(model_options(config), job.result.model.backend), snapshot)
    points = [(0.1, 0.2), (0.9, 0.9)]
    assert model.predict(points) == pytest.approx(job.result.model.predict(points))


def test_the_job_matches_a_direct_run_of_the_task():
    config = TrainConfig(dataset="Split", backend="simple", epochs=10, hidden=4)
    job = TrainJob(CLASSIC, config).start()
    assert job.join(timeout=60)
    assert job.progress().curves.val_loss == train(config).losses


def test_the_job_stops_at_a_step_when_asked():
    job = TrainJob(CLASSIC, TrainConfig(backend="simple", epochs=100_000)).start()
    job.stop()
    assert job.join(timeout=60)
    view = job.progress()
    assert view.state == "stopped" and len(view.curves) < 100_000
    assert job.result.state.stopped


def test_a_training_job_leaves_the_page_thread_room_to_run(tmp_path):
    # The server's thread reads sockets and files, releasing the interpreter each time; a job
    # of small steps used to take it back for ~200 ms per read (200 reads: 10-43 s), so the
    # page stopped redrawing and Stop waited behind the run.
    job = TrainJob(CLASSIC, TrainConfig(backend="fast", epochs=100_000)).start()
    try:
        while job.progress().last is None:  # past compiling, training in small steps
            assert job.join(timeout=0.05) is False
        path = tmp_path / "page.txt"
        path.write_text("x")
        start = time.perf_counter()
        for _ in range(200):
            path.read_text()
        assert time.perf_counter() - start < 5.0
        assert job.running
    finally:
        job.stop()
        assert job.join(timeout=60)


def test_a_failing_job_says_why(monkeypatch):
    from minitorch import cuda_ops

    monkeypatch.setattr(cuda_ops.cuda, "is_available", lambda: False)  # no GPU, no simulator
    job = TrainJob(CLASSIC, TrainConfig(backend="cuda", epochs=2)).start()
    assert job.join(timeout=60)
    assert job.state == "failed" and "--backend cuda" in job.error and "NVIDIA GPU" in job.error
