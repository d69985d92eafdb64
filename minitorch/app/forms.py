"""A task's training form, generated from its config dataclass: each option is declared once.

`config_form` draws one widget per offered field, from the field's type, default, choices,
help and label (`tasks.options.option`'s metadata), narrowed where the task's record says so
(`tasks.registry.AppField`: app-sized bounds, a slider's choices, the page's default), and
builds the config from their values as the command line builds it from its flags. A widget's
key is the field's name (`at.number_input(key="epochs")` in the tests).

| field type | widget |
| --- | --- |
| `bool` | checkbox |
| `str` with choices | select box (`backend`: only the backends that run here) |
| `int`, `float` with the record's choices | select slider |
| `int`, `float` | number box (optional: empty means None) |
| `str`, `Path` | text box (optional: empty means None) |
| `tuple[int, ...]` | text box, "3, 4, 5" |
"""

from __future__ import annotations

import contextlib
import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from ..tasks.errors import TaskError
from ..tasks.registry import CONFIG_DEFAULT, AppField
from .common import app_message, parse_ints

__all__ = ["config_form", "field_label"]

_MISSING = dataclasses.MISSING


def field_label(field: dataclasses.Field) -> str:
    """The field's name in the app's words: its `label`, or its name with spaces."""
    return field.metadata.get("label") or field.name.replace("_", " ")


def _optional(kind: Any) -> tuple[Any, bool]:
    """`int | None` -> (int, True); `int` -> (int, False)."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in args:
        return next(a for a in args if a is not type(None)), True
    return kind, False


def _choices(field: dataclasses.Field, spec: AppField) -> tuple[Any, ...]:
    """What the widget offers: the record's choices, else the field's (the `backend` field:
    only those that run on this machine, and any choice that is not a tensor backend)."""
    if spec.choices:
        return tuple(spec.choices)
    found = field.metadata.get("choices")
    found = tuple(found() if callable(found) else found or ())
    if field.name == "backend":
        from ..backends import BACKEND_NAMES, available_backends

        runnable = available_backends()
        found = tuple(c for c in found if c in runnable or c not in BACKEND_NAMES) or runnable
    return found


def _start(field: dataclasses.Field, spec: AppField, defaults: Mapping[str, Any]) -> Any:
    """The widget's first value: the page's, the record's, else the config's default."""
    if field.name in defaults:
        return defaults[field.name]
    if spec.default is not CONFIG_DEFAULT:
        return spec.default
    if field.default is not _MISSING:
        return field.default
    if field.default_factory is not _MISSING:
        return field.default_factory()
    return None  # a required field: the form starts empty


def _widget(field: dataclasses.Field, kind: Any, spec: AppField, start: Any) -> Any:
    """Draw the field's widget and return its value as the config takes it.

    Raises:
        ValueError: the value typed is not one (the message names the field).
    """
    kind, optional = _optional(kind)
    label, key, help_text = field_label(field), field.name, field.metadata.get("help") or None
    choices = _choices(field, spec)
    if kind is bool:
        return st.checkbox(label, value=bool(start), key=key, help=help_text)
    if choices and kind in (int, float):
        return st.select_slider(label, list(choices), value=start, key=key, help=help_text)
    if choices:
        index = choices.index(start) if start in choices else 0
        return st.selectbox(label, list(choices), index=index, key=key, help=help_text)
    if kind in (int, float):
        low, high = spec.bounds or (None, None)
        return st.number_input(
            label,
            min_value=None if low is None else kind(low),
            max_value=None if high is None else kind(high),
            value=None if start is None else kind(start),
            step=1 if kind is int else None,
            format="%d" if kind is int else "%g",
            placeholder="empty: none" if optional else None,
            key=key,
            help=help_text,
        )
    if kind in (str, Path):
        text = st.text_input(label, "" if start is None else str(start), key=key, help=help_text)
        if not text.strip():
            if optional:
                return None
            raise ValueError(f'the "{label}" field is empty')
        return kind(text.strip())
    if typing.get_origin(kind) is tuple:
        shown = ", ".join(str(v) for v in start or ())
        text = st.text_input(label, shown, key=key, help=help_text)
        if optional and not text.strip():
            return None
        return parse_ints(text, label)
    raise TypeError(f"no app widget for config field {field.name!r} of type {kind!r}")


def config_form(
    cls: type,
    fields: Sequence[AppField | str],
    *,
    defaults: Mapping[str, Any] | None = None,
    columns: int = 6,
) -> Any:
    """Draw a widget for each of `fields` of the config dataclass `cls` (in rows of `columns`,
    in the current container) and build the config from their values.

    Args:
        cls: the task's config dataclass (fields declared with `tasks.options.option`).
        fields: the fields to offer (`Task.form_fields()`); the others keep their defaults.
        defaults: the page's first values for some fields (over the record's and the config's).
        columns: widgets per row; 1 draws them one under another (a sidebar).

    Returns:
        The config, or a `str`: why the values make none, in the page's words (the option
        named as the page names it, no command-line advice).
    """
    specs = [AppField(f) if isinstance(f, str) else f for f in fields]
    by_name = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [s.name for s in specs if s.name not in by_name]
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not fields of {cls.__name__}")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    problems: list[str] = []
    slots: list[Any] = []
    for i, spec in enumerate(specs):
        if columns > 1 and i % columns == 0:
            slots = st.columns(columns)
        field = by_name[spec.name]
        start = _start(field, spec, defaults or {})
        with slots[i % columns] if columns > 1 else contextlib.nullcontext():
            try:
                values[spec.name] = _widget(field, hints[spec.name], spec, start)
            except ValueError as err:
                problems.append(str(err))
    if problems:
        return "; ".join(problems)
    try:
        return cls(**values)
    except TaskError as err:
        return app_message(err, cls)
