"""Operators: a function of `minitorch.operators`, its derivative, and a central difference.

The derivative comes from the library's autodiff (the matching Scalar operation and
`backward`); the central difference is `minitorch.central_difference` on the float function.
The two curves should lie on top of each other.
"""

import plotly.graph_objects as go
import streamlit as st

from minitorch import Scalar, central_difference, operators
from minitorch.viz import plot_function
from minitorch.viz.functions import sample

# operator name -> the same operation on Scalars (None: autodiff has no twin for it).
ONE_ARG = {
    "id": lambda s: s,
    "neg": lambda s: -s,
    "sigmoid": Scalar.sigmoid,
    "relu": Scalar.relu,
    "log": Scalar.log,
    "exp": Scalar.exp,
    "inv": lambda s: 1.0 / s,
}
TWO_ARG = {
    "add": lambda s, c: s + c,
    "mul": lambda s, c: s * c,
    "lt": lambda s, c: s < c,
    "eq": lambda s, c: s == c,
    "max": None,
    "is_close": None,
}
# The hand-written derivatives that live beside their forward twins.
BACK = {
    "log": operators.log_back,
    "inv": operators.inv_back,
    "relu": operators.relu_back,
    "sigmoid": getattr(operators, "sigmoid_back", None),
}

st.title("Operators")
st.markdown(
    "Each function of `minitorch.operators` on floats, with its derivative from the "
    "library's autodiff and a central difference laid over it."
)

left, right = st.columns([1, 2])
with left:
    name = st.selectbox(
        "operator", [*ONE_ARG, *TWO_ARG], index=list(ONE_ARG).index("sigmoid"), key="op"
    )
    c = 0.0
    if name in TWO_ARG:
        c = st.slider("second argument y", -5.0, 5.0, 1.0, 0.1, key="y")
    lo, hi = st.slider("x range", -10.0, 10.0, (-5.0, 5.0), 0.5, key="range")
    x0 = st.slider("look at x =", lo, hi, min(max(1.0, lo), hi), 0.1, key="x0")

fn = getattr(operators, name)
if name in TWO_ARG:
    f = lambda x: fn(x, c)  # noqa: E731
    twin = TWO_ARG[name]
    label = f"{name}(x, {c:g})"
else:
    f = fn
    twin = ONE_ARG[name]
    label = f"{name}(x)"


def autodiff(x: float) -> float:
    """d f / dx by the library: build f on a Scalar, call backward, read x.derivative."""
    s = Scalar(x)
    out = twin(s, c) if name in TWO_ARG else twin(s)
    out.backward()
    return s.derivative


def central(x: float) -> float:
    return central_difference(f, x)


def at_x0(fig: go.Figure, fn) -> go.Figure:
    """Both plots over the same x range, with a marker at the chosen x (where fn is defined)."""
    fig.update_xaxes(range=[lo, hi])
    y0 = sample(fn, x0)
    if y0 is not None:
        fig.add_trace(
            go.Scatter(
                x=[x0],
                y=[y0],
                mode="markers",
                name=f"x = {x0:g}",
                marker={"size": 11, "color": "#e03131"},
                showlegend=False,
            )
        )
    return fig


xs = [lo + (hi - lo) * i / 200 for i in range(201)]
central.__name__ = "central_difference"
with right:
    st.plotly_chart(at_x0(plot_function(label, f, arange=xs), f), key="f_plot")
    if twin is None:
        df = plot_function(f"d/dx {label} (central difference)", central, arange=xs)
        st.plotly_chart(at_x0(df, central), key="df_plot")
        st.info(f"`{name}` has no Scalar operation, so only the central difference is shown.")
    else:
        df = plot_function(f"d/dx {label}", autodiff, fn2=central, arange=xs)
        # Where they agree the curves coincide: autodiff wide and pale underneath, the central
        # difference a dark dotted line on top, so both stay visible.
        df.data[0].line.update(width=7, color="#a5d8ff")
        df.data[1].line.update(width=2, color="#1864ab", dash="dot")
        st.plotly_chart(at_x0(df, autodiff), key="df_plot")

with left:
    try:
        value = f(x0)
        st.metric(f"{label} at x = {x0:g}", f"{value:.6g}")
        st.metric("central difference", f"{central(x0):.6g}")
        if twin is not None:
            st.metric("autodiff (Scalar backward)", f"{autodiff(x0):.6g}")
        if BACK.get(name) is not None:
            st.metric(f"operators.{name}_back(x, 1)", f"{BACK[name](x0, 1.0):.6g}")
    except (ValueError, ArithmeticError) as err:
        st.warning(f"{label} is undefined at x = {x0:g}: {err}")
summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
st.caption(f"minitorch.operators.{name}: {summary}")
