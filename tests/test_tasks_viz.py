"""The task pictures draw what they are given and refuse inconsistent input by name."""

from __future__ import annotations

import numpy as np
import pytest

from minitorch.viz.tasks import (
    plot_confusion,
    plot_curves,
    plot_digit_grid,
    plot_feature_maps,
    plot_sentences,
)

HISTORY = {
    "train_loss": [1.0, 0.5],
    "val_loss": [0.9, 0.6],
    "train_accuracy": [0.5, 0.8],
    "val_accuracy": [0.6, 0.7],
}


def test_curves_show_the_final_and_best_validation_accuracy() -> None:
    fig = plot_curves(HISTORY, title="t")
    loss_ax, acc_ax = fig.axes
    assert "best validation 70.0%, epoch 2" in acc_ax.get_title()
    assert [t.get_text() for t in acc_ax.texts] == ["70.0%"]
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), [60.0, 70.0])
    with pytest.raises(ValueError, match="lacks \\['val_loss'\\]"):
        plot_curves({k: v for k, v in HISTORY.items() if k != "val_loss"})
    with pytest.raises(ValueError, match="one value per epoch"):
        plot_curves({**HISTORY, "val_loss": [1.0]})


def test_confusion_counts_and_title() -> None:
    fig = plot_confusion(np.array([[3, 1], [0, 4]]), ["neg", "pos"])
    ax = fig.axes[0]
    assert ax.get_title() == "7/8 right (87.5%)"
    assert sorted(t.get_text() for t in ax.texts) == ["1", "3", "4"]  # empty cells stay blank
    with pytest.raises(ValueError, match="expected a 3x3 matrix, got shape \\(2, 2\\)"):
        plot_confusion(np.eye(2), ["a", "b", "c"])


def test_digit_grid_marks_wrong_answers() -> None:
    images = np.zeros((3, 28, 28))
    fig = plot_digit_grid(images, [1, 2, 3], [1, 5, 3], [0.9, 0.6, 0.99], columns=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["1  90%", "2 → 5", "3  99%"]
    with pytest.raises(ValueError, match="3 images, 2 labels"):
        plot_digit_grid(images, [1, 2], [1, 2, 3], [1, 1, 1])


def test_feature_maps_and_sentences_check_their_shapes() -> None:
    fig = plot_feature_maps(np.zeros((2, 28, 28)), np.ones((2, 4, 28, 28)), [3, 7])
    assert len(fig.axes) == 2 * 5
    with pytest.raises(ValueError, match="maps \\(n, channels, h, w\\)"):
        plot_feature_maps(np.zeros((2, 28, 28)), np.ones((2, 28, 28)), [3, 7])
    texts = [f"sentence {i}" for i in range(6)]
    fig = plot_sentences(texts, [1, 0, 1, 0, 1, 0], [0.99, 0.02, 0.5, 0.45, 0.7, 0.8], count=2)
    shown = [[t.get_text() for t in ax.texts] for ax in fig.axes]
    assert shown[0] == [
        "0.99   sentence 0  [positive]",
        "0.80   ✗ sentence 5  [negative]",
    ]  # most positive first
    assert shown[1] == ["0.02   sentence 1  [negative]", "0.45   sentence 3  [negative]"]
    # 0.5 is not positive; "least sure" repeats no sentence of the panels above
    assert shown[2] == ["0.50   ✗ sentence 2  [positive]", "0.70   sentence 4  [positive]"]
    with pytest.raises(ValueError, match="6 sentences, 6 labels and 2 probabilities"):
        plot_sentences(texts, [0] * 6, [0.5, 0.5])


def test_a_model_that_calls_everything_positive_gets_an_empty_negative_panel() -> None:
    texts = [f"sentence {i}" for i in range(9)]
    probs = [0.62, 0.68, 0.64, 0.9, 0.95, 0.66, 0.63, 0.65, 0.99]  # a weak model: all positive
    fig = plot_sentences(texts, [0, 1, 0, 1, 1, 0, 1, 0, 1], probs, count=3)
    shown = [[t.get_text() for t in ax.texts] for ax in fig.axes]
    assert [t.split()[0] for t in shown[0]] == ["0.99", "0.95", "0.90"]
    assert shown[1] == ["none: the model calls no sentence negative"]
    assert [t.split()[0] for t in shown[2]] == ["0.62", "0.63", "0.64"]  # not the panel above


def test_epoch_ticks_are_whole_numbers_and_the_legend_leaves_the_final_label_alone() -> None:
    from minitorch.viz.training import plot_loss

    fig = plot_curves(HISTORY)
    fig.canvas.draw()
    for ax in fig.axes:
        assert all(float(t).is_integer() for t in ax.get_xticks()), ax.get_xticks()
        assert ax.get_legend() is None  # one legend for the figure, outside both plots
    (legend,) = fig.legends
    label = fig.axes[1].texts[0].get_window_extent()
    assert not legend.get_window_extent().overlaps(label)
    assert [t.get_text() for t in legend.get_texts()] == ["training (dropout on)", "validation"]
    loss = plot_loss([0.9, 0.5, 0.4])
    loss.canvas.draw()
    assert all(float(t).is_integer() for t in loss.axes[0].get_xticks())


def test_the_feature_maps_caption_explains_the_edge_band() -> None:
    fig = plot_feature_maps(np.zeros((1, 28, 28)), np.ones((1, 2, 28, 28)), [3])
    assert "bottom and right edges" in fig.get_suptitle() and "zeros" in fig.get_suptitle()
