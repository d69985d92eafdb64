"""Autodiff: type an expression in x and y, see its graph, step through backpropagation.

The expression is read by `minitorch.app.expr` (an `ast` whitelist, never eval) and computed
on real `minitorch.Scalar`s; the pictures are `minitorch.viz.draw_graph` of that history.
"""

import math
import re

import streamlit as st

import minitorch
from minitorch.app.common import show_drawing
from minitorch.app.expr import METHODS, ExpressionError, parse
from minitorch.app.stepping import backprop_steps, derivatives_after
from minitorch.viz import draw_graph
from minitorch.viz.graph import MAX_NODES


def _about_the_input(message: str) -> str:
    """An operator's error, reworded so that its "x" (the operator's own input) is not read as
    the page's x: "log is undefined for x = -2.0 (needs x > 0)" -> "log(-2.0) is undefined:
    log needs its input > 0"."""
    found = re.fullmatch(r"(\w+) is undefined (?:for|at) x = (\S+?)(?: \(needs x (.+)\))?", message)
    if found is None:
        return message
    name, value, needs = found.groups()
    return f"{name}({value}) is undefined" + (f": {name} needs its input {needs}" if needs else "")


_NEEDS = {"log": "> 0"}  # what an operator's input must be for a finite value


def _first_undefined(out) -> str:
    """The first operation (in the order computed) whose value is NaN or infinite although its
    inputs are finite, as "log(-3.0) is undefined: log needs its input > 0"."""
    for var in reversed(minitorch.autodiff.topological_sort(out)):  # inputs first
        if var.is_leaf():
            continue
        inputs = [float(getattr(i, "data", i)) for i in var.history.inputs]
        if not math.isfinite(var.data) and all(math.isfinite(v) for v in inputs):
            name = var.history.last_fn.__name__.lower()
            args = ", ".join(f"{v:g}" if abs(v) >= 1e6 else repr(float(v)) for v in inputs)
            needs = f": {name} needs its input {_NEEDS[name]}" if name in _NEEDS else ""
            return f"{name}({args}) is undefined{needs}"
    return f"the value is {out.data} (outside the domain, or overflowing)"


def _label(var) -> str:
    return (
        var.name
        if var.name in ("x", "y")
        else f"{getattr(var.history.last_fn, '__name__', '?')} (= {var.data:.4g})"
    )


st.title("Autodiff")
st.markdown(
    f"Type an expression in `x` and `y` using numbers, `+ - * /`, `**` with a small whole "
    f"exponent and {', '.join(f'`.{m}()`' for m in METHODS)}. It is computed on "
    "`minitorch.Scalar`s, which record its computation graph; `backward()` fills in the "
    "derivatives."
)
text = st.text_input("f(x, y) =", "(x * y).log() + (x * y).exp()", key="expr")
cols = st.columns(2)
x_value = cols[0].number_input("x", value=2.0, step=0.1, key="x")
y_value = cols[1].number_input("y", value=0.5, step=0.1, key="y")

try:
    expression = parse(text)
    if not expression.used:
        raise ExpressionError(
            "the expression uses neither x nor y, so there is nothing to differentiate"
        )
except ExpressionError as err:
    st.error(f"Cannot use this expression: {err}")
    st.stop()

x = minitorch.Scalar(x_value, name="x")
y = minitorch.Scalar(y_value, name="y")
try:
    out = expression(x, y)
    out.backward()
    if not math.isfinite(out.data):  # IEEE arithmetic: log(-1) is nan, 1/0 is inf
        raise ArithmeticError(_first_undefined(out))
except (ValueError, ArithmeticError) as err:
    st.error(f"Cannot compute f({x_value:g}, {y_value:g}): {_about_the_input(str(err))}")
    st.stop()

numeric = [minitorch.central_difference(expression, x_value, y_value, arg=i) for i in (0, 1)]
m = st.columns(3)
m[0].metric("f(x, y)", f"{out.data:.6g}")
m[1].metric("df/dx", f"{x.derivative or 0.0:.6g}", help=f"central difference {numeric[0]:.6g}")
m[2].metric("df/dy", f"{y.derivative or 0.0:.6g}", help=f"central difference {numeric[1]:.6g}")

steps = backprop_steps(out)
if 2 * len(steps) > MAX_NODES:  # a variable and a function call per step
    st.warning(
        f"The graph has {len(steps)} variables: too many to draw (at most about "
        f"{MAX_NODES // 2}). Try a shorter expression."
    )
    st.stop()

graph_tab, steps_tab = st.tabs(["Graph after backward", "Step through backpropagation"])
with graph_tab:
    show_drawing(
        draw_graph(out),
        caption="Values and derivatives after out.backward() (only leaves keep a derivative)",
    )

with steps_tab:
    done = st.slider("steps done", 0, len(steps), 0, key="step")
    known = derivatives_after(steps, done, out)
    current = steps[done - 1] if done else None
    highlight = {current.node.unique_id} if current else {out.unique_id}
    if current is None:
        st.markdown(
            "Start: the output's derivative is 1. Each step visits one node, after all "
            "the nodes that use it, and passes its derivative back to its inputs."
        )
    elif current.sends:
        sent = ", ".join(f"{d:.4g} to {_label(p)}" for p, d in current.sends)
        st.markdown(
            f"Step {done}: visit **{_label(current.node)}** with derivative "
            f"{current.d_node:.4g}; `chain_rule` passes {sent}."
        )
    else:
        st.markdown(
            f"Step {done}: **{_label(current.node)}** is a leaf: it keeps its "
            f"derivative {current.d_node:.4g}."
        )
    show_drawing(draw_graph(out, grads=known, highlight=highlight))
