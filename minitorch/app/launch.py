"""`minitorch app`: start the Streamlit app on localhost, passing options through."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import APP_PATH

__all__ = ["main", "streamlit_argv", "MISSING_STREAMLIT"]

MISSING_STREAMLIT = (
    'minitorch app needs streamlit: pip install "minitorch[app]" (or pip install ".[app]")'
)

# Our defaults, each used only when the user does not set that option: serve on this
# machine only, and send no usage statistics (the app works offline).
_DEFAULTS = {
    "--server.address": "localhost",
    "--browser.gatherUsageStats": "false",
    "--client.toolbarMode": "minimal",  # no "Deploy" button: this is a local tool
}


def streamlit_argv(options: Sequence[str]) -> list[str]:
    """The arguments of `streamlit run` for our app, with the user's `options` first."""
    given = {option.split("=", 1)[0] for option in options if option.startswith("--")}
    defaults = [
        part for key, value in _DEFAULTS.items() if key not in given for part in (key, value)
    ]
    # Options go before the script: what follows it would be the script's own arguments.
    return ["run", *defaults, *options, str(APP_PATH)]


def main(options: Sequence[str]) -> int:
    """Run the app until it is stopped (Ctrl-C); returns the exit status."""
    try:
        from streamlit.web import cli
    except ImportError:
        print(MISSING_STREAMLIT, file=sys.stderr)
        return 1
    try:
        cli.main(streamlit_argv(options), prog_name="streamlit", standalone_mode=False)
    except SystemExit as stop:  # streamlit exits by itself on shutdown
        return stop.code if isinstance(stop.code, int) else 0
    return 0
