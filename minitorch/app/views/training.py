"""The classic classifier on a toy data set (the `classic` task), trained live by the one
training loop; its settings are the task's training form (`app/forms.py`).

Press Train and the loss curve and decision boundary (`minitorch.viz.plot_loss`,
`plot_decision_boundary`) redraw about once a second while it learns; Stop ends the run at the
next step. Everything the page shows comes from the loop's latest evaluation report: its
figures and its snapshot of the parameters.
"""

import streamlit as st

from minitorch.app.common import show_figure
from minitorch.app.forms import config_form
from minitorch.app.job import TrainJob
from minitorch.tasks.classic.train import (
    SCALAR,
    ClassicConfig,
    build_model,
    make_graph,
    model_options,
)
from minitorch.tasks.common import task_backend
from minitorch.tasks.loop import load_snapshot
from minitorch.tasks.registry import task_named
from minitorch.viz import plot_decision_boundary, plot_loss

REFRESH_SECONDS = 1.0
CURVE_POINTS = 500  # a long run's loss curve is drawn from this many of its epochs
TASK = task_named("classic")

st.title(TASK.title)
st.markdown(
    "The classic classifier, 2 → hidden → hidden → 1 with ReLU and a sigmoid output, "
    "trained by full-batch SGD on `-log P(right class)`."
)

with st.sidebar:
    st.subheader("Run settings")
    config = config_form(TASK.config, TASK.form_fields(), columns=1)

job: TrainJob | None = st.session_state.get("job")
c1, c2, _ = st.columns([1, 1, 4])
if c1.button("Train", type="primary", key="train", icon=":material/play_arrow:"):
    if job is not None:
        job.stop()
    if isinstance(config, str):
        st.error(f"Cannot train: {config}")
    else:
        job = st.session_state["job"] = TrainJob(TASK, config).start()
    st.session_state.pop("boundary", None)
if c2.button("Stop", key="stop", icon=":material/stop:", disabled=job is None or not job.running):
    job.stop()
    job.join(timeout=30)

running = job is not None and job.running


def boundary_model(config: ClassicConfig, snapshot: dict) -> object:
    """A copy of the network holding the snapshot's parameters (never the live model)."""
    backend = None if config.backend == SCALAR else task_backend(config.backend)
    return load_snapshot(build_model(model_options(config), backend), snapshot)


@st.fragment(run_every=REFRESH_SECONDS if running else None)
def progress() -> None:
    """Redrawn on its own every REFRESH_SECONDS while the job runs (not the whole page)."""
    job = st.session_state.get("job")
    if job is None:
        st.info("Choose the settings in the sidebar and press **Train**.")
        return
    view, c = job.progress(), job.config
    last = view.last  # every figure below comes from this one report (and the curve up to it)
    done = last.epoch if last else 0
    if view.compiling:
        where = "compiling the fast kernels once; later runs start at once"
    else:
        where = f"epoch {done} of {c.epochs}"
    st.progress(done / c.epochs, text=f"{c.dataset} / {c.backend}: {where} ({view.state})")
    if view.state == "failed":
        st.error(f"Training failed: {view.error}")
    elif view.state == "stopped":
        st.warning(f"Stopped after {done} epochs.")
    elif view.state == "done":
        st.success(f"Done: {done} epochs in {view.seconds:.1f} s.")
    if last is None:
        return
    correct, total = round(last.val_accuracy * c.points), c.points
    m = st.columns(3)
    m[0].metric("loss", f"{last.val_loss:.4f}")
    m[1].metric("correct", f"{correct}/{total}")
    curves = view.curves
    m[2].metric(
        "ms per epoch",
        f"{1000 * sum(curves.seconds) / len(curves):.1f}",
        help="compiling the kernels is not counted" if view.compile_seconds else None,
    )
    left, right = st.columns(2)
    with left:
        drawn = curves.thinned(CURVE_POINTS)
        title = f"Loss after each epoch ({c.dataset})"
        show_figure(plot_loss(drawn.val_loss, title=title, epochs=drawn.epoch))
    with right:
        # The boundary costs 1,600 predictions: draw it once per report reached.
        cached = st.session_state.get("boundary")
        if cached is None or cached[0] != (id(job), last.epoch):
            model = boundary_model(c, last.snapshot)
            fig = plot_decision_boundary(
                model.predict, make_graph(c), title=f"epoch {last.epoch}: {correct}/{total} correct"
            )
            cached = st.session_state["boundary"] = ((id(job), last.epoch), fig)
        show_figure(cached[1])
    if running and not view.running:
        st.rerun()  # the whole page once more: stops the timer, re-enables Train


progress()
