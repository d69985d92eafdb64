"""Pictures of the real tasks: learning curves, a confusion matrix, digits with their
predictions, first-layer feature maps, and the sentences a sentiment model is most and least
sure about (matplotlib, drawn by Agg without pyplot, like `training.py`).

Every function takes plain numpy arrays and lists and returns a `Figure`; save it with
`fig.savefig(path, dpi=...)`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._mpl import new_figure
from .training import _CLASS_COLORS

__all__ = [
    "plot_curves",
    "plot_confusion",
    "plot_digit_grid",
    "plot_feature_maps",
    "plot_sentences",
]

_TRAIN, _VAL = _CLASS_COLORS  # blue for training, red for validation
_RIGHT, _WRONG = "#2b8a3e", "#e03131"
_NEGATIVE, _POSITIVE = "#1c7ed6", "#f76707"  # sentiment bars: blue leans negative, orange positive
_BLUES = LinearSegmentedColormap.from_list("minitorch_counts", ["#ffffff", "#a5d8ff", "#1864ab"])
_MAPS = LinearSegmentedColormap.from_list(
    "minitorch_maps", ["#ffffff", "#ffd43b", "#e8590c", "#5f0f40"]
)


def plot_curves(history: Mapping[str, Sequence[float]], title: str | None = None) -> Figure:
    """Loss and accuracy per epoch, training beside validation.

    Args:
        history: `train_loss`, `val_loss`, `train_accuracy`, `val_accuracy` lists (one value
            per epoch), as `metrics.json` holds them.
        title: the figure title.

    Raises:
        ValueError: a list is missing or empty, or the lists differ in length.
    """
    keys = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")
    missing = [k for k in keys if k not in history]
    if missing:
        raise ValueError(f"plot_curves: history lacks {missing}; expected the keys {list(keys)}")
    lengths = {k: len(history[k]) for k in keys}
    if len(set(lengths.values())) != 1 or not lengths["train_loss"]:
        raise ValueError(
            f"plot_curves: expected one value per epoch in each list, got lengths {lengths}"
        )
    epochs = np.arange(1, lengths["train_loss"] + 1)
    marker = "o" if len(epochs) <= 30 else None
    fig = new_figure(9.6, 3.8, layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for ax, kind in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        scale = 100.0 if kind == "accuracy" else 1.0
        for split, color, style in (("train", _TRAIN, "--"), ("val", _VAL, "-")):
            values = np.asarray(history[f"{split}_{kind}"], dtype=float) * scale
            name = "training (dropout on)" if split == "train" else "validation"
            ax.plot(
                epochs,
                values,
                style,
                color=color,
                linewidth=2,
                marker=marker,
                markersize=3,
                label=name,
            )
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5 on short runs
        ax.grid(True, alpha=0.3)
    final = 100.0 * history["val_accuracy"][-1]
    best = int(np.argmax(history["val_accuracy"]))
    acc_ax.annotate(
        f"{final:.1f}%",
        (epochs[-1], final),
        textcoords="offset points",
        xytext=(-4, -14),
        ha="right",
        color=_VAL,
        fontweight="bold",
    )
    loss_ax.set_title("loss")
    loss_ax.set_ylabel("mean loss")
    acc_ax.set_title(
        f"accuracy (best validation {100 * history['val_accuracy'][best]:.1f}%, epoch {best + 1})"
    )
    acc_ax.set_ylabel("% right")
    # One legend for both plots, below them: inside, it covered the final accuracy's label.
    fig.legend(
        *loss_ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8
    )
    if title:
        fig.suptitle(title)
    return fig


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], title: str | None = None) -> Figure:
    """A confusion matrix: rows the true class, columns the prediction, counts in the cells.

    Cells are shaded by the share of their row, so a rare class's mistakes show as clearly
    as a common one's; the diagonal (right answers) is outlined in green.

    Raises:
        ValueError: `matrix` is not square with one row per class.
    """
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape != (len(classes), len(classes)):
        raise ValueError(
            f"plot_confusion: expected a {len(classes)}x{len(classes)} matrix, got shape {m.shape}"
        )
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros(m.shape, dtype=float), where=rows > 0)
    n = len(classes)
    size = 2.2 + 0.45 * n
    fig = new_figure(size + 1.0, size, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(share, cmap=_BLUES, vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if m[i, j]:
                # mistakes in red, so the eye finds them on the pale off-diagonal cells
                color = "white" if share[i, j] > 0.6 else ("#212529" if i == j else _WRONG)
                ax.text(
                    j,
                    i,
                    str(m[i, j]),
                    ha="center",
                    va="center",
                    fontsize=9 if n > 5 else 13,
                    color=color,
                    fontweight="normal" if i == j else "bold",
                )
        ax.add_patch(_outline(i, i, _RIGHT))
    ax.set_xticks(range(n), classes)
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    total, right = int(m.sum()), int(np.trace(m))
    ax.set_title(title or f"{right}/{total} right ({100 * right / max(total, 1):.1f}%)")
    fig.colorbar(image, ax=ax, label="share of the true class", shrink=0.8)
    return fig


def _outline(i: int, j: int, color: str):  # type: ignore[no-untyped-def]
    from matplotlib.patches import Rectangle

    return Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=color, linewidth=1.5)


def plot_digit_grid(
    images: np.ndarray,
    labels: Sequence[int],
    predicted: Sequence[int],
    confidence: Sequence[float],
    columns: int = 10,
    title: str | None = None,
) -> Figure:
    """Digits with the model's answers; wrong ones framed in red with "true -> predicted".

    Args:
        images: `(n, 28, 28)` pixels (any scale).
        labels: the true digits.
        predicted: the model's digits.
        confidence: the model's probability for its answer, 0..1.
        columns: digits per row.
        title: the figure title.
    """
    images = np.asarray(images, dtype=float)
    n = len(images)
    if not (len(labels) == len(predicted) == len(confidence) == n) or n == 0:
        raise ValueError(
            f"plot_digit_grid: expected one label, prediction and confidence per image, got "
            f"{n} images, {len(labels)} labels, {len(predicted)} predictions, "
            f"{len(confidence)} confidences"
        )
    rows = -(-n // columns)
    fig = new_figure(1.05 * columns, 1.25 * rows + 0.5, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n:
            ax.set_axis_off()
            continue
        right = int(labels[k]) == int(predicted[k])
        ax.imshow(images[k], cmap="gray_r")
        color = _RIGHT if right else _WRONG
        text = (
            f"{predicted[k]}  {100 * confidence[k]:.0f}%"
            if right
            else f"{labels[k]} → {predicted[k]}"
        )
        ax.set_title(text, fontsize=8, color=color, fontweight="normal" if right else "bold", pad=2)
        for spine in ax.spines.values():
            spine.set_edgecolor(color if not right else "#ced4da")
            spine.set_linewidth(2.5 if not right else 0.8)
    wrong = sum(int(a) != int(b) for a, b in zip(labels, predicted))
    fig.suptitle(
        title
        or f"Validation digits: {n - wrong}/{n} right (green: answer and its probability; "
        f"red: true → predicted)",
        fontsize=10,
    )
    return fig


def plot_feature_maps(
    images: np.ndarray, maps: np.ndarray, labels: Sequence[int], title: str | None = None
) -> Figure:
    """Each digit beside the maps its first convolution layer produced.

    Args:
        images: `(n, 28, 28)` inputs.
        maps: `(n, channels, h, w)` activations (after ReLU).
        labels: the digits, for the row labels.
        title: the figure title.
    """
    images, maps = np.asarray(images, dtype=float), np.asarray(maps, dtype=float)
    if maps.ndim != 4 or len(maps) != len(images) or len(labels) != len(images) or not len(images):
        raise ValueError(
            f"plot_feature_maps: expected images (n, h, w), maps (n, channels, h, w) and n labels, "
            f"got {images.shape}, {maps.shape} and {len(labels)} labels"
        )
    n, channels = maps.shape[:2]
    fig = new_figure(1.35 * (channels + 1) + 0.6, 1.4 * n + 0.6, layout="constrained")
    axes = fig.subplots(n, channels + 1, squeeze=False)
    # One colour scale per channel over all digits, so rows compare like with like.
    top = maps.max(axis=(0, 2, 3))
    for r in range(n):
        axes[r, 0].imshow(images[r], cmap="gray_r")
        axes[r, 0].set_ylabel(f"digit {labels[r]}", fontsize=9)
        for c in range(channels):
            axes[r, c + 1].imshow(maps[r, c], cmap=_MAPS, vmin=0, vmax=top[c] if top[c] > 0 else 1)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_title("input", fontsize=9)
    for c in range(channels):
        axes[0, c + 1].set_title(f"filter {c + 1}", fontsize=9)
    fig.suptitle(
        title
        or "What the first convolution sees (ReLU outputs; dark = strong). The band along the "
        "bottom and right edges is padding:\nthe course's convolution reads zeros past the "
        "image's right and bottom edges, and a filter answers to that sudden edge too.",
        fontsize=10,
    )
    return fig


def plot_sentences(
    texts: Sequence[str],
    labels: Sequence[int],
    probs: Sequence[float],
    count: int = 8,
    title: str | None = None,
) -> Figure:
    """The sentences the model is most sure about and those it is least sure about.

    Each sentence gets a bar of P(positive) from 0.5 (orange, to the right, for positive;
    blue, to the left, for negative), the probability, the sentence and its true label in
    brackets; a wrong answer is red and marked ✗.

    Args:
        texts: the sentences.
        labels: their true labels (0 negative, 1 positive).
        probs: the model's P(positive) for each.
        count: sentences per panel (at most a third of them).
        title: the figure title.
    """
    probs = np.asarray(probs, dtype=float)
    if not (len(texts) == len(labels) == len(probs)) or not len(texts):
        raise ValueError(
            f"plot_sentences: expected one label and one probability per sentence, got "
            f"{len(texts)} sentences, {len(labels)} labels and {len(probs)} probabilities"
        )
    count = max(1, min(count, len(texts) // 3))
    by_p = np.argsort(probs, kind="stable")
    # A panel shows only sentences the model calls that way, and "least sure" only sentences
    # not shown above: a weak model that calls everything positive gets an empty negative panel.
    positive = [int(k) for k in by_p[::-1] if probs[k] > 0.5][:count]
    negative = [int(k) for k in by_p if probs[k] < 0.5][:count]
    shown = set(positive) | set(negative)
    closest = np.argsort(np.abs(probs - 0.5), kind="stable")
    panels = (
        ("most sure it is positive", np.array(positive, dtype=int)),
        ("most sure it is negative", np.array(negative, dtype=int)),
        ("least sure", np.array([int(k) for k in closest if k not in shown][:count], dtype=int)),
    )
    height = 0.36 * 3 * count + 2.2
    fig = new_figure(11.0, height)
    # The bars take the left fifth; each sentence is written to the right of its bar.
    fig.subplots_adjust(
        left=0.045, right=0.22, top=1 - 0.75 / height, bottom=0.45 / height, hspace=0.45
    )
    axes = fig.subplots(3, 1, squeeze=False)[:, 0]
    for ax, (name, picks) in zip(axes, panels):
        y = np.arange(len(picks))[::-1]
        p = probs[picks]
        ax.barh(
            y, p - 0.5, left=0.5, color=[_POSITIVE if v > 0.5 else _NEGATIVE for v in p], height=0.6
        )
        ax.axvline(0.5, color="#495057", linewidth=1)
        for yy, k in zip(y, picks):
            right = int(probs[k] > 0.5) == int(labels[k])
            sentence = textwrap.shorten(texts[k], width=90, placeholder=" …") or "(empty)"
            truth = "positive" if labels[k] else "negative"
            mark = "" if right else "✗ "
            ax.text(
                1.04,
                yy,
                f"{probs[k]:.2f}   {mark}{sentence}  [{truth}]",
                va="center",
                ha="left",
                fontsize=8.5,
                color="#212529" if right else _WRONG,
                fontweight="normal" if right else "bold",
                transform=ax.get_yaxis_transform(),
            )
        if not len(picks):
            side = "negative" if "negative" in name else "positive" if "positive" in name else ""
            ax.text(
                1.04,
                0,
                f"none: the model calls no sentence {side}" if side else "none left",
                va="center",
                ha="left",
                fontsize=8.5,
                color="#868e96",
                style="italic",
                transform=ax.get_yaxis_transform(),
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.6, max(len(picks), 1) - 0.4)
        ax.set_yticks([])
        ax.set_xticks([0, 0.5, 1], ["0 neg.", "0.5", "pos. 1"], fontsize=8)
        ax.set_title(f"{name}: P(positive)", loc="left", fontsize=10)
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle(
        title
        or "Validation sentences: the model's P(positive), the sentence and [its true label]; "
        "✗ red: a wrong answer",
        fontsize=10,
    )
    return fig
