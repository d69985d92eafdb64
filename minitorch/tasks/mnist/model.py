"""The course's LeNet-style network for 28 x 28 digits.

conv 4@3x3 -> ReLU -> conv 8@3x3 -> ReLU -> avgpool 4x4 -> linear 392->64 -> ReLU ->
dropout -> linear 64->10 -> logsoftmax. The convolutions keep the image size (positions past
the edge read as zero), so pooling sees 8 maps of 28 x 28 and leaves 8 x 7 x 7 = 392 values.
"""

from __future__ import annotations

from typing import Any

from ...layers import Conv2d, Linear
from ...module import Module
from ...nn import avgpool2d, dropout, logsoftmax
from ...tensor import Tensor

__all__ = ["LeNet", "CLASSES"]

CLASSES = 10


class LeNet(Module):
    """Digits in, log-probabilities of the ten classes out.

    Args:
        backend: the tensor backend the parameters compute with.
        dropout: the rate of the dropout after the first linear layer (off in eval mode).

    Attributes:
        mid: the first convolution's ReLU output of the last forward, `(batch, 4, 28, 28)`,
            kept for pictures of the feature maps (the course's script keeps it too).
    """

    def __init__(self, backend: Any, dropout: float = 0.25) -> None:
        super().__init__()
        self.conv1 = Conv2d(1, 4, 3, 3, backend=backend)
        self.conv2 = Conv2d(4, 8, 3, 3, backend=backend)
        self.linear1 = Linear(392, 64, backend=backend)
        self.linear2 = Linear(64, CLASSES, backend=backend)
        self.rate = dropout
        self.mid: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        """`(batch, 1, 28, 28)` pixels -> `(batch, 10)` log-probabilities."""
        batch = x.shape[0]
        self.mid = self.conv1(x).relu()  # (B, 1, 28, 28) -> (B, 4, 28, 28)
        h = self.conv2(self.mid).relu()  # -> (B, 8, 28, 28)
        h = avgpool2d(h, (4, 4)).contiguous().view(batch, 392)  # -> (B, 8, 7, 7) -> (B, 392)
        h = dropout(self.linear1(h).relu(), self.rate, ignore=self.mode == "eval")
        return logsoftmax(self.linear2(h), dim=1)  # (B, 10)
