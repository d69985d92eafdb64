"""`minitorch generate`: text from a `minitorch train shakespeare` checkpoint, streamed to
stdout one character at a time as it is drawn."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ..common import load_checkpoint, read_checkpoint_metadata, task_backend, task_dtype
from .generate import sample
from .model import build_model, vocabulary_of

__all__ = ["add_generate_command", "generate_command"]


def add_generate_command(commands: argparse._SubParsersAction) -> None:
    """`minitorch generate --checkpoint PATH --prompt TEXT --tokens N ...`."""
    p = commands.add_parser(
        "generate",
        help="write text with a trained GPT (minitorch train shakespeare)",
        description="Continue --prompt with --tokens characters drawn from a checkpoint of "
        "minitorch train shakespeare, printed as they are drawn.",
    )
    p.add_argument(
        "--checkpoint",
        type=Path,
        required=True,
        metavar="PATH",
        help="model.safetensors written by minitorch train shakespeare",
    )
    p.add_argument("--prompt", default="\n", help="the text to continue (default: a new line)")
    p.add_argument(
        "--tokens", type=int, default=500, metavar="N", help="characters to write (default: 500)"
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="below 1: safer choices, above 1: wilder ones (default: 1.0)",
    )
    p.add_argument(
        "--top-k",
        type=int,
        default=None,
        metavar="K",
        help="draw among the K likeliest characters only (default: all)",
    )
    p.add_argument("--seed", type=int, default=0, help="same seed, same text (default: 0)")
    p.add_argument("--backend", default="fast", help="which kernels compute (default: fast)")
    p.set_defaults(
        run=lambda a: generate_command(
            a.checkpoint, a.prompt, a.tokens, a.temperature, a.top_k, a.seed, a.backend
        ),
        task="shakespeare",
    )


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
    options = read_checkpoint_metadata(checkpoint, "shakespeare")
    model = build_model(options, task_backend(backend), task_dtype(options.get("dtype", "float64")))
    load_checkpoint(model, checkpoint)
    stream.write(prompt)
    stream.flush()
    for ch in sample(model, vocabulary_of(options), prompt, tokens, temperature, top_k, seed):
        stream.write(ch)
        stream.flush()
    stream.write("\n")
    return 0
