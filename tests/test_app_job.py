"""Background jobs of the app: they run, report, stop when asked, and survive failures."""

import threading

import pytest

from minitorch.app.job import TaskJob, TrainingJob
from minitorch.train import TrainConfig, train


def test_training_job_matches_the_command_line_loop():
    config = TrainConfig(dataset="Split", backend="simple", epochs=15, hidden=4)
    job = TrainingJob(config).start()
    assert job.join(timeout=60)
    snap = job.snapshot()
    assert snap.state == "done" and snap.epoch == 15 and not snap.running
    reference = train(config)  # same data, model, loss and steps: the same losses
    assert snap.losses == pytest.approx(reference.losses)
    assert 0 <= snap.correct <= snap.total == 50
    assert len(job.predict([(0.1, 0.2), (0.9, 0.9)])) == 2


def test_training_job_stops_early():
    job = TrainingJob(TrainConfig(backend="simple", epochs=100_000)).start()
    job.stop()
    assert job.join(timeout=60)
    snap = job.snapshot()
    assert snap.state == "stopped" and snap.epoch < 100_000


def test_task_job_keeps_reports_and_result():
    def run(callback):
        for i in range(3):
            callback(i)
        return "trained"

    job = TaskJob(run, label="demo").start()
    assert job.join(timeout=10)
    assert job.state == "done" and job.result == "trained" and job.reports() == [0, 1, 2]


def test_task_job_stop_ends_the_function_at_its_next_report():
    gate, seen = threading.Event(), []

    def run(callback):
        for i in range(1000):
            gate.wait(10)
            seen.append(i)
            callback(i)
        return "finished"

    job = TaskJob(run).start()
    job.stop()
    gate.set()
    assert job.join(timeout=10)
    assert job.state == "stopped" and job.result is None and seen == [0]


def test_a_failing_job_says_why():
    def run(callback):
        raise ValueError("no data here")

    job = TaskJob(run).start()
    assert job.join(timeout=10)
    assert job.state == "failed" and job.error == "ValueError: no data here"
