"""Training pictures: the loss curve and a classifier's decision boundary (matplotlib).

`minitorch train` saves both with `fig.savefig(path, dpi=...)`. The figures are drawn by Agg
without pyplot (see `_mpl`), so they work headless and leave the user's backend alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._mpl import new_figure

__all__ = ["plot_loss", "plot_decision_boundary", "GRID"]

GRID = 40
"""Grid points per side of the decision-boundary shading (40 x 40 = 1,600 model calls,
affordable even for the slow scalar backend)."""

# Class 0 blue, class 1 red. The shading runs between pale versions of the same colours
# through white (undecided), so the saturated points stay visible on top of it.
_CLASS_COLORS = ("#1c7ed6", "#e03131")
_PAD = 0.03
_SHADING = LinearSegmentedColormap.from_list(
    "minitorch_boundary", ["#74c0fc", "#ffffff", "#ffa8a8"]
)


def plot_loss(
    losses: Sequence[float], title: str | None = None, epochs: Sequence[int] | None = None
) -> Figure:
    """The training loss per epoch.

    Args:
        losses: one loss value per epoch (non-finite values leave a gap).
        title: the figure title; by default "Training loss".
        epochs: the epoch of each value, when `losses` holds only some epochs (a long run
            thinned for drawing); by default 1, 2, 3, ...

    Returns:
        A matplotlib figure; save it with `fig.savefig("loss.png", dpi=...)`.

    Raises:
        ValueError: `losses` is empty, or `epochs` differs from it in length.
    """
    values = [float(v) for v in losses]
    if not values:
        raise ValueError("plot_loss: expected at least one loss value, got an empty sequence")
    if epochs is not None and len(epochs) != len(values):
        raise ValueError(
            f"plot_loss: expected one epoch per loss value, got {len(epochs)} epochs "
            f"for {len(values)} values"
        )
    y = np.array([v if math.isfinite(v) else np.nan for v in values])
    x = np.arange(1, len(values) + 1) if epochs is None else np.asarray(epochs)
    fig = new_figure(6.4, 4.0, layout="constrained")
    ax = fig.add_subplot()
    finite = y[np.isfinite(y)]
    label = f"final loss {finite[-1]:.4g}" if finite.size else "loss"
    ax.plot(
        x,
        y,
        color=_CLASS_COLORS[0],
        linewidth=2,
        marker="o" if len(y) <= 30 else None,
        markersize=3,
        label=label,
    )
    ax.set_title(title or "Training loss")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5 on short runs
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")  # the final value, placed where it hides least of the curve
    return fig


def plot_decision_boundary(
    model_fn: Callable[[list[tuple[float, float]]], Sequence[float]],
    graph: Any,
    title: str | None = None,
) -> Figure:
    """A classifier's probability of class 1 over the unit square, with the data on top.

    Args:
        model_fn: maps a list of points `(x1, x2)` to the class-1 probability of each, all at
            once (so tensor backends can batch the whole grid).
        graph: a dataset with `.X` (points in the unit square) and `.y` (labels 0/1), such as
            `minitorch.datasets["Xor"](50)`.
        title: the figure title; by default "Decision boundary".

    Returns:
        A matplotlib figure: shading for the probability, a black line where it is 0.5, the
        points coloured by their true label.

    Raises:
        ValueError: `model_fn` returns the wrong number of values, or `graph` has no points.
    """
    if not len(graph.X):
        raise ValueError("plot_decision_boundary: expected a graph with points, got none")
    # A little past the unit square, so points on its edge are not cut in half.
    ticks = np.linspace(-_PAD, 1.0 + _PAD, GRID)
    grid = [(float(x1), float(x2)) for x2 in ticks for x1 in ticks]
    probs = [float(p) for p in model_fn(grid)]
    if len(probs) != len(grid):
        raise ValueError(
            f"plot_decision_boundary: model_fn returned {len(probs)} values for {len(grid)} "
            f"points; expected one class-1 probability per point"
        )
    z = np.array(probs).reshape(GRID, GRID)  # row i is x2 = ticks[i]

    fig = new_figure(5.6, 4.6, layout="constrained")
    ax = fig.add_subplot()
    shades = ax.contourf(ticks, ticks, z, levels=np.linspace(0.0, 1.0, 11), cmap=_SHADING)
    # The boundary exists only if the model says both classes somewhere on the square.
    if np.nanmin(z) < 0.5 < np.nanmax(z):
        ax.contour(ticks, ticks, z, levels=[0.5], colors="black", linewidths=2)
    points = np.array(graph.X, dtype=float).reshape(-1, 2)
    labels = np.array(graph.y, dtype=int)
    for cls in (0, 1):
        mine = points[labels == cls]
        ax.scatter(
            mine[:, 0],
            mine[:, 1],
            s=28,
            c=_CLASS_COLORS[cls],
            edgecolors="black",
            linewidths=0.8,
            label=f"y = {cls}",
            zorder=3,
        )
    fig.colorbar(shades, ax=ax, label="P(y = 1)", ticks=[0, 0.25, 0.5, 0.75, 1])
    ax.set_xlim(-_PAD, 1.0 + _PAD)
    ax.set_ylim(-_PAD, 1.0 + _PAD)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or "Decision boundary")
    ax.legend(loc="upper right", framealpha=0.9, fontsize=8)
    return fig
