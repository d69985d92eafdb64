"""The app's task pages are generated from the task registry: a task registered alone gets a
sidebar entry and a page that trains it, and every task's training form builds the config the
command line builds from the same values."""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from minitorch.app import APP_PATH  # noqa: E402
from minitorch.app.views import pages  # noqa: E402
from minitorch.cli import main  # noqa: E402
from minitorch.tasks import registry  # noqa: E402
from minitorch.tasks.common import (  # noqa: E402
    load_checkpoint,
    read_checkpoint_metadata,
    seed_everything,
    task_backend,
)
from minitorch.tasks.options import add_options, config_from, flag, option  # noqa: E402
from minitorch.tensor_create import tensor  # noqa: E402
from tests.app_testing import metrics, ok  # noqa: E402
from tests.test_task_registry import LINE, build_line, train_line  # noqa: E402

TIMEOUT = 120


def train_seeded_line(config, callback=None, stop=None, run=None):  # noqa: ANN001, ANN201
    """The throwaway task's training, seeded as every real task's is (same seed, same run)."""
    seed_everything(config.seed)
    return train_line(config, callback, stop, run)


def line_pictures(result, out: Path) -> None:  # noqa: ANN001
    """One picture, as a task's `pictures` writes them: a bar per evaluation's loss."""
    from PIL import Image

    losses = result.curves.val_loss
    bars = Image.new("L", (8 * len(losses), 40), 0)
    for i, loss in enumerate(losses):
        bars.paste(255, (8 * i, 40 - int(40 * min(1.0, loss / max(losses))), 8 * i + 6, 40))
    bars.save(out / "losses.png")


@dataclass
class LineEvalConfig:
    checkpoint: Path = option(help="model.safetensors written by minitorch train line")
    backend: str = option("simple", "which kernels compute")


@dataclass
class LineEvaluation:
    loss: float

    def metrics(self) -> dict[str, Any]:
        return {"task": "line", "loss": self.loss}

    def summary(self) -> str:
        return f"line: loss {self.loss:.4f}"


def evaluate_line(config: LineEvalConfig) -> LineEvaluation:
    """The checkpoint's mean squared error on the 16 training points of y = 2x - 1."""
    options = read_checkpoint_metadata(config.checkpoint, "line")
    backend = task_backend(config.backend)
    model = build_line(options, backend)
    load_checkpoint(model, config.checkpoint)
    x = np.linspace(0, 1, 16).reshape(-1, 1)
    d = model.unit(tensor(x, backend=backend)).to_numpy() - (2 * x - 1)
    return LineEvaluation(float((d * d).mean()))


# a throwaway task, declared through the registry alone (tests/test_task_registry.py's line
# fit), seeded, drawing a picture and evaluating checkpoints as the real tasks do
SEEDED_LINE = dataclasses.replace(
    LINE,
    train=train_seeded_line,
    pictures=line_pictures,
    eval_config=LineEvalConfig,
    evaluate=evaluate_line,
)


@pytest.fixture
def line_task():
    registry.register(SEEDED_LINE)
    yield SEEDED_LINE
    registry._registered.pop("line", None)


def generic_page(name: str) -> None:
    """An AppTest script: the generic page of task `name`, as the sidebar runs it."""
    from minitorch.app.task_page import task_page

    task_page(name)()


def form_of(name: str) -> None:
    """An AppTest script: task `name`'s training form alone; the config goes to the session."""
    import streamlit as st

    from minitorch.app.forms import config_form
    from minitorch.tasks.registry import task_named

    task = task_named(name)
    st.session_state["config"] = config_form(task.config, task.form_fields())


def widget(at: AppTest, key: str) -> Any:
    """The form's widget with this key, whatever its kind."""
    for kind in ("number_input", "select_slider", "selectbox", "text_input", "checkbox"):
        try:
            return getattr(at, kind)(key=key)
        except KeyError:
            continue
    raise KeyError(f"no widget with key {key!r}")


def test_a_task_registered_alone_is_listed_with_its_records_title_and_icon(line_task):
    entry = next(p for p in pages() if p.task == "line")
    assert (entry.title, entry.icon, entry.url, entry.path) == (
        "A line",
        registry.Task.icon,  # no icon given: the record's default
        "line",
        None,  # no page of its own: the generic one
    )
    at = ok(AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT).run())
    # AppTest has no public list of the navigation's pages (nor a way to open a page that is
    # a function); switch_page reads the same table
    registered = {info.get("url_pathname"): h for h, info in at._registered_pages.items()}
    assert {p.url for p in pages() if not p.default} <= set(registered)
    at._page_hash = registered["line"]
    assert ok(at.run()).title[0].value == "A line"
    registry._registered.pop("line")
    assert "line" not in {p.url for p in pages()}  # the sidebar follows the registry


def test_the_generic_page_trains_a_registered_task_as_the_command_line_does(line_task, tmp_path):
    at = ok(AppTest.from_function(generic_page, args=("line",), default_timeout=TIMEOUT).run())
    assert at.title[0].value == "A line" and "press **Train**" in at.info[0].value
    assert [w.label for w in at.number_input] == [
        "points",
        "epochs",
        "lr",
        "slow first step",
        "seed",
    ]
    widget(at, "epochs").set_value(4).run()
    widget(at, "lr").set_value(0.5).run()
    widget(at, "widths").input("3, 4").run()
    widget(at, "backend").set_value("simple").run()
    at.button(key="train").click().run()
    job = at.session_state["line_job"]
    assert job.config == LINE.config(epochs=4, lr=0.5, widths=(3, 4), backend="simple")
    assert job.join(timeout=TIMEOUT) and job.state == "done", job.error
    ok(at.run())
    assert at.success[0].value.startswith("line: final loss")
    shown = metrics(at)
    assert float(shown["compile seconds"]) >= 0
    assert any("Training curves" in e.label for e in at.expander)
    # the same run from the command line: the same numbers
    args = ["train", "line", "--epochs", "4", "--lr", "0.5", "--widths", "3,4"]
    assert main([*args, "--backend", "simple", "--out", str(tmp_path), "--quiet"]) == 0
    cli = json.loads((tmp_path / "metrics.json").read_text())
    assert job.progress().curves.val_loss == cli["val_loss"]
    assert [image.captions for image in at.image][-1] == ["losses"]  # the record's picture
    # the record evaluates checkpoints: the page evaluates the command line's
    at.radio(key="mode").set_value("Evaluate a checkpoint").run()
    widget(at, "checkpoint").input(str(tmp_path / "missing.safetensors")).run()
    at.button(key="evaluate").click().run()
    message = ok(at).error[0].value
    assert message.startswith("Cannot evaluate:") and "no checkpoint" in message
    widget(at, "checkpoint").input(str(tmp_path / "model.safetensors")).run()
    at.button(key="evaluate").click().run()
    expected = evaluate_line(LineEvalConfig(tmp_path / "model.safetensors"))
    assert ok(at).success[0].value == expected.summary()
    assert metrics(at)["loss"] == f"{expected.loss:.4g}"


def test_the_generic_page_says_why_it_cannot_train(line_task):
    at = ok(AppTest.from_function(generic_page, args=("line",), default_timeout=TIMEOUT).run())
    widget(at, "widths").input("3, x").run()
    at.button(key="train").click().run()
    assert ok(at).error[0].value.startswith("Cannot train: widths: expected whole numbers")
    assert "line_job" not in at.session_state
    widget(at, "widths").input("1").run()
    widget(at, "backend").set_value("simple").run()
    widget(at, "dtype").input("float16").run()  # the config's own check, in the page's words
    at.button(key="train").click().run()
    message = ok(at).error[0].value
    assert message.startswith("Cannot train: unknown") and '"dtype"' in message
    assert "--" not in message and "line_job" not in at.session_state


def _other(values: list[Any], current: Any) -> Any:
    return next(v for v in values if v != current)


def new_value(cls: type, spec: registry.AppField, current: Any) -> Any:
    """A value of the field, different from the form's first one, that the form offers."""
    field = next(f for f in dataclasses.fields(cls) if f.name == spec.name)
    kind = typing.get_type_hints(cls)[spec.name]
    kind = next((a for a in typing.get_args(kind) if a is not type(None)), kind)
    choices = spec.choices or field.metadata.get("choices")
    if spec.name == "backend":
        return _other(["simple", "fast"], current)
    if callable(choices):
        choices = choices()
    if choices:
        return _other(list(choices), current)
    if kind is Path:
        return Path("some/folder")
    if kind is int:
        low, high = spec.bounds or (0, 10**6)
        return _other([int(low) + 1, int(high)], current)
    if kind is float:
        return _other([0.125, 0.25], current)
    raise AssertionError(f"no test value for {spec.name}: {kind}")


def cli_config(cls: type, values: dict[str, Any]) -> Any:
    """The config the command line's options (`options.add_options`) build from `values`."""
    parser = argparse.ArgumentParser()
    add_options(parser, cls)
    argv = [part for name, value in values.items() for part in (flag(name), str(value))]
    return config_from(cls, parser.parse_args(argv))


@pytest.mark.parametrize("name", list(registry.REGISTRY))
def test_each_tasks_form_builds_the_command_lines_config_for_the_same_values(name):
    task = registry.task_named(name)
    at = ok(AppTest.from_function(form_of, args=(name,), default_timeout=TIMEOUT).run())
    first = at.session_state["config"]
    assert not isinstance(first, str), first  # the form's first values make a config
    chosen = {}
    for spec in task.form_fields():
        chosen[spec.name] = new_value(task.config, spec, getattr(first, spec.name))
        box = widget(at, spec.name)
        if hasattr(box, "input"):
            box.input(str(chosen[spec.name]))
        else:
            box.set_value(chosen[spec.name])
        ok(at.run())
    config = at.session_state["config"]
    assert not isinstance(config, str), config
    assert config == cli_config(task.config, chosen)
    assert all(getattr(config, k) == v for k, v in chosen.items())


def test_the_training_page_and_the_command_line_give_the_same_numbers(tmp_path):
    at = ok(
        AppTest.from_file(
            str(APP_PATH.parent / "views" / "training.py"), default_timeout=TIMEOUT
        ).run()
    )
    settings = {"dataset": "Split", "hidden": 4, "epochs": 15, "seed": 5, "backend": "simple"}
    for key, value in settings.items():
        widget(at, key).set_value(value).run()
    at.button(key="train").click().run()
    job = at.session_state["job"]
    assert job.join(timeout=TIMEOUT) and job.state == "done", job.error
    ok(at.run())
    args = [part for k, v in settings.items() for part in (flag(k), str(v))]
    assert main(["train", *args, "--out", str(tmp_path), "--quiet", "--no-plots"]) == 0
    cli = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics(at)["loss"] == f"{cli['final_loss']:.4f}"
    assert metrics(at)["correct"] == f"{cli['correct']}/50"
    assert job.progress().curves.val_loss == cli["losses"]


def test_a_form_field_the_config_lacks_is_named():
    bad = dataclasses.replace(LINE, app_fields=("epochs", registry.AppField("depth")))
    with pytest.raises(ValueError, match="app_fields depth are not fields of LineConfig"):
        bad.form_fields()
    assert [f.name for f in LINE.form_fields()][:3] == ["points", "widths", "epochs"]
