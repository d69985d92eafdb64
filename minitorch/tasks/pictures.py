"""The pictures `minitorch train` and `minitorch eval` write for the real tasks.

Only the command line imports this module: it pulls in matplotlib through `minitorch.viz`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["classic_training", "mnist_training", "sentiment_training", "confusion", "DPI"]

DPI = 120


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, dpi=DPI)


def classic_training(result: Any, out: Path) -> None:
    """loss.png and boundary.png of a classic run: both show its final evaluation, the figure
    the command line prints."""
    from ..viz import plot_decision_boundary, plot_loss

    c = result.config
    name = f"{c.dataset}, {c.backend} backend, hidden {c.hidden}"
    _save(plot_loss(result.losses, title=f"Loss after each epoch ({name})"), out / "loss.png")
    title = f"{name}: {result.correct}/{result.total} correct, loss {result.final_loss:.4f}"
    _save(
        plot_decision_boundary(result.model.predict, result.graph, title=title),
        out / "boundary.png",
    )


def mnist_training(result: Any, out: Path) -> None:
    """curves.png, confusion.png, predictions.png and feature_maps.png of a digits run."""
    from ..autodiff import no_grad
    from ..viz.tasks import plot_confusion, plot_curves, plot_digit_grid, plot_feature_maps
    from .common import task_backend
    from .mnist.train import to_input

    c, val = result.config, result.val
    source = "embedded digits" if c.data is None else str(c.data)
    name = f"{source}, {c.optimizer} lr {c.lr}, batch {c.batch}, {c.pixels} pixels"
    _save(plot_curves(result.curves.as_dict(), title=f"Digits: {name}"), out / "curves.png")
    _save(
        plot_confusion(
            val.confusion(),
            [str(d) for d in range(10)],
            title=f"Validation digits: {val.correct}/{len(val.digits)} right ({val.accuracy:.1%})",
        ),
        out / "confusion.png",
    )
    # 60 validation digits: up to 12 of the mistakes, the rest a random pick of right answers
    rng = np.random.default_rng(0)
    wrong = rng.permutation(np.flatnonzero(val.predicted != val.digits.labels))[:12]
    rest = rng.permutation(np.flatnonzero(val.predicted == val.digits.labels))
    picks = np.concatenate([wrong, rest])[:60]
    picks = picks[np.argsort(val.digits.labels[picks], kind="stable")]
    probs = np.exp(val.log_probs[picks])
    title = (
        f"Validation digits: {len(wrong)} of the model's {len(val.digits) - val.correct} mistakes "
        f"(red: true → predicted) among right answers (green: answer, its probability)"
    )
    _save(
        plot_digit_grid(
            val.digits.images[picks],
            val.digits.labels[picks],
            val.predicted[picks],
            probs[np.arange(len(picks)), val.predicted[picks]],
            columns=12,
            title=title,
        ),
        out / "predictions.png",
    )
    # the first layer's maps for one digit of five classes
    firsts = [
        int(np.flatnonzero(val.digits.labels == d)[0])
        for d in (0, 2, 4, 7, 8)
        if np.any(val.digits.labels == d)
    ]
    model = result.model
    model.eval()
    with no_grad():
        model(to_input(val.digits.images[firsts], c.pixels, task_backend(c.backend)))
    _save(
        plot_feature_maps(
            val.digits.images[firsts], model.mid.to_numpy(), val.digits.labels[firsts]
        ),
        out / "feature_maps.png",
    )


def sentiment_training(result: Any, out: Path) -> None:
    """curves.png, confusion.png and sentences.png of a sentiment run."""
    from ..viz.tasks import plot_confusion, plot_curves, plot_sentences

    c, val = result.config, result.val
    name = f"{result.train_size} sentences, {c.optimizer} lr {c.lr}, batch {c.batch}"
    _save(plot_curves(result.curves.as_dict(), title=f"Sentiment: {name}"), out / "curves.png")
    _save(
        plot_confusion(
            val.confusion(),
            ["negative", "positive"],
            title=f"Dev sentences: {val.correct}/{len(val.sentences)} right ({val.accuracy:.1%})",
        ),
        out / "confusion.png",
    )
    _save(
        plot_sentences(val.sentences.text, val.sentences.labels, val.probs, count=6),
        out / "sentences.png",
    )


def confusion(result: Any, task: str, where: str, out: Path) -> None:
    """confusion.png of `minitorch eval`."""
    from ..viz.tasks import plot_confusion

    classes = [str(d) for d in range(10)] if task == "mnist" else ["negative", "positive"]
    fig = plot_confusion(
        result.confusion(),
        classes,
        title=f"{where}: {result.correct}/{len(result.predicted)} right ({result.accuracy:.1%})",
    )
    out.mkdir(parents=True, exist_ok=True)
    _save(fig, out / "confusion.png")
