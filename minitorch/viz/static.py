"""Static matplotlib renderings of our plotly figures.

Plotly's own PNG export needs kaleido, which (from version 1) drives a Chrome it downloads at
run time. We redraw the few trace types we make (lines, surfaces) with matplotlib instead: the
same data, no browser, usable offline and in saved notebooks.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure

from ._mpl import new_figure

__all__ = ["to_matplotlib"]


def _floats(values) -> np.ndarray:
    """Trace data as floats, with None (a gap) as NaN, which matplotlib also leaves blank."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def to_matplotlib(fig: go.Figure) -> Figure:
    """Redraw a figure of line (`Scatter`) or `Surface` traces with matplotlib.

    Raises:
        ValueError: the figure holds another kind of trace.
    """
    title = fig.layout.title.text or ""
    kinds = {trace.type for trace in fig.data}
    if kinds - {"scatter", "surface"} or kinds == {"scatter", "surface"}:
        raise ValueError(
            "to_matplotlib: expected only scatter traces or only surface traces, "
            f"got {sorted(kinds)}"
        )
    if kinds == {"surface"}:
        return _surface(fig, title)
    out = new_figure(6.4, 4.0)
    ax = out.add_subplot()
    for trace in fig.data:
        ax.plot(_floats(trace.x), _floats(trace.y), label=trace.name, linewidth=2)
    ax.set_title(title)
    ax.set_xlabel(fig.layout.xaxis.title.text or "x")
    ax.set_ylabel(fig.layout.yaxis.title.text or "y")
    ax.grid(True, alpha=0.3)
    if len(fig.data) > 1:
        ax.legend()
    out.tight_layout()
    return out


def _surface(fig: go.Figure, title: str) -> Figure:
    out = new_figure(6.0, 5.0)
    # The 3-D axes leave wide empty borders by default: give them the whole figure.
    out.subplots_adjust(left=0.0, right=0.96, bottom=0.02, top=0.98)
    ax = out.add_subplot(projection="3d")
    ax.set_box_aspect(None, zoom=0.92)
    for trace in fig.data:
        x, y = np.meshgrid(_floats(trace.x), _floats(trace.y))
        z = np.array([_floats(row) for row in trace.z])
        # Masked cells (undefined points) are left out instead of breaking the colour scale.
        ax.plot_surface(
            x, y, np.ma.masked_invalid(z), cmap="viridis", linewidth=0, antialiased=True
        )
    ax.set_title(title, y=0.98)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel("z")
    return out
