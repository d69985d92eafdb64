"""draw_boxes: structure of the diagram and of its SVG, not pixels."""

import pytest

from minitorch.viz import Drawing, draw_boxes


def count(svg: str, prefix: str) -> int:
    return svg.count(f'id="{prefix}-')


# (labels, sizes, boxes, arrows): every draw_boxes call of the Module-1 docs.
SEED_CALLS = [
    ([("", ""), "", "", ""], [1, 2, 1], 4, 7),
    (["$x_1$", "$f(x_1)$"], [1], 1, 2),
    (["$x_2$", "$f(x_2)$"], [1], 1, 2),
    ([("$x$", "$y$"), "$f(x, y)$"], [1], 1, 3),
    (["$x$", "$g(x)$", "$f(g(x))$"], [1, 1], 2, 3),
    (["", "", ""], [1, 1], 2, 3),
    ([("", ""), ""], [1], 1, 3),
]


@pytest.mark.parametrize("labels, sizes, boxes, arrows", SEED_CALLS)
def test_seed_diagrams_have_their_boxes_and_arrows(labels, sizes, boxes, arrows):
    drawing = draw_boxes(labels, sizes)
    svg = drawing._repr_svg_()
    assert isinstance(drawing, Drawing)
    assert (len(drawing.boxes), len(drawing.arrows)) == (boxes, arrows)
    assert (count(svg, "box"), count(svg, "arrow")) == (boxes, arrows)


def test_every_box_of_a_column_feeds_every_box_of_the_next():
    drawing = draw_boxes(["", "", ""], [2, 3])
    # 2 inputs, 2 x 3 between the columns, 3 outputs
    assert len(drawing.arrows) == 2 + 6 + 3


def test_math_labels_are_typeset_not_shown_with_dollar_signs():
    svg = draw_boxes(["$x$", "$g(x)$", "$f(g(x))$"], [1, 1]).svg()
    # matplotlib records each text as a comment, then draws it as glyph paths
    for label in ["$x$", "$g(x)$", "$f(g(x))$"]:
        assert f"<!-- {label} -->" in svg
    assert count(svg, "label") == 3
    assert "DejaVuSans-24" not in svg  # glyph 0x24 is "$": never drawn
    assert "<text" not in svg


def test_empty_labels_draw_no_text():
    svg = draw_boxes([("", ""), "", "", ""], [1, 2, 1]).svg()
    assert count(svg, "label") == 0


def test_forward_view_points_right_and_backward_view_points_left():
    forward = draw_boxes([("", ""), ""], [1], lr=True)
    backward = draw_boxes([("", ""), ""], [1], lr=False)
    assert all(a.end[0] > a.start[0] for a in forward.arrows)
    assert all(a.end[0] < a.start[0] for a in backward.arrows)
    assert {b.style for b in forward.boxes} == {"neutral"}
    assert {b.style for b in backward.boxes} == {"highlight"}


def test_backward_view_keeps_labels_at_the_same_ends():
    forward = draw_boxes(["$x$", "$f(x)$"], [1], lr=True)
    backward = draw_boxes(["$x$", "$f(x)$"], [1], lr=False)
    from minitorch.viz.diagram import _label_place

    assert [_label_place(a)[:2] for a in forward.arrows] == [
        _label_place(a)[:2] for a in backward.arrows
    ]


def test_parallel_arrows_do_not_overlap():
    drawing = draw_boxes([("$x$", "$y$"), "$f(x, y)$"], [1])
    inputs = drawing.arrows[:2]
    assert inputs[0].end != inputs[1].end


def test_save_picks_the_format_from_the_suffix(tmp_path):
    drawing = draw_boxes(["$x$", "$f(x)$"], [1])
    svg = drawing.save(tmp_path / "d.svg")
    png = drawing.save(tmp_path / "d.png")
    assert svg.read_text().lstrip().startswith("<?xml")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"\.svg or \.png.*d\.pdf"):
        drawing.save(tmp_path / "d.pdf")


@pytest.mark.parametrize("sizes", [[], [0], [1, -1], [1.5], [True], ["2"]])
def test_sizes_must_be_positive_integers(sizes):
    labels = [""] * (len(sizes) + 1)
    with pytest.raises(ValueError, match="positive integers.*got"):
        draw_boxes(labels, sizes)


def test_label_count_must_match_sizes():
    with pytest.raises(ValueError, match=r"expected len\(sizes\) \+ 1 = 3 labels.*got 2"):
        draw_boxes(["$x$", "$y$"], [1, 1])


@pytest.mark.parametrize("bad", [3, (), None])
def test_each_label_is_a_string_or_a_tuple_of_strings(bad):
    with pytest.raises(ValueError, match=r"labels\[0\]"):
        draw_boxes([bad, ""], [1])


def test_math_that_cannot_be_typeset_fails_early_with_the_label():
    with pytest.raises(ValueError, match=r"frac"):
        draw_boxes([r"$\frac{1}{x$", ""], [1])


def test_a_lone_dollar_is_plain_text():
    draw_boxes(["costs $5", ""], [1]).svg()


def test_wide_diagrams_shrink_to_a_notebook_column_but_files_keep_their_size():
    from minitorch.viz import backprop

    drawing = backprop(6)
    assert 'width="760px"' in drawing._repr_svg_()
    assert 'width="760px"' not in drawing.svg()
    small = draw_boxes(["a", "b"], [1])
    assert 'width="760px"' not in small._repr_svg_()  # narrow ones are not blown up
