"""The shakespeare task at tiny sizes: data and its errors, config checks, the whole-split
evaluation, a training run through the command line, eval and generate from its checkpoint."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np
import pytest

import minitorch
from minitorch.attention import GPT
from minitorch.cli import main
from minitorch.tasks.errors import DataError, MissingData, TaskError
from minitorch.tasks.registry import task_named
from minitorch.tasks.shakespeare.commands import generate_command
from minitorch.tasks.shakespeare.data import Vocabulary, load_text
from minitorch.tasks.shakespeare.generate import sample
from minitorch.tasks.shakespeare.train import ShakespeareConfig, evaluate
from minitorch.transformer_functions import cross_entropy

TINY = {
    "iters": 6,
    "eval_every": 3,
    "block": 8,
    "batch": 2,
    "layers": 1,
    "heads": 2,
    "embed": 8,
    "sample_tokens": 10,
    "warmup": 2,
}


def test_the_package_text_is_tiny_shakespeare_split_90_10() -> None:
    text = load_text(None)
    assert len(text.vocabulary) == 65
    assert len(text.train) + len(text.val) == 1_115_394
    assert len(text.train) == 1_003_854
    assert text.vocabulary.decode(text.train[:14]) == "First Citizen:"


def test_data_errors_name_the_file_and_the_problem(tmp_path: Path) -> None:
    with pytest.raises(MissingData, match="no text file at"):
        load_text(tmp_path / "none.txt")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00abc")
    with pytest.raises(DataError, match="not UTF-8"):
        load_text(binary)
    short = tmp_path / "short.txt"
    short.write_text("abcdefghij")
    with pytest.raises(DataError, match="leaves 9 to train and 1 to validate"):
        load_text(short, min_length=9)
    with pytest.raises(DataError, match="'z' is not in the model's vocabulary"):
        Vocabulary("abc").encode("abz")


def test_config_names_bad_options() -> None:
    with pytest.raises(TaskError, match="--heads 3 must divide --embed 8"):
        ShakespeareConfig(heads=3, embed=8)
    with pytest.raises(TaskError, match="--eval-every must be a positive integer"):
        ShakespeareConfig(eval_every=0)
    with pytest.raises(TaskError, match="--dtype 'float16'"):
        ShakespeareConfig(dtype="float16")
    with pytest.raises(TaskError, match="--min-lr"):
        ShakespeareConfig(lr=1e-4, min_lr=1e-3)


def test_evaluate_reads_every_character_once_in_consecutive_windows() -> None:
    model = GPT(
        5, 4, layers=1, heads=1, embed=4, backend=minitorch.FastBackend, rng=random.Random(0)
    )
    ids = np.random.default_rng(0).integers(0, 5, 23)  # 22 predictions: 5 windows of 4, then 2

    def loss(s: int, n: int) -> float:
        logits = model(ids[s : s + n][None]).view(n, 5)
        return cross_entropy(logits, ids[s + 1 : s + n + 1]).item()

    windows = ((0, 4), (4, 4), (8, 4), (12, 4), (16, 4), (20, 2))
    expected = sum(loss(s, n) * n for s, n in windows) / 22
    assert evaluate(model, ids) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(TaskError, match="cannot evaluate on 1 characters"):
        evaluate(model, ids[:1])


def test_the_registry_runs_train_eval_and_generate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert task_named("shakespeare").title == "Tiny Shakespeare"
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question.\n" * 30)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]
    run = tmp_path / "run"
    assert (
        main(["train", "shakespeare", *flags, f"--data={corpus}", f"--out={run}", "--quiet"]) == 0
    )
    metrics = json.loads((run / "metrics.json").read_text())
    assert {p.name for p in run.iterdir()} >= {
        "metrics.json",
        "model.safetensors",
        "curves.png",
        "attention.png",
    }
    assert len(metrics["step_losses"]) == 6 and metrics["curves"]["iteration"] == [3, 6]
    assert [s["iteration"] for s in metrics["samples"]] == [3, 6]
    assert all(len(s["text"]) == 11 for s in metrics["samples"])  # prompt + 10 characters
    assert metrics["val_loss"] == metrics["curves"]["val_loss"][-1]
    assert metrics["peak_memory_mb"] > 0

    assert (
        main(
            [
                "eval",
                "shakespeare",
                f"--checkpoint={run / 'model.safetensors'}",
                f"--data={corpus}",
                f"--out={tmp_path / 'eval'}",
            ]
        )
        == 0
    )
    evaluated = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert evaluated["val_loss"] == pytest.approx(metrics["val_loss"], rel=1e-12)

    streams = []
    for _ in range(2):
        out = io.StringIO()
        generate_command(run / "model.safetensors", "to be", 12, top_k=3, seed=7, stream=out)
        streams.append(out.getvalue())
    assert streams[0] == streams[1] and streams[0].startswith("to be") and len(streams[0]) == 18
    capsys.readouterr()
    assert (
        main(
            [
                "generate",
                "--checkpoint",
                str(run / "model.safetensors"),
                "--prompt",
                "to",
                "--tokens",
                "5",
            ]
        )
        == 0
    )
    assert len(capsys.readouterr().out) == 2 + 5 + 1
    assert main(["generate", "--checkpoint", str(tmp_path / "none.safetensors")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err


def test_sample_checks_its_options_and_streams_lazily() -> None:
    model = GPT(3, 4, layers=1, heads=1, embed=4, rng=random.Random(0))
    vocabulary = Vocabulary("abc")
    stream = sample(model, vocabulary, "ab", 5)
    assert len(next(stream)) == 1  # one character at a time
    for options, message in (
        ({"prompt": ""}, "at least one character"),
        ({"temperature": 0.0}, "--temperature must be positive"),
        ({"top_k": 0}, "--top-k must be a positive"),
    ):
        kwargs = {"prompt": "a", **options}
        with pytest.raises(TaskError, match=message):
            next(sample(model, vocabulary, kwargs.pop("prompt"), 3, **kwargs))
