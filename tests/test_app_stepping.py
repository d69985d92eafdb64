"""The autodiff page's replay of backpropagation agrees with the engine, and draws."""

import pytest

import minitorch
from minitorch.app.expr import parse
from minitorch.app.stepping import backprop_steps, derivatives_after
from minitorch.viz import draw_graph


def _graph(text="(x * y).log() + (x * y).exp()", x=1.5, y=0.7):
    xs, ys = minitorch.Scalar(x, name="x"), minitorch.Scalar(y, name="y")
    return xs, ys, parse(text)(xs, ys)


def test_replay_ends_where_backward_does():
    x, y, out = _graph("x * x + (x * y).log() * 3 - y.sigmoid()")
    steps = backprop_steps(out)
    final = derivatives_after(steps, len(steps), out)
    assert x.derivative is None  # the replay stores nothing on the graph
    out.backward()
    assert final[x.unique_id] == pytest.approx(x.derivative)
    assert final[y.unique_id] == pytest.approx(y.derivative)


def test_each_node_is_visited_once_after_all_its_consumers():
    x, y, out = _graph()
    steps = backprop_steps(out)
    visited = [s.node.unique_id for s in steps]
    assert len(visited) == len(set(visited))
    assert visited[0] == out.unique_id and steps[0].d_node == 1.0
    position = {uid: i for i, uid in enumerate(visited)}
    for i, step in enumerate(steps):
        for parent, _ in step.sends:
            assert position[parent.unique_id] > i
    # leaves pass nothing back; x * y is used twice, so its node gets both contributions
    assert {s.node.name for s in steps if not s.sends} == {"x", "y"}


def test_partial_derivatives_grow_step_by_step():
    x, y, out = _graph("x * x")
    steps = backprop_steps(out)
    assert derivatives_after(steps, 0, out) == {out.unique_id: 1.0}
    after = derivatives_after(steps, 1, out)
    assert after[x.unique_id] == pytest.approx(2 * 1.5)  # both uses of x arrive at once


def test_constants_get_no_derivative():
    x, y, out = _graph("x * 2 + 1")
    steps = backprop_steps(out)
    sent = {p.unique_id for s in steps for p, _ in s.sends}
    assert all(not s.node.is_constant() for s in steps)
    assert x.unique_id in sent


def test_draw_graph_shows_given_derivatives_and_highlights():
    x, y, out = _graph()
    steps = backprop_steps(out)
    grads = derivatives_after(steps, 2, out)
    drawing = draw_graph(out, grads=grads, highlight={steps[1].node.unique_id})
    lines = [line for node in drawing.nodes for line in node.lines]
    assert sum(line.startswith("grad ") for line in lines) == len(grads)
    assert sum(node.highlight for node in drawing.nodes) == 1
    assert sum(box.style == "highlight" for box in drawing.boxes) == 1
    # without grads, only what backward stored shows: nothing yet
    assert not any(line.startswith("grad") for n in draw_graph(out).nodes for line in n.lines)
