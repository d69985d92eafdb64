"""The course's classifier as batched tensor operations.

The same network as `models.ScalarMLP` (2 inputs -> hidden ReLU -> hidden ReLU -> sigmoid),
from the same `init_weights`, with the same loss; but each layer is one matrix product over
all points at once instead of a loop of Scalar operations per point.
"""

from __future__ import annotations

import random
from typing import Sequence

from . import operators
from .autodiff import no_grad
from .layers import Linear
from .models import init_weights
from .module import Module
from .tensor import Tensor
from .tensor_create import tensor
from .tensor_ops import SimpleBackend, TensorBackend

__all__ = ["TensorMLP"]

Point = tuple[float, float]


def _linear(weights: list[list[float]], bias: list[float], backend: TensorBackend) -> Linear:
    """A `Linear` layer holding the given initial values (`weights[i][j]`: input i to output j)."""
    # A private rng for the random start that is replaced at once: global `random` stays as is.
    layer = Linear(len(weights), len(bias), backend=backend, rng=random.Random(0))
    layer.weights.update(tensor(weights, backend=backend))
    layer.bias.update(tensor(bias, backend=backend))
    return layer


class TensorMLP(Module):
    """The classifier on tensors: one batched forward pass per epoch.

    Args:
        hidden: units in each hidden layer.
        seed: fixes the initial weights (the same as the scalar model's for this seed).
        backend: the tensor backend that computes.
    """

    def __init__(self, hidden: int, seed: int = 0, backend: TensorBackend = SimpleBackend) -> None:
        super().__init__()
        self.backend = backend
        (w1, b1), (w2, b2), (w3, b3) = init_weights(seed, [2, hidden, hidden, 1])
        self.layer1 = _linear(w1, b1, backend)
        self.layer2 = _linear(w2, b2, backend)
        self.layer3 = _linear(w3, b3, backend)

    def forward(self, X: Tensor) -> Tensor:
        r"""The logits $z$ of a batch, shape `(points, 1)`; $P(\text{class } 1) = \sigma(z)$."""
        h = self.layer1.forward(X).relu()
        h = self.layer2.forward(h).relu()
        return self.layer3.forward(h)

    def loss(self, X: Sequence[Point], y: Sequence[int]) -> tuple[Tensor, list[float]]:
        r"""Mean of $-\log P(\text{right class})$, and each point's $P(\text{class } 1)$.

        $P(\text{right class}) = \sigma(s z)$ with $s = \pm 1$ the label's sign, the same
        stable form as the scalar model ($1 - \sigma(z) = \sigma(-z)$).
        """
        dtype = self.layer1.weights.value.dtype  # inputs in the model's dtype: no promotion
        z = self.forward(tensor(list(X), backend=self.backend, dtype=dtype))  # (points, 1)
        signs = [[1.0 if label == 1 else -1.0] for label in y]
        sign = tensor(signs, backend=self.backend, dtype=dtype)
        loss = -((z * sign).sigmoid().log().mean())
        return loss, _probabilities(z)

    def predict(self, X: Sequence[Point]) -> list[float]:
        with no_grad():
            dtype = self.layer1.weights.value.dtype
            return _probabilities(self.forward(tensor(list(X), backend=self.backend, dtype=dtype)))


def _probabilities(z: Tensor) -> list[float]:
    r"""$\sigma(z)$ of each logit, as floats."""
    return [operators.sigmoid(v) for v in z.to_numpy().ravel().tolist()]
