r"""`backprop`: frames of the backpropagation walk-through.

The example is $h(x, y) = \log z + e^z$ with $z = x \cdot y$. Backpropagation walks its graph
from the output: each frame highlights one more edge and labels it with the derivative that
flows along it; a node shows its derivative once every edge into it (backward) has arrived.
"""

from __future__ import annotations

from .diagram import Arrow, Box, Drawing

__all__ = ["backprop", "BACKPROP_STEPS"]

# The nodes, forward left to right: name -> (x, y, label).
_NODES = {
    "x": (0.0, 1.1, "$x$"),
    "y": (0.0, -1.1, "$y$"),
    "z": (2.8, 0.0, r"$z = x \cdot y$"),
    "log": (5.6, 1.1, r"$\log z$"),
    "exp": (5.6, -1.1, "$e^z$"),
    "h": (8.4, 0.0, r"$h = \log z + e^z$"),
}

# Backward edges in the order backpropagation visits them (consumer -> input), each with the
# derivative that flows along it: d_out of the consumer times its local derivative.
_EDGES = [
    ("h", "log", "$1$"),
    ("h", "exp", "$1$"),
    ("log", "z", r"$1/z$"),
    ("exp", "z", "$e^z$"),
    ("z", "x", r"$y\,(1/z + e^z)$"),
    ("z", "y", r"$x\,(1/z + e^z)$"),
]

# What each node's derivative (dh / d node) reads after all its incoming edges have arrived,
# and, for z (the one with two consumers), after only the first.
_TOTAL = {
    "h": "1",
    "log": "1",
    "exp": "1",
    "z": "1/z + e^z",
    "x": r"y\,(1/z + e^z)",
    "y": r"x\,(1/z + e^z)",
}
_PARTIAL = {"z": r"1/z + \ldots"}
_SYMBOL = {"h": "h", "log": r"(\log z)", "exp": "(e^z)", "z": "z", "x": "x", "y": "y"}

BACKPROP_STEPS = len(_EDGES)
"""The last frame: `backprop(BACKPROP_STEPS)` shows every edge done."""

_NODE_H = 0.6


def backprop(step: int) -> Drawing:
    r"""Frame `step` of backpropagation through $h = \log(xy) + e^{xy}$.

    Arrows point backward (from the output towards the inputs). The first `step` of them are
    highlighted and labelled with the derivative flowing along them; each node notes
    $\partial h / \partial \text{node}$ once known (z, used twice, shows a partial sum after
    its first edge).

    Args:
        step: how many edges are done, from 0 (only the output's own derivative, 1) to
            `BACKPROP_STEPS` (6, every edge; the frame the docs show).

    Returns:
        A `Drawing` (shows itself in a notebook; `.save("x.svg")` or `.save("x.png")`).

    Raises:
        ValueError: `step` is not an integer from 0 to `BACKPROP_STEPS`.
    """
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= BACKPROP_STEPS:
        raise ValueError(
            f"backprop: expected a step from 0 to {BACKPROP_STEPS} (edges done), got {step!r}"
        )
    done = _EDGES[:step]
    arrived = {node: sum(1 for _, dst, _ in done if dst == node) for node in _NODES}
    needed = {node: sum(1 for _, dst, _ in _EDGES if dst == node) for node in _NODES}

    boxes = {}
    for name, (x, y, label) in _NODES.items():
        width = 1.9 if name in ("z", "h") else 1.0
        if name == "h" or arrived[name] == needed[name]:
            note = rf"$\partial h / \partial {_SYMBOL[name]} = {_TOTAL[name]}$"
        elif arrived[name]:
            note = rf"$\partial h / \partial {_SYMBOL[name]} = {_PARTIAL[name]}$"
        else:
            note = ""
        complete = name == "h" or arrived[name] == needed[name]
        boxes[name] = Box(
            x,
            y,
            width,
            _NODE_H,
            label=label,
            shape="round",
            style="highlight" if complete else "neutral",
            note=note,
        )

    arrows = []
    for i, (src, dst, flow) in enumerate(_EDGES):
        a, b = boxes[src], boxes[dst]
        # From the consumer's left side to the input's right side: the graph drawn backward.
        start = (a.x - a.w / 2, a.y)
        end = (b.x + b.w / 2, b.y)
        if i < step:
            # Labels go on the outer side: above the upper edges, below the lower ones.
            below = min(a.y, b.y) < 0
            arrows.append(Arrow(start, end, label=flow, style="arrow-highlight", label_below=below))
        else:
            arrows.append(Arrow(start, end, style="arrow-muted"))
    title = f"backpropagation, step {step} of {BACKPROP_STEPS}"
    drawing = Drawing(boxes=list(boxes.values()), arrows=arrows, title=title)
    # Every frame takes the last frame's size (it has the most text), so frames line up.
    drawing.extent = drawing.fit() if step == BACKPROP_STEPS else backprop(BACKPROP_STEPS).extent
    return drawing
