"""`minitorch` on the command line: `train [TASK]`, `eval TASK`, `generate` and `app`.

The task commands are generated from the task registry (`minitorch.tasks.cli`); `app` hands
every further option to `streamlit run`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .files import write_json_atomic

__all__ = ["main", "write_json_atomic"]


def _parser() -> argparse.ArgumentParser:
    from .tasks.cli import add_eval_command, add_train_command

    parser = argparse.ArgumentParser(
        prog="minitorch", description="minitorch: learn deep learning by building it."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train_command(commands)
    add_eval_command(commands)
    from .tasks.shakespeare.commands import add_generate_command

    add_generate_command(commands)
    commands.add_parser(
        "app",
        help="start the interactive app (Streamlit) on localhost",
        description="Start the interactive app on localhost. Every further option goes to "
        "`streamlit run`, e.g. `minitorch app --server.port 8765 --server.headless true`. "
        'Needs streamlit: pip install "minitorch[app]".',
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (`argv` without the program name; default: `sys.argv[1:]`)."""
    from .tasks.cli import with_default_task
    from .tasks.errors import TaskError

    argv = with_default_task(list(sys.argv[1:] if argv is None else argv))
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "app":
        from .app.launch import main as run_app  # streamlit's options pass through untouched

        return run_app(argv[1:])
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.argv = argv  # what the user typed, for the line that says how to resume
    try:
        return args.run(args)
    except TaskError as err:
        print(f"minitorch {args.command} {args.task}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C, or one before training began
        print(f"minitorch {args.command} {args.task}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
