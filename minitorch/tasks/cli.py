"""`minitorch train [TASK]` and `minitorch eval TASK`, generated from the task registry.

Each task's options come from its config dataclass (`options.add_options`); the options every
run has (`--out`, `--resume`, `--quiet`, `--no-plots`, `--threads`) are declared here once.

Exit statuses: 0 done; 2 a problem with the user's input (a missing path, extra or file, a bad
option), said in one line, never a traceback, and found before anything slow starts (`--out` is
created and test-written first); 3 the run diverged (one line says where and what to try; the
last finite epoch's checkpoint is kept); 130 stopped by Ctrl-C or SIGTERM at a step boundary
(one line says how to resume; the last finished epoch is kept).
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..files import write_json_atomic
from .errors import TaskError
from .loop import CompileReport, EvalReport, StepReport
from .options import add_options, config_from
from .registry import CLASSIC, Task, task_named, task_names
from .resume import open_run, prepare_out

__all__ = [
    "add_train_command",
    "add_eval_command",
    "run_train",
    "run_eval",
    "COMPILING",
    "EXIT_BAD_INPUT",
    "EXIT_DIVERGED",
    "EXIT_INTERRUPTED",
]

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C

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
        p.add_argument(
            "--resume",
            action="store_true",
            help="continue the run saved in --out from its last finished epoch (the options "
            "must be those it was started with; --epochs, --lr and --backend may change)",
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


@contextmanager
def stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM set `stop` (the loop ends at the next step boundary)
    instead of raising in the middle of a kernel; a second Ctrl-C interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals
        return

    def handle(signum: int, frame: Any) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _resume_command(args: argparse.Namespace, out: Path) -> str:
    """The command line that continues this run: the user's own, plus --out and --resume."""
    argv = list(getattr(args, "argv", None) or ["train", args.task_record.name])
    if args.out is None:
        argv += ["--out", str(out)]
    if "--resume" not in argv:
        argv.append("--resume")
    return shlex.join(["minitorch", *argv])


def run_train(args: argparse.Namespace) -> int:
    """Train `args.task_record` with the parsed options; save what it made."""
    task: Task = args.task_record
    config = config_from(task.config, args)
    out = args.out if args.out is not None else default_out(task.name)
    set_threads(args.threads)
    from ..distributed import world

    main_rank = world().main  # under MPI, rank 0 alone writes and prints
    prepare_out(out)
    run = open_run(task.name, config, out, args.resume)  # every rank resumes the same run
    run.writes = main_rank
    progress = Progress(task.name, args.quiet or not main_rank)
    stop = threading.Event()
    try:
        with stopping_on_signals(stop):
            result = task.train(config, progress, stop, run)
    finally:
        progress.close()
    if not main_rank:
        return 0
    state = result.state
    finished = state.stop_reason is None
    if finished and _tensor_parameters(result.model):  # Scalars have no file format
        from .common import save_checkpoint

        save_checkpoint(result.model, out / "model.safetensors", result.checkpoint_options())
    write_json_atomic(
        out / "metrics.json",
        {**result.metrics(), "ranks": world().size, "peak_memory_mb": _peak_memory_mb()},
    )
    kept = (
        f"the checkpoint of {run.saved_at} is kept in {out}/"
        if run.saved_at
        else "no epoch had finished"
        + (" with finite parameters" if state.divergence is not None else "")
        + ", so there is no checkpoint"
    )
    name = f"minitorch train {task.name}"
    if state.divergence is not None:
        lr = getattr(config, "lr", None)
        hint = f"try a smaller --lr (now {lr:g})" if lr is not None else "try a smaller --lr"
        print(f"{name}: diverged at {state.divergence}; {hint}; {kept}", file=sys.stderr)
        return EXIT_DIVERGED
    if state.stopped:
        then = f"; resume with: {_resume_command(args, out)}" if run.saved_at else ""
        where = f"epoch {state.epoch + 1}, step {state.step_in_epoch + 1}"
        print(f"{name}: interrupted at {where}; {kept}{then}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not args.no_plots and task.pictures is not None:
        task.pictures(result, out)
    print(f"{result.summary()} -> {out}/")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    """Evaluate a checkpoint with `args.task_record`'s evaluation."""
    task: Task = args.task_record
    config = config_from(task.eval_config, args)
    out = args.out if args.out is not None else default_out(task.name, evaluation=True)
    prepare_out(out)
    evaluation = task.evaluate(config)
    write_json_atomic(out / "metrics.json", evaluation.metrics())
    if not args.no_plots and task.eval_pictures is not None:
        task.eval_pictures(evaluation, out)
    print(f"{evaluation.summary()} -> {out}/")
    return 0
