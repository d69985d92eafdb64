"""Tiny Shakespeare as character ids: the text, its vocabulary, the usual split.

The package ships the corpus compressed (`input.txt.gz`, 1,115,394 characters of
public-domain Shakespeare, as char-rnn published it), so training needs no download; any
UTF-8 text file can be used instead. The vocabulary is the sorted set of characters in the
whole file (65 for Tiny Shakespeare); the first 90% of the characters train, the rest
validate (nanoGPT's split).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, MissingData

__all__ = ["PACKAGE_TEXT", "TRAIN_SHARE", "Text", "Vocabulary", "load_text", "read_text"]

PACKAGE_TEXT = Path(__file__).with_name("input.txt.gz")
TRAIN_SHARE = 0.9  # the first 90% of the characters train, the last 10% validate


@dataclass(frozen=True)
class Vocabulary:
    """Characters and their ids: `chars[i]` has id `i` (sorted, so ids are reproducible)."""

    chars: str

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of `text` (int64).

        Raises:
            DataError: naming the first character the vocabulary lacks.
        """
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            raise DataError(
                f"the character {err.args[0]!r} is not in the model's vocabulary of "
                f"{len(self.chars)} characters: {self.chars!r}"
            ) from None

    def decode(self, ids: np.ndarray | list[int]) -> str:
        """The text of a sequence of ids."""
        return "".join(self.chars[int(i)] for i in ids)


@dataclass(frozen=True)
class Text:
    """A corpus as ids: `train` and `val` split at `TRAIN_SHARE`."""

    vocabulary: Vocabulary
    train: np.ndarray
    val: np.ndarray
    source: str  # "package" or the file's path


def read_text(path: Path | None) -> tuple[str, str]:
    """The corpus at `path` (UTF-8), or the package's Tiny Shakespeare; and its source name.

    Raises:
        MissingData: no file at `path`.
        DataError: a file that is not UTF-8 text, or too short to split.
    """
    if path is None:
        with gzip.open(PACKAGE_TEXT, "rt", encoding="utf-8") as f:
            return f.read(), "package"
    path = Path(path)
    if not path.is_file():
        raise MissingData(f"no text file at {path}: pass --data FILE, a UTF-8 text file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text: {err}") from None
    return text, str(path)


def load_text(path: Path | None, min_length: int = 2) -> Text:
    """The corpus as ids, split 90/10, with the vocabulary of the whole file.

    Args:
        path: a UTF-8 text file, or None for the package's Tiny Shakespeare.
        min_length: the fewest characters each split must hold (a context plus one).

    Raises:
        DataError: a split shorter than `min_length` characters.
    """
    text, source = read_text(path)
    vocabulary = Vocabulary("".join(sorted(set(text))))
    ids = vocabulary.encode(text)
    cut = int(TRAIN_SHARE * len(ids))
    train, val = ids[:cut], ids[cut:]
    if min(len(train), len(val)) < min_length:
        raise DataError(
            f"{source} holds {len(ids)} characters: splitting 90/10 leaves {len(train)} to "
            f"train and {len(val)} to validate, but each needs at least {min_length} "
            f"(the context length plus one)"
        )
    return Text(vocabulary, train, val, source)
