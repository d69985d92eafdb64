"""Sampling text from a trained GPT, one character at a time."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ...attention import GPT
from ...autodiff import no_grad
from ..errors import TaskError
from .data import Vocabulary

__all__ = ["sample"]


def sample(
    model: GPT,
    vocabulary: Vocabulary,
    prompt: str,
    tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
) -> Iterator[str]:
    """Yield `tokens` characters that continue `prompt`, each as soon as it is drawn.

    Each step runs the model on the last `model.block` characters, divides the last
    position's logits by `temperature`, keeps the `top_k` largest (all when None) and draws
    from their softmax (nanoGPT's `generate`).

    Raises:
        TaskError: for an empty prompt, a non-positive temperature or top-k, or a prompt
            character outside the vocabulary.
    """
    if not prompt:
        raise TaskError("--prompt must hold at least one character")
    if not temperature > 0:
        raise TaskError(f"--temperature must be positive, got {temperature!r}")
    if top_k is not None and top_k < 1:
        raise TaskError(f"--top-k must be a positive integer, got {top_k!r}")
    if tokens < 0:
        raise TaskError(f"--tokens must be 0 or more, got {tokens!r}")
    rng = np.random.default_rng(seed)
    ids = list(vocabulary.encode(prompt))
    model.eval()
    with no_grad():
        for _ in range(tokens):
            context = np.array([ids[-model.block :]])  # (1, T)
            logits = model(context).to_numpy()[0, -1] / temperature  # (V,)
            if top_k is not None and top_k < len(logits):
                logits[logits < np.sort(logits)[-top_k]] = -np.inf
            p = np.exp(logits - logits.max())
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            ids.append(nxt)
            yield vocabulary.chars[nxt]
