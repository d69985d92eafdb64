"""`plot_function` and `plot_function3D`: interactive plotly plots of plain Python functions."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["plot_function", "plot_function3D", "FunctionFigure", "derivative", "sample"]

# Failures that mean "undefined here" (log of a negative, 1/0, exp overflow): plotted as gaps.
_UNDEFINED = (ArithmeticError, ValueError)


class FunctionFigure(go.Figure):
    """A plotly figure that also carries a static picture of itself.

    In a notebook it displays as the interactive plotly chart (JupyterLab, VS Code) *plus* a
    PNG drawn with matplotlib, so a saved notebook still shows the plot where plotly's
    JavaScript does not run (GitHub, nbviewer, plain exports). `fig.show()` goes through
    plotly's own renderers as usual; `fig.to_matplotlib()` gives the static version.
    """

    def to_matplotlib(self):
        """A matplotlib rendering of this figure's line and surface traces."""
        from .static import to_matplotlib

        return to_matplotlib(self)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs: Any) -> dict[str, Any]:
        from ._mpl import figure_to_png

        bundle = pio.renderers["plotly_mimetype"].to_mimebundle(self.to_dict())
        # A fallback picture: sharp enough to read, light enough to keep notebooks small
        # (surfaces compress badly, so they get fewer pixels).
        surface = any(trace.type == "surface" for trace in self.data)
        png = figure_to_png(self.to_matplotlib(), dpi=72 if surface else 96)
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
        bundle["text/plain"] = f"<{type(self).__name__}: {self.layout.title.text!r}>"
        return bundle

    def _ipython_display_(self) -> None:
        # plotly's own hook would pick a renderer (maybe embedding all of plotly.js in the
        # notebook); we display the light bundle above instead.
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)


def sample(fn: Callable[..., Any], *args: float) -> float | None:
    """`fn(*args)` as a float, or None where `fn` is undefined, complex or not finite."""
    try:
        value = fn(*args)
        value = getattr(value, "data", value)  # a Scalar result counts by its value
        if isinstance(value, complex):  # e.g. (-1) ** 0.5: no real value here
            return None
        value = float(value)
    except _UNDEFINED:
        return None
    return value if math.isfinite(value) else None


def _grid(arange: Iterable[float] | None, default: Sequence[float]) -> list[float]:
    points = list(default if arange is None else arange)
    if not points:
        raise ValueError("plot: arange must hold at least one x value, got an empty sequence")
    return [float(x) for x in points]


def _name(fn: Callable[..., Any], fallback: str) -> str:
    name = getattr(fn, "__name__", "")
    return name if name and name.isidentifier() else fallback


def plot_function(
    title: str,
    fn: Callable[[float], float],
    fn2: Callable[[float], float] | None = None,
    arange: Iterable[float] | None = None,
    derivatives: int = 0,
) -> FunctionFigure:
    """Plot `fn` (and `fn2` on the same axes) over `arange`, with its derivatives if asked.

    Args:
        title: the figure title.
        fn: a function of one float.
        fn2: an optional second function, e.g. a tangent line.
        arange: the x values; by default 201 points from -5 to 5.
        derivatives: also plot `fn'` (1), or `fn'` and `fn''` (2), computed by the
            library: `fn` runs on a `Scalar`, and `minitorch.grad` differentiates it (twice
            with `create_graph=True`). `fn` must then be written with Scalar operations.

    Returns:
        A plotly figure with one line trace per function. Where a function raises an
        arithmetic error or returns inf/NaN the trace holds None, drawn as a gap.
    """
    if derivatives not in (0, 1, 2):
        raise ValueError(f"plot_function: derivatives must be 0, 1 or 2, got {derivatives!r}")
    xs = _grid(arange, [i / 20 - 5 for i in range(201)])
    name = _name(fn, "fn1")
    value = derivative(fn, 0) if derivatives else fn  # on a Scalar, like its derivatives
    traces = [(name, value)] + [
        (name + "'" * k, derivative(fn, k)) for k in range(1, derivatives + 1)
    ]
    if fn2 is not None:
        traces.append((_name(fn2, "fn2"), fn2))
    fig = FunctionFigure()
    for label, f in traces:
        ys = [sample(f, x) for x in xs]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=label, connectgaps=False))
    fig.update_layout(
        title=title,
        xaxis_title="x",
        yaxis_title="y",
        template="plotly_white",
        width=640,
        height=400,
        showlegend=len(traces) > 1,
    )
    return fig


def derivative(fn: Callable[[Any], Any], order: int = 1) -> Callable[[float], float]:
    """The `order`-th derivative of `fn` (0: `fn` itself) as a function of a float, computed
    by the library's autodiff.

    `fn` is called on a `Scalar`; each derivative but the last is taken with
    `create_graph=True`, so that it can be differentiated again. A derivative that no longer
    depends on x (a constant) makes every higher one 0.

    Args:
        fn: a function of one Scalar (Scalar arithmetic, `.log()`, `.exp()`, ...).
        order: how many times to differentiate.
    """
    from ..autodiff import grad
    from ..scalar import Scalar

    if order < 0:
        raise ValueError(f"derivative: order must be at least 0, got {order!r}")

    def nth_derivative(x: float) -> float:
        s = Scalar(x)
        out = fn(s)
        if not math.isfinite(float(out)):  # undefined at x (log(-1) is nan): so is f'
            return math.nan
        for k in range(order):
            if not isinstance(out, Scalar) or out.is_constant():
                return 0.0  # no dependence on x left
            (out,) = grad(out, s, create_graph=k < order - 1, materialize_grads=True)
        return float(out)

    return nth_derivative


def plot_function3D(
    title: str, fn: Callable[[float, float], float], arange: Iterable[float] | None = None
) -> FunctionFigure:
    """Plot the surface `z = fn(x, y)` over `arange` x `arange`.

    Args:
        title: the figure title.
        fn: a function of two floats.
        arange: the values taken by both x and y; by default 41 points from -5 to 5.

    Returns:
        A plotly figure with one surface trace; `z[i][j]` is `fn(x[j], y[i])`, None where
        `fn` is undefined.
    """
    xs = _grid(arange, [i / 4 - 5 for i in range(41)])
    zs = [[sample(fn, x, y) for x in xs] for y in xs]
    fig = FunctionFigure(go.Surface(x=xs, y=xs, z=zs, colorscale="Viridis", showscale=False))
    fig.update_layout(
        title=title,
        template="plotly_white",
        width=640,
        height=520,
        scene={"xaxis_title": "x", "yaxis_title": "y", "zaxis_title": "z"},
    )
    return fig
