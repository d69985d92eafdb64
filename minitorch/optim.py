"""Optimizers: they read each parameter's `.grad` and write back a new leaf value.

`step()` replaces each value by a fresh leaf (`Parameter.update`), whose `.grad` is empty.
So a loop that calls `step()` without `zero_grad()` (the course's scripts do) never adds one
batch's gradient into the next. Scalar and Tensor parameters share the code: both expose
`.grad` and arithmetic; optimizer state (momentum, moments) has the parameter's type.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
from numba import njit

from .autodiff import no_grad
from .fast_ops import flat_values, on_fast
from .module import Parameter
from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm", "cosine_lr"]


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
        if on_fast(value):
            p, g = flat_values(value), flat_values(grad)
            first = "velocity" not in state
            velocity = np.empty_like(p) if first else _flat_state(state, "velocity", p)
            out = np.empty_like(p)
            _sgd_step(out, p, g, velocity, self.lr, self.momentum, first)
            if self.momentum:
                state["velocity"] = velocity
            return Tensor.make(out, value.shape, backend=value.backend)
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
        if on_fast(value):
            return self._fused(value, grad, state, 0.0)
        b1, b2 = self.betas
        t = state.get("step", 0) + 1
        m = (1.0 - b1) * grad if t == 1 else b1 * state["m"] + (1.0 - b1) * grad
        v = (1.0 - b2) * grad * grad if t == 1 else b2 * state["v"] + (1.0 - b2) * grad * grad
        state.update(step=t, m=m, v=v)
        m_hat = m / (1.0 - b1**t)
        v_hat = v / (1.0 - b2**t)
        return value - self.lr * m_hat / (_sqrt(v_hat) + self.eps)

    def _fused(self, value: Tensor, grad: Tensor, state: dict[str, Any], decay: float) -> Tensor:
        """The step as one compiled loop over the values (as PyTorch's fused Adam/AdamW),
        with AdamW's `decay` (0 for Adam): the composed step is a dozen full passes and
        graph-free tensors per parameter, which costs more than a small model's own work."""
        b1, b2 = self.betas
        t = state.get("step", 0) + 1
        p, g = flat_values(value), flat_values(grad)
        m = np.zeros_like(p) if t == 1 else _flat_state(state, "m", p)
        v = np.zeros_like(p) if t == 1 else _flat_state(state, "v", p)
        state.update(step=t, m=m, v=v)
        out = np.empty_like(p)
        _adamw_step(out, p, g, m, v, self.lr, b1, b2, self.eps, decay, 1.0 - b1**t, 1.0 - b2**t)
        return Tensor.make(out, value.shape, backend=value.backend)


def _sqrt(x: Any) -> Any:
    """Elementwise square root of a float or a tensor (on its own backend)."""
    if isinstance(x, (int, float)):
        return math.sqrt(x)
    return x.backend.sqrt_map(x)


ParameterGroups = Sequence[Parameter] | Sequence[Mapping[str, Any]]


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as PyTorch's `AdamW`.

    Each step first shrinks the parameter, $p \leftarrow p (1 - \text{lr} \cdot \lambda)$, then
    takes Adam's step: the decay is not part of the gradient, so Adam's scaling leaves it alone.

    Parameter groups, as in PyTorch: pass a list of parameters (all decayed by
    `weight_decay`) or a list of dicts `{"params": [...], "weight_decay": x}` (a group
    without the key gets `weight_decay`). `for_model` makes the usual two groups.

    Args:
        parameters: what to update, as a list or as groups.
        lr: the learning rate (> 0); a schedule may set `self.lr` between steps.
        betas: $(\beta_1, \beta_2)$, each in [0, 1).
        eps: $\epsilon$ (> 0).
        weight_decay: $\lambda$ (>= 0) for groups that name none.
    """

    def __init__(
        self,
        parameters: ParameterGroups,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        groups = [dict(g) if isinstance(g, Mapping) else {"params": [g]} for g in parameters]
        flat: list[Parameter] = []
        decays: list[float] = []
        for group in groups:
            decay = float(group.get("weight_decay", weight_decay))
            if not decay >= 0:
                raise ValueError(f"AdamW needs weight_decay >= 0, got {decay!r}")
            flat.extend(group["params"])
            decays.extend([decay] * len(group["params"]))
        super().__init__(flat, lr, betas, eps)
        for state, decay in zip(self.state, decays):
            state["weight_decay"] = decay

    @classmethod
    def for_model(cls, model: Any, **options: Any) -> AdamW:
        """AdamW over `model`'s parameters with nanoGPT's two groups: matrices and embedding
        tables (2 or more dimensions) decay by `options["weight_decay"]`; vectors (biases,
        layer-norm scales) do not."""
        params = model.parameters()
        matrices = [p for p in params if p.value.dims >= 2]
        vectors = [p for p in params if p.value.dims < 2]
        decay = options.pop("weight_decay", 0.01)
        groups = [
            {"params": matrices, "weight_decay": decay},
            {"params": vectors, "weight_decay": 0.0},
        ]
        return cls(groups, **options)

    def _update(self, value: Any, grad: Any, state: dict[str, Any]) -> Any:
        decay = state["weight_decay"]
        if on_fast(value):
            return self._fused(value, grad, state, decay)
        if decay:
            value = value * (1.0 - self.lr * decay)
        return super()._update(value, grad, state)


@njit(cache=True)
def _adamw_step(out, p, g, m, v, lr, b1, b2, eps, decay, correct1, correct2):  # type: ignore[no-untyped-def]
    r"""AdamW's update of every value: $m$, $v$ in place, the new parameter into `out`."""
    # Constants hoisted and moments kept in locals: a store to m[i] might alias any other
    # array, so reading m[i] back (and two divisions per value) kept the loop 3x slower.
    shrink, rate, unbias2 = 1.0 - lr * decay, lr / correct1, 1.0 / correct2
    for i in range(p.size):
        gi = g[i]
        mi = b1 * m[i] + (1.0 - b1) * gi
        vi = b2 * v[i] + (1.0 - b2) * gi * gi
        m[i], v[i] = mi, vi
        out[i] = p[i] * shrink - rate * mi / (math.sqrt(vi * unbias2) + eps)


def _flat_state(state: dict[str, Any], key: str, like: np.ndarray) -> np.ndarray:
    """The fused state array `state[key]` (one flat array per parameter); a moment kept as
    a Tensor (by the composed update, or a checkpoint of one) is read into that form."""
    kept = state[key]
    if isinstance(kept, Tensor):
        kept = np.array(kept.to_numpy(), dtype=like.dtype).reshape(-1)
    return kept


@njit(cache=True)
def _sgd_step(out, p, g, velocity, lr, momentum, first):  # type: ignore[no-untyped-def]
    r"""SGD's update of every value (PyTorch's form): with `momentum`, $v \leftarrow \mu v + g$
    in place (`first`: $v = g$), then $p - \text{lr} \cdot v$; without, $p - \text{lr} \cdot g$."""
    for i in range(p.size):
        step = g[i]
        if momentum != 0.0:
            step = g[i] if first else momentum * velocity[i] + g[i]
            velocity[i] = step
        out[i] = p[i] - lr * step


def clip_grad_norm(parameters: Sequence[Parameter], max_norm: float) -> float:
    r"""Scale all gradients together so that their joint norm is at most `max_norm`.

    The norm is $\sqrt{\sum_p \|g_p\|^2}$ over every parameter that has a gradient; when it
    exceeds `max_norm`, each gradient is multiplied by `max_norm / (norm + 1e-6)` (as
    PyTorch's `clip_grad_norm_`).

    Returns:
        The norm before clipping.
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm needs a positive max_norm, got {max_norm!r}")
    with no_grad():
        grads = [p.value.grad for p in parameters if p.value.grad is not None]
        norm = math.sqrt(sum((g * g).sum().item() for g in grads))
        if norm > max_norm:
            scale = max_norm / (norm + 1e-6)
            for p in parameters:
                if p.value.grad is not None:
                    p.value.grad = p.value.grad * scale
    return norm


def cosine_lr(step: int, lr: float, min_lr: float, warmup: int, decay_steps: int) -> float:
    r"""The learning rate at `step` (from 0): linear warm-up, then cosine decay, then flat.

    $\text{lr} \cdot (s + 1) / (w + 1)$ for $s < w$; from $w$ to `decay_steps`
    $\text{min\_lr} + \frac{1}{2}(1 + \cos \pi r)(\text{lr} - \text{min\_lr})$ with $r$ the share of
    the decay done; `min_lr` after (nanoGPT's `get_lr`).
    """
    if step < warmup:
        return lr * (step + 1) / (warmup + 1)
    if step >= decay_steps:
        return min_lr
    ratio = (step - warmup) / max(decay_steps - warmup, 1)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)
