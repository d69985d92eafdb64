"""The classic job's names where they have always been: `TrainConfig` and `train`.

The job itself is the `classic` task (`minitorch.tasks.classic`), run by the one loop.
"""

from __future__ import annotations

from .tasks.classic.train import ClassicConfig as TrainConfig
from .tasks.classic.train import ClassicResult as TrainResult
from .tasks.classic.train import train_classic as train

__all__ = ["TrainConfig", "TrainResult", "train"]
