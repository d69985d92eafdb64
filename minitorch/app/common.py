"""Small helpers the pages share: showing the viz pictures, reading typed numbers, and the
library's messages in the app's words."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import streamlit as st

__all__ = ["show_drawing", "show_figure", "parse_ints", "app_message"]


def app_message(err: BaseException | str, *configs: type) -> str:
    """A task's message in the page's words: each option (`--data`) named as the page names
    it (the field's `label` in its config's metadata, e.g. "data folder"), and advice meant
    for the command line (a clause still naming a flag or a `minitorch` command) left out."""
    labels = {}
    for cls in configs:
        for f in dataclasses.fields(cls):
            label = f.metadata.get("label") or f.name.replace("_", " ")
            labels["--" + f.name.replace("_", "-")] = label

    def name(m: re.Match) -> str:
        flag = m.group(0).split()[0]
        return f'the "{labels[flag]}" field' if flag in labels else m.group(0)

    text = re.sub(r"--[a-z][a-z-]*( [A-Z]+\b)?", name, str(err))
    clauses = re.split(r"(?<=[:;]) ", text)
    kept = [c for c in clauses if "--" not in c and "minitorch " not in c] or clauses[:1]
    return " ".join(kept).rstrip(":; ")


def show_drawing(drawing: Any, caption: str | None = None) -> None:
    """Show a `minitorch.viz` Drawing (boxes, graphs) as a picture."""
    st.image(drawing.png(dpi=100), caption=caption)


def show_figure(fig: Any) -> None:
    """Show a matplotlib Figure from `minitorch.viz` (drawn without pyplot)."""
    st.pyplot(fig, clear_figure=False)


def parse_ints(text: str, what: str, allow_empty: bool = False, limit: int = 6) -> tuple[int, ...]:
    """`"2, 3"` -> `(2, 3)`; a ValueError names `what` and the bad text otherwise."""
    parts = [p.strip() for p in text.replace("(", "").replace(")", "").split(",") if p.strip()]
    if not parts and not allow_empty:
        raise ValueError(f"{what}: expected whole numbers separated by commas, got {text!r}")
    if len(parts) > limit:
        raise ValueError(f"{what}: at most {limit} numbers, got {len(parts)}")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"{what}: expected whole numbers separated by commas, got {text!r}"
        ) from None
