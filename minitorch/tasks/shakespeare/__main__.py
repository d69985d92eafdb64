"""`python -m minitorch.tasks.shakespeare train|eval|generate ...`: the task's command line,
its train options generated from `ShakespeareConfig` (one flag per field, its help from the
field), until the one task registry's `minitorch train shakespeare` takes over."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..errors import TaskError
from .commands import eval_command, generate_command, train_command
from .train import ShakespeareConfig


def _config_flags(parser: argparse.ArgumentParser) -> None:
    for f in fields(ShakespeareConfig):
        kind: Any = {"int": int, "float": float, "str": str}.get(str(f.type), Path)
        parser.add_argument(
            f"--{f.name.replace('_', '-')}", type=kind, default=f.default, help=f.metadata["help"]
        )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m minitorch.tasks.shakespeare")
    commands = p.add_subparsers(dest="command", required=True)
    t = commands.add_parser(
        "train",
        help="train a character-level GPT",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _config_flags(t)
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--no-plots", action="store_true", help="skip the pictures")
    e = commands.add_parser("eval", help="val_loss over the whole validation split")
    e.add_argument("--checkpoint", type=Path, required=True)
    e.add_argument("--data", type=Path, default=None, help="UTF-8 text (default: the package's)")
    e.add_argument("--out", type=Path, default=Path("out"))
    e.add_argument("--backend", default="fast")
    g = commands.add_parser("generate", help="stream text from a checkpoint")
    g.add_argument("--checkpoint", type=Path, required=True)
    g.add_argument("--prompt", default="\n")
    g.add_argument("--tokens", type=int, default=500)
    g.add_argument("--temperature", type=float, default=1.0)
    g.add_argument("--top-k", type=int, default=None)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--backend", default="fast")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = vars(parser().parse_args(argv))
    command = args.pop("command")
    try:
        if command == "train":
            quiet, plots = args.pop("quiet"), not args.pop("no_plots")
            return train_command(ShakespeareConfig(**args), quiet, plots)
        if command == "eval":
            return eval_command(**args)
        return generate_command(**args)
    except TaskError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
