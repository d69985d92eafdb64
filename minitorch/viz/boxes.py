"""`draw_boxes`: the docs' function-box diagrams (functions as boxes, values as arrows)."""

from __future__ import annotations

from collections.abc import Sequence

from ._mpl import check_label
from .diagram import Arrow, Box, Drawing

__all__ = ["draw_boxes"]

BOX_W = 0.9  # box width, inches
BOX_H = 0.7  # minimum box height; boxes with many arrows on one side grow
ROW_GAP = 0.45  # vertical space between stacked boxes
PORT_GAP = 0.3  # vertical space between arrows meeting a box on the same side
GAP = 1.5  # horizontal room between columns, where the arrows and their labels go
END = 0.9  # length of the arrows entering the first column and leaving the last

Label = str | tuple[str, ...]


def draw_boxes(labels: Sequence[Label], sizes: Sequence[int], lr: bool = True) -> Drawing:
    """Draw functions as boxes and the values flowing between them as arrows.

    Column `i` stacks `sizes[i]` boxes. Every box of one column feeds every box of the next.
    `labels` names the arrows: `labels[0]` the inputs of the first column, `labels[i]` those
    between columns `i - 1` and `i`, `labels[-1]` the outputs of the last column. A string
    means one arrow per connection; a tuple of `k` strings means `k` parallel arrows.

    Args:
        labels: `len(sizes) + 1` entries, each a string or a tuple of strings; math such as
            ``"$f(x_1)$"`` is typeset.
        sizes: the number of boxes in each column, all positive.
        lr: True for the forward view (plain boxes, arrows to the right); False for the
            backward view (highlighted boxes, arrows to the left, labels where they were).

    Returns:
        A `Drawing` (shows itself in a notebook; `.save("x.svg")` or `.save("x.png")`).

    Raises:
        ValueError: a size is not a positive integer, the label count is not
            `len(sizes) + 1`, or a label is not a string (or cannot be typeset).
    """
    sizes = _check_sizes(sizes)
    groups = _check_labels(labels, len(sizes))
    columns = _place_boxes(sizes, groups, lr)
    drawing = Drawing(boxes=[box for column in columns for box in column])
    for gap, names in enumerate(groups):
        left = columns[gap - 1] if gap > 0 else None
        right = columns[gap] if gap < len(columns) else None
        drawing.arrows += _gap_arrows(left, right, names, lr)
    return drawing


def _check_sizes(sizes: Sequence[int]) -> list[int]:
    sizes = list(sizes)
    bad = [s for s in sizes if isinstance(s, bool) or not isinstance(s, int) or s < 1]
    if not sizes or bad:
        raise ValueError(
            f"draw_boxes: sizes must be a non-empty list of positive integers (boxes per "
            f"column), got {sizes!r}"
        )
    return sizes


def _check_labels(labels: Sequence[Label], columns: int) -> list[tuple[str, ...]]:
    labels = list(labels)
    if len(labels) != columns + 1:
        raise ValueError(
            f"draw_boxes: expected len(sizes) + 1 = {columns + 1} labels (the inputs, one per "
            f"gap between columns, the outputs) for {columns} column(s), got {len(labels)}: "
            f"{labels!r}"
        )
    groups = []
    for i, entry in enumerate(labels):
        if isinstance(entry, str):
            group = (entry,)
        elif isinstance(entry, (tuple, list)):
            group = tuple(entry)
        else:
            group = ()
        if not group:
            raise ValueError(
                f"draw_boxes: labels[{i}] must be a string or a non-empty tuple of strings, "
                f"got {entry!r}"
            )
        for text in group:
            check_label(text, f"draw_boxes: labels[{i}]")
        groups.append(group)
    return groups


def _place_boxes(sizes: list[int], groups: list[tuple[str, ...]], lr: bool) -> list[list[Box]]:
    """Columns of boxes, each column centred on y = 0."""
    columns = []
    for i, size in enumerate(sizes):
        # Arrows meeting one box on its left (or right) side: one per box of the previous
        # (next) column, times the parallel arrows of that gap. The box is tall enough for them.
        ports_in = (sizes[i - 1] if i > 0 else 1) * len(groups[i])
        ports_out = (sizes[i + 1] if i + 1 < len(sizes) else 1) * len(groups[i + 1])
        h = max(BOX_H, PORT_GAP * (max(ports_in, ports_out) + 1))
        x = END + BOX_W / 2 + i * (BOX_W + GAP)
        top = (size - 1) * (h + ROW_GAP) / 2
        style = "neutral" if lr else "highlight"
        columns.append(
            [Box(x, top - j * (h + ROW_GAP), BOX_W, h, style=style) for j in range(size)]
        )
    return columns


def _ports(box: Box, count: int, side: int) -> list[tuple[float, float]]:
    """`count` points spread evenly down the left (`side=-1`) or right (`side=1`) edge."""
    x = box.x + side * box.w / 2
    return [(x, box.y + box.h / 2 - box.h * (k + 1) / (count + 1)) for k in range(count)]


def _gap_arrows(
    left: list[Box] | None, right: list[Box] | None, names: tuple[str, ...], lr: bool
) -> list[Arrow]:
    """The arrows of one gap: inputs (no left column), outputs (no right column) or between."""
    k = len(names)
    # Each arrow is first built pointing right (tail, head), then flipped for the backward view.
    pairs: list[tuple[tuple[float, float], tuple[float, float], str, str]] = []
    if left is None:
        for box in right:
            for name, head in zip(names, _ports(box, k, -1)):
                pairs.append(((head[0] - END, head[1]), head, name, "tail"))
    elif right is None:
        for box in left:
            for name, tail in zip(names, _ports(box, k, 1)):
                pairs.append((tail, (tail[0] + END, tail[1]), name, "head"))
    else:
        # Ports are handed out top to bottom on both sides, so fan-in/out arrows never cross.
        tails = {id(b): iter(_ports(b, len(right) * k, 1)) for b in left}
        heads = {id(b): iter(_ports(b, len(left) * k, -1)) for b in right}
        for src in left:
            for dst in right:
                for name in names:
                    pairs.append((next(tails[id(src)]), next(heads[id(dst)]), name, "mid"))
    arrows = []
    for tail, head, name, where in pairs:
        # The label stays beside the outer end of an input or output arrow, whichever way
        # the arrow points.
        if where == "mid":
            label_at = "mid"
        elif where == "tail":
            label_at = "start" if lr else "end"
        else:
            label_at = "end" if lr else "start"
        start, end = (tail, head) if lr else (head, tail)
        style = "arrow" if lr else "arrow-highlight"
        arrows.append(
            Arrow(start, end, label=name, label_at=label_at, style=style, label_color="#000000")
        )
    return arrows
