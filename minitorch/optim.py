"""Optimizers: they read each parameter's `.grad` and write back a new leaf value.

`step()` replaces each value by a fresh leaf (`Parameter.update`), whose `.grad` is empty.
So a loop that calls `step()` without `zero_grad()` (the course's scripts do) never adds one
batch's gradient into the next. Scalar and Tensor parameters share the code: both expose
`.grad` and arithmetic; optimizer state (momentum, moments) has the parameter's type.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from .autodiff import no_grad
from .module import Parameter

__all__ = ["Optimizer", "SGD", "Adam"]


class Optimizer:
    """Holds the parameters to update and one state dict per parameter.

    Subclasses define `_update(value, grad, state)`, returning the new value.
    """

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        self.parameters = list(parameters)
        self.state: list[dict[str, Any]] = [{} for _ in self.parameters]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (they accumulate across backward calls)."""
        for p in self.parameters:
            p.value.grad = None

    def step(self) -> None:
        """Update each parameter that has a gradient into a fresh leaf."""
        with no_grad():
            for p, state in zip(self.parameters, self.state):
                grad = p.value.grad
                if grad is not None:
                    p.update(self._update(p.value, grad, state))

    def _update(self, value: Any, grad: Any, state: dict[str, Any]) -> Any:
        raise NotImplementedError(f"{type(self).__name__} defines no _update()")


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum (PyTorch's form).

    $v \leftarrow \mu v + g$ (starting at $v = g$), then $p \leftarrow p - \text{lr} \cdot v$;
    with $\mu = 0$ that is plain $p \leftarrow p - \text{lr} \cdot g$.

    Args:
        parameters: what to update.
        lr: the learning rate (> 0).
        momentum: $\mu$, in [0, 1).
    """

    def __init__(
        self, parameters: Sequence[Parameter], lr: float = 1.0, momentum: float = 0.0
    ) -> None:
        super().__init__(parameters)
        if not lr > 0:
            raise ValueError(f"SGD needs a positive learning rate, got lr={lr!r}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD momentum must lie in [0, 1), got momentum={momentum!r}")
        self.lr = lr
        self.momentum = momentum

    def _update(self, value: Any, grad: Any, state: dict[str, Any]) -> Any:
        if self.momentum:
            velocity = state.get("velocity")
            grad = grad if velocity is None else self.momentum * velocity + grad
            state["velocity"] = grad
        return value - self.lr * grad


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015), as in PyTorch.

    $m \leftarrow \beta_1 m + (1 - \beta_1) g$, $v \leftarrow \beta_2 v + (1 - \beta_2) g^2$, then
    $p \leftarrow p - \text{lr} \cdot \hat m / (\sqrt{\hat v} + \epsilon)$ with the bias
    corrections $\hat m = m / (1 - \beta_1^t)$, $\hat v = v / (1 - \beta_2^t)$ after $t$ steps
    of this parameter.

    Args:
        parameters: what to update.
        lr: the learning rate (> 0).
        betas: $(\beta_1, \beta_2)$, each in [0, 1).
        eps: $\epsilon$ (> 0), keeps the step finite where $v$ is 0.
    """

    def __init__(
        self,
        parameters: Sequence[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(parameters)
        if not lr > 0:
            raise ValueError(f"Adam needs a positive learning rate, got lr={lr!r}")
        if not all(0.0 <= b < 1.0 for b in betas) or len(betas) != 2:
            raise ValueError(f"Adam betas must be two numbers in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"Adam needs a positive eps, got eps={eps!r}")
        self.lr = lr
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = eps

    def _update(self, value: Any, grad: Any, state: dict[str, Any]) -> Any:
        b1, b2 = self.betas
        t = state.get("step", 0) + 1
        m = (1.0 - b1) * grad if t == 1 else b1 * state["m"] + (1.0 - b1) * grad
        v = (1.0 - b2) * grad * grad if t == 1 else b2 * state["v"] + (1.0 - b2) * grad * grad
        state.update(step=t, m=m, v=v)
        m_hat = m / (1.0 - b1**t)
        v_hat = v / (1.0 - b2**t)
        return value - self.lr * m_hat / (_sqrt(v_hat) + self.eps)


def _sqrt(x: Any) -> Any:
    """Elementwise square root of a float or a tensor (on its own backend)."""
    if isinstance(x, (int, float)):
        return math.sqrt(x)
    return x.backend.sqrt_map(x)
