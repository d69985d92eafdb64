"""A tiny diagram model (boxes, arrows, labels) and its one renderer.

`draw_boxes`, `backprop` and `draw_graph` only decide *where* things go; this module decides
how they look. Coordinates are in inches, so a 12-point label has the same size in every
diagram whatever its extent.

Each drawn element carries an SVG id (`box-3`, `arrow-0`, `label-2`, `note-1`), which is how
tests count what a diagram contains without comparing pixels.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path as MplPath

from ._mpl import figure_to_png, figure_to_svg, new_figure

__all__ = ["Box", "Arrow", "Drawing", "STYLES"]

Point = tuple[float, float]

# Named looks. "neutral"/"highlight" are the forward/backward boxes of the docs; "muted" is an
# edge backprop has not reached yet; "variable"/"function"/"constant" are draw_graph's nodes.
STYLES: dict[str, dict[str, object]] = {
    "neutral": {"face": "#ffffff", "edge": "#343a40", "width": 1.6, "dash": "solid"},
    "highlight": {"face": "#ffe8cc", "edge": "#d9480f", "width": 2.2, "dash": "solid"},
    "variable": {"face": "#ffffff", "edge": "#343a40", "width": 1.3, "dash": "solid"},
    "function": {"face": "#e7f0fd", "edge": "#1c5fb8", "width": 1.3, "dash": "solid"},
    "constant": {"face": "#f4f4f4", "edge": "#868e96", "width": 1.1, "dash": "dashed"},
    "arrow": {"edge": "#343a40", "width": 1.6},
    "arrow-highlight": {"edge": "#d9480f", "width": 2.6},
    "arrow-muted": {"edge": "#ced4da", "width": 1.4},
}

FONT_SIZE = 13.0
NOTE_SIZE = 10.5


@dataclass
class Box:
    """A box centred at (`x`, `y`), `w` x `h` inches.

    Attributes:
        label: text inside (may be math between `$`).
        shape: "box" (square corners), "round" (rounded) or "ellipse".
        style: a key of `STYLES`.
        note: a smaller line of text under the box (e.g. a derivative), or "".
        font_size: size of `label` in points.
    """

    x: float
    y: float
    w: float
    h: float
    label: str = ""
    shape: Literal["box", "round", "ellipse"] = "box"
    style: str = "neutral"
    note: str = ""
    font_size: float = FONT_SIZE


@dataclass
class Arrow:
    """An arrow from `start` to `end` (the head is at `end`).

    Attributes:
        label: text placed at `label_at`: "start" (before the tail), "end" (after the head) or
            "mid" (above the middle).
        label_below: put a "mid" label on the lower side of the arrow instead of the upper.
        style: a key of `STYLES` ("arrow", "arrow-highlight", "arrow-muted").
        label_color: the label's colour; by default black, or the arrow's colour if highlighted.
        via: points the arrow passes through on its way (a polyline), e.g. around boxes.
    """

    start: Point
    end: Point
    label: str = ""
    label_at: Literal["start", "mid", "end"] = "mid"
    label_below: bool = False
    style: str = "arrow"
    label_color: str | None = None
    via: tuple[Point, ...] = ()


@dataclass(repr=False)
class Drawing:
    """Boxes and arrows that display in a notebook and save as SVG or PNG.

    Attributes:
        boxes: the boxes, drawn first.
        arrows: the arrows, drawn over the boxes' edges.
        title: a line of text above the drawing, or "".
        margin: empty space around the content, in inches.
        extent: a fixed (x0, y0, x1, y1) to draw, margin included, instead of fitting the
            content (frames of an animation keep one size this way).
    """

    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    title: str = ""
    margin: float = 0.35
    extent: tuple[float, float, float, float] | None = None

    def figure(self) -> Figure:
        """Render to a new matplotlib figure (sized so that 1 unit is 1 inch)."""
        x0, y0, x1, y1 = self.extent or self.fit()
        width, height = x1 - x0, y1 - y0
        fig = new_figure(width, height)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_axis_off()
        if self.title:
            ax.text(
                (x0 + x1) / 2,
                y1 - 0.1,
                self.title,
                ha="center",
                va="top",
                fontsize=FONT_SIZE,
                gid="title",
            )
        for i, box in enumerate(self.boxes):
            _draw_box(ax, box, i)
        for i, arrow in enumerate(self.arrows):
            _draw_arrow(ax, arrow, i)
        return fig

    def svg(self) -> str:
        """The drawing as SVG text."""
        return figure_to_svg(self.figure())

    def png(self, dpi: float = 150.0) -> bytes:
        """The drawing as PNG bytes."""
        return figure_to_png(self.figure(), dpi=dpi)

    def save(self, path: str | Path, dpi: float = 150.0) -> Path:
        """Write the drawing to `path`; the suffix (`.svg` or `.png`) picks the format.

        Raises:
            ValueError: the suffix is neither `.svg` nor `.png`.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".svg":
            path.write_text(self.svg(), encoding="utf-8")
        elif suffix == ".png":
            path.write_bytes(self.png(dpi=dpi))
        else:
            raise ValueError(f"save: expected a path ending in .svg or .png, got {str(path)!r}")
        return path

    def _repr_svg_(self) -> str:
        return fit_width(self.svg())

    def __repr__(self) -> str:
        title = f" {self.title!r}," if self.title else ""
        boxes, arrows = len(self.boxes), len(self.arrows)
        return (
            f"<{type(self).__name__}:{title} {boxes} box{'es' * (boxes != 1)}, "
            f"{arrows} arrow{'s' * (arrows != 1)}>"
        )

    def fit(self) -> tuple[float, float, float, float]:
        """The bounding box of the content, room for labels and the margin included."""
        xs: list[float] = []
        ys: list[float] = []
        for box in self.boxes:
            xs += [box.x - box.w / 2, box.x + box.w / 2]
            ys += [box.y - box.h / 2, box.y + box.h / 2]
            if box.note:
                ys.append(box.y - box.h / 2 - 0.3)
                xs += [
                    box.x - _text_width(box.note, NOTE_SIZE) / 2,
                    box.x + _text_width(box.note, NOTE_SIZE) / 2,
                ]
        for arrow in self.arrows:
            for px, py in (arrow.start, *arrow.via, arrow.end):
                xs.append(px)
                ys.append(py)
            if arrow.label:
                lx, ly, _, _ = _label_place(arrow)
                half = _text_width(arrow.label, FONT_SIZE) / 2
                xs += [lx - half, lx + half]
                ys += [ly - 0.2, ly + 0.2]
        if not xs:
            xs, ys = [0.0, 1.0], [0.0, 1.0]
        top = max(ys) + self.margin + (0.35 if self.title else 0.0)
        return min(xs) - self.margin, min(ys) - self.margin, max(xs) + self.margin, top


def fit_width(svg: str, max_px: float = 760.0, min_scale: float = 0.6) -> str:
    """Shrink a wide SVG to fit a notebook column (down to `min_scale`, then let it scroll).

    Notebooks show an SVG at its own size, so a 13-inch diagram would run off the page;
    its viewBox lets the browser scale it. Saved `.svg` files keep their true size.
    """
    match = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if not match:
        return svg
    width, height = (float(v) * 4 / 3 for v in match.groups())  # pt -> CSS px
    scale = max(min_scale, min(1.0, max_px / width))
    size = f'width="{width * scale:.0f}px" height="{height * scale:.0f}px"'
    return svg[: match.start()] + size + svg[match.end() :]


def _text_width(text: str, size: float) -> float:
    """A rough width in inches, enough to keep labels inside the figure."""
    visible = text.replace("$", "").replace("\\", "")
    return 0.55 * size / 72 * len(visible)


def _label_place(arrow: Arrow) -> tuple[float, float, str, str]:
    """Where an arrow's label goes: x, y, horizontal and vertical alignment."""
    (sx, sy), (ex, ey) = arrow.start, arrow.end
    left, right = ((sx, sy), (ex, ey)) if sx <= ex else ((ex, ey), (sx, sy))
    if arrow.label_at == "mid":
        # Beside the middle, pushed off the line along its normal so that a sloping arrow
        # does not run through its own label.
        dx, dy = ex - sx, ey - sy
        length = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / length, dx / length
        if (ny < 0) != arrow.label_below or (ny == 0 and (nx < 0) != arrow.label_below):
            nx, ny = -nx, -ny
        push = 0.08
        ha = "left" if nx > 0.3 else "right" if nx < -0.3 else "center"
        va = "top" if arrow.label_below else "bottom"
        return (sx + ex) / 2 + push * nx, (sy + ey) / 2 + push * ny, ha, va
    # "start"/"end" name the arrow's own ends; the label sits beyond whichever lies outside.
    outer = arrow.start if arrow.label_at == "start" else arrow.end
    if outer == left:
        return left[0] - 0.08, left[1], "right", "center"
    return right[0] + 0.08, right[1], "left", "center"


def _draw_box(ax, box: Box, index: int) -> None:
    look = STYLES[box.style]
    common = {
        "facecolor": look["face"],
        "edgecolor": look["edge"],
        "linewidth": look["width"],
        "linestyle": look["dash"],
        "gid": f"box-{index}",
        "zorder": 1,
    }
    if box.shape == "ellipse":
        patch = Ellipse((box.x, box.y), box.w, box.h, **common)
    else:
        pad = 0.08 if box.shape == "round" else 0.0
        patch = FancyBboxPatch(
            (box.x - box.w / 2 + pad, box.y - box.h / 2 + pad),
            box.w - 2 * pad,
            box.h - 2 * pad,
            boxstyle=f"round,pad={pad}" if pad else "square,pad=0",
            **common,
        )
    ax.add_patch(patch)
    if box.label:
        ax.text(
            box.x,
            box.y,
            box.label,
            ha="center",
            va="center",
            fontsize=box.font_size,
            gid=f"boxlabel-{index}",
            zorder=3,
        )
    if box.note:
        ax.text(
            box.x,
            box.y - box.h / 2 - 0.06,
            box.note,
            ha="center",
            va="top",
            fontsize=NOTE_SIZE,
            color=STYLES["highlight"]["edge"],
            gid=f"note-{index}",
            zorder=3,
        )


def _draw_arrow(ax, arrow: Arrow, index: int) -> None:
    look = STYLES[arrow.style]
    common = {
        "arrowstyle": "-|>",
        "mutation_scale": 16,
        "color": look["edge"],
        "linewidth": look["width"],
        "gid": f"arrow-{index}",
        "zorder": 2,
    }
    if arrow.via:
        points = [arrow.start, *arrow.via, arrow.end]
        path = MplPath(points, [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 1))
        patch = FancyArrowPatch(path=path, **common)
    else:
        patch = FancyArrowPatch(arrow.start, arrow.end, shrinkA=0, shrinkB=0, **common)
    ax.add_patch(patch)
    if arrow.label:
        x, y, ha, va = _label_place(arrow)
        color = arrow.label_color or (
            "#000000" if arrow.style != "arrow-highlight" else STYLES["arrow-highlight"]["edge"]
        )
        ax.text(
            x,
            y,
            arrow.label,
            ha=ha,
            va=va,
            fontsize=FONT_SIZE,
            color=color,
            gid=f"label-{index}",
            zorder=3,
        )
