"""The classic job: the course's two-hidden-layer classifier on a toy data set (`Xor`, ...).

`minitorch train` (with or without the name `classic`) runs it; the app's Training page too.
"""

from ..registry import Task
from .train import ClassicConfig, build_model, train_classic

__all__ = ["TASK"]


def _pictures(result, out):  # noqa: ANN001 - the registry's signature
    from ..pictures import classic_training

    classic_training(result, out)


TASK = Task(
    name="classic",
    title="Classic classifier",
    help="the classic 2-hidden-layer classifier on a toy data set (the default)",
    description="Train a 2 -> hidden -> hidden -> 1 ReLU network with SGD on a toy data set and "
    "write OUT/metrics.json, OUT/model.safetensors, OUT/boundary.png and OUT/loss.png.",
    config=ClassicConfig,
    train=train_classic,
    build_model=build_model,
    schema=1,
    pictures=_pictures,
)
