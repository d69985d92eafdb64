"""Checkpoints: a module's parameters in a safetensors file, saved atomically, loaded safely.

The file holds one array per parameter, in the parameter's dtype (float64 or float32), under
its dotted name from `Module.named_parameters()` (a Scalar parameter is a 0-d float64
array), and a small dict of strings
(`metadata`) beside them: what a caller needs to rebuild the module (architecture options,
vocabulary handling, ...). safetensors is plain data: loading runs no code (no pickle).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Union

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from .module import Module
from .scalar import Scalar
from .tensor import Tensor

__all__ = ["save", "load", "read_metadata", "CheckpointError"]

PathLike = Union[str, "os.PathLike[str]"]


class CheckpointError(ValueError):
    """A checkpoint that does not fit the module (or is not a checkpoint at all)."""


def save(module: Module, path: PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write every parameter of `module` (and `metadata`) to the safetensors file `path`.

    The file appears whole or not at all: it is written beside `path` under a temporary
    name, then renamed over it (`os.replace` is atomic), so a crash mid-save leaves any
    earlier checkpoint intact.

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
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(arrays, tmp, metadata=meta)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make the checkpoint private
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


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


def _read(path: PathLike, with_arrays: bool) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays (if asked) and the metadata of a checkpoint file."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with safe_open(str(path), framework="np") as f:
            metadata = dict(f.metadata() or {})
            arrays = (
                {name: f.get_tensor(name) for name in f.keys()}
                if with_arrays
                else {}
            )
    except SafetensorError as e:
        raise CheckpointError(f"{path} is not a safetensors checkpoint: {e}") from e
    return arrays, metadata


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
