"""Checkpoints: a module's parameters in a safetensors file, saved atomically, loaded safely.

The file holds one array per parameter, in the parameter's dtype (float64 or float32), under
its dotted name from `Module.named_parameters()` (a Scalar parameter is a 0-d float64
array), and a small dict of strings
(`metadata`) beside them: what a caller needs to rebuild the module (architecture options,
vocabulary handling, ...). safetensors is plain data: loading runs no code (no pickle).

Files written elsewhere (PyTorch's `safetensors.torch.save_file`, say) are read too: every
floating-point type safetensors defines is converted to float64 (float16, bfloat16 and the
8-bit floats included), except the packed 4- and 6-bit floats, which are refused by name, as
are integer, boolean and complex tensors (a parameter is a float).
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Union

import numpy as np
from safetensors import SafetensorError, deserialize
from safetensors.numpy import save_file

from .files import atomic_file
from .module import Module
from .scalar import Scalar
from .tensor import Tensor

__all__ = [
    "save",
    "save_arrays",
    "load",
    "read_arrays",
    "read_metadata",
    "CheckpointError",
    "MetadataField",
    "json_metadata",
    "validate_metadata",
]

PathLike = Union[str, "os.PathLike[str]"]


class CheckpointError(ValueError):
    """A checkpoint that does not fit the module (or is not a checkpoint at all)."""


def save(module: Module, path: PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write every parameter of `module` (and `metadata`) to the safetensors file `path`.

    The file appears whole or not at all: it is written beside `path` under a temporary
    name, then renamed over it (`os.replace` is atomic), so a crash mid-save leaves any
    earlier checkpoint intact. A save that fails removes its temporary file; one killed
    outright (`kill -9`) cannot, so each save first removes the temporary files of `path`
    whose writing process is gone. The file gets the permissions the user's umask allows,
    as any file they create.

    Args:
        module: whose `named_parameters()` to save.
        path: the file to write (conventionally `*.safetensors`).
        metadata: strings to store beside the parameters; read back by `load` or
            `read_metadata`.

    Raises:
        TypeError: when a metadata key or value is not a string.
    """
    meta = dict(metadata or {})
    for key, value in meta.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"checkpoint metadata must map strings to strings, got {key!r}: {value!r}"
            )
    arrays = {name: _to_numpy(p.value) for name, p in module.named_parameters()}
    save_arrays(arrays, path, meta)


def save_arrays(arrays: Mapping[str, np.ndarray], path: PathLike, meta: Mapping[str, str]) -> None:
    """Write named arrays and string metadata to `path` as `save` does (whole or not at all):
    for what is not a module's parameters, such as a run's optimizer moments."""
    with atomic_file(Path(path)) as tmp:  # whole or not at all; stale ones removed
        save_file(arrays, tmp, metadata=meta)


def load(module: Module, path: PathLike) -> dict[str, str]:
    """Set `module`'s parameters from the checkpoint `path`; return its metadata.

    Everything is checked before anything is assigned: on any mismatch the module is left
    exactly as it was. Each loaded value keeps the backend and the dtype of the value it
    replaces (a float64 checkpoint loads into a float32 model as float32, and back).

    Args:
        module: a module of the architecture that was saved.
        path: a file written by `save`.

    Returns:
        The metadata stored with the parameters (empty if none).

    Raises:
        FileNotFoundError: when `path` does not exist.
        CheckpointError: when the file is not a safetensors checkpoint, a parameter is
            missing or extra, or a shape differs (naming the parameter and both shapes).
    """
    arrays, metadata = _read(path, with_arrays=True)
    params = dict(module.named_parameters())
    missing = [name for name in params if name not in arrays]
    extra = [name for name in arrays if name not in params]
    if missing or extra:
        raise CheckpointError(
            f"checkpoint {path} does not fit {type(module).__name__}: missing parameters "
            f"{missing or 'none'}, unexpected parameters {extra or 'none'}"
        )
    for name, p in params.items():
        have, want = arrays[name].shape, _shape(p.value)
        if have != want:
            raise CheckpointError(
                f"checkpoint {path}: parameter {name!r} has shape {have} in the file but "
                f"{want} in {type(module).__name__}"
            )
    for name, p in params.items():
        p.update(_from_numpy(arrays[name], p.value))
    return metadata


def read_metadata(path: PathLike) -> dict[str, str]:
    """The metadata stored in the checkpoint `path`, without reading its parameters.

    Raises:
        FileNotFoundError: when `path` does not exist.
        CheckpointError: when the file is not a safetensors checkpoint.
    """
    return _read(path, with_arrays=False)[1]


def read_arrays(path: PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every array of the file `path` (as float64) and its metadata; the counterpart of
    `save_arrays`.

    Raises:
        FileNotFoundError: when `path` does not exist.
        CheckpointError: when the file is not a safetensors file of floats.
    """
    return _read(path, with_arrays=True)


# ---- Metadata schemas ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MetadataField:
    """What one entry of a checkpoint's (decoded JSON) metadata must be.

    Args:
        kind: `int`, `float`, `str`, `bool` or `list` (a JSON array).
        low: the least value allowed (numbers, and a list's items), or None.
        high: the greatest value allowed (numbers, and a list's items), or None.
        choices: the only values allowed (for `str` and numbers), or None.
        item: a list's item kind (`int`, `float` or `str`); required for `list`.
        max_items: the longest list allowed (and lists must not be empty), or None.
        required: whether the entry must be present.
    """

    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    item: type | None = None
    max_items: int | None = None
    required: bool = True


def json_metadata(metadata: Mapping[str, str], key: str, path: PathLike) -> dict[str, Any]:
    """The JSON object stored as the string `metadata[key]` of the checkpoint `path`.

    Raises:
        CheckpointError: naming `path` and `key`, when the entry is missing, is not JSON
            (NaN and Infinity included: JSON has no such numbers), or is not an object.
    """
    if key not in metadata:
        raise CheckpointError(f"{path}: the checkpoint's metadata has no {key!r} entry")

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not a JSON number")

    try:
        value = json.loads(metadata[key], parse_constant=refuse)
    except ValueError as e:  # JSONDecodeError is one
        raise CheckpointError(f"{path}: metadata entry {key!r} is not JSON ({e})") from None
    if not isinstance(value, dict):
        raise CheckpointError(
            f"{path}: metadata entry {key!r} must be a JSON object, found {type(value).__name__}"
        )
    return value


def validate_metadata(
    meta: Mapping[str, Any], schema: Mapping[str, MetadataField], where: str = "checkpoint"
) -> dict[str, Any]:
    """`meta` checked against `schema` before anything is built from it.

    Every required entry must be present, no entry outside the schema may be (a checkpoint
    says what to build, never, say, a file to open), and each value must be of its field's
    kind (a bool is not a number; an int is a float), finite, within its range and among
    its choices.

    Args:
        meta: decoded metadata (see `json_metadata`).
        schema: entry name -> what it must be.
        where: what the metadata came from, for messages (a path).

    Returns:
        A copy of `meta`, lists as tuples.

    Raises:
        CheckpointError: naming the entry, its value and what it must be.
    """
    missing = [name for name, f in schema.items() if f.required and name not in meta]
    unknown = [name for name in meta if name not in schema]
    if missing or unknown:
        raise CheckpointError(
            f"{where}: metadata does not fit its schema: missing {missing or 'none'}, "
            f"unexpected {unknown or 'none'}"
        )
    out: dict[str, Any] = {}
    for name, value in meta.items():
        field = schema[name]
        if field.kind is list:
            if not isinstance(value, list) or field.item is None:
                raise CheckpointError(f"{where}: metadata {name!r} must be a list, got {value!r}")
            if not value or (field.max_items is not None and len(value) > field.max_items):
                raise CheckpointError(
                    f"{where}: metadata {name!r} must hold 1 to {field.max_items or 'any'} "
                    f"items, got {len(value)}"
                )
            for v in value:
                _check_value(where, f"{name}[]", v, field.item, field)
            out[name] = tuple(value)
        else:
            _check_value(where, name, value, field.kind, field)
            out[name] = value
    return out


_KINDS = {int: "an integer", float: "a finite number", str: "a string", bool: "true or false"}


def _check_value(where: str, name: str, value: Any, kind: type, field: MetadataField) -> None:
    """One value against its kind, range and choices (see `validate_metadata`)."""
    if kind is float:
        fits = isinstance(value, (int, float)) and not isinstance(value, bool)
        fits = fits and np.isfinite(value)
    elif kind is int:
        fits = isinstance(value, int) and not isinstance(value, bool)
    else:
        fits = isinstance(value, kind)
    if not fits:
        raise CheckpointError(f"{where}: metadata {name!r} must be {_KINDS[kind]}, got {value!r}")
    if kind in (int, float) and (
        (field.low is not None and value < field.low)
        or (field.high is not None and value > field.high)
    ):
        raise CheckpointError(
            f"{where}: metadata {name!r} = {value!r} is out of range "
            f"[{field.low if field.low is not None else '-inf'}, "
            f"{field.high if field.high is not None else 'inf'}]"
        )
    if field.choices is not None and kind is not bool and value not in field.choices:
        raise CheckpointError(
            f"{where}: metadata {name!r} = {value!r} is not one of {list(field.choices)}"
        )


def _read(path: PathLike, with_arrays: bool) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays (if asked) and the metadata of a checkpoint file."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with open(path, "rb") as f:
        metadata = _metadata(path, f)
        if not with_arrays:
            return {}, metadata
        f.seek(0)
        raw = f.read()
    try:
        tensors = deserialize(raw)  # safetensors checks the header, shapes and offsets
    except SafetensorError as e:
        raise CheckpointError(f"{path} is not a safetensors checkpoint: {e}") from e
    # sorted: deserialize's order varies from run to run, and messages list the names
    arrays = {name: _as_float64(path, name, t) for name, t in sorted(tensors, key=lambda e: e[0])}
    return arrays, metadata


# A safetensors header is at most 100 MB (the format's own limit).
_MAX_HEADER = 100_000_000


def _metadata(path: PathLike, f: Any) -> dict[str, str]:
    """The `__metadata__` of a safetensors file, read from its header alone.

    The header's length is checked against the file's before it is read, and the metadata
    must be a JSON object of strings: anything else is a CheckpointError saying so.
    """
    size = os.fstat(f.fileno()).st_size
    start = f.read(8)
    if len(start) < 8:
        raise CheckpointError(f"{path} is not a safetensors checkpoint: {size} bytes, no header")
    (length,) = struct.unpack("<Q", start)
    if length > min(size - 8, _MAX_HEADER):
        raise CheckpointError(
            f"{path} is not a safetensors checkpoint: its header claims {length} bytes, "
            f"the file holds {size - 8} after the length"
        )
    try:
        header = json.loads(f.read(length).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(
            f"{path} is not a safetensors checkpoint: header is not JSON ({e})"
        ) from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a safetensors checkpoint: header is not an object")
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise CheckpointError(
            f"{path}: checkpoint metadata must be a JSON object of strings, "
            f"found {type(metadata).__name__}"
        )
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise CheckpointError(
                f"{path}: checkpoint metadata must map strings to strings, got {key!r}: "
                f"{value!r} ({type(value).__name__})"
            )
    return dict(metadata)


# safetensors' float types numpy reads directly (little-endian, as the format stores them)
_NUMPY_FLOATS = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2")}


def _minifloat_table(exp_bits: int, bias: int, kind: str) -> np.ndarray:
    """float64 values of all 256 codes of a 1-sign, `exp_bits`-exponent 8-bit float.

    `kind` says how the format spends its top codes: "ieee" (all-ones exponent: inf or
    nan, as F8_E5M2), "fn" (no inf; only the all-ones code is nan, as F8_E4M3), or "fnuz"
    (no inf, no -0: the code of -0 is the one nan, as the FNUZ formats).
    """
    man_bits = 7 - exp_bits
    code = np.arange(256)
    sign = np.where(code & 0x80, -1.0, 1.0)
    exponent = (code >> man_bits) & ((1 << exp_bits) - 1)
    mantissa = code & ((1 << man_bits) - 1)
    fraction = mantissa / (1 << man_bits)
    normal = np.ldexp(1.0 + fraction, exponent - bias)
    subnormal = np.ldexp(fraction, 1 - bias)
    values = sign * np.where(exponent == 0, subnormal, normal)
    top = exponent == (1 << exp_bits) - 1
    if kind == "ieee":
        values[top] = np.where(mantissa[top] == 0, sign[top] * np.inf, np.nan)
    elif kind == "fn":
        values[top & (mantissa == (1 << man_bits) - 1)] = np.nan
    else:
        values[0x80] = np.nan
    return values


# 8-bit floats: their 256 values, looked up by code
_BYTE_FLOATS = {
    "F8_E4M3": _minifloat_table(4, 7, "fn"),
    "F8_E5M2": _minifloat_table(5, 15, "ieee"),
    "F8_E4M3FNUZ": _minifloat_table(4, 8, "fnuz"),
    "F8_E5M2FNUZ": _minifloat_table(5, 16, "fnuz"),
    # E8M0: an exponent alone, 2^(code - 127); code 255 is nan
    "F8_E8M0": np.append(np.ldexp(1.0, np.arange(255) - 127), np.nan),
}


def _as_float64(path: PathLike, name: str, tensor: Mapping[str, Any]) -> np.ndarray:
    """A safetensors tensor (`dtype`, `shape`, raw `data`) as a float64 array.

    Raises:
        CheckpointError: naming the parameter and its type, for a type that is not a float
            (or is a packed 4- or 6-bit float).
    """
    dtype, shape, data = tensor["dtype"], tuple(tensor["shape"]), tensor["data"]
    if dtype in _NUMPY_FLOATS:
        values = np.frombuffer(data, dtype=_NUMPY_FLOATS[dtype]).astype(np.float64)
    elif dtype == "BF16":  # the top half of a float32
        bits = np.frombuffer(data, dtype="<u2").astype(np.uint32) << 16
        values = bits.view(np.float32).astype(np.float64)
    elif dtype in _BYTE_FLOATS:
        values = _BYTE_FLOATS[dtype][np.frombuffer(data, dtype=np.uint8)]
    else:
        what = (
            "a packed sub-byte float, which is not supported"
            if dtype.startswith("F")
            else "not a floating-point type"
        )
        raise CheckpointError(
            f"{path}: parameter {name!r} is stored as {dtype}, {what}: convert it to "
            f"float32 or float64 (supported: F64, F32, F16, BF16, {', '.join(_BYTE_FLOATS)})"
        )
    return values.reshape(shape)


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, Scalar):
        return np.array(value.data, dtype=np.float64)
    return np.ascontiguousarray(value.to_numpy())  # in the tensor's own dtype


def _shape(value: Any) -> tuple[int, ...]:
    return () if isinstance(value, Scalar) else tuple(value.shape)


def _from_numpy(array: np.ndarray, like: Any) -> Any:
    """`array` as a value of the same kind (and backend) as `like`."""
    if isinstance(like, Scalar):
        return Scalar(float(array))
    values = array.ravel().astype(like.dtype)  # a copy, in the model's dtype
    return Tensor.make(values, array.shape, backend=like.backend)
