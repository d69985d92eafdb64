import json
import os
from pathlib import Path

import pytest

from minitorch.cli import main, write_json_atomic
from minitorch.tasks.loop import EvalReport
from minitorch.train import TrainConfig, train

FIELDS = {
    "dataset",
    "backend",
    "hidden",
    "epochs",
    "lr",
    "points",
    "seed",
    "final_loss",
    "correct",
    "total",
    "accuracy",
    "seconds_per_epoch",
}


def test_cli_trains_and_writes_metrics(tmp_path: Path, capsys) -> None:
    rc = main(
        [
            "train",
            "--dataset",
            "Simple",
            "--hidden",
            "3",
            "--epochs",
            "30",
            "--points",
            "12",
            "--seed",
            "1",
            "--lr",
            "0.5",
            "--out",
            str(tmp_path),
            "--quiet",
            "--no-plots",
        ]
    )
    assert rc == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert FIELDS <= set(metrics)
    assert metrics["dataset"] == "Simple" and metrics["total"] == 12 and metrics["epochs"] == 30
    assert metrics["accuracy"] == metrics["correct"] / 12
    assert len(metrics["losses"]) == 30 and metrics["losses"][-1] < metrics["losses"][0]
    assert "Simple:" in capsys.readouterr().out


def test_the_classic_job_writes_into_its_own_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "train",
                "--epochs",
                "2",
                "--points",
                "6",
                "--hidden",
                "2",
                "--quiet",
                "--no-plots",
                "--backend",
                "simple",
            ]
        )
        == 0
    )
    assert (tmp_path / "out" / "classic" / "metrics.json").is_file()
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_same_seed_same_run() -> None:
    config = TrainConfig(dataset="Xor", hidden=4, epochs=15, points=10, seed=7)
    a, b = train(config), train(config)
    assert a.losses == b.losses and a.final_loss == b.final_loss and a.correct == b.correct


def test_training_learns_simple() -> None:
    result = train(TrainConfig(dataset="Simple", hidden=4, epochs=150, points=20, seed=0))
    assert result.correct >= 19
    assert result.final_loss < result.losses[0]


def test_callback_sees_every_epoch() -> None:
    seen = []
    train(TrainConfig(hidden=2, epochs=4, points=5), seen.append)
    evals = [r for r in seen if isinstance(r, EvalReport)]
    assert [r.epoch for r in evals] == [1, 2, 3, 4] and all(r.epochs == 4 for r in evals)


def test_one_run_reports_one_final_figure(tmp_path: Path, capsys) -> None:
    """The progress bar's last figures, the summary line, metrics.json and the loss curve's
    last point are the same evaluation of the final parameters."""
    seen = []
    result = train(TrainConfig(dataset="Xor", hidden=4, epochs=20, points=30, seed=3), seen.append)
    last = [r for r in seen if isinstance(r, EvalReport)][-1]
    assert result.final_loss == last.val_loss == result.losses[-1]
    assert result.correct == round(last.val_accuracy * 30)
    assert (
        main(
            [
                "train",
                "--dataset",
                "Xor",
                "--hidden",
                "4",
                "--epochs",
                "20",
                "--points",
                "30",
                "--seed",
                "3",
                "--out",
                str(tmp_path),
                "--no-plots",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["final_loss"] == result.final_loss and metrics["correct"] == result.correct
    assert f"final loss {result.final_loss:.4f}" in captured.out
    assert f"loss={result.final_loss:.4f}" in captured.err  # the progress bar's last postfix


@pytest.mark.parametrize(
    "args, message",
    [
        (["--points", "0"], "--points must be a positive integer, got 0"),
        (["--epochs", "-3"], "--epochs must be a positive integer, got -3"),
        (["--dataset", "Moons"], "unknown --dataset 'Moons'"),
        (["--backend", "gpu9000"], "unknown --backend 'gpu9000'"),
        (["--lr", "0"], "--lr must be a finite positive number, got 0.0"),
        (["--lr", "inf"], "--lr must be a finite positive number, got inf"),
        (["--lr", "nan"], "--lr must be a finite positive number, got nan"),
        (["--batch", "0"], "--batch must be a positive integer, got 0"),
    ],
)
def test_bad_options_exit_with_a_message_and_write_nothing(tmp_path, capsys, args, message) -> None:
    assert main(["train", "--out", str(tmp_path), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "metrics.json").exists()


def test_a_failed_write_leaves_the_old_metrics_whole(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    write_json_atomic(path, {"old": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"new": object()})  # not JSON-serialisable, fails mid-write
    assert json.loads(path.read_text()) == {"old": 1}
    assert os.listdir(tmp_path) == ["metrics.json"]  # no temporary file left behind


def test_cli_writes_the_two_pictures(tmp_path: Path) -> None:
    rc = main(
        [
            "train",
            "--dataset",
            "Diag",
            "--hidden",
            "2",
            "--epochs",
            "3",
            "--points",
            "6",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert rc == 0
    for name in ("boundary.png", "loss.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:4] == b"\x89PNG" and len(data) > 5000
