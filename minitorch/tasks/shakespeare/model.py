"""The network of `minitorch train shakespeare`, and what a checkpoint records to rebuild it."""

from __future__ import annotations

import random
from typing import Any

from ...attention import GPT
from .data import Vocabulary

__all__ = ["build_model", "model_options", "vocabulary_of"]


def model_options(config: Any, vocabulary: Vocabulary) -> dict[str, Any]:
    """What `eval` and `generate` need to rebuild the model and read and write its text."""
    return {
        "task": "shakespeare",
        "vocabulary": vocabulary.chars,  # id i is the i-th character
        "block": config.block,
        "layers": config.layers,
        "heads": config.heads,
        "embed": config.embed,
        "dropout": config.dropout,
    }


def build_model(options: dict[str, Any], backend: Any, seed: int = 0) -> GPT:
    """The GPT that `options` describe, its weights drawn from `seed`."""
    return GPT(
        vocab=len(options["vocabulary"]),
        block=int(options["block"]),
        layers=int(options["layers"]),
        heads=int(options["heads"]),
        embed=int(options["embed"]),
        dropout=float(options["dropout"]),
        backend=backend,
        rng=random.Random(seed),
    )


def vocabulary_of(options: dict[str, Any]) -> Vocabulary:
    """The checkpoint's vocabulary."""
    return Vocabulary(options["vocabulary"])
