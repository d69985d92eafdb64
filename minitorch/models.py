"""The classic classifier of the course: 2 inputs -> hidden ReLU -> hidden ReLU -> sigmoid.

Every backend builds the same network from `init_weights`, so a seed fixes the starting
point whichever engine trains it. A model is anything with the `Classifier` methods.
"""

from __future__ import annotations

import random
from typing import Any, Protocol, Sequence

from . import operators
from .autodiff import no_grad
from .module import Module, Parameter
from .scalar import Scalar

__all__ = ["Classifier", "init_weights", "ScalarLinear", "ScalarMLP"]

Point = tuple[float, float]
LayerInit = tuple[list[list[float]], list[float]]


class Classifier(Protocol):
    """What the training loop needs from a model."""

    def parameters(self) -> Sequence[Parameter]: ...

    def loss(self, X: Sequence[Point], y: Sequence[int]) -> tuple[Any, list[float]]:
        """The mean loss (a variable to call `backward` on) and each point's P(class 1)."""
        ...

    def predict(self, X: Sequence[Point]) -> list[float]:
        """Each point's probability of class 1, without recording history."""
        ...


def init_weights(seed: int, sizes: Sequence[int]) -> list[LayerInit]:
    """Initial `(weights, bias)` per layer, uniform in [-1, 1] (the course's scalar init).

    `weights[i][j]` connects input `i` to output `j`.
    """
    rng = random.Random(seed)
    return [
        (
            [[rng.uniform(-1.0, 1.0) for _ in range(n_out)] for _ in range(n_in)],
            [rng.uniform(-1.0, 1.0) for _ in range(n_out)],
        )
        for n_in, n_out in zip(sizes, sizes[1:])
    ]


class ScalarLinear(Module):
    r"""$y_j = b_j + \sum_i x_i w_{ij}$ on Scalars, one Parameter per weight."""

    def __init__(self, weights: list[list[float]], bias: list[float]) -> None:
        super().__init__()
        self.weights = [
            [self.add_parameter(f"weight_{i}_{j}", Scalar(w)) for j, w in enumerate(row)]
            for i, row in enumerate(weights)
        ]
        self.bias = [self.add_parameter(f"bias_{j}", Scalar(b)) for j, b in enumerate(bias)]

    def forward(self, inputs: Sequence[Any]) -> list[Scalar]:
        out = []
        for j, b in enumerate(self.bias):
            y = b.value
            for i, x in enumerate(inputs):
                y = y + x * self.weights[i][j].value
            out.append(y)
        return out


class ScalarMLP(Module):
    """The classifier on Scalars, trained one point at a time into one graph per epoch."""

    def __init__(self, hidden: int, seed: int = 0) -> None:
        super().__init__()
        (w1, b1), (w2, b2), (w3, b3) = init_weights(seed, [2, hidden, hidden, 1])
        self.layer1 = ScalarLinear(w1, b1)
        self.layer2 = ScalarLinear(w2, b2)
        self.layer3 = ScalarLinear(w3, b3)

    def forward(self, x: Sequence[Any]) -> Scalar:
        """The logit $z$ of a point; $P(\\text{class } 1) = \\sigma(z)$."""
        h = [v.relu() for v in self.layer1.forward(x)]
        h = [v.relu() for v in self.layer2.forward(h)]
        return self.layer3.forward(h)[0]

    def loss(self, X: Sequence[Point], y: Sequence[int]) -> tuple[Scalar, list[float]]:
        r"""Mean of $-\log P(\text{right class})$, and each point's $P(\text{class } 1)$.

        $P(\text{class } 0) = 1 - \sigma(z)$ is computed as $\sigma(-z)$, which does not
        round to 0 for a confident mistake, so the log stays finite.
        """
        total: Any = 0.0
        probs = []
        for point, label in zip(X, y):
            z = self.forward(point)
            probs.append(operators.sigmoid(z.data))
            right = z if label == 1 else -z
            total = total - right.sigmoid().log()
        return total * (1.0 / len(X)), probs

    def predict(self, X: Sequence[Point]) -> list[float]:
        with no_grad():
            return [operators.sigmoid(self.forward(point).data) for point in X]
