"""What the task pages share (each task's own page and the generic one): a trained (or
loaded) model in the session, and the training job's progress drawn from the loop's reports."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from ..tasks.common import load_checkpoint, read_checkpoint_metadata, save_checkpoint, task_backend
from ..tasks.loop import Curves
from .common import show_figure
from .job import TrainJob

__all__ = [
    "Loaded",
    "show_progress",
    "train_controls",
    "offer_save",
    "load_model",
    "current_model",
    "digit_from_picture",
    "REFRESH_SECONDS",
]

REFRESH_SECONDS = 1.0  # how often a running job's progress is redrawn


@dataclass
class Loaded:
    """A model ready to answer, and where it came from.

    Attributes:
        model: the network (in eval mode when used).
        backend: the tensor backend its parameters use.
        options: what rebuilds it (a checkpoint's metadata, `model_options`).
        source: "trained here" or the checkpoint path, for the page.
        val: its predictions on the validation set, when there is one.
        extra: task-specific pieces (the sentiment vocabulary).
        curves: the run's per-epoch figures (`Curves`), when trained here.
    """

    model: Any
    backend: Any
    options: dict[str, Any]
    source: str
    val: Any = None
    extra: Any = None
    curves: Curves | None = None  # the run's per-epoch figures, when trained here


def show_progress(job: TrainJob) -> None:
    """A progress bar from the job's last step, and the curves of its evaluations (before the
    first one, the batch losses so far): all from one copy of the job's reports."""
    from ..viz.tasks import plot_curves

    view = job.progress()
    s, last = view.step, view.last
    if view.compiling:
        st.progress(
            0.0,
            text=f"{job.label}: compiling the fast kernels once; later runs start at "
            f"once ... ({view.state})",
        )
    elif s is not None:
        total = getattr(job.config, "epochs", None)
        where = f"epoch {s.epoch}" + (f" of {total}" if total else "")
        where += f", step {s.step} of {s.steps}"
        st.progress(
            min(1.0, s.step / s.steps),
            text=f"{job.label}: {where}, batch loss {s.loss:.4f} ({view.state})",
        )
    else:
        st.progress(0.0, text=f"{job.label}: loading the data ... ({view.state})")
    if view.state == "failed":
        st.error(f"Training failed: {view.error}")
    elif view.state == "stopped":
        st.warning(
            "Stopped: the model of an unfinished run is not kept. Train again with fewer epochs."
        )
    if last is not None:
        summary = (
            f"after epoch {last.epoch}: validation accuracy {last.val_accuracy:.1%}, "
            f"training loss {last.train_loss:.4f}, {last.seconds:.1f} s per epoch"
        )
    else:
        summary = "the first epoch's curves appear when it ends"
    with st.expander(f"Training curves ({summary})", expanded=job.running):
        if last is not None:
            show_figure(plot_curves(view.curves.as_dict(), title=job.label))
        elif s is not None:
            st.caption(f"batch loss, epoch {s.epoch}: step {s.step} of {s.steps}")
            st.line_chart(job.step_losses(), x_label="step", y_label="batch loss", height=200)
        else:
            st.caption("waiting for the first step")


def train_controls(
    job_key: str,
    result_key: str,
    make_job: Callable[[], TrainJob | None],
    to_loaded: Callable[[Any], Any],
) -> None:
    """Train and Stop buttons, and the job's progress, redrawn on its own while it runs.

    Args:
        job_key: where the session keeps the job.
        result_key: where the job's result, as the page keeps it, goes once it is done.
        make_job: builds the job when Train is pressed, or shows why not and returns None.
        to_loaded: turns the task's result into what the page keeps (a `Loaded` model).
    """
    job = st.session_state.get(job_key)
    buttons = st.columns([1, 1, 4])
    if buttons[0].button("Train", type="primary", key="train", icon=":material/play_arrow:"):
        if job is not None:
            job.stop()
        new = make_job()
        if new is not None:
            job = st.session_state[job_key] = new.start()
    if buttons[1].button(
        "Stop", key="stop", icon=":material/stop:", disabled=job is None or not job.running
    ):
        job.stop()
        job.join(timeout=60)
    running = job is not None and job.running

    @st.fragment(run_every=REFRESH_SECONDS if running else None)
    def progress() -> None:
        job = st.session_state.get(job_key)
        if job is None:
            return
        show_progress(job)
        if job.state == "done" and st.session_state.get(f"{result_key}_from") is not job:
            st.session_state[result_key] = to_loaded(job.result)
            st.session_state[f"{result_key}_from"] = job
        if running and not job.running:
            st.rerun()  # the whole page: shows the new model, stops the timer

    progress()


def offer_save(loaded: Loaded, task: str) -> None:
    """Save a model trained here as a checkpoint that `minitorch eval TASK` and this page load."""
    if loaded.source != "trained here":
        return
    with st.expander("Save this model"):
        c = st.columns([3, 1])
        out = c[0].text_input("checkpoint file", "out/model.safetensors", key="save_path")
        if c[1].button("Save checkpoint", key="save"):
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            save_checkpoint(loaded.model, Path(out), loaded.options)
            st.success(
                f"Saved {out}: load it here, or run minitorch eval {task} --checkpoint {out}"
            )


def load_model(
    path: str, task: str, build: Callable[[dict[str, Any], Any], Any], backend_name: str
) -> tuple[Any, dict[str, Any], Any]:
    """A checkpoint of `minitorch train TASK`: the model rebuilt from its options, its
    parameters loaded; with the options and the backend. Raises the tasks' `TaskError`s."""
    options = read_checkpoint_metadata(Path(path), task)
    backend = task_backend(backend_name)
    model = build(options, backend)
    load_checkpoint(model, Path(path))
    return model, options, backend


def current_model(key: str, task: str) -> Loaded:
    """The page's model, headed by where it came from; without one, a hint ends the page."""
    loaded = st.session_state.get(key)
    if loaded is None:
        st.info("Train a model or load a checkpoint to see its answers.")
        st.stop()
    st.subheader(f"The model ({loaded.source})")
    offer_save(loaded, task)
    return loaded


def digit_from_picture(data: bytes) -> np.ndarray:
    """A picture file (PNG, JPEG) as an MNIST-style digit: 28 x 28 uint8, light ink on black.

    Raises:
        ValueError: the bytes are not a picture PIL can read.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data)).convert("L").resize((28, 28))
    except (UnidentifiedImageError, OSError):
        raise ValueError("this file is not a picture we can read: upload a PNG or JPEG") from None
    pixels = np.asarray(image, dtype=np.float64)
    if pixels.mean() > 127:  # dark ink on light paper: MNIST is the other way round
        pixels = 255.0 - pixels
    return pixels.clip(0, 255).astype(np.uint8)
