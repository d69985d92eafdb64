"""Training a character-level GPT on Tiny Shakespeare: a config, the one loop, a result.

The defaults are nanoGPT's CPU "baby GPT" (its README): 4 layers, 4 heads, 128 channels,
context 64, batch 12, AdamW (lr 1e-3 with 100 warm-up iterations and cosine decay to 1e-4
over 2,000 iterations, beta2 0.99, weight decay 0.1 on matrices only), gradient clipping at
1.0, no dropout. nanoGPT reports a validation loss of about 1.88 nats per character.

The run counts iterations (`Schedule(iterations=..., eval_every=...)`); each evaluation reads
the whole validation split in consecutive windows of the context length, so the last one is
the figure the issue asks for, and draws a sample of text kept in `metrics.json`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...attention import GPT
from ...autodiff import no_grad
from ...optim import AdamW, clip_grad_norm, cosine_lr
from ...transformer_functions import cross_entropy
from ..common import (
    DTYPES,
    backend_option,
    check_common,
    config_json,
    fit_task,
    load_checkpoint,
    read_checkpoint_metadata,
    seed_everything,
    seed_option,
    task_backend,
    task_dtype,
)
from ..errors import TaskError
from ..loop import (
    Batch,
    Batches,
    Callback,
    Curves,
    EvalReport,
    LoopState,
    Report,
    Schedule,
    StepReport,
)
from ..options import option
from ..resume import Run
from .data import TRAIN_SHARE, Text, Vocabulary, load_text, read_text
from .generate import sample
from .model import LIMITS, build_model, model_options, vocabulary_of

__all__ = [
    "ShakespeareConfig",
    "ShakespeareEvalConfig",
    "ShakespeareResult",
    "ShakespeareEvaluation",
    "Sample",
    "train_shakespeare",
    "evaluate_shakespeare",
    "evaluate",
    "WINDOWS_PER_BATCH",
]

WINDOWS_PER_BATCH = 64  # validation windows per forward pass


def _dtype_option() -> Any:
    """`--dtype`, float32 by default here: the fused kernels make float32 about twice as
    quick as float64, and a full default run reaches the same loss (val_loss 1.91)."""
    return option("float32", "the parameters' and data's floating-point type", choices=DTYPES)


@dataclass
class ShakespeareConfig:
    """What `minitorch train shakespeare` trains, and how (defaults: nanoGPT's baby GPT)."""

    # data: a UTF-8 text file; None reads the Tiny Shakespeare that ships with the package
    data: Path | None = option(
        None, "UTF-8 text file to train on (default: Tiny Shakespeare)", metavar="FILE"
    )
    # iters: optimizer steps (the run is counted in iterations, not epochs)
    iters: int = option(2000, "optimizer steps")
    # eval_every: read the whole validation split (and draw a sample) every this many steps
    eval_every: int = option(250, "iterations between evaluations")
    # block: context length, in characters
    block: int = option(64, "context length in characters")
    # batch: sequences per step
    batch: int = option(12, "sequences per step")
    # layers, heads, embed: the transformer's size
    layers: int = option(4, "transformer blocks")
    heads: int = option(4, "attention heads per block")
    embed: int = option(128, "channels (embedding width)")
    # dropout: rate on embeddings, attention weights and residual branches
    dropout: float = option(0.0, "dropout rate")
    # lr, min_lr, warmup: the schedule (linear warm-up, cosine decay to min_lr at iters)
    lr: float = option(1e-3, "peak learning rate")
    min_lr: float = option(1e-4, "learning rate at the end of the cosine decay")
    warmup: int = option(100, "iterations of linear warm-up")
    # weight_decay: AdamW's decoupled decay, on matrices and embeddings only
    weight_decay: float = option(0.1, "AdamW weight decay (matrices only)")
    # beta2: AdamW's second-moment decay (0.99: the small-batch setting of nanoGPT)
    beta2: float = option(0.99, "AdamW beta2")
    # clip: the gradients' joint norm is scaled down to this (0: no clipping)
    clip: float = option(1.0, "gradient-norm clip (0: none)")
    # sample_tokens: characters generated at each evaluation, kept in metrics.json
    sample_tokens: int = option(200, "characters sampled at each evaluation")
    backend: str = backend_option()
    seed: int = seed_option()
    dtype: str = _dtype_option()

    def __post_init__(self) -> None:
        for name in ("iters", "eval_every", "block", "batch", "layers", "heads", "embed"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise TaskError(f"--{_flag(name)} must be a positive integer, got {value!r}")
        for name in ("warmup", "sample_tokens"):
            if getattr(self, name) < 0:
                raise TaskError(f"--{_flag(name)} must be 0 or more, got {getattr(self, name)!r}")
        for name, most in LIMITS.items():
            if getattr(self, name) > most:
                raise TaskError(f"--{name} must be at most {most}, got {getattr(self, name)}")
        if self.embed % self.heads:
            raise TaskError(f"--heads {self.heads} must divide --embed {self.embed}")
        if not 0 <= self.dropout < 1:
            raise TaskError(f"--dropout must be in [0, 1), got {self.dropout!r}")
        if not math.isfinite(self.lr):
            raise TaskError(f"--lr must be a finite positive number, got {self.lr!r}")
        if not 0 < self.min_lr <= self.lr:
            raise TaskError(f"need 0 < --min-lr <= --lr, got {self.min_lr!r} and {self.lr!r}")
        if self.weight_decay < 0 or self.clip < 0 or not 0 <= self.beta2 < 1:
            raise TaskError(
                f"need --weight-decay >= 0, --clip >= 0 and 0 <= --beta2 < 1, got "
                f"{self.weight_decay!r}, {self.clip!r}, {self.beta2!r}"
            )
        check_common(self)


@dataclass
class ShakespeareEvalConfig:
    """What `minitorch eval shakespeare` evaluates."""

    checkpoint: Path = option(
        help="model.safetensors written by minitorch train shakespeare", metavar="PATH"
    )
    data: Path | None = option(
        None, "UTF-8 text whose last 10% is read (default: Tiny Shakespeare)", metavar="FILE"
    )
    backend: str = backend_option()
    dtype: str = _dtype_option()


def _flag(name: str) -> str:
    return name.replace("_", "-")


@dataclass
class Sample:
    """Text the model wrote at an evaluation."""

    iteration: int
    text: str


@dataclass
class ShakespeareResult:
    """A finished (or stopped) run."""

    config: ShakespeareConfig
    curves: Curves
    state: LoopState = field(repr=False)
    model: GPT = field(repr=False)
    vocabulary: Vocabulary = field(repr=False)
    samples: list[Sample] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)  # every step's batch loss

    @property
    def val_loss(self) -> float:
        """The last evaluation's loss over the whole validation split."""
        return self.curves.val_loss[-1] if len(self.curves) else float("nan")

    def metrics(self) -> dict[str, Any]:
        """The run as `metrics.json` holds it."""
        c, s = self.curves, self.state
        return {
            "task": "shakespeare",
            **config_json(self.config),
            "vocabulary_size": len(self.vocabulary),
            "parameters": sum(p.value.size for p in self.model.parameters()),
            "val_loss": self.val_loss,
            "val_loss_reads": "the whole validation split, consecutive windows of --block",
            "iterations_done": s.iteration,
            "stopped": s.stopped,
            "compile_seconds": s.compile_seconds,
            "seconds_per_iter": float(np.sum(c.seconds) / max(s.iteration, 1)),
            # per evaluation: training loss since the previous one, whole-split validation
            "curves": {**c.as_dict(), "iteration": list(c.iteration)},
            "step_losses": self.step_losses,
            "samples": [vars(x) for x in self.samples],
        }

    def checkpoint_options(self) -> dict[str, Any]:
        return model_options(self.config, self.vocabulary)

    def summary(self) -> str:
        per = self.metrics()["seconds_per_iter"]
        return (
            f"shakespeare: val_loss {self.val_loss:.4f} nats per character (whole validation "
            f"split) after {self.state.iteration} iterations, {1000 * per:.0f} ms per iteration"
        )


@dataclass
class ShakespeareEvaluation:
    """A checkpoint's loss over a text's validation split."""

    config: ShakespeareEvalConfig
    source: str
    val_loss: float
    characters: int  # predictions made (the split's length less one)

    def metrics(self) -> dict[str, Any]:
        return {
            "task": "shakespeare",
            "checkpoint": str(self.config.checkpoint),
            "data": self.source,
            "val_loss": self.val_loss,
            "val_characters": self.characters,
            "val_loss_reads": "the whole validation split, consecutive windows of the context",
        }

    def summary(self) -> str:
        return (
            f"shakespeare: val_loss {self.val_loss:.4f} nats per character over "
            f"{self.characters} predictions of {self.source}"
        )


def _windows(ids: np.ndarray, starts: np.ndarray, length: int) -> Batch[np.ndarray]:
    """Windows of `length` ids from each start `(B, T)`, with the next id of each position
    as its label (flattened `(B*T,)`)."""
    x = np.stack([ids[s : s + length] for s in starts])
    y = np.stack([ids[s + 1 : s + length + 1] for s in starts])
    return Batch(x, y.ravel())


def _val_groups(n: int, block: int) -> list[np.ndarray]:
    """Start offsets of consecutive windows over `n` ids, `WINDOWS_PER_BATCH` a batch; a
    tail shorter than a window is its own (shorter) window, so every prediction counts once.
    Each group is one `(start, length)` row per window (so any slice of it is a group too: a
    data-parallel rank takes a contiguous share of the windows)."""
    full = (n - 1) // block
    groups = []
    for first in range(0, full, WINDOWS_PER_BATCH):
        starts = np.arange(first, min(first + WINDOWS_PER_BATCH, full)) * block
        groups.append(np.stack([starts, np.full_like(starts, block)], axis=1))  # (W, 2)
    tail = n - 1 - full * block
    if tail:
        groups.append(np.array([[full * block, tail]]))
    return groups


class _ShakespeareLoop:
    """The task as the one loop sees it: random windows to train on, the whole validation
    split in consecutive windows to evaluate on, cross-entropy per character."""

    def __init__(self, config: ShakespeareConfig, model: GPT, text: Text) -> None:
        self.config, self.model, self.text = config, model, text
        # random windows never run out: a round of them lasts from one evaluation to the
        # next (the progress bar then closes at each evaluation)
        self.steps = config.eval_every

    def train_batches(self, rng: np.random.Generator) -> Batches[np.ndarray]:
        c, ids = self.config, self.text.train
        groups = [rng.integers(0, len(ids) - c.block, c.batch) for _ in range(self.steps)]
        return Batches(groups, lambda starts: _windows(ids, starts, c.block))

    def val_batches(self) -> Batches[np.ndarray]:
        ids = self.text.val
        groups = _val_groups(len(ids), self.config.block)
        return Batches(groups, lambda g: _windows(ids, g[:, 0], int(g[0, 1])))

    def loss(self, batch: Batch[np.ndarray]) -> tuple[Any, np.ndarray]:
        logits = self.model(batch.x)  # (B, T, V)
        flat = logits.view(batch.x.size, self.model.vocab)
        predicted = np.argmax(flat.detach().to_numpy(), axis=1)  # the likeliest next character
        return cross_entropy(flat, batch.labels), predicted


class _Scheduled:
    """AdamW as the loop drives it (`zero_grad`, `step`), with the schedule and clipping
    applied at each step: the learning rate for step `iteration`, the gradients' joint norm
    clipped to `clip`, then AdamW's update."""

    def __init__(self, optimizer: AdamW, model: GPT, config: ShakespeareConfig) -> None:
        self.optimizer, self.model, self.config = optimizer, model, config
        self.loop: LoopState | None = None  # the run's state: its step count sets the rate

    @property
    def parameters(self) -> list[Any]:
        return self.optimizer.parameters

    @property
    def state(self) -> Any:
        return self.optimizer.state

    @state.setter
    def state(self, value: Any) -> None:  # the loop's warm-up puts the moments back
        self.optimizer.state = value

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def step(self) -> None:
        c = self.config
        iteration = self.loop.iteration if self.loop is not None else 0  # steps already taken
        self.optimizer.lr = cosine_lr(iteration, c.lr, c.min_lr, c.warmup, c.iters)
        if c.clip:
            clip_grad_norm(self.model.parameters(), c.clip)
        self.optimizer.step()


def train_shakespeare(
    config: ShakespeareConfig,
    callback: Callback | None = None,
    stop: threading.Event | None = None,
    run: Run | None = None,
) -> ShakespeareResult:
    """Train a GPT on the text; every `eval_every` iterations read the whole validation split
    and draw a sample.

    Args:
        config: the run.
        callback: receives the loop's reports.
        stop: once set, training ends at the next step.
        run: the command line's folder: resumed from when it says so, checkpointed at every
            evaluation (None: no files).
    """
    text = load_text(config.data, min_length=config.block + 1)
    backend = task_backend(config.backend)
    dtype = task_dtype(config.dtype)
    seed_everything(config.seed)
    model = build_model(model_options(config, text.vocabulary), backend, dtype, config.seed)
    adamw = AdamW.for_model(
        model, lr=config.lr, betas=(0.9, config.beta2), weight_decay=config.weight_decay
    )
    optimizer = _Scheduled(adamw, model, config)
    state = optimizer.loop = LoopState.start(optimizer, config.seed)
    options = model_options(config, text.vocabulary)
    samples: list[Sample] = []
    step_losses: list[float] = []

    def report(r: Report) -> None:
        if isinstance(r, EvalReport):  # a sample of text at each evaluation
            prompt = text.vocabulary.decode(text.val[:1])
            tokens = sample(
                model, text.vocabulary, prompt, config.sample_tokens, seed=config.seed + r.iteration
            )
            samples.append(Sample(r.iteration, prompt + "".join(tokens)))
        elif isinstance(r, StepReport):
            step_losses.append(r.loss)
        if callback is not None:
            callback(r)

    schedule = Schedule(iterations=config.iters, eval_every=config.eval_every)
    loop = _ShakespeareLoop(config, model, text)
    fit_task(config, model, state, loop, options, schedule, report, stop, run)
    return ShakespeareResult(
        config, state.curves, state, model, text.vocabulary, samples, step_losses
    )


def evaluate(model: GPT, ids: np.ndarray) -> float:
    """The mean loss per character over all of `ids`, read in consecutive windows of
    `model.block` characters (every prediction once, in order).

    Raises:
        TaskError: when `ids` holds fewer than two characters.
    """
    if len(ids) < 2:
        raise TaskError(f"cannot evaluate on {len(ids)} characters: need at least 2")
    model.eval()
    total = 0.0
    with no_grad():
        for g in _val_groups(len(ids), model.block):
            batch = _windows(ids, g[:, 0], int(g[0, 1]))
            logits = model(batch.x).view(batch.x.size, model.vocab)
            total += cross_entropy(logits, batch.labels).item() * batch.labels.size
    model.train()
    return total / (len(ids) - 1)


def evaluate_shakespeare(config: ShakespeareEvalConfig) -> ShakespeareEvaluation:
    """A checkpoint's mean loss per character over the last 10% of the text."""
    options = read_checkpoint_metadata(config.checkpoint, "shakespeare")
    model = build_model(options, task_backend(config.backend), task_dtype(config.dtype))
    load_checkpoint(model, config.checkpoint)
    raw, source = read_text(config.data)
    ids = vocabulary_of(options).encode(raw)  # the model's own ids; names an unknown character
    val = ids[int(TRAIN_SHARE * len(ids)) :]  # the split of training
    return ShakespeareEvaluation(config, source, evaluate(model, val), len(val) - 1)
