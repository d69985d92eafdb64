"""`minitorch train mnist|sentiment` and `minitorch eval` end to end, on tiny generated data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minitorch.cli import main
from tests.test_tasks_data import write_glove, write_mnist, write_tsv

FAST = ["--backend", "fast", "--quiet"]


@pytest.fixture(scope="module")
def mnist_folder(tmp_path_factory) -> Path:
    """40 training digits (4 of each) and 10 test digits that repeat the validation ones."""
    folder = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10, dtype=np.uint8), 4)
    images = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    write_mnist(folder, "train", images, labels, gz=True)
    # --val-fraction 0.25 holds out the last of each digit's four: these are t10k
    write_mnist(folder, "test", images[3::4], labels[3::4], gz=False)
    return folder


def train_mnist(folder: Path, out: Path, *extra: str) -> dict:
    rc = main(
        [
            "train",
            "mnist",
            "--data",
            str(folder),
            "--out",
            str(out),
            "--epochs",
            "2",
            "--batch",
            "8",
            "--val-fraction",
            "0.25",
            *FAST,
            *extra,
        ]
    )
    assert rc == 0
    return json.loads((out / "metrics.json").read_text())


def test_train_mnist_writes_metrics_checkpoint_and_pictures(mnist_folder, tmp_path, capsys) -> None:
    metrics = train_mnist(mnist_folder, tmp_path)
    assert metrics["task"] == "mnist" and metrics["train_examples"] == 30 and metrics["total"] == 10
    assert metrics["accuracy"] == metrics["correct"] / 10
    assert len(metrics["train_loss"]) == len(metrics["val_accuracy"]) == 2
    assert all(np.isfinite(metrics["train_loss"]))
    for name in (
        "model.safetensors",
        "curves.png",
        "confusion.png",
        "predictions.png",
        "feature_maps.png",
    ):
        assert (tmp_path / name).stat().st_size > 1000, name
    assert "mnist: validation accuracy" in capsys.readouterr().out


def test_eval_mnist_round_trips_the_checkpoint(mnist_folder, tmp_path, capsys) -> None:
    trained = train_mnist(mnist_folder, tmp_path / "run", "--no-plots", "--seed", "3")
    rc = main(
        [
            "eval",
            "mnist",
            "--checkpoint",
            str(tmp_path / "run" / "model.safetensors"),
            "--data",
            str(mnist_folder),
            "--out",
            str(tmp_path / "eval"),
            "--backend",
            "fast",
        ]
    )
    assert rc == 0
    evaluated = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    # t10k holds exactly the validation digits: the reloaded model gives the same answers
    assert (evaluated["correct"], evaluated["total"]) == (trained["correct"], trained["total"])
    assert evaluated["accuracy"] == trained["accuracy"]
    assert (tmp_path / "eval" / "confusion.png").is_file()
    assert "mnist: accuracy" in capsys.readouterr().out


def test_same_seed_same_run(mnist_folder, tmp_path) -> None:
    a = train_mnist(
        mnist_folder, tmp_path / "a", "--no-plots", "--seed", "5", "--optimizer", "adam"
    )
    b = train_mnist(
        mnist_folder, tmp_path / "b", "--no-plots", "--seed", "5", "--optimizer", "adam"
    )
    c = train_mnist(
        mnist_folder, tmp_path / "c", "--no-plots", "--seed", "6", "--optimizer", "adam"
    )
    assert a["train_loss"] == b["train_loss"] and a["val_loss"] == b["val_loss"]
    assert a["train_loss"] != c["train_loss"]


@pytest.fixture(scope="module")
def sst_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sst2")
    good, bad = ["great", "fun", "moving"], ["dull", "awful", "flat"]
    rng = np.random.default_rng(0)

    def rows(n: int) -> list[tuple[str, int]]:
        out = []
        for i in range(n):
            label = i % 2
            words = (
                list(rng.choice(good if label else bad, 3))
                + ["the", "film", "zyzzyva"][: 1 + i % 3]
            )
            out.append((" ".join(words), label))
        return out

    write_tsv(folder / "train.tsv", rows(24))
    write_tsv(folder / "dev.tsv", rows(8) + [("", 1)])  # an empty sentence too
    write_tsv(folder / "test.tsv", rows(6))
    vectors = {w: rng.normal(size=6).round(4).tolist() for w in good + bad + ["the", "film"]}
    write_glove(folder / "glove.txt", vectors)
    return folder


def train_sentiment(folder: Path, out: Path, *extra: str) -> dict:
    rc = main(
        [
            "train",
            "sentiment",
            "--data",
            str(folder),
            "--glove",
            str(folder / "glove.txt"),
            "--out",
            str(out),
            "--epochs",
            "2",
            "--batch",
            "4",
            "--feature-maps",
            "5",
            *FAST,
            *extra,
        ]
    )
    assert rc == 0
    return json.loads((out / "metrics.json").read_text())


def test_train_and_eval_sentiment(sst_folder, tmp_path, capsys) -> None:
    trained = train_sentiment(sst_folder, tmp_path / "run", "--lr", "0.5")
    assert (
        trained["task"] == "sentiment" and trained["total"] == 9 and trained["train_examples"] == 24
    )
    assert trained["unknown_word_share"] > 0  # "zyzzyva" is not in the GloVe file
    for name in ("model.safetensors", "curves.png", "confusion.png", "sentences.png"):
        assert (tmp_path / "run" / name).stat().st_size > 1000, name
    # eval needs no training flags but the GloVe file: the checkpoint holds the architecture,
    # and names the vectors it was trained with without ever opening a file it names
    rc = main(
        [
            "eval",
            "sentiment",
            "--checkpoint",
            str(tmp_path / "run" / "model.safetensors"),
            "--data",
            str(sst_folder),
            "--split",
            "dev",
            "--glove",
            str(sst_folder / "glove.txt"),
            "--out",
            str(tmp_path / "eval"),
            "--no-plots",
        ]
    )
    assert rc == 0
    evaluated = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert (evaluated["correct"], evaluated["total"]) == (trained["correct"], trained["total"])
    rc = main(
        [
            "eval",
            "sentiment",
            "--checkpoint",
            str(tmp_path / "run" / "model.safetensors"),
            "--data",
            str(sst_folder),
            "--split",
            "test",
            "--glove",
            str(sst_folder / "glove.txt"),
            "--out",
            str(tmp_path / "eval"),
            "--no-plots",
        ]
    )
    assert rc == 0 and json.loads((tmp_path / "eval" / "metrics.json").read_text())["total"] == 6
    # without --split: dev, the split GLUE publishes with labels
    rc = main(
        [
            "eval",
            "sentiment",
            "--checkpoint",
            str(tmp_path / "run" / "model.safetensors"),
            "--data",
            str(sst_folder),
            "--glove",
            str(sst_folder / "glove.txt"),
            "--out",
            str(tmp_path / "eval"),
            "--no-plots",
        ]
    )
    assert rc == 0 and json.loads((tmp_path / "eval" / "metrics.json").read_text())["total"] == 9
    assert "sentiment: accuracy" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["train", "mnist", "--data", "{tmp}/nowhere"],
            "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]",
        ),
        (
            ["eval", "mnist", "--checkpoint", "{tmp}/model.safetensors", "--data", "{tmp}"],
            "no checkpoint at",
        ),
        (["train", "sentiment"], "needs --data FOLDER"),
        (["train", "sentiment", "--data", "{tmp}/nowhere"], "train.tsv, dev.tsv, test.tsv"),
        (["train", "mnist", "--epochs", "0"], "--epochs must be a positive integer, got 0"),
    ],
)
def test_user_errors_are_a_message_and_status_2(tmp_path, capsys, argv, message) -> None:
    rc = main([a.replace("{tmp}", str(tmp_path)) for a in argv] + ["--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_eval_refuses_a_checkpoint_of_the_other_task(
    sst_folder, mnist_folder, tmp_path, capsys
) -> None:
    train_sentiment(sst_folder, tmp_path / "run", "--no-plots", "--epochs", "1")
    rc = main(
        [
            "eval",
            "mnist",
            "--checkpoint",
            str(tmp_path / "run" / "model.safetensors"),
            "--data",
            str(mnist_folder),
            "--out",
            str(tmp_path / "eval"),
        ]
    )
    assert rc == 2 and "checkpoint of the 'sentiment' task" in capsys.readouterr().err


def test_missing_extra_says_what_to_install(tmp_path) -> None:
    # In a child process: hiding mlxtend from importlib is process-wide, and an app test's
    # training thread in this worker must never see it hidden.
    code = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda n, *a: None if n == 'mlxtend' else real(n, *a)\n"
        "from minitorch.cli import main\n"
        f"sys.exit(main(['train', 'mnist', '--out', {str(tmp_path)!r}, '--quiet']))\n"
    )
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=300
    )
    err = proc.stderr
    assert proc.returncode == 2 and 'pip install "minitorch[mnist]"' in err, err
    assert "--data FOLDER" in err


def test_classic_train_command_is_unchanged(tmp_path) -> None:
    rc = main(
        [
            "train",
            "--dataset",
            "Simple",
            "--hidden",
            "2",
            "--epochs",
            "3",
            "--points",
            "6",
            "--out",
            str(tmp_path),
            "--quiet",
            "--no-plots",
        ]
    )
    assert rc == 0 and json.loads((tmp_path / "metrics.json").read_text())["dataset"] == "Simple"
