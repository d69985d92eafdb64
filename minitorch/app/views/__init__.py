"""The app's pages, in sidebar order: the library's, one script per module, then one page per
registered task (`tasks.registry.task_names()`), generated from its record: its title and
icon, and its own page script where the record names one (`Task.page`), else the generic
task page (`app/task_page.py`), built from the record alone."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...tasks.registry import task_named, task_names

__all__ = ["Page", "LIBRARY_PAGES", "pages", "task_pages"]

_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Page:
    """A sidebar entry.

    Attributes:
        title: its label in the sidebar, also the page's heading.
        icon: a Material icon (":material/NAME:").
        url: its path in the app's URL (a task's name, for a task's page).
        path: the page's script; None for a task's generic page.
        task: the task a task's page shows; None for the library's pages.
        default: the page the app opens on.
    """

    title: str
    icon: str
    url: str
    path: Path | None = None
    task: str | None = None
    default: bool = False

    def streamlit_page(self) -> Any:
        """This entry as Streamlit's `st.Page`: its script, or the task's generic page."""
        import streamlit as st

        from ..task_page import task_page

        target = self.path if self.path is not None else task_page(self.task)
        return st.Page(
            target, title=self.title, icon=self.icon, url_path=self.url, default=self.default
        )


def _library(file: str, title: str, icon: str, default: bool = False) -> Page:
    return Page(title, icon, file.removesuffix(".py"), _HERE / file, default=default)


LIBRARY_PAGES = [
    _library("home.py", "minitorch", ":material/home:", default=True),
    _library("operators.py", "Operators", ":material/functions:"),
    _library("modules.py", "Modules", ":material/account_tree:"),
    _library("autodiff.py", "Autodiff", ":material/device_hub:"),
    _library("tensors.py", "Tensors", ":material/grid_on:"),
    _library("backends.py", "Backends", ":material/speed:"),
]


def _script(name: str, module: str) -> Path:
    """The file of the page script `module` (found, never imported: importing runs it)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f"task {name!r}: its page {module!r} is no module that can be found")
    return Path(spec.origin)


def task_pages() -> list[Page]:
    """One page per registered task, in the registry's order (those added by `register` too)."""
    found = []
    for name in task_names():
        task = task_named(name)
        path = None if task.page is None else _script(name, task.page)
        found.append(Page(task.title, task.icon, name, path, task=name))
    return found


def pages() -> list[Page]:
    """Every sidebar entry: the library's pages, then the tasks'."""
    return [*LIBRARY_PAGES, *task_pages()]
