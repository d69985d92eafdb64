"""`draw_graph`: a picture (and DOT text) of the computation history behind a variable.

Works on anything with the autodiff protocol: `.history` (None for a constant) holding
`last_fn` (None for a leaf) and `inputs`, plus `.unique_id`, `.name` and `.grad` (or
`.derivative`). A node is labelled by its value (`.data`, a Scalar) or its shape (`.shape`, a
Tensor). The layout is our own (layered, left to right), so no graphviz program is needed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .diagram import Arrow, Box, Drawing

__all__ = ["draw_graph", "graph_dot", "GraphDrawing", "GraphNode", "MAX_NODES"]

MAX_NODES = 300
"""Beyond this many nodes a drawing is unreadable (and huge); `graph_dot` still works."""

NodeKind = Literal["variable", "constant", "function"]

_LINE_H = 0.2  # inches per line of node text
_CHAR_W = 0.085  # inches per character of node text (generous)
_LAYER_GAP = 0.6  # horizontal room between layers, for the arrows
_ROW_GAP = 0.3  # vertical room between nodes of one layer
_FONT = 10.0
_WAYPOINT_H = 0.12  # the slot a long edge takes in a column it crosses


@dataclass(frozen=True)
class GraphNode:
    """One node of a drawn graph.

    Attributes:
        key: `v<unique_id>` for a variable, `f<unique_id of its output>` for a function call.
        kind: "variable" (leaf or computed), "constant" (no history) or "function".
        lines: the text shown in the node, one entry per line.
        highlight: drawn in the highlight style (e.g. the node backprop is visiting).
    """

    key: str
    kind: NodeKind
    lines: tuple[str, ...]
    highlight: bool = False


@dataclass(repr=False)
class GraphDrawing(Drawing):
    """A drawn computation graph; also `to_dot()` and `.save("g.dot")`.

    Attributes:
        nodes: every node, sources first.
        edges: `(from_key, to_key)` pairs in data-flow order: input -> function call ->
            result. A variable used twice by one call has two edges.
    """

    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def to_dot(self) -> str:
        """The graph in Graphviz's DOT language (render with `dot -Tsvg` if you have it)."""
        return _dot(self.nodes, self.edges)

    def save(self, path: str | Path, dpi: float = 150.0) -> Path:
        """Write `.svg`, `.png` or `.dot` (the format follows the suffix)."""
        path = Path(path)
        if path.suffix.lower() == ".dot":
            path.write_text(self.to_dot(), encoding="utf-8")
            return path
        return super().save(path, dpi=dpi)


def draw_graph(
    variable: Any,
    max_nodes: int = MAX_NODES,
    grads: Mapping[int, Any] | None = None,
    highlight: Collection[int] = (),
) -> GraphDrawing:
    """Draw the computation history of `variable` (a Scalar or a Tensor).

    One node per variable (its name if it has one, its value or shape, its derivative once
    `backward` has set it), one per function call (`Mul`, `Log`, ...), and arrows in
    data-flow order from inputs to results. Constants are dashed.

    Args:
        variable: the result whose history to draw.
        max_nodes: refuse to draw graphs larger than this.
        grads: the derivative to show for each variable, by `unique_id`, instead of its
            `.grad` (which backward sets on leaves only): e.g. the derivatives known part
            way through backpropagation, intermediate nodes included.
        highlight: the `unique_id`s of variables to draw highlighted.

    Returns:
        A `GraphDrawing`: shows itself in a notebook, `.save()`s to SVG/PNG/DOT,
        `.to_dot()` gives DOT text, `.nodes` and `.edges` describe the graph.

    Raises:
        ValueError: `variable` has no history (not a variable, or a constant), or the graph
            has more than `max_nodes` nodes.
    """
    nodes, edges = _collect(variable, grads, frozenset(highlight))
    if len(nodes) > max_nodes:
        raise ValueError(
            f"draw_graph: expected at most max_nodes={max_nodes} nodes, the graph has "
            f"{len(nodes)}; use graph_dot(variable) for DOT text, or raise max_nodes"
        )
    drawing = GraphDrawing(nodes=nodes, edges=edges)
    _lay_out(drawing)
    return drawing


def graph_dot(variable: Any) -> str:
    """The computation history of `variable` as DOT text, for graphs of any size."""
    return _dot(*_collect(variable))


# --- reading the graph -------------------------------------------------------------------


def _collect(
    variable: Any, grads: Mapping[int, Any] | None = None, highlight: frozenset[int] = frozenset()
) -> tuple[list[GraphNode], list[tuple[str, str]]]:
    """Walk the history (iteratively: graphs can be deep) into nodes and edges."""
    if not hasattr(variable, "history") or not hasattr(variable, "unique_id"):
        raise ValueError(
            f"draw_graph: expected a Scalar or Tensor with a computation history (.history), "
            f"got {type(variable).__name__} {variable!r:.60}"
        )
    if variable.history is None:
        raise ValueError(
            f"draw_graph: expected a variable with a history, got a constant "
            f"{type(variable).__name__} (history is None: nothing recorded how it was made; "
            f"create it as a leaf, or with requires_grad, to track its history)"
        )
    found: dict[str, GraphNode] = {}
    edges: list[tuple[str, str]] = []
    stack = [variable]
    while stack:
        var = stack.pop()
        key = f"v{var.unique_id}"
        if key in found:
            continue
        history = var.history
        kind: NodeKind = "constant" if history is None else "variable"
        found[key] = GraphNode(
            key, kind, _variable_lines(var, kind, grads), highlight=var.unique_id in highlight
        )
        if history is None or history.last_fn is None:
            continue
        call = f"f{var.unique_id}"
        fn = history.last_fn
        found[call] = GraphNode(call, "function", (getattr(fn, "__name__", str(fn)),))
        edges.append((call, key))
        for parent in history.inputs:
            edges.append((f"v{parent.unique_id}", call))
        stack.extend(reversed(list(history.inputs)))
    order = _topological(list(found), edges)
    rank = {key: i for i, key in enumerate(order)}
    # Data-flow order: by the source node, then by the input position.
    edges = sorted(edges, key=lambda e: rank[e[0]])
    return [found[key] for key in order], edges


def _variable_lines(var: Any, kind: NodeKind, grads: Mapping[int, Any] | None) -> tuple[str, ...]:
    lines = []
    name = getattr(var, "name", None)
    if name and str(name) != str(var.unique_id):  # an automatic id-name says nothing
        lines.append(str(name))
    shape = getattr(var, "shape", None)
    if shape is not None:
        lines.append(f"shape {tuple(shape)}")
    else:
        lines.append(("const " if kind == "constant" else "data ") + _number(var.data))
    if grads is not None:
        grad = grads.get(var.unique_id)
    else:
        grad = (
            getattr(var, "grad", None) if hasattr(var, "grad") else getattr(var, "derivative", None)
        )
    if grad is not None and kind != "constant":
        gshape = getattr(grad, "shape", None)
        lines.append(
            f"grad shape {tuple(gshape)}" if gshape is not None else f"grad {_number(grad)}"
        )
    return tuple(lines)


def _number(value: Any) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


def _topological(keys: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Sources first (Kahn's algorithm), ties kept in discovery order."""
    indegree = {key: 0 for key in keys}
    children = defaultdict(list)
    for src, dst in edges:
        indegree[dst] += 1
        children[src].append(dst)
    ready = [key for key in reversed(keys) if indegree[key] == 0]
    order = []
    while ready:
        key = ready.pop()
        order.append(key)
        for child in children[key]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return order


# --- layout ------------------------------------------------------------------------------


def _lay_out(drawing: GraphDrawing) -> None:
    """Sugiyama-style: layers left to right, waypoints for long edges, barycentre ordering."""
    keys = [node.key for node in drawing.nodes]
    layer = _layers(keys, drawing.edges)
    columns, routes = _route(keys, drawing.edges, layer)
    boxes, spans = _place(columns, {node.key: node for node in drawing.nodes})
    drawing.boxes = [boxes[key] for key in keys]
    drawing.arrows = _connect(routes, layer, boxes, spans)


def _layers(keys: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's column: one past its deepest input; inputs sit just before their first use."""
    parents, children = defaultdict(list), defaultdict(list)
    for src, dst in edges:
        parents[dst].append(src)
        children[src].append(dst)
    layer: dict[str, int] = {}
    for key in keys:  # sources first, so every parent has its layer already
        layer[key] = max((layer[p] + 1 for p in parents[key]), default=0)
    # Pull each source right, next to its first consumer, so its arrows stay short.
    for key in keys:
        if not parents[key] and children[key]:
            layer[key] = min(layer[c] for c in children[key]) - 1
    return layer


def _route(keys, edges, layer) -> tuple[dict[int, list[str]], list[list[str]]]:
    """Columns of node keys in drawing order, and each edge's route through them.

    An edge spanning several layers gets an invisible waypoint in each layer it crosses;
    waypoints take a slot in their column, so the edge runs between boxes, not through them.
    """
    columns: dict[int, list[str]] = defaultdict(list)
    for key in keys:
        columns[layer[key]].append(key)
    routes: list[list[str]] = []
    links_up, links_down = defaultdict(list), defaultdict(list)
    for n, (src, dst) in enumerate(edges):
        route = [src] + [f"~{n}.{i}" for i in range(layer[src] + 1, layer[dst])] + [dst]
        for i, key in enumerate(route[1:-1], start=layer[src] + 1):
            columns[i].append(key)
        for a, b in zip(route, route[1:]):
            links_up[b].append(a)
            links_down[a].append(b)
        routes.append(route)
    _order_columns(columns, links_up, links_down)
    return columns, routes


def _place(columns, by_key) -> tuple[dict[str, Box], dict[int, tuple[float, float]]]:
    """A box for every node and waypoint, and each column's horizontal span."""
    boxes: dict[str, Box] = {}
    spans: dict[int, tuple[float, float]] = {}
    x = 0.0
    for index in sorted(columns):
        col = columns[index]
        sizes = [_node_size(by_key[k]) if k in by_key else (0.0, _WAYPOINT_H) for k in col]
        width = max(w for w, _ in sizes)
        y = (sum(h for _, h in sizes) + _ROW_GAP * (len(col) - 1)) / 2  # centred on 0
        for key, (w, h) in zip(col, sizes):
            node = by_key.get(key)
            if node is None:
                boxes[key] = Box(x + width / 2, y - h / 2, w, h)
            else:
                label = "\n".join(line.replace("$", r"\$") for line in node.lines)
                shape = "ellipse" if node.kind == "function" else "round"
                style = "highlight" if node.highlight else node.kind
                boxes[key] = Box(
                    x + width / 2,
                    y - h / 2,
                    w,
                    h,
                    label=label,
                    shape=shape,
                    style=style,
                    font_size=_FONT,
                )
            y -= h + _ROW_GAP
        spans[index] = (x, x + width)
        x += width + _LAYER_GAP
    return boxes, spans


def _connect(routes, layer, boxes, spans) -> list[Arrow]:
    """One arrow per edge, through its waypoints.

    Edges meeting a node on one side get separate ports, ordered by where they come from, so
    arrowheads do not pile up and repeated edges (x * x) run side by side.
    """
    vias = []
    for route in routes:
        via = []
        first = layer[route[0]] + 1
        for k, key in enumerate(route[1:-1]):  # across each crossed column, level with it
            left, right = spans[first + k]
            via += [(left, boxes[key].y), (right, boxes[key].y)]
        vias.append(via)
    outgoing, incoming = defaultdict(list), defaultdict(list)
    for n, (route, via) in enumerate(zip(routes, vias)):
        towards = via[0][1] if via else boxes[route[-1]].y
        coming_from = via[-1][1] if via else boxes[route[0]].y
        outgoing[route[0]].append((-towards, n))
        incoming[route[-1]].append((-coming_from, n))
    starts, ends = {}, {}
    for ports, side, found in ((outgoing, 1, starts), (incoming, -1, ends)):
        for key, users in ports.items():
            for j, (_, n) in enumerate(sorted(users)):
                found[n] = _port(boxes[key], j, len(users), side)
    return [Arrow(starts[n], ends[n], via=tuple(via)) for n, via in enumerate(vias)]


def _port(box: Box, j: int, count: int, side: int) -> tuple[float, float]:
    """Point `j` of `count`, top to bottom, on the left (`side=-1`) or right side of a box."""
    dy = box.h * 0.6 * (0.5 - (j + 1) / (count + 1))
    half = box.w / 2
    if box.shape == "ellipse":  # follow the curve, so arrows touch it
        half *= math.sqrt(max(0.0, 1.0 - (dy / (box.h / 2)) ** 2))
    return box.x + side * half, box.y + dy


def _order_columns(columns, parents, children) -> None:
    """Reduce crossings: sort each layer by the mean position of its neighbours (2 sweeps)."""
    position = {key: i for col in columns.values() for i, key in enumerate(col)}
    indices = sorted(columns)
    for neighbours, sweep in ((parents, indices), (children, indices[::-1])) * 2:
        for index in sweep:
            col = columns[index]
            centre = {}
            for key in col:
                near = [position[n] for n in neighbours[key]]
                centre[key] = sum(near) / len(near) if near else position[key]
            col.sort(key=centre.__getitem__)
            for i, key in enumerate(col):
                position[key] = i


def _node_size(node: GraphNode) -> tuple[float, float]:
    width = max(len(line) for line in node.lines) * _CHAR_W + 0.3
    height = len(node.lines) * _LINE_H + 0.2
    if node.kind == "function":  # an ellipse needs more room around the same text
        width, height = width * 1.3, max(height * 1.4, 0.45)
    return width, height


# --- DOT -----------------------------------------------------------------------------------

_DOT_STYLE = {
    "variable": 'shape=box, style="rounded"',
    "constant": 'shape=box, style="rounded,dashed", color="#868e96"',
    "function": 'shape=ellipse, style=filled, fillcolor="#e7f0fd"',
}


def _dot(nodes: list[GraphNode], edges: list[tuple[str, str]]) -> str:
    def quote(lines: tuple[str, ...]) -> str:
        text = "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
        return f'"{text}"'

    out = ["digraph minitorch {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    out += [f"  {n.key} [{_DOT_STYLE[n.kind]}, label={quote(n.lines)}];" for n in nodes]
    out += [f"  {src} -> {dst};" for src, dst in edges]
    out.append("}")
    return "\n".join(out) + "\n"
