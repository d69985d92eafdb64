"""The interactive app: every module of the library as a page to play with (Streamlit).

Start it with `minitorch app [streamlit options]` or `streamlit run minitorch/app/main.py`.
Importing this package does not import streamlit; only the page scripts do.
"""

from pathlib import Path

__all__ = ["APP_PATH", "VIEWS_DIR"]

APP_PATH = Path(__file__).with_name("main.py")
"""The Streamlit entry script (give it to `streamlit run`)."""

VIEWS_DIR = Path(__file__).with_name("views")
"""The page scripts: one per part of the library, and the tasks' own pages."""
