"""The three commands of the task: train (writes a run folder), eval (reads the whole
validation split) and generate (streams text).

Each takes plain arguments and returns an exit status; `__main__` parses the command line
for them until the one task registry's command line does.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path
from typing import Any, TextIO

from ...files import write_json_atomic
from ..common import backend_named, load_checkpoint, read_checkpoint_metadata, save_checkpoint
from .data import TRAIN_SHARE, read_text
from .generate import sample
from .model import build_model, vocabulary_of
from .train import Evaluation, ShakespeareConfig, Step, evaluate, train

__all__ = ["Progress", "eval_command", "generate_command", "train_command"]


class Progress:
    """A tqdm bar over the iterations with the running loss; estimates as lines above it."""

    def __init__(self, quiet: bool) -> None:
        from tqdm import tqdm

        self.tqdm, self.quiet, self.bar = tqdm, quiet, None
        self.running: float | None = None

    def __call__(self, r: Step | Evaluation) -> None:
        if self.quiet:
            return
        if isinstance(r, Step):
            if self.bar is None:
                self.bar = self.tqdm(total=r.iters, desc="shakespeare", unit="it")
            # an exponential moving average, as nanoGPT's log lines
            self.running = r.loss if self.running is None else 0.9 * self.running + 0.1 * r.loss
            self.bar.set_postfix(loss=f"{self.running:.4f}", lr=f"{r.lr:.2e}")
            self.bar.update(1)
        else:
            self.tqdm.write(
                f"iteration {r.iteration}: train loss {r.train_loss:.4f}, val loss "
                f"{r.val_loss:.4f} (estimates)"
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _peak_memory_mb() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_command(config: ShakespeareConfig, quiet: bool = False, plots: bool = True) -> int:
    """Train; write OUT/model.safetensors, OUT/metrics.json and the pictures."""
    progress = Progress(quiet)
    try:
        result = train(config, progress)
    finally:
        progress.close()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(result.model, out / "model.safetensors", result.options())
    metrics = {**result.metrics(), "peak_memory_mb": _peak_memory_mb()}
    write_json_atomic(out / "metrics.json", metrics)
    if plots:
        from .pictures import training_pictures

        training_pictures(result, out)
    if not quiet:
        print(
            f"val_loss {result.val_loss:.4f} (whole validation split), "
            f"{1000 * result.seconds_per_iter:.0f} ms per iteration; wrote {out}/"
        )
    return 0


def _load(checkpoint: Path, backend: str) -> tuple[Any, dict[str, Any]]:
    options = read_checkpoint_metadata(checkpoint, "shakespeare")
    model = build_model(options, backend_named(backend))
    load_checkpoint(model, checkpoint)
    return model, options


def eval_command(
    checkpoint: Path, data: Path | None = None, out: Path = Path("out"), backend: str = "fast"
) -> int:
    """Write OUT/metrics.json with `val_loss` over the whole validation split."""
    model, options = _load(checkpoint, backend)
    raw, source = read_text(data)
    ids = vocabulary_of(options).encode(raw)  # the model's own ids; names an unknown character
    val = ids[int(TRAIN_SHARE * len(ids)) :]  # the split of training
    val_loss = evaluate(model, val)
    metrics = {
        "task": "shakespeare",
        "checkpoint": str(checkpoint),
        "data": source,
        "val_loss": val_loss,
        "val_characters": len(val),
        "val_loss_reads": f"the whole validation split, consecutive windows of {model.block}",
    }
    write_json_atomic(Path(out) / "metrics.json", metrics)
    print(f"val_loss {val_loss:.4f} over {len(val)} characters; wrote {out}/metrics.json")
    return 0


def generate_command(
    checkpoint: Path,
    prompt: str,
    tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    backend: str = "fast",
    stream: TextIO | None = None,
) -> int:
    """Print the prompt, then each generated character as soon as it is drawn."""
    stream = sys.stdout if stream is None else stream
    model, options = _load(checkpoint, backend)
    stream.write(prompt)
    stream.flush()
    for ch in sample(model, vocabulary_of(options), prompt, tokens, temperature, top_k, seed):
        stream.write(ch)
        stream.flush()
    stream.write("\n")
    return 0
