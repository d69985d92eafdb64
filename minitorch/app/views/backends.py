"""Backends: the same tensor operation timed on each backend this installation has."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from minitorch.app.timing import OPERATIONS, time_operation, timed_backends

st.title("Backends")
backends = timed_backends()
st.markdown(
    "A backend is a small table of kernels (`map`, `zip`, `reduce`, `matrix_multiply`) that "
    "every tensor operation runs on. Available here: "
    + ", ".join(f"**{name}**" for name in backends)
    + ". Each operation runs on two random n × n tensors; the table shows the best of a few runs "
    "after one warm-up call (the fast backend compiles its kernels on first use)."
)
if "fast" not in backends:
    st.info("The fast (numba) backend is not in this version of the library yet.")
if not any(name.startswith("cuda") for name in backends):
    st.caption(
        "No CUDA backend here: it needs an NVIDIA GPU and numba-cuda "
        '(pip install "minitorch[cuda]").'
    )

c = st.columns(3)
chosen = c[0].multiselect(
    "backends", list(backends), [b for b in backends if "simulator" not in b], key="backends"
)
ops = c[1].multiselect(
    "operations",
    list(OPERATIONS),
    list(OPERATIONS),
    key="ops",
    format_func=lambda name: f"{name}: {OPERATIONS[name][0]}",
)
n = c[2].select_slider(
    "n",
    [4, 8, 16, 32, 64, 128, 256],
    32,
    key="n",
    help="the simple backend is pure Python: large n takes seconds",
)

if st.button("Time them", type="primary", key="run"):
    jobs = [(b, op) for op in ops for b in chosen]
    bar = st.progress(0.0, text="timing ...")
    timings = []
    for i, (name, op) in enumerate(jobs):
        bar.progress(i / len(jobs), text=f"{op} on {name} (n = {n}) ...")
        timings.append(time_operation(name, backends[name], op, n))
    bar.progress(1.0, text=f"timed {len(jobs)} runs")
    st.session_state["timings"] = timings

timings = st.session_state.get("timings")
if timings:
    reference = {t.operation: t for t in timings if t.backend == timings[0].backend}
    rows = []
    for t in timings:
        ref = reference[t.operation]
        rows.append(
            {
                "operation": f"{t.operation}: {OPERATIONS[t.operation][0]}",
                "backend": t.backend,
                "n": t.n,
                "ms": round(t.seconds * 1e3, 3),
                f"speed-up over {ref.backend}": round(ref.seconds / t.seconds, 1)
                if t.seconds
                else None,
                "same result": bool(np.allclose(t.result, ref.result)),
            }
        )
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True)
    # A log scale: the backends differ by factors of 10 to 1000, and on a linear axis the fast
    # backends' bars are too short to see.
    chart = px.bar(
        frame,
        x="operation",
        y="ms",
        color="backend",
        barmode="group",
        log_y=True,
        labels={"ms": "milliseconds (best run, log scale)"},
        template="plotly_white",
    )
    st.plotly_chart(chart, key="timing_chart")
