"""Hostile and unusual data files: every one is a named DataError, or is read correctly.

IDX files of every element type IDX defines, headers that lie about their sizes, files of
no examples, bytes that are not UTF-8, GloVe vectors holding nan or inf.
"""

from __future__ import annotations

import gzip
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from minitorch.tasks.errors import DataError
from minitorch.tasks.mnist.data import IDX_FILES, load_idx_folder, read_idx
from minitorch.tasks.sentiment.data import load_vectors, read_glue_tsv

# IDX type code -> the big-endian numpy type of its values
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx(values: np.ndarray, code: int, shape: tuple[int, ...] | None = None) -> bytes:
    """`values` as an IDX file of type `code`; `shape` overrides what the header declares."""
    shape = values.shape if shape is None else shape
    header = struct.pack(">BBBB", 0, 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)
    return header + np.asarray(values).astype(IDX_TYPES[code]).tobytes()


def write_split(folder: Path, images: bytes, labels: bytes, gz: bool = False) -> Path:
    image_name, label_name = IDX_FILES["train"]
    suffix = ".gz" if gz else ""
    pack = gzip.compress if gz else (lambda b: b)
    (folder / (image_name + suffix)).write_bytes(pack(images))
    (folder / (label_name + suffix)).write_bytes(pack(labels))
    return folder


PIXELS = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
LABELS = np.array([3, 7])


# ---- IDX: element types --------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(IDX_TYPES))
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_reads_every_idx_type_by_its_declared_type(tmp_path, code, gz):
    values = (np.arange(24).reshape(2, 3, 4) - (12 if code != 0x08 else 0)).astype(IDX_TYPES[code])
    data = idx(values, code)
    (tmp_path / "x").write_bytes(gzip.compress(data) if gz else data)
    got = read_idx(tmp_path / "x")
    assert got.dtype == np.dtype(IDX_TYPES[code]).newbyteorder("=")
    np.testing.assert_array_equal(got, values)


@pytest.mark.parametrize("code", [0x08, 0x09, 0x0B, 0x0C])
def test_integer_images_in_0_to_255_are_pixels_as_they_are(tmp_path, code):
    values = PIXELS if code != 0x09 else PIXELS % 128  # a signed byte holds 0..127
    digits = load_idx_folder(write_split(tmp_path, idx(values, code), idx(LABELS, 0x08)), "train")
    assert digits.images.dtype == np.uint8
    np.testing.assert_array_equal(digits.images, values)


@pytest.mark.parametrize("code", [0x0D, 0x0E])
def test_float_images_in_0_to_1_are_scaled_to_pixels(tmp_path, code):
    # The case: these used to be cast to bytes, every 0-1 value becoming 0.
    values = PIXELS / 255.0
    digits = load_idx_folder(write_split(tmp_path, idx(values, code), idx(LABELS, 0x08)), "train")
    np.testing.assert_array_equal(digits.images, PIXELS)


@pytest.mark.parametrize("code", [0x0D, 0x0E])
def test_float_images_in_0_to_255_are_read_as_pixel_values(tmp_path, code):
    digits = load_idx_folder(
        write_split(tmp_path, idx(PIXELS.astype(float), code), idx(LABELS, 0x08)), "train"
    )
    np.testing.assert_array_equal(digits.images, PIXELS)


@pytest.mark.parametrize(
    ("values", "code", "message"),
    [
        (PIXELS - 1, 0x0B, r"int16 pixels must lie in 0\.\.255.*found -1\.\.254"),
        (PIXELS + 300, 0x0C, r"int32 pixels must lie in 0\.\.255.*found 300"),
        (PIXELS - 200.0, 0x0E, r"float64 pixels must lie in 0\.\.255"),
        (np.where(PIXELS == 5, np.nan, PIXELS / 255), 0x0D, r"\d+ float32 pixels are not finite"),
        (np.where(PIXELS == 5, np.inf, PIXELS / 255), 0x0E, r"\d+ float64 pixels are not finite"),
    ],
    ids=["negative", "too-big", "negative-float", "nan", "inf"],
)
def test_images_that_are_not_pixels_are_refused_by_name(tmp_path, values, code, message):
    folder = write_split(tmp_path, idx(values, code), idx(LABELS, 0x08))
    with pytest.raises(DataError, match=rf"train-images-idx3-ubyte: {message}"):
        load_idx_folder(folder, "train")


def test_float_labels_must_be_whole_digits(tmp_path):
    folder = write_split(tmp_path, idx(PIXELS, 0x08), idx(LABELS.astype(float), 0x0E))
    np.testing.assert_array_equal(load_idx_folder(folder, "train").labels, LABELS)
    write_split(tmp_path, idx(PIXELS, 0x08), idx(np.array([3.5, 7.0]), 0x0D))
    with pytest.raises(DataError, match="float32 labels must be whole numbers 0-9"):
        load_idx_folder(folder, "train")
    write_split(tmp_path, idx(PIXELS, 0x08), idx(np.array([12, 7]), 0x0C))
    with pytest.raises(DataError, match="labels must be digits 0-9, found 7..12"):
        load_idx_folder(folder, "train")


# ---- IDX: sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_a_split_of_zero_images_is_refused_by_name(tmp_path, gz):
    empty = np.zeros((0, 28, 28))
    folder = write_split(tmp_path, idx(empty, 0x08), idx(np.zeros(0), 0x08), gz=gz)
    with pytest.raises(DataError, match="holds no images"):
        load_idx_folder(folder, "train")


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    "shape",
    [(2**32 - 1, 2**32 - 1, 2**32 - 1), (2**31, 2**31, 4), (60000, 28, 28)],
    ids=["overflows-int64", "wraps-to-zero-in-int64", "more-than-the-file"],
)
def test_header_sizes_beyond_the_file_are_refused_before_anything_is_allocated(tmp_path, gz, shape):
    data = idx(PIXELS, 0x08, shape=shape)
    (tmp_path / "x").write_bytes(gzip.compress(data) if gz else data)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=rf"truncated: the header says shape \({shape[0]}, "):
            read_idx(tmp_path / "x")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(data) + (3 << 20)  # what the file holds (and a 1 MiB read), not more


def test_gzip_with_more_data_than_the_header_declares_is_refused(tmp_path):
    data = idx(PIXELS, 0x08, shape=(1, 28, 28))
    (tmp_path / "x.gz").write_bytes(gzip.compress(data))
    with pytest.raises(DataError, match="has trailing bytes.*holds more than 784"):
        read_idx(tmp_path / "x.gz")


def test_a_truncated_header_is_refused(tmp_path):
    (tmp_path / "x").write_bytes(idx(PIXELS, 0x08)[:9])
    with pytest.raises(DataError, match=r"truncated IDX header \(9 bytes, need 16\)"):
        read_idx(tmp_path / "x")


# ---- TSV and GloVe text --------------------------------------------------------------------------


def test_bytes_that_are_not_utf8_in_a_tsv_name_the_file_and_line(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_bytes(b"sentence\tlabel\nfine\t1\ncaf\xe9 au lait\t0\n")
    with pytest.raises(
        DataError, match=r"train\.tsv, line 3: not UTF-8 text \(byte 0xe9 at column 4\)"
    ):
        read_glue_tsv(path)


def test_a_header_only_or_empty_tsv_is_refused_by_name(tmp_path):
    header_only = tmp_path / "train.tsv"
    header_only.write_text("sentence\tlabel\n\n")
    with pytest.raises(DataError, match=r"train\.tsv: holds no examples, only its header"):
        read_glue_tsv(header_only)
    empty = tmp_path / "dev.tsv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=r"dev\.tsv: the file is empty"):
        read_glue_tsv(empty)


def test_bytes_that_are_not_utf8_in_glove_name_the_file_and_line(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_bytes(b"good 1 2\n\xff\xfe 3 4\n")
    with pytest.raises(DataError, match=r"glove\.txt, line 2: not UTF-8 text \(byte 0xff"):
        load_vectors({"good"}, path)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "1e999"])
def test_non_finite_glove_values_name_the_line(tmp_path, value):
    path = tmp_path / "glove.txt"
    path.write_text(f"good 1 2\nbad 3 {value}\n")
    with pytest.raises(
        DataError, match=r"glove\.txt, line 2: the vector of 'bad' holds nan or inf"
    ):
        load_vectors({"good", "bad"}, path)
