"""draw_graph: the drawn nodes and edges match the real history graph."""

import itertools
from collections import Counter
from dataclasses import dataclass

import pytest

from minitorch import Scalar
from minitorch.viz import GraphDrawing, draw_graph, graph_dot


def real_edges(out):
    """Every (input -> call) and (call -> result) edge, read straight from the histories."""
    edges, stack, seen = Counter(), [out], set()
    while stack:
        v = stack.pop()
        if v.unique_id in seen:
            continue
        seen.add(v.unique_id)
        h = v.history
        if h is None or h.last_fn is None:
            continue
        edges[(f"f{v.unique_id}", f"v{v.unique_id}")] += 1
        for parent in h.inputs:
            edges[(f"v{parent.unique_id}", f"f{v.unique_id}")] += 1
            stack.append(parent)
    return edges


def sample_graph():
    x = Scalar(2.0, name="x")
    y = Scalar(0.5, name="y")
    z = x * y
    return x, y, z.log() + z.exp()


def test_edges_match_the_history_graph():
    *_, h = sample_graph()
    drawing = draw_graph(h)
    assert isinstance(drawing, GraphDrawing)
    assert Counter(drawing.edges) == real_edges(h)
    kinds = Counter(n.kind for n in drawing.nodes)
    assert kinds == {"variable": 6, "function": 4}  # x, y, z, log z, exp z, h; Mul Log Exp Add


def test_edges_run_in_data_flow_order():
    *_, h = sample_graph()
    drawing = draw_graph(h)
    position = {n.key: i for i, n in enumerate(drawing.nodes)}
    assert all(position[src] < position[dst] for src, dst in drawing.edges)
    assert drawing.nodes[-1].key == f"v{h.unique_id}"


def test_the_svg_has_one_box_per_node_and_one_arrow_per_edge():
    *_, h = sample_graph()
    drawing = draw_graph(h)
    svg = drawing.svg()
    assert svg.count('id="box-') == len(drawing.nodes) == 10
    assert svg.count('id="arrow-') == len(drawing.edges) == 10
    for fn in ["Mul", "Log", "Exp", "Add"]:
        assert f"<!-- {fn} -->" in svg


def test_nodes_show_name_value_and_derivative_once_known():
    x, _, h = sample_graph()
    before = {n.key: n.lines for n in draw_graph(h).nodes}
    assert before[f"v{x.unique_id}"] == ("x", "data 2")
    h.backward()
    after = {n.key: n.lines for n in draw_graph(h).nodes}
    assert after[f"v{x.unique_id}"] == ("x", "data 2", f"grad {x.derivative:.4g}")


def test_a_variable_used_twice_has_two_edges_drawn_apart():
    x = Scalar(3.0, name="x")
    drawing = draw_graph(x * x)
    twins = [a for a, e in zip(drawing.arrows, drawing.edges) if e[0] == f"v{x.unique_id}"]
    assert len(twins) == 2
    assert twins[0].start != twins[1].start and twins[0].end != twins[1].end


def test_arrows_meeting_a_node_do_not_cross_there():
    *_, h = sample_graph()
    drawing = draw_graph(h)
    into = {}
    for (src, dst), arrow in zip(drawing.edges, drawing.arrows):
        into.setdefault(dst, []).append(arrow)
    for arrows in into.values():
        # Ports top to bottom follow the sources top to bottom.
        by_source = sorted(arrows, key=lambda a: -(a.via[-1][1] if a.via else a.start[1]))
        assert [a.end[1] for a in by_source] == sorted((a.end[1] for a in arrows), reverse=True)


def test_constants_are_drawn_dashed():
    x = Scalar(3.0, name="x")
    drawing = draw_graph(x * 5)
    (const,) = [n for n in drawing.nodes if n.kind == "constant"]
    assert const.lines == ("const 5",)
    assert sum(b.style == "constant" for b in drawing.boxes) == 1


def test_long_edges_go_around_boxes_not_through_them():
    x = Scalar(2.0, name="x")
    drawing = draw_graph((x - 3) / (x * x))
    routed = [a for a in drawing.arrows if a.via]
    assert routed
    for arrow in routed:
        for (x0, y), (x1, _) in zip(arrow.via[::2], arrow.via[1::2]):
            for box in drawing.boxes:
                inside_x = box.x - box.w / 2 < (x0 + x1) / 2 < box.x + box.w / 2
                assert not (inside_x and abs(box.y - y) < box.h / 2)


def test_a_leaf_alone_is_one_node():
    drawing = draw_graph(Scalar(1.0))
    assert len(drawing.nodes) == 1 and drawing.edges == []


def test_dot_text_has_every_node_and_edge(tmp_path):
    *_, h = sample_graph()
    drawing = draw_graph(h)
    dot = drawing.to_dot()
    assert dot.startswith("digraph minitorch {") and dot.rstrip().endswith("}")
    assert dot.count(" -> ") == len(drawing.edges)
    for src, dst in drawing.edges:
        assert f"  {src} -> {dst};" in dot
    assert 'label="x\\ndata 2"' in dot
    assert drawing.save(tmp_path / "g.dot").read_text() == dot == graph_dot(h)
    assert drawing.save(tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_labels_are_escaped_for_dot_and_matplotlib():
    x = Scalar(1.0, name='say "$5"')
    drawing = draw_graph(x * 2)
    assert 'label="say \\"$5\\"\\ndata 1"' in drawing.to_dot()
    drawing.svg()  # a lone "$" must not start math mode


def test_deep_graphs_export_dot_but_refuse_to_draw():
    x = Scalar(1.0)
    out = x
    for _ in range(3000):  # deeper than the recursion limit
        out = out + 1.0
    assert graph_dot(out).count(" -> ") == 3000 * 3
    with pytest.raises(ValueError, match=r"max_nodes=300.*graph_dot"):
        draw_graph(out)


@pytest.mark.parametrize("thing", [5, 2.5, "x", None])
def test_things_without_history_are_refused(thing):
    with pytest.raises(ValueError, match="expected a Scalar or Tensor with a computation history"):
        draw_graph(thing)


def test_constants_have_no_history_to_draw():
    with pytest.raises(ValueError, match="constant.*history is None"):
        draw_graph(Scalar(1.0, None))


# A minimal tensor-like variable: the protocol, a shape, and a gradient of that shape.
_ids = itertools.count(10_000)


@dataclass
class FakeHistory:
    last_fn: type | None = None
    ctx: object = None
    inputs: tuple = ()


class MatMul:
    pass


class FakeTensor:
    def __init__(self, shape, history=None, grad=None):
        self.shape, self.history, self.grad = shape, history or FakeHistory(), grad
        self.unique_id, self.name = next(_ids), None


def test_tensors_are_labelled_by_shape():
    a = FakeTensor((2, 3), grad=FakeTensor((2, 3)))
    b = FakeTensor((3, 4))
    out = FakeTensor((2, 4), FakeHistory(MatMul, None, (a, b)))
    lines = {n.key: n.lines for n in draw_graph(out).nodes}
    assert lines[f"v{a.unique_id}"] == ("shape (2, 3)", "grad shape (2, 3)")
    assert lines[f"f{out.unique_id}"] == ("MatMul",)
    assert lines[f"v{out.unique_id}"] == ("shape (2, 4)",)
