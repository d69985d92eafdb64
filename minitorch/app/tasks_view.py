"""What the Digits and Sentiment pages share: a trained (or loaded) model in the session,
and the training job's progress drawn from its reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from ..tasks.common import EpochReport, History, StepReport
from .common import show_figure
from .job import TaskJob

__all__ = ["Loaded", "show_progress"]


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
    """

    model: Any
    backend: Any
    options: dict[str, Any]
    source: str
    val: Any = None
    extra: Any = None


def show_progress(job: TaskJob) -> None:
    """A progress bar from the job's last step report, and the curves of finished epochs."""
    from ..viz.tasks import plot_curves

    reports = job.reports()
    epochs = [r for r in reports if isinstance(r, EpochReport)]
    steps = [r for r in reports if isinstance(r, StepReport)]
    if steps:
        s = steps[-1]
        total = epochs[0].epochs if epochs else None
        where = f"epoch {s.epoch}" + (f" of {total}" if total else "") + f", step {s.step} of {s.steps}"
        st.progress(min(1.0, s.step / s.steps), text=f"{job.label}: {where}, batch loss {s.loss:.4f} ({job.state})")
    else:
        st.progress(0.0, text=f"{job.label}: loading data and compiling kernels ... ({job.state})")
    if job.state == "failed":
        st.error(f"Training failed: {job.error}")
    elif job.state == "stopped":
        st.warning("Stopped: the model of an unfinished run is not kept. Train again with fewer epochs.")
    if epochs:
        history = History()
        for r in epochs:
            history.add(r)
        last = epochs[-1]
        summary = (f"after epoch {last.epoch}: validation accuracy {last.val_accuracy:.1%}, "
                   f"training loss {last.train_loss:.4f}, {last.seconds:.1f} s per epoch")
        with st.expander(f"Training curves ({summary})", expanded=job.running):
            show_figure(plot_curves(history.as_dict(), title=job.label))
