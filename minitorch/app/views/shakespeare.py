"""Shakespeare: a character-level GPT. Train a small one in the background (the task's own
loop) or load a checkpoint from `minitorch train shakespeare`; type a prompt, generate text,
and see where every head of every layer looks."""

from dataclasses import dataclass, field, replace
from typing import Any

import streamlit as st

from minitorch.app.common import show_figure
from minitorch.app.forms import config_form
from minitorch.app.job import TrainJob
from minitorch.app.tasks_view import REFRESH_SECONDS, load_model
from minitorch.backends import available_backends
from minitorch.tasks.errors import TaskError
from minitorch.tasks.registry import task_named
from minitorch.tasks.shakespeare.data import Vocabulary
from minitorch.tasks.shakespeare.generate import sample
from minitorch.tasks.shakespeare.model import build_model, vocabulary_of
from minitorch.tasks.shakespeare.pictures import PROMPT, attention_for
from minitorch.viz.attention import plot_attention_maps, plot_loss_curves

MAX_TOKENS = 1_000  # characters per generation: a speech, not a play
TASK = task_named("shakespeare")


@dataclass
class Model:
    """The page's GPT and where it came from."""

    model: Any
    vocabulary: Vocabulary
    source: str  # "trained here" or the checkpoint path
    samples: list[Any] = field(default_factory=list)  # a run's samples, one per evaluation


def show_job(job: TrainJob) -> None:
    """The job's progress bar, its latest evaluation, and the loss curves: one copy of its
    reports."""
    view = job.progress()
    s, last = view.step, view.last
    if view.compiling:
        st.progress(0.0, text=f"{job.label}: compiling the fast kernels once ({view.state})")
    elif s is not None:
        total = job.config.iters
        st.progress(
            min(1.0, s.iteration / total),
            text=f"{job.label}: iteration {s.iteration} "
            f"of {total}, batch loss {s.loss:.4f} ({view.state})",
        )
    else:
        st.progress(0.0, text=f"{job.label}: reading the text ... ({view.state})")
    if view.state == "failed":
        st.error(f"Training failed: {view.error}")
    elif view.state == "stopped":
        st.warning("Stopped: the model of an unfinished run is not kept.")
    if last is not None:
        st.caption(
            f"iteration {last.iteration}: validation loss {last.val_loss:.4f} nats per "
            f"character (the whole split), training loss {last.train_loss:.4f}"
        )
        curves = view.curves
        points = list(zip(curves.iteration, curves.train_loss, curves.val_loss, strict=True))
        show_figure(plot_loss_curves([], points, title=job.label))


st.title(TASK.title)
st.markdown(
    "A GPT reads Shakespeare one character at a time and learns to predict the next "
    "one: embeddings, causal self-attention, layer norms and GELU, trained with AdamW. "
    "The task's default (`minitorch train shakespeare`: 4 blocks, 4 heads, 128 channels, "
    "2,000 iterations) reaches about 1.9 nats per character; a small model trained here "
    "for a minute already writes names, line breaks and short words."
)

mode = st.radio("model", ["Train here", "Load a checkpoint"], horizontal=True, key="mode")
if mode == "Train here":
    config = config_form(TASK.config, TASK.form_fields())
    job = st.session_state.get("shakespeare_job")
    buttons = st.columns([1, 1, 4])
    if buttons[0].button("Train", type="primary", key="train", icon=":material/play_arrow:"):
        if job is not None:
            job.stop()
        if isinstance(config, str):
            st.error(f"Cannot train: {config}")
        else:
            # the page's schedule for a short run: five evaluations, a brisk learning rate
            config = replace(
                config,
                eval_every=max(1, config.iters // 5),
                batch=12,
                lr=3e-3,
                min_lr=3e-4,
                warmup=min(100, config.iters // 10),
            )
            c = config
            label = f"GPT {c.layers}x{c.heads}x{c.embed}, context {c.block}, {c.iters} iterations"
            job = st.session_state["shakespeare_job"] = TrainJob(TASK, config, label).start()
    if buttons[1].button(
        "Stop", key="stop", icon=":material/stop:", disabled=job is None or not job.running
    ):
        job.stop()
        job.join(timeout=60)
    running = job is not None and job.running

    @st.fragment(run_every=REFRESH_SECONDS if running else None)
    def progress() -> None:
        job = st.session_state.get("shakespeare_job")
        if job is None:
            return
        show_job(job)
        if job.state == "done" and st.session_state.get("shakespeare_from") is not job:
            r = job.result
            st.session_state["shakespeare"] = Model(
                r.model, r.vocabulary, "trained here", r.samples
            )
            st.session_state["shakespeare_from"] = job
        if running and not job.running:
            st.rerun()  # the whole page: shows the new model, stops the timer

    progress()
else:
    c = st.columns([3, 1, 1])
    path = c[0].text_input(
        "checkpoint (from minitorch train shakespeare --out OUT)",
        "out/model.safetensors",
        key="path",
    )
    backend = c[1].selectbox("backend", available_backends(), key="load_backend")
    if c[2].button("Load", type="primary", key="load"):
        try:
            model, options, _ = load_model(path, "shakespeare", build_model, backend)
        except TaskError as err:
            st.error(f"Cannot load: {err}")
        else:
            st.session_state["shakespeare"] = Model(model, vocabulary_of(options), path)

loaded: Model | None = st.session_state.get("shakespeare")
if loaded is None:
    st.info("Train a model or load a checkpoint to generate text.")
    st.stop()

st.subheader(f"The model ({loaded.source})")
st.caption(repr(loaded.model))
if loaded.samples:
    with st.expander(f"What it wrote at each of its {len(loaded.samples)} evaluations"):
        for x in loaded.samples:
            st.caption(f"iteration {x.iteration}")
            st.code(x.text, language=None)
prompt = st.text_area("prompt", PROMPT, key="prompt", max_chars=500)
c = st.columns(4)
tokens = c[0].number_input("characters", 1, MAX_TOKENS, 200, key="tokens")
temperature = c[1].number_input("temperature", 0.05, 5.0, 0.8, step=0.05, key="temperature")
top_k = c[2].number_input("top-k (0: all)", 0, len(loaded.vocabulary), 0, key="top_k")
seed = c[3].number_input("seed", 0, 2**31 - 1, 0, key="seed")
try:
    loaded.vocabulary.encode(prompt)
except TaskError as err:
    st.error(str(err))
    st.stop()
if prompt and st.button("Generate", type="primary", key="generate"):
    stream = sample(
        loaded.model,
        loaded.vocabulary,
        prompt,
        int(tokens),
        float(temperature),
        int(top_k) or None,
        int(seed),
    )
    st.write_stream(stream)
if prompt:
    shown = prompt[-loaded.model.block :]
    with st.expander(
        f"Attention maps for the last {len(shown)} characters of the prompt",
        expanded=len(shown) <= 32,
    ):
        show_figure(
            plot_attention_maps(attention_for(loaded.model, loaded.vocabulary, prompt), shown)
        )
