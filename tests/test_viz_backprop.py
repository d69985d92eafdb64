"""backprop frames: every frame renders, and frame k has k highlighted, labelled edges."""

import pytest

from minitorch.viz import BACKPROP_STEPS, backprop


def test_the_docs_frame_is_the_last_one():
    assert BACKPROP_STEPS == 6
    drawing = backprop(6)
    assert len(drawing.arrows) == 6
    assert all(a.style == "arrow-highlight" and a.label for a in drawing.arrows)


@pytest.mark.parametrize("step", range(BACKPROP_STEPS + 1))
def test_each_frame_highlights_the_first_step_edges(step):
    drawing = backprop(step)
    svg = drawing.svg()
    assert [a.style == "arrow-highlight" for a in drawing.arrows] == [
        i < step for i in range(BACKPROP_STEPS)
    ]
    assert svg.count('id="arrow-') == BACKPROP_STEPS
    assert svg.count('id="label-') == step
    assert f"step {step} of {BACKPROP_STEPS}" in svg


def test_edges_are_drawn_backward_from_the_output():
    drawing = backprop(BACKPROP_STEPS)
    # The output sits right-most; every backward edge points left.
    assert all(a.end[0] < a.start[0] for a in drawing.arrows)
    assert "<!-- $1/z$ -->" in drawing.svg()


def test_a_node_used_twice_shows_a_partial_sum_until_both_edges_arrive():
    z_note = [b.note for b in backprop(3).boxes if "z = x" in b.label][0]
    assert r"\ldots" in z_note
    z_note = [b.note for b in backprop(4).boxes if "z = x" in b.label][0]
    assert "1/z + e^z" in z_note and r"\ldots" not in z_note


def test_frames_share_one_size():
    extents = {backprop(step).extent for step in range(BACKPROP_STEPS + 1)}
    assert len(extents) == 1


@pytest.mark.parametrize("step", [-1, 7, 2.5, "3", True, None])
def test_steps_out_of_range_are_refused(step):
    with pytest.raises(ValueError, match=r"from 0 to 6.*got"):
        backprop(step)
