"""Training: the classic network on a toy data set, trained live in a background thread.

Press Train and the loss curve and decision boundary (`minitorch.viz.plot_loss`,
`plot_decision_boundary`) redraw about once a second while it learns; Stop ends the run.
The run lives in the session, so the rest of the app stays usable meanwhile.
"""

import streamlit as st

import minitorch
from minitorch.app.common import show_figure
from minitorch.app.job import TrainingJob
from minitorch.train import BACKENDS, BackendUnavailable, TrainConfig
from minitorch.viz import plot_decision_boundary, plot_loss

REFRESH_SECONDS = 1.0

st.title("Training")
st.markdown("The classic classifier, 2 → hidden → hidden → 1 with ReLU and a sigmoid output, "
            "trained by full-batch SGD on `-log P(right class)`.")

defaults = TrainConfig()
with st.sidebar:
    st.subheader("Run settings")
    dataset = st.selectbox("data set", list(minitorch.datasets), index=list(minitorch.datasets).index("Xor"),
                           key="dataset")
    backends = list(BACKENDS)
    backend = st.selectbox("backend", backends, index=backends.index(defaults.backend),
                           key="backend", help="fast: numba on all cores; simple: pure-Python kernels; "
                           "scalar: one Scalar per number")
    hidden = st.slider("hidden units", 1, 50, defaults.hidden, key="hidden")
    lr = st.select_slider("learning rate", [0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0], defaults.lr, key="lr")
    epochs = st.number_input("epochs", 1, 5000, defaults.epochs, step=50, key="epochs")
    points = st.slider("points", 10, 200, defaults.points, step=10, key="points")
    seed = st.number_input("seed", 0, 10_000, 0, key="seed")

job: TrainingJob | None = st.session_state.get("job")
c1, c2, _ = st.columns([1, 1, 4])
if c1.button("Train", type="primary", key="train", icon=":material/play_arrow:"):
    if job is not None:
        job.stop()
    try:
        config = TrainConfig(dataset=dataset, backend=backend, hidden=hidden, epochs=int(epochs),
                             lr=float(lr), points=points, seed=int(seed))
        job = st.session_state["job"] = TrainingJob(config).start()
    except (ValueError, BackendUnavailable) as err:  # e.g. cuda without a GPU
        st.error(f"Cannot train: {err}")
    st.session_state.pop("boundary", None)
if c2.button("Stop", key="stop", icon=":material/stop:", disabled=job is None or not job.snapshot().running):
    job.stop()
    job.join(timeout=30)

running = job is not None and job.snapshot().running


@st.fragment(run_every=REFRESH_SECONDS if running else None)
def progress() -> None:
    """Redrawn on its own every REFRESH_SECONDS while the job runs (not the whole page)."""
    job = st.session_state.get("job")
    if job is None:
        st.info("Choose the settings in the sidebar and press **Train**.")
        return
    snap = job.snapshot()
    c = job.config
    st.progress(snap.epoch / snap.epochs,
                text=f"{c.dataset} / {c.backend}: epoch {snap.epoch} of {snap.epochs} ({snap.state})")
    if snap.state == "failed":
        st.error(f"Training failed: {snap.error}")
    elif snap.state == "stopped":
        st.warning(f"Stopped after {snap.epoch} epochs.")
    elif snap.state == "done":
        st.success(f"Done: {snap.epoch} epochs in {snap.seconds:.1f} s.")
    if snap.epoch:
        m = st.columns(3)
        m[0].metric("loss", f"{snap.losses[-1]:.4f}")
        m[1].metric("correct", f"{snap.correct}/{snap.total}")
        m[2].metric("ms per epoch", f"{1000 * snap.seconds / snap.epoch:.1f}")
        left, right = st.columns(2)
        with left:
            show_figure(plot_loss(snap.losses, title=f"Training loss ({c.dataset})"))
        with right:
            # The boundary costs 1,600 predictions: draw it once per epoch reached.
            cached = st.session_state.get("boundary")
            if cached is None or cached[0] != (id(job), snap.epoch):
                fig = plot_decision_boundary(job.predict, job.graph,
                                             title=f"epoch {snap.epoch}: {snap.correct}/{snap.total} correct")
                cached = st.session_state["boundary"] = ((id(job), snap.epoch), fig)
            show_figure(cached[1])
    if running and not snap.running:
        st.rerun()  # the whole page once more: stops the timer, re-enables Train


progress()
