"""The optimizers a task's `--optimizer` option names."""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["OPTIMIZERS", "make_optimizer"]

OPTIMIZERS = ("sgd", "momentum", "adam")


def make_optimizer(name: str, parameters: Sequence[Any], lr: float) -> Any:
    """`sgd`: plain SGD; `momentum`: SGD with momentum 0.9; `adam`: Adam with its usual betas."""
    from .. import optim

    if name == "sgd":
        return optim.SGD(parameters, lr=lr)
    if name == "momentum":
        return optim.SGD(parameters, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(parameters, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
