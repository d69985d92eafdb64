"""Optimizers: they read each parameter's `.grad` and write back a new leaf value."""

from __future__ import annotations

from typing import Sequence

from .autodiff import no_grad
from .module import Parameter

__all__ = ["Optimizer", "SGD"]


class Optimizer:
    """Holds the parameters to update."""

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        self.parameters = list(parameters)


class SGD(Optimizer):
    r"""Stochastic gradient descent: $p \leftarrow p - \text{lr} \cdot \partial L / \partial p$.

    The same code serves Scalar and Tensor parameters: both expose `.grad`.
    """

    def __init__(self, parameters: Sequence[Parameter], lr: float = 1.0) -> None:
        super().__init__(parameters)
        if not lr > 0:
            raise ValueError(f"SGD needs a positive learning rate, got lr={lr!r}")
        self.lr = lr

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (they accumulate across backward calls)."""
        for p in self.parameters:
            p.value.grad = None

    def step(self) -> None:
        """Move each parameter that has a gradient one step downhill."""
        with no_grad():
            for p in self.parameters:
                grad = p.value.grad
                if grad is not None:
                    p.update(p.value - self.lr * grad)
