"""Training a character-level GPT on Tiny Shakespeare: a config, one loop, a result.

The defaults are nanoGPT's CPU "baby GPT" (its README): 4 layers, 4 heads, 128 channels,
context 64, batch 12, AdamW (lr 1e-3 with 100 warm-up iterations and cosine decay to 1e-4
over 2,000 iterations, beta2 0.99, weight decay 0.1 on matrices only), gradient clipping at
1.0, no dropout. nanoGPT reports a validation loss of about 1.88 nats per character.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...attention import GPT
from ...autodiff import no_grad
from ...optim import AdamW, clip_grad_norm, cosine_lr
from ...transformer_functions import cross_entropy
from ..common import backend_named, config_json, seed_everything
from ..errors import TaskError
from .data import Text, Vocabulary, load_text
from .generate import sample
from .model import build_model, model_options

__all__ = [
    "DTYPES",
    "Evaluation",
    "ShakespeareConfig",
    "ShakespeareResult",
    "Step",
    "estimate",
    "evaluate",
    "train",
]

DTYPES = ("float64",)  # float32 arrives with the library's dtype support


def _option(default: Any, help: str) -> Any:
    """A config field with its command-line help."""
    return field(default=default, metadata={"help": help})


@dataclass
class ShakespeareConfig:
    """What `minitorch train shakespeare` trains, and how (defaults: nanoGPT's baby GPT)."""

    # data: a UTF-8 text file; None reads the Tiny Shakespeare that ships with the package
    data: Path | None = _option(None, "UTF-8 text file to train on (default: Tiny Shakespeare)")  # noqa: RUF009
    # iters: optimizer steps (the run is counted in iterations, not epochs)
    iters: int = _option(2000, "optimizer steps")
    # eval_every: estimate both losses (and draw a sample) every this many iterations
    eval_every: int = _option(250, "iterations between loss estimates")
    # eval_batches: batches per split for those estimates (the final figure reads all of val)
    eval_batches: int = _option(20, "batches per split in each estimate")
    # block: context length, in characters
    block: int = _option(64, "context length in characters")
    # batch: sequences per step
    batch: int = _option(12, "sequences per step")
    # layers, heads, embed: the transformer's size
    layers: int = _option(4, "transformer blocks")
    heads: int = _option(4, "attention heads per block")
    embed: int = _option(128, "channels (embedding width)")
    # dropout: rate on embeddings, attention weights and residual branches
    dropout: float = _option(0.0, "dropout rate")
    # lr, min_lr, warmup: the schedule (linear warm-up, cosine decay to min_lr at iters)
    lr: float = _option(1e-3, "peak learning rate")
    min_lr: float = _option(1e-4, "learning rate at the end of the cosine decay")
    warmup: int = _option(100, "iterations of linear warm-up")
    # weight_decay: AdamW's decoupled decay, on matrices and embeddings only
    weight_decay: float = _option(0.1, "AdamW weight decay (matrices only)")
    # beta2: AdamW's second-moment decay (0.99: the small-batch setting of nanoGPT)
    beta2: float = _option(0.99, "AdamW beta2")
    # clip: the gradients' joint norm is scaled down to this (0: no clipping)
    clip: float = _option(1.0, "gradient-norm clip (0: none)")
    # sample_tokens: characters generated at each estimate, kept in metrics.json
    sample_tokens: int = _option(200, "characters sampled at each estimate")
    seed: int = _option(0, "fixes weights, batches, dropout and samples")
    dtype: str = _option("float64", "floating-point type")
    backend: str = _option("fast", "tensor backend")
    # out: where the run writes its files
    out: Path = field(
        default=Path("out"),
        metadata={"help": "folder for metrics.json, model.safetensors, pictures"},
    )

    def __post_init__(self) -> None:
        for name in (
            "iters",
            "eval_every",
            "eval_batches",
            "block",
            "batch",
            "layers",
            "heads",
            "embed",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise TaskError(f"--{_flag(name)} must be a positive integer, got {value!r}")
        for name in ("warmup", "sample_tokens"):
            if getattr(self, name) < 0:
                raise TaskError(f"--{_flag(name)} must be 0 or more, got {getattr(self, name)!r}")
        if self.embed % self.heads:
            raise TaskError(f"--heads {self.heads} must divide --embed {self.embed}")
        if not 0 <= self.dropout < 1:
            raise TaskError(f"--dropout must be in [0, 1), got {self.dropout!r}")
        if not 0 < self.min_lr <= self.lr:
            raise TaskError(f"need 0 < --min-lr <= --lr, got {self.min_lr!r} and {self.lr!r}")
        if self.weight_decay < 0 or self.clip < 0 or not 0 <= self.beta2 < 1:
            raise TaskError(
                f"need --weight-decay >= 0, --clip >= 0 and 0 <= --beta2 < 1, got "
                f"{self.weight_decay!r}, {self.clip!r}, {self.beta2!r}"
            )
        if self.dtype not in DTYPES:
            raise TaskError(f"--dtype {self.dtype!r}: choose one of {', '.join(DTYPES)}")


def _flag(name: str) -> str:
    return name.replace("_", "-")


@dataclass
class Step:
    """One optimizer step done."""

    iteration: int  # 1-based
    iters: int
    loss: float  # this batch's loss
    lr: float
    seconds: float  # wall time of the step


@dataclass
class Evaluation:
    """Losses estimated on `eval_batches` random batches of each split, and a sample."""

    iteration: int  # steps done when estimated
    train_loss: float
    val_loss: float
    sample: str
    seconds: float  # wall time of training so far (estimates excluded)


Callback = Callable[[Step | Evaluation], None]


@dataclass
class ShakespeareResult:
    """A finished run: the curves, the whole-split validation loss, the model."""

    config: ShakespeareConfig
    vocabulary: Vocabulary = field(repr=False)
    model: GPT = field(repr=False)
    losses: list[float]  # every step's training loss
    evaluations: list[Evaluation]
    val_loss: float  # mean over the whole validation split, consecutive windows
    seconds_per_iter: float  # median wall time of a step

    def metrics(self) -> dict[str, Any]:
        """The run as `metrics.json` holds it."""
        return {
            "task": "shakespeare",
            **config_json(self.config),
            "vocabulary_size": len(self.vocabulary),
            "parameters": sum(p.value.size for p in self.model.parameters()),
            "val_loss": self.val_loss,
            "val_loss_reads": "the whole validation split, consecutive windows of --block",
            "seconds_per_iter": self.seconds_per_iter,
            "train_losses": self.losses,
            "evaluations": [vars(e) for e in self.evaluations],
        }

    def options(self) -> dict[str, Any]:
        """What the checkpoint records."""
        return model_options(self.config, self.vocabulary)


def _batch(ids: np.ndarray, block: int, batch: int, rng: np.random.Generator) -> tuple[Any, Any]:
    """`batch` random windows of `block` characters `(B, T)` and the next character of each
    position (the targets)."""
    starts = rng.integers(0, len(ids) - block, batch)
    x = np.stack([ids[s : s + block] for s in starts])
    y = np.stack([ids[s + 1 : s + block + 1] for s in starts])
    return x, y


def _loss(model: GPT, x: np.ndarray, y: np.ndarray) -> Any:
    """Mean cross-entropy of the next characters (`(B, T)` each)."""
    logits = model(x)  # (B, T, V)
    return cross_entropy(logits.view(x.size, model.vocab), y.ravel())


def estimate(model: GPT, ids: np.ndarray, config: ShakespeareConfig, rng: Any) -> float:
    """The mean loss over `config.eval_batches` random batches of `ids` (nanoGPT's
    `estimate_loss`: quick, sampled)."""
    model.eval()
    with no_grad():
        total = sum(
            _loss(model, *_batch(ids, config.block, config.batch, rng)).item()
            for _ in range(config.eval_batches)
        )
    model.train()
    return total / config.eval_batches


def evaluate(model: GPT, ids: np.ndarray, windows_per_batch: int = 64) -> float:
    """The mean loss per character over all of `ids`, read in consecutive windows of
    `model.block` characters (deterministic: every window, in order; the tail shorter than
    a window is read as one shorter window).

    Raises:
        TaskError: when `ids` holds fewer than two characters.
    """
    if len(ids) < 2:
        raise TaskError(f"cannot evaluate on {len(ids)} characters: need at least 2")
    block = model.block
    full = (len(ids) - 1) // block
    model.eval()
    total, count = 0.0, 0
    with no_grad():
        for first in range(0, full, windows_per_batch):
            n = min(windows_per_batch, full - first)
            starts = (first + np.arange(n)) * block
            x = np.stack([ids[s : s + block] for s in starts])  # (n, T)
            y = np.stack([ids[s + 1 : s + block + 1] for s in starts])
            total += _loss(model, x, y).item() * x.size
            count += x.size
        tail = len(ids) - 1 - full * block
        if tail:
            s = full * block
            x, y = ids[s : s + tail][None], ids[s + 1 : s + tail + 1][None]
            total += _loss(model, x, y).item() * tail
            count += tail
    model.train()
    return total / count


def train(config: ShakespeareConfig, callback: Callback | None = None) -> ShakespeareResult:
    """Train a GPT on the text; estimate losses every `eval_every` iterations; finally read
    the whole validation split.

    Args:
        config: the run.
        callback: gets a `Step` after each iteration and an `Evaluation` after each estimate.
    """
    seed_everything(config.seed)
    text: Text = load_text(config.data, min_length=config.block + 1)
    backend = backend_named(config.backend)
    model = build_model(model_options(config, text.vocabulary), backend, config.seed)
    optimizer = AdamW.for_model(
        model, lr=config.lr, betas=(0.9, config.beta2), weight_decay=config.weight_decay
    )
    rng = np.random.default_rng(config.seed)
    losses: list[float] = []
    evaluations: list[Evaluation] = []
    step_seconds: list[float] = []
    for it in range(config.iters):
        start = time.perf_counter()
        # the schedule: warm-up, then cosine decay to min_lr at the last iteration
        optimizer.lr = cosine_lr(it, config.lr, config.min_lr, config.warmup, config.iters)
        # forward and backward on a random batch of windows
        loss = _loss(model, *_batch(text.train, config.block, config.batch, rng))
        optimizer.zero_grad()
        loss.backward()
        # clip the gradients' joint norm, then step
        if config.clip:
            clip_grad_norm(model.parameters(), config.clip)
        optimizer.step()
        step_seconds.append(time.perf_counter() - start)
        losses.append(loss.item())
        if callback is not None:
            callback(Step(it + 1, config.iters, losses[-1], optimizer.lr, step_seconds[-1]))
        # every eval_every iterations (and at the end): estimate both losses, draw a sample
        if (it + 1) % config.eval_every == 0 or it + 1 == config.iters:
            evaluations.append(_estimate_all(model, text, config, rng, it + 1, sum(step_seconds)))
            if callback is not None:
                callback(evaluations[-1])
    val_loss = evaluate(model, text.val)
    return ShakespeareResult(
        config,
        text.vocabulary,
        model,
        losses,
        evaluations,
        val_loss,
        float(np.median(step_seconds)),
    )


def _estimate_all(
    model: GPT, text: Text, config: ShakespeareConfig, rng: Any, iteration: int, seconds: float
) -> Evaluation:
    train_loss = estimate(model, text.train, config, rng)
    val_loss = estimate(model, text.val, config, rng)
    prompt = text.vocabulary.decode(text.val[:1])  # a character the vocabulary holds
    words = prompt + "".join(
        sample(model, text.vocabulary, prompt, config.sample_tokens, seed=config.seed + iteration)
    )
    model.train()
    return Evaluation(iteration, train_loss, val_loss, words, seconds)
