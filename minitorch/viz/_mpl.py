"""Matplotlib plumbing shared by the viz helpers.

Every figure here is a bare `matplotlib.figure.Figure` with its own Agg canvas: nothing goes
through `pyplot`, so drawing never opens a window, never switches the user's backend and
leaves no figure registered in pyplot's global list.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.mathtext import MathTextParser

__all__ = ["new_figure", "figure_to_svg", "figure_to_png", "check_label"]

# Glyphs as paths: the SVG looks the same in every viewer (GitHub included), and
# matplotlib still writes each text as an XML comment, which keeps it searchable.
# A fixed hash salt keeps element ids stable, so re-rendered notebooks diff cleanly.
_SVG_RC = {"svg.fonttype": "path", "svg.hashsalt": "minitorch"}

_parser = MathTextParser("path")


def new_figure(
    width: float, height: float, dpi: float = 100.0, layout: str | None = None
) -> Figure:
    """A figure of `width` x `height` inches drawn by Agg, independent of pyplot."""
    fig = Figure(figsize=(width, height), dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def figure_to_svg(fig: Figure) -> str:
    """The figure as SVG text, with no timestamp (renders are reproducible)."""
    buf = io.StringIO()
    with matplotlib.rc_context(_SVG_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def figure_to_png(fig: Figure, dpi: float = 150.0) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def check_label(label: str, where: str) -> None:
    """Fail now, with the label in the message, if matplotlib could not typeset it later.

    Args:
        label: a plain string, or math between dollar signs such as ``"$f(g(x))$"``.
        where: what the label belongs to, for the error message.

    Raises:
        ValueError: the label is not a string or its math does not parse.
    """
    if not isinstance(label, str):
        raise ValueError(f"{where}: labels must be strings, got {type(label).__name__} {label!r}")
    dollars = label.count("$") - label.count(r"\$")
    # Matplotlib reads a label as math only when it has an even, non-zero number of `$`.
    if dollars == 0 or dollars % 2:
        return
    try:
        _parser.parse(label, dpi=72)
    except ValueError as err:
        raise ValueError(f"{where}: cannot typeset label {label!r}: {err}") from None
