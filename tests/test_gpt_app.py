"""The Shakespeare page, headless: train a tiny GPT in the background, generate from it,
see its attention maps; load a checkpoint written by the task's own code."""

import random

import pytest

pytest.importorskip("streamlit")

from minitorch.tasks.common import save_checkpoint
from minitorch.tasks.shakespeare.model import build_model
from tests.app_testing import ok, page

TIMEOUT = 180


def test_shakespeare_page_trains_generates_and_shows_attention() -> None:
    at = page("shakespeare", timeout=TIMEOUT)
    assert "Train a model" in at.info[0].value
    at.number_input(key="iters").set_value(10).run()
    at.number_input(key="layers").set_value(1).run()
    at.select_slider(key="embed").set_value(16).run()
    at.select_slider(key="block").set_value(16).run()
    at.button(key="train").click().run()
    job = at.session_state["shakespeare_job"]
    assert job.join(timeout=TIMEOUT), "training did not finish"
    assert job.state == "done", job.error
    ok(at.run())
    assert at.subheader[0].value == "The model (trained here)"
    assert not at.error
    assert [e.label for e in at.expander] == [
        "What it wrote at each of its 5 evaluations",  # 10 iterations, one every 2
        "Attention maps for the last 16 characters of the prompt",  # the model's context
    ]
    at.number_input(key="tokens").set_value(30).run()
    at.button(key="generate").click().run()
    ok(at)
    at.text_area(key="prompt").input("ROMEO\u00e9").run()
    assert "'\u00e9' is not in the model's vocabulary" in ok(at).error[0].value


def test_shakespeare_page_loads_a_checkpoint(tmp_path) -> None:
    import minitorch

    options = {
        "task": "shakespeare",
        "schema": 1,
        "dtype": "float64",
        "vocabulary": "\n !ABCDEMORabcdeo",
        "block": 8,
        "layers": 1,
        "heads": 2,
        "embed": 8,
        "dropout": 0.0,
    }
    model = build_model(options, minitorch.FastBackend, seed=random.Random(0).randrange(9))
    path = tmp_path / "model.safetensors"
    save_checkpoint(model, path, options)
    at = page("shakespeare", timeout=TIMEOUT)
    at.radio(key="mode").set_value("Load a checkpoint").run()
    at.text_input(key="path").input(str(tmp_path / "missing.safetensors")).run()
    at.button(key="load").click().run()
    assert "no checkpoint at" in ok(at).error[0].value
    at.text_input(key="path").input(str(path)).run()
    at.button(key="load").click().run()
    assert ok(at).subheader[0].value == f"The model ({path})"
    # the default prompt holds characters this vocabulary lacks: a message, no maps
    assert "not in the model's vocabulary" in at.error[0].value and not at.expander
    at.text_area(key="prompt").input("ROMEO").run()
    at.button(key="generate").click().run()
    assert not ok(at).error
    assert at.expander[0].label == "Attention maps for the last 5 characters of the prompt"
    generated = at.markdown[-1].value
    assert len(generated) == 200 and set(generated) <= set(options["vocabulary"])
