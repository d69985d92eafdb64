"""Sentiment: the course's Kim CNN over GloVe word vectors. Train it on SST-2 sentences (a
folder in GLUE's layout) or load a checkpoint from `minitorch train sentiment`; see the dev
predictions and confusion matrix; type a sentence and get P(positive)."""

import os
from pathlib import Path

import numpy as np
import streamlit as st

from minitorch.app.common import app_message, show_figure
from minitorch.app.forms import config_form
from minitorch.app.job import TrainJob
from minitorch.app.tasks_view import Loaded, current_model, load_model, train_controls
from minitorch.backends import available_backends
from minitorch.tasks.common import task_backend
from minitorch.tasks.errors import TaskError
from minitorch.tasks.registry import task_named
from minitorch.tasks.sentiment.data import Sentences, load_split, tokenize
from minitorch.tasks.sentiment.train import SentimentConfig, build_model, score, vectors_for
from minitorch.viz.tasks import plot_confusion, plot_sentences

MAX_SENTENCE = 2_000  # characters: a review, not a book
TASK = task_named("sentiment")
DATA_ENV = "MINITORCH_SST2"  # where the page looks for SST-2 first


def trained(result) -> Loaded:
    """A finished run of the task (`minitorch train sentiment`'s) as the page's model."""
    c = result.config
    return Loaded(
        result.model,
        task_backend(c.backend),
        result.checkpoint_options(),
        "trained here",
        result.val,
        result.vocabulary,
        result.curves,
    )


def data_problem(folder: str) -> str | None:
    """Why `folder` is no SST-2 folder (in the page's words), or None when it is one."""
    path = Path(folder)
    missing = [name for name in ("train.tsv", "dev.tsv") if not (path / name).is_file()]
    if not path.is_dir():
        return (
            f"There is no folder {folder} here. Download GLUE's SST-2 (it holds train.tsv and "
            f'dev.tsv) and type its folder in "SST-2 folder" (or set {DATA_ENV} before '
            f"starting the app)."
        )
    if missing:
        return f"The folder {folder} has no {' or '.join(missing)}: it is not GLUE's SST-2 folder."
    return None


def p_positive(loaded: Loaded, text: str) -> tuple[float, list[str], list[str]]:
    """The model's P(positive) for one sentence, its words, and the words GloVe does not know."""
    words = tokenize(text)
    vocabulary = vectors_for(set(words), loaded.options["vectors"])
    sentences = Sentences([words], np.zeros(1, dtype=np.int64), [text])
    scores = score(
        loaded.model, vocabulary, sentences, tuple(loaded.options["filter_sizes"]), loaded.backend
    )
    return float(scores.probs[0]), words, [w for w in words if w not in vocabulary.index]


st.title(TASK.title)
st.markdown(
    "The course's sentence classifier: 1-D convolutions of widths 3, 4 and 5 slide over "
    "the sentence's 50-d GloVe word vectors, each map keeps its strongest response, and "
    "one linear unit reads them: P(positive) is its sigmoid. Training needs SST-2: a "
    "folder with GLUE's `train.tsv` and `dev.tsv` (`sentence<TAB>label`)."
)

mode = st.radio("model", ["Train here", "Load a checkpoint"], horizontal=True, key="mode")
if mode == "Train here":
    given = {"data": os.environ[DATA_ENV]} if DATA_ENV in os.environ else {}
    config = config_form(TASK.config, TASK.form_fields(), defaults=given)
    data = st.session_state["data"]
    problem = data_problem(data)
    if problem:
        st.info(problem)

    def make_job() -> TrainJob | None:
        if data_problem(data):
            st.error(f"Cannot train: {data_problem(data)}")
            return None
        if isinstance(config, str):
            st.error(f"Cannot train: {config}")
            return None
        try:
            load_split(config.data, "dev")  # an unreadable file is a message now, not a failed job
        except TaskError as err:
            st.error(f"Cannot train: {app_message(err, SentimentConfig)}")
            return None
        c = config
        label = (
            f"Kim CNN on {c.train_size or 'all'} sentences, {c.feature_maps} maps, "
            f"{c.optimizer} lr {c.lr}"
        )
        return TrainJob(TASK, config, label=label)

    train_controls("sentiment_job", "sentiment", make_job, trained)
else:
    c = st.columns([3, 2, 1, 1])
    path = c[0].text_input(
        "checkpoint (from minitorch train sentiment --out OUT)", "out/model.safetensors", key="path"
    )
    data = c[1].text_input("SST-2 folder for dev predictions (optional)", "", key="dev_data")
    backend = c[2].selectbox("backend", available_backends(), key="load_backend")
    if c[3].button("Load", type="primary", key="load"):
        try:
            model, options, backend = load_model(path, "sentiment", build_model, backend)
            val = None
            if data.strip():
                dev = load_split(Path(data), "dev")
                vocabulary = vectors_for({w for s in dev.words for w in s}, options["vectors"])
                val = score(model, vocabulary, dev, tuple(options["filter_sizes"]), backend)
            st.session_state["sentiment"] = Loaded(model, backend, options, path, val)
        except TaskError as err:
            st.error(f"Cannot load {path}: {app_message(err, SentimentConfig)}")

loaded = current_model("sentiment", "sentiment")

text = st.text_input(
    "Type a sentence", "a gripping , beautifully acted film", key="sentence", max_chars=MAX_SENTENCE
)
if text.strip():
    prob, words, unknown = p_positive(loaded, text)
    c = st.columns(3)
    c[0].metric("the model says", "positive" if prob > 0.5 else "negative")
    c[1].metric("P(positive)", f"{prob:.3f}")
    c[2].metric(
        "words GloVe knows",
        f"{len(words) - len(unknown)} of {len(words)}",
        help="unknown words read as zero vectors"
        + (f": {', '.join(unknown[:10])}" if unknown else ""),
    )

val = loaded.val
if val is not None and len(val.sentences):
    st.metric(
        "dev accuracy",
        f"{val.accuracy:.1%}",
        help=f"{val.correct} of {len(val.sentences)} sentences right",
    )
    curves = loaded.curves
    if curves is not None and len(curves) > 1:
        best = max(range(len(curves)), key=lambda i: curves.val_accuracy[i])
        if curves.val_accuracy[best] > val.accuracy:
            st.caption(
                f"The best epoch was epoch {best + 1} of {len(curves)}, with "
                f"{curves.val_accuracy[best]:.1%} on dev; the model here is the last epoch's. "
                "Train for fewer epochs (or with a smaller learning rate) to keep a better one."
            )
    sure_tab, confusion_tab = st.tabs(["Dev predictions", "Confusion matrix"])
    with sure_tab:
        show_figure(plot_sentences(val.sentences.text, val.sentences.labels, val.probs))
    with confusion_tab:
        show_figure(
            plot_confusion(
                val.confusion(),
                ["negative", "positive"],
                title=f"Dev sentences: {val.correct}/{len(val.sentences)} right",
            )
        )
