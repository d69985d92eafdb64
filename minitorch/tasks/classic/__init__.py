"""The classic job: the course's two-hidden-layer classifier on a toy data set (`Xor`, ...).

`minitorch train` (with or without the name `classic`) runs it; the app's Training page too.
"""

from ..registry import AppField, Task
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
    icon=":material/model_training:",
    app_fields=(
        "dataset",
        "backend",
        AppField("hidden", bounds=(1, 50)),
        AppField("lr", choices=(0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)),
        AppField("epochs", bounds=(1, 100_000)),
        AppField("points", choices=tuple(range(10, 201, 10))),
        AppField("seed", bounds=(0, 10_000)),
    ),
    page="minitorch.app.views.training",
)
