"""`minitorch train [TASK]` and `minitorch eval TASK`, generated from the task registry.

Each task's options come from its config dataclass (`options.add_options`); the options every
run has (`--out`, `--quiet`, `--no-plots`, `--threads`) are declared here once. Every problem
with the user's input (a missing path, extra or file, a bad option) is a message and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from ..files import write_json_atomic
from .errors import TaskError
from .loop import CompileReport, EvalReport, StepReport
from .options import add_options, config_from
from .registry import CLASSIC, Task, task_named, task_names

__all__ = ["add_train_command", "add_eval_command", "run_train", "run_eval", "COMPILING"]

COMPILING = "compiling the fast kernels once; later runs start at once"
COMPILE_NOTICE_AFTER = 1.0  # seconds: a warm kernel cache loads faster and says nothing


def default_out(task: str, evaluation: bool = False) -> Path:
    """Each task writes into its own folder, so runs of different tasks never mix."""
    return Path("out") / (f"{task}-eval" if evaluation else task)


def add_train_command(commands: Any) -> None:
    """`minitorch train TASK [options]`, one sub-command per registered task."""
    train = commands.add_parser(
        "train",
        help="train a task (without a name: the classic toy job)",
        description="Train a task and write OUT/metrics.json, OUT/model.safetensors and "
        "pictures. Without a task name, runs the classic toy job: `minitorch train --dataset "
        "Circle` is `minitorch train classic --dataset Circle`. Each task takes --help.",
    )
    tasks = train.add_subparsers(dest="task", required=True, metavar="TASK")
    for name in task_names():
        task = task_named(name)
        p = tasks.add_parser(name, help=task.help, description=task.description)
        add_options(p, task.config)
        p.add_argument(
            "--out",
            type=Path,
            default=None,
            metavar="DIR",
            help=f"folder for metrics.json, the checkpoint and pictures (default: out/{name})",
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--no-plots", action="store_true", help="skip the pictures")
        p.add_argument(
            "--threads",
            type=int,
            default=None,
            metavar="N",
            help="CPU threads for the fast kernels (default: one per core that other processes "
            "leave idle, from the load average)",
        )
        p.set_defaults(run=run_train, task_record=task)


def add_eval_command(commands: Any) -> None:
    """`minitorch eval TASK [options]`, for each registered task that can be evaluated."""
    evaluate = commands.add_parser(
        "eval",
        help="evaluate a checkpoint of `minitorch train TASK`",
        description="Evaluate OUT/model.safetensors of `minitorch train TASK` and write "
        "DIR/metrics.json (and confusion.png). Each task takes --help.",
    )
    tasks = evaluate.add_subparsers(dest="task", required=True, metavar="TASK")
    for name in task_names():
        task = task_named(name)
        if task.eval_config is None:
            continue
        p = tasks.add_parser(
            name,
            help=f"accuracy of a {name} checkpoint",
            description=f"Evaluate a checkpoint of minitorch train {name}.",
        )
        add_options(p, task.eval_config)
        p.add_argument(
            "--out",
            type=Path,
            default=None,
            metavar="DIR",
            help=f"folder for metrics.json and confusion.png (default: out/{name}-eval)",
        )
        p.add_argument("--no-plots", action="store_true", help="skip the pictures")
        p.set_defaults(run=run_eval, task_record=task)


def with_default_task(argv: list[str]) -> list[str]:
    """`train [options]` -> `train classic [options]` (the classic job keeps its command)."""
    if argv[:1] == ["train"]:
        rest = argv[1:]
        if not rest or (rest[0] not in task_names() and rest[0] not in ("-h", "--help")):
            return ["train", CLASSIC, *rest]
    return argv


# ---------------------------------------------------------------------------------------------
# Progress on the terminal


class Progress:
    """Turns the loop's reports into tqdm bars: one per epoch when an epoch has many steps,
    one for the whole run when each epoch is one step (the classic job). The bar's last
    figures are the run's final evaluation, as the summary line prints them."""

    def __init__(self, name: str, quiet: bool) -> None:
        from tqdm import tqdm

        self.tqdm, self.name, self.quiet = tqdm, name, quiet
        self.bar: Any = None
        self.run_bar: Any = None
        self._notice: threading.Timer | None = None
        self._noticed = False

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(f"{self.name}: {text}", file=sys.stderr, flush=True)

    def _compiling(self) -> None:
        self._noticed = True
        self._say(COMPILING + " ...")

    def __call__(self, r: Any) -> None:
        if isinstance(r, CompileReport):
            if r.seconds is None:
                self._notice = threading.Timer(COMPILE_NOTICE_AFTER, self._compiling)
                self._notice.daemon = True
                self._notice.start()
            else:
                if self._notice is not None:
                    self._notice.cancel()
                if self._noticed:
                    self._say(f"compiled in {r.seconds:.1f} s (kept out of the epoch times)")
            return
        if isinstance(r, StepReport):
            if r.steps == 1:
                return  # one step per epoch: the run's bar moves on each evaluation
            if self.bar is None:
                self.bar = self.tqdm(
                    total=r.steps,
                    desc=f"{self.name} epoch {r.epoch}",
                    unit="batch",
                    disable=self.quiet,
                    dynamic_ncols=True,
                )
            self.bar.set_postfix(loss=f"{r.loss:.4f}", refresh=False)
            self.bar.update(1)
            return
        if isinstance(r, EvalReport):
            if self.bar is not None:
                self.bar.set_postfix(loss=f"{r.train_loss:.4f}", val_acc=f"{r.val_accuracy:.1%}")
                self.bar.close()
                self.bar = None
                return
            if self.run_bar is None:
                total = r.epochs if r.epochs is not None else r.iterations
                self.run_bar = self.tqdm(
                    total=total,
                    desc=self.name,
                    unit="epoch",
                    disable=self.quiet,
                    dynamic_ncols=True,
                )
            self.run_bar.set_postfix(
                loss=f"{r.val_loss:.4f}", acc=f"{r.val_accuracy:.1%}", refresh=False
            )
            self.run_bar.update(r.epoch - self.run_bar.n if r.epochs is not None else 1)

    def close(self) -> None:
        if self._notice is not None:
            self._notice.cancel()
        for bar in (self.bar, self.run_bar):
            if bar is not None:
                bar.close()


# ---------------------------------------------------------------------------------------------
# Running the commands


def set_threads(threads: int | None) -> None:
    """Use `threads` CPU threads in the fast kernels (None: one per core others leave idle)."""
    from ..threads import set_threads as use_threads

    try:
        use_threads(threads)
    except ValueError as err:
        raise TaskError(f"--threads: {err}") from None


def _peak_memory_mb() -> float | None:
    """This process's peak resident memory so far, in MB (None where the OS does not say)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # bytes on macOS, KiB elsewhere
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def _tensor_parameters(model: Any) -> bool:
    return all(hasattr(p.value, "to_numpy") for p in model.parameters())


def run_train(args: argparse.Namespace) -> int:
    """Train `args.task_record` with the parsed options; save what it made."""
    task: Task = args.task_record
    config = config_from(task.config, args)
    out = args.out if args.out is not None else default_out(task.name)
    set_threads(args.threads)
    progress = Progress(task.name, args.quiet)
    try:
        result = task.train(config, progress, None)
    finally:
        progress.close()
    out.mkdir(parents=True, exist_ok=True)
    if _tensor_parameters(result.model):  # the scalar engine's Scalars have no file format
        from .common import save_checkpoint

        save_checkpoint(result.model, out / "model.safetensors", result.checkpoint_options())
    write_json_atomic(
        out / "metrics.json", {**result.metrics(), "peak_memory_mb": _peak_memory_mb()}
    )
    if not args.no_plots and task.pictures is not None:
        task.pictures(result, out)
    print(f"{result.summary()} -> {out}/")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    """Evaluate a checkpoint with `args.task_record`'s evaluation."""
    task: Task = args.task_record
    config = config_from(task.eval_config, args)
    out = args.out if args.out is not None else default_out(task.name, evaluation=True)
    evaluation = task.evaluate(config)
    write_json_atomic(out / "metrics.json", evaluation.metrics())
    if not args.no_plots and task.eval_pictures is not None:
        task.eval_pictures(evaluation, out)
    print(f"{evaluation.summary()} -> {out}/")
    return 0
