"""The task registry: a task is a record; the command line is generated from its config."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from minitorch.cli import main
from minitorch.layers import Linear
from minitorch.module import Module
from minitorch.optim import SGD
from minitorch.tasks import registry
from minitorch.tasks.cli import COMPILING
from minitorch.tasks.common import check_common, fit_task, task_backend, task_dtype
from minitorch.tasks.loop import (
    Batch,
    Batches,
    Curves,
    EvalReport,
    LoopState,
    batch_indices,
)
from minitorch.tasks.options import option
from minitorch.tensor_create import tensor

# ---- a throwaway task, declared through the registry alone ----------------------------------


@dataclass
class LineConfig:
    """Fit y = 2x - 1 with one linear unit."""

    points: int = option(16, "how many points")
    widths: tuple[int, ...] = option((1, 2), "unused widths, to show the tuple option")
    epochs: int = option(3, "passes over the points")
    lr: float = option(0.1, "learning rate")
    slow_first_step: float = option(0.0, "seconds the first loss call sleeps (a slow compile)")
    backend: str = option("simple", "which kernels compute")
    seed: int = option(0, "fixes the initial weights and the order")
    dtype: str = option("float64", "floating-point type")

    def __post_init__(self) -> None:
        check_common(self)


class _Line:
    def __init__(self, config: LineConfig, model: Module, backend: Any) -> None:
        self.config, self.model, self.backend = config, model, backend
        self.x = np.linspace(0, 1, config.points)
        self.y = 2 * self.x - 1
        self.calls = 0

    def _make(self, index: np.ndarray) -> Batch[Any]:
        return Batch(index, np.zeros(len(index), dtype=np.int64))

    def train_batches(self, rng: np.random.Generator) -> Batches[Any]:
        return Batches(batch_indices(self.config.points, 4, rng), self._make)

    def val_batches(self) -> Batches[Any]:
        return Batches(batch_indices(self.config.points, 8), self._make)

    def loss(self, batch: Batch[Any]) -> tuple[Any, np.ndarray]:
        self.calls += 1
        if self.calls == 1:
            time.sleep(self.config.slow_first_step)
        x = tensor(self.x[batch.x].reshape(-1, 1), backend=self.backend)
        y = tensor(self.y[batch.x].reshape(-1, 1), backend=self.backend)
        d = self.model.unit(x) - y
        return (d * d).mean(), np.zeros(len(batch.x), dtype=np.int64)


class LineModel(Module):
    def __init__(self, backend: Any) -> None:
        super().__init__()
        self.unit = Linear(1, 1, backend=backend)


@dataclass
class LineResult:
    config: LineConfig
    model: Module
    curves: Curves
    state: LoopState = field(repr=False)

    def metrics(self) -> dict[str, Any]:
        return {
            "task": "line",
            **self.curves.as_dict(),
            "compile_seconds": self.state.compile_seconds,
        }

    def checkpoint_options(self) -> dict[str, Any]:
        return {"task": "line", "schema": 1}

    def summary(self) -> str:
        return f"line: final loss {self.curves.val_loss[-1]:.4f}"


def train_line(
    config: LineConfig, callback=None, stop: threading.Event | None = None, run=None
) -> LineResult:
    backend = task_backend(config.backend)
    model = build_line({}, backend, task_dtype(config.dtype))
    state = LoopState.start(SGD(model.parameters(), config.lr), config.seed)
    options = {"task": "line", "schema": 1}
    fit_task(
        config, model, state, _Line(config, model, backend), options, None, callback, stop, run
    )
    return LineResult(config, model, state.curves, state)


def build_line(options: dict, backend: Any, dtype: Any = None) -> Module:
    return LineModel(backend)


LINE = registry.Task(
    name="line",
    title="A line",
    help="fit a line (a test's throwaway task)",
    description="Fit y = 2x - 1.",
    config=LineConfig,
    train=train_line,
    build_model=build_line,
)


@pytest.fixture
def line_task():
    registry.register(LINE)
    yield LINE
    registry._registered.pop("line", None)


def test_a_task_added_through_the_registry_trains_from_the_command_line(
    line_task, tmp_path, capsys
):
    rc = main(
        [
            "train",
            "line",
            "--epochs",
            "4",
            "--lr",
            "0.5",
            "--widths",
            "3,4",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert rc == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["task"] == "line" and len(metrics["val_loss"]) == 4
    assert metrics["val_loss"][-1] < metrics["val_loss"][0]
    assert (tmp_path / "model.safetensors").is_file()
    assert "line: final loss" in capsys.readouterr().out


def test_the_train_help_lists_every_registered_task(line_task, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for name in ("classic", "mnist", "sentiment", "line"):
        assert name in out


def test_options_come_from_the_config_fields_with_each_default_once(line_task, capsys):
    with pytest.raises(SystemExit):
        main(["train", "line", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--points POINTS how many points (default: 16)" in out
    assert "--widths WIDTHS unused widths, to show the tuple option (default: 1,2)" in out
    assert "(default: None)" not in out and out.count("(default: 16)") == 1


def test_a_bad_option_value_is_a_message(line_task, capsys):
    with pytest.raises(SystemExit):
        main(["train", "line", "--widths", "3,x"])
    assert "expected comma-separated integers" in capsys.readouterr().err
    assert main(["train", "line", "--backend", "abacus"]) == 2
    assert "unknown --backend 'abacus'" in capsys.readouterr().err


def test_the_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("train", "eval", "app"):
        assert command in out


def test_every_task_writes_into_its_own_folder_by_default(line_task, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "line", "--epochs", "1", "--quiet"]) == 0
    assert (tmp_path / "out" / "line" / "metrics.json").is_file()


def test_a_slow_first_step_is_announced_and_kept_out_of_the_epoch_times(
    line_task, tmp_path, capsys
):
    rc = main(
        [
            "train",
            "line",
            "--backend",
            "fast",
            "--slow-first-step",
            "1.5",
            "--epochs",
            "2",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    err = capsys.readouterr().err
    assert COMPILING in err and "kept out of the epoch times" in err
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["compile_seconds"] >= 1.5 and max(metrics["seconds"]) < 1.5


def test_a_quick_first_step_says_nothing_about_compiling(line_task, tmp_path, capsys):
    assert (
        main(["train", "line", "--backend", "fast", "--epochs", "1", "--out", str(tmp_path)]) == 0
    )
    assert COMPILING not in capsys.readouterr().err


def test_unknown_tasks_are_named():
    with pytest.raises(KeyError, match="unknown task 'nope'; the tasks are classic, mnist"):
        registry.task_named("nope")


def test_every_registered_task_declares_the_common_options():
    for name in registry.REGISTRY:
        fields = registry.task_named(name).config.__dataclass_fields__
        assert {"backend", "seed", "dtype"} <= set(fields), name


def test_float32_is_refused_clearly_until_the_core_has_it(tmp_path, capsys):
    import minitorch

    rc = main(
        [
            "train",
            "--dtype",
            "float32",
            "--epochs",
            "1",
            "--points",
            "4",
            "--hidden",
            "2",
            "--backend",
            "simple",
            "--out",
            str(tmp_path),
            "--quiet",
            "--no-plots",
        ]
    )
    if hasattr(minitorch, "float32"):
        assert rc == 0
    else:
        assert rc == 2 and "computes in float64 only" in capsys.readouterr().err


def test_threads_are_checked_and_set(tmp_path, capsys):
    import numba

    rc = main(["train", "--threads", "0", "--epochs", "1", "--out", str(tmp_path), "--quiet"])
    assert rc == 2 and "--threads: threads must be an integer from 1 to" in capsys.readouterr().err
    before = numba.get_num_threads()
    try:
        rc = main(
            [
                "train",
                "--threads",
                "1",
                "--epochs",
                "1",
                "--points",
                "4",
                "--hidden",
                "2",
                "--out",
                str(tmp_path),
                "--quiet",
                "--no-plots",
            ]
        )
        assert rc == 0 and numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)


def test_mnist_keeps_its_name_and_is_titled_for_pages():
    task = registry.task_named("mnist")
    assert task.name == "mnist" and task.title == "MNIST digits"


def test_thinned_curves_keep_the_ends_and_each_points_epoch():
    curves = Curves()
    for epoch in range(1, 1002):
        curves.add(EvalReport(epoch, 1001, epoch, None, 0.0, 0.0, 1.0 / epoch, 0.5, 0.01))
    thin = curves.thinned(100)
    assert 50 <= len(thin) <= 101
    assert thin.epoch[0] == 1 and thin.epoch[-1] == 1001
    assert thin.val_loss == [1.0 / e for e in thin.epoch]
    assert curves.thinned(2000).epoch == curves.epoch and len(curves) == 1001
