"""Pictures of a language model: its loss curves, and the attention maps of every head and
layer for a prompt (matplotlib, drawn by Agg without pyplot, like the other viz helpers).

Every function takes plain numpy arrays and lists and returns a `Figure`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ._mpl import new_figure
from .training import _CLASS_COLORS

__all__ = ["plot_attention_maps", "plot_loss_curves", "shown_char"]

_TRAIN, _VAL = _CLASS_COLORS  # blue for training, red for validation


def plot_loss_curves(
    losses: Sequence[float],
    evaluations: Sequence[tuple[int, float, float]],
    final: float | None = None,
    title: str | None = None,
) -> Figure:
    """Each step's training loss (faint), the evaluations `(iteration, train, val)` (lines and
    points: the training loss averaged since the previous evaluation, the validation loss
    over the whole split), and the final validation loss (a dashed level), in nats per token."""
    fig = new_figure(7.0, 4.0, layout="constrained")
    ax = fig.add_subplot()
    steps = np.arange(1, len(losses) + 1)
    ax.plot(steps, losses, color=_TRAIN, alpha=0.25, linewidth=0.8, label="train (each step)")
    if evaluations:
        it, tr, va = (np.array(v) for v in zip(*evaluations))
        ax.plot(it, tr, "o-", color=_TRAIN, label="train (mean since the last point)")
        ax.plot(it, va, "o-", color=_VAL, label="validation (whole split)")
    if final is not None:
        ax.axhline(
            final,
            color=_VAL,
            linestyle="--",
            linewidth=1,
            label=f"final validation: {final:.3f}",
        )
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss (nats per character)")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def shown_char(c: str) -> str:
    """A character as a tick label: whitespace made visible."""
    return {"\n": "\\n", " ": "␣", "\t": "\\t"}.get(c, c)


def plot_attention_maps(maps: Sequence[np.ndarray], text: str, title: str | None = None) -> Figure:
    """A grid of attention weights: one row per layer, one column per head.

    Args:
        maps: per layer, the weights `(heads, T, T)` (row: the query position, column: the
            key it attends to; rows sum to 1, and the upper triangle is 0 by causality).
        text: the `T` characters of the prompt, for the tick labels.
    """
    layers, heads = len(maps), maps[0].shape[0]
    size = 2.2 if len(text) <= 24 else 3.0
    fig = new_figure(size * heads + 0.6, size * layers + 0.6, layout="constrained")
    labels = [shown_char(c) for c in text]
    tick = len(text) <= 32
    for layer, m in enumerate(maps):
        for head in range(heads):
            ax = fig.add_subplot(layers, heads, layer * heads + head + 1)
            ax.imshow(m[head], cmap="magma", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_title(f"layer {layer + 1}, head {head + 1}", fontsize=8)
            if tick:
                ax.set_xticks(range(len(text)), labels, fontsize=6)
                ax.set_yticks(range(len(text)), labels, fontsize=6)
            else:
                ax.set_xticks([])
                ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return fig
