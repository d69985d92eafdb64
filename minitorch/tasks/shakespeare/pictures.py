"""The pictures of a Shakespeare run: loss curves and attention maps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...attention import GPT
from ...autodiff import no_grad
from .data import Vocabulary

__all__ = ["DPI", "PROMPT", "attention_for", "training_pictures"]

DPI = 120
PROMPT = "ROMEO:\nBut soft, what light"  # 27 characters, all in Tiny Shakespeare's vocabulary


def attention_for(model: GPT, vocabulary: Vocabulary, prompt: str) -> list[np.ndarray]:
    """Every layer's attention weights `(heads, T, T)` for the last `model.block` characters
    of `prompt` (a forward pass in evaluation mode)."""
    ids = vocabulary.encode(prompt)[-model.block :]
    model.eval()
    model.record_attention(True)
    try:
        with no_grad():
            model(ids[None])
        return [m[0] for m in model.attention_maps()]
    finally:
        model.record_attention(False)
        model.train()


def training_pictures(result: Any, out: Path) -> None:
    """curves.png and attention.png of a finished run."""
    from ...viz.attention import plot_attention_maps, plot_loss_curves

    c, curves = result.config, result.curves
    evals = list(zip(curves.iteration, curves.train_loss, curves.val_loss))
    title = f"GPT {c.layers}x{c.heads}x{c.embed}, context {c.block}, batch {c.batch}"
    plot_loss_curves(result.step_losses, evals, result.val_loss, title).savefig(
        out / "curves.png", dpi=DPI
    )
    vocabulary = result.vocabulary
    # another corpus may lack some of the prompt's characters: then its own first ones
    prompt = PROMPT if all(ch in vocabulary.chars for ch in PROMPT) else vocabulary.chars[:24]
    maps = attention_for(result.model, vocabulary, prompt)
    shown = prompt[-result.model.block :]
    plot_attention_maps(maps, shown, f"Attention for {shown!r}").savefig(
        out / "attention.png", dpi=DPI
    )
