"""The network of `minitorch train shakespeare`, and what a checkpoint records to rebuild it."""

from __future__ import annotations

import random
from typing import Any

from ...attention import GPT
from ...checkpoint import MetadataField
from ..common import DTYPES, cast_parameters
from .data import Vocabulary

__all__ = ["build_model", "model_options", "vocabulary_of", "CHECKPOINT_SCHEMA", "LIMITS"]

# sizes beyond any GPT this package trains on a CPU: a checkpoint (or --option) asking for
# more is refused before anything is allocated
LIMITS = {"block": 4096, "layers": 64, "heads": 64, "embed": 4096}

# what `model_options` writes, as `eval` and `generate` accept it (schema 1)
CHECKPOINT_SCHEMA = {
    "task": MetadataField(str, choices=("shakespeare",)),
    "schema": MetadataField(int, choices=(1,)),
    "dtype": MetadataField(str, choices=DTYPES),
    "vocabulary": MetadataField(str),  # id i is the i-th character
    **{name: MetadataField(int, low=1, high=high) for name, high in LIMITS.items()},
    "dropout": MetadataField(float, low=0.0, high=1.0),
}


def model_options(config: Any, vocabulary: Vocabulary) -> dict[str, Any]:
    """What `eval` and `generate` need to rebuild the model and read and write its text."""
    return {
        "task": "shakespeare",
        "schema": 1,
        "dtype": config.dtype,
        "vocabulary": vocabulary.chars,  # id i is the i-th character
        "block": config.block,
        "layers": config.layers,
        "heads": config.heads,
        "embed": config.embed,
        "dropout": config.dropout,
    }


def build_model(options: dict[str, Any], backend: Any, dtype: Any = None, seed: int = 0) -> GPT:
    """The GPT that `options` describe, its weights drawn from `seed`, in `dtype` (default
    float64)."""
    model = GPT(
        vocab=len(options["vocabulary"]),
        block=int(options["block"]),
        layers=int(options["layers"]),
        heads=int(options["heads"]),
        embed=int(options["embed"]),
        dropout=float(options["dropout"]),
        backend=backend,
        rng=random.Random(seed),
    )
    return model if dtype is None else cast_parameters(model, dtype)


def vocabulary_of(options: dict[str, Any]) -> Vocabulary:
    """The checkpoint's vocabulary."""
    return Vocabulary(options["vocabulary"])
