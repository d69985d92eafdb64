"""`minitorch` on the command line: `minitorch train [options]`, `minitorch app [options]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from .files import write_json_atomic
from .train import BACKENDS, BackendUnavailable, EpochReport, TrainConfig, TrainResult, train

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="minitorch", description="minitorch: learn deep learning by building it.",
        epilog="Real tasks: minitorch train mnist|sentiment [options], "
        "minitorch eval mnist|sentiment --checkpoint PATH --data FOLDER (each takes --help).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser(
        "train",
        help="train the classic 2-hidden-layer classifier on a toy data set",
        description="Train a 2 -> hidden -> hidden -> 1 ReLU network with SGD and write "
        "OUT/metrics.json (plus OUT/boundary.png and OUT/loss.png).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    t.add_argument("--dataset", default=defaults.dataset,
                   help="Simple, Diag, Split, Xor, Circle or Spiral (any letter case)")
    t.add_argument("--backend", default=defaults.backend, help=f"one of: {', '.join(BACKENDS)}")
    t.add_argument("--hidden", type=int, default=defaults.hidden, help="units per hidden layer")
    t.add_argument("--epochs", type=int, default=defaults.epochs, help="passes over the data")
    t.add_argument("--batch", type=int, default=defaults.batch,
                   help="points per SGD step (default: all points, one step per epoch)")
    t.add_argument("--lr", type=float, default=defaults.lr, help="learning rate")
    t.add_argument("--points", type=int, default=defaults.points, help="data set size")
    t.add_argument("--seed", type=int, default=defaults.seed, help="fixes data and initial weights")
    t.add_argument("--out", type=Path, default=Path("out"), help="folder for metrics and plots")
    t.add_argument("--no-plots", action="store_true", help="skip boundary.png and loss.png")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_app_command(commands)
    return parser


def _add_app_command(commands: Any) -> None:
    # Listed here for --help; `main` hands its options to streamlit before argparse sees them.
    commands.add_parser(
        "app",
        help="start the interactive app (Streamlit) on localhost",
        description="Start the interactive app on localhost. Every further option goes to "
        "`streamlit run`, e.g. `minitorch app --server.port 8765 --server.headless true`. "
        'Needs streamlit: pip install "minitorch[app]".',
    )


def _run_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        config = TrainConfig(
            dataset=args.dataset, backend=args.backend, hidden=args.hidden, epochs=args.epochs,
            lr=args.lr, points=args.points, seed=args.seed, batch=args.batch,
        )
    except ValueError as e:
        parser.error(str(e))

    from tqdm import tqdm

    bar = tqdm(total=config.epochs, desc=f"{config.dataset} / {config.backend}", unit="epoch",
               disable=args.quiet, dynamic_ncols=True)

    def progress(r: EpochReport) -> None:
        bar.set_postfix(loss=f"{r.loss:.4f}", acc=f"{r.correct}/{r.total}", refresh=False)
        bar.update(1)

    try:
        result = train(config, progress)
    except BackendUnavailable as e:  # one line that says what to do, not a numba traceback
        bar.leave = False  # and no empty progress bar above it
        bar.close()
        print(f"minitorch train: error: {e}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    write_json_atomic(args.out / "metrics.json", result.metrics())
    if not args.no_plots:
        _save_plots(result, args.out)
    print(
        f"{config.dataset}: {result.correct}/{result.total} correct "
        f"({result.accuracy:.0%}), final loss {result.final_loss:.4f}, "
        f"{result.seconds_per_epoch * 1e3:.1f} ms/epoch -> {args.out}/"
    )
    return 0


def _save_plots(result: TrainResult, out: Path) -> None:
    """Write OUT/boundary.png and OUT/loss.png for a finished run."""
    from .viz import plot_decision_boundary, plot_loss  # plotting stays out of the core

    c = result.config
    name = f"{c.dataset}, {c.backend} backend, hidden {c.hidden}"
    plot_loss(result.losses, title=f"Training loss ({name})").savefig(out / "loss.png", dpi=120)
    fig = plot_decision_boundary(
        result.model.predict, result.graph,
        title=f"{name}: {result.correct}/{result.total} correct",
    )
    fig.savefig(out / "boundary.png", dpi=120)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["app"] and not {"-h", "--help"} & set(argv[1:]):
        from .app.launch import main as run_app  # streamlit's options pass through untouched

        return run_app(argv[1:])
    from .tasks import cli as tasks_cli  # train mnist|sentiment and eval live with the tasks

    if tasks_cli.handles(argv):
        return tasks_cli.main(argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        sub = parser._subparsers._group_actions[0].choices["train"]  # for its error messages
        return _run_train(args, sub)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
