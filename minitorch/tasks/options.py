"""Command-line options generated from a config dataclass: each option is declared once.

A config field declared with `option(default, "help", choices=...)` becomes `--field-name`
with the field's type (int, float, str, Path, bool, `tuple[int, ...]` as "3,4,5", any of
them optional), its default and its help; `config_from(cls, namespace)` builds the config
back. The default is printed once, by the help text itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["option", "add_options", "config_from", "field_help", "field_choices", "flag"]

_MISSING = dataclasses.MISSING


def option(
    default: Any = _MISSING,
    help: str = "",
    *,
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None,
    metavar: str | None = None,
    label: str | None = None,
) -> Any:
    """A config dataclass field that is also a command-line option.

    Args:
        default: the default (omit it for a required option).
        help: one line for `--help`; say what None means when the default is None.
        choices: the allowed values (or a function giving them, asked when `--help` is drawn).
        metavar: the placeholder in `--help` (FOLDER, FILE, N).
        label: the option's name in the app's words ("data folder"), for its messages.
    """
    metadata = {"help": help, "choices": choices, "metavar": metavar, "label": label}
    return dataclasses.field(default=default, metadata=metadata)


def flag(name: str) -> str:
    """`train_size` -> `--train-size`."""
    return "--" + name.replace("_", "-")


def field_help(cls: type, name: str) -> str:
    return next(f for f in dataclasses.fields(cls) if f.name == name).metadata.get("help", "")


def field_choices(cls: type, name: str) -> tuple[str, ...]:
    """The choices a field's metadata declares (called, when it is a function)."""
    found = next(f for f in dataclasses.fields(cls) if f.name == name).metadata.get("choices")
    return tuple(found() if callable(found) else found or ())


def _unwrap(kind: Any) -> tuple[Any, bool]:
    """`int | None` -> (int, True); `int` -> (int, False)."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return kind, False


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 3,4,5, got {text!r}"
        ) from None


def _converter(kind: Any) -> Callable[[str], Any]:
    if kind in (int, float, str, Path):
        return kind
    if typing.get_origin(kind) is tuple:
        return _int_tuple
    raise TypeError(f"no command-line form for a config field of type {kind!r}")


def _show(value: Any) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def add_options(parser: argparse.ArgumentParser, cls: type, skip: Sequence[str] = ()) -> None:
    """Add one option per field of the dataclass `cls` (except `skip`) to `parser`."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        kind, optional = _unwrap(hints[f.name])
        meta = f.metadata
        help_text = meta.get("help", "")
        choices = meta.get("choices")
        if callable(choices):
            choices = choices()
        if choices:
            help_text += f" (one of: {', '.join(choices)})"
        required = f.default is _MISSING and f.default_factory is _MISSING
        default = None if required else f.default
        if kind is bool:
            parser.add_argument(
                flag(f.name), action=argparse.BooleanOptionalAction, default=default, help=help_text
            )
            continue
        if default is not None and not required:
            help_text += f" (default: {_show(default)})"
        parser.add_argument(
            flag(f.name),
            dest=f.name,
            type=_converter(kind),
            default=default,
            required=required,
            metavar=meta.get("metavar"),
            help=help_text,
        )
        del optional  # None is the default's business: the help says what it means


def config_from(cls: type, namespace: argparse.Namespace, **extra: Any) -> Any:
    """The config `cls` of the parsed options (fields absent from `namespace` keep defaults)."""
    values = {
        f.name: getattr(namespace, f.name)
        for f in dataclasses.fields(cls)
        if f.init and hasattr(namespace, f.name)
    }
    return cls(**{**values, **extra})
