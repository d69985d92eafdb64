"""Module 0: pure float functions and the higher-order list helpers built on them.

No autodiff here: these are the mathematical building blocks that scalar and tensor
functions call in their `forward` and `backward`.

Every function follows IEEE arithmetic and PyTorch where Python would raise or hide a value:
`log(0) = -inf`, `log(-1) = nan`, `1/0 = inf`, `exp(1000) = inf`, and NaN propagates
through `max`, `relu` and `exp`. The same source is what the fast and CUDA backends compile,
so every backend computes the same values (no per-backend twin to drift apart). That is why
each function is self-contained (a kernel can inline only compiled code, not a Python helper)
and divides by zero only behind a test (where Python would raise ZeroDivisionError).
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

__all__ = [
    "mul",
    "id",
    "add",
    "neg",
    "lt",
    "eq",
    "max",
    "is_close",
    "sigmoid",
    "relu",
    "log",
    "exp",
    "inv",
    "sqrt",
    "log_back",
    "inv_back",
    "relu_back",
    "sigmoid_back",
    "map",
    "zipWith",
    "reduce",
    "negList",
    "addLists",
    "sum",
    "prod",
]

EPS = 1e-6


def mul(x: float, y: float) -> float:
    r"""$f(x, y) = x \times y$"""
    return x * y


def id(x: float) -> float:  # noqa: A001 - the course's name
    r"""$f(x) = x$"""
    return x


def add(x: float, y: float) -> float:
    r"""$f(x, y) = x + y$"""
    return x + y


def neg(x: float) -> float:
    r"""$f(x) = -x$"""
    return -x


def lt(x: float, y: float) -> float:
    r"""$f(x, y) = 1.0$ if $x < y$ else $0.0$"""
    return 1.0 if x < y else 0.0


def eq(x: float, y: float) -> float:
    r"""$f(x, y) = 1.0$ if $x = y$ else $0.0$"""
    return 1.0 if x == y else 0.0


def max(x: float, y: float) -> float:  # noqa: A001 - the course's name
    r"""$f(x, y) = y$ if $y > x$ else $x$; NaN wins from either side (as in PyTorch).

    A fold `max(acc, value)` keeps the first of equal values (`max(0.0, -0.0)` is `0.0`,
    like `torch.amax`), and once `acc` is NaN it stays NaN: a row holding a NaN has no
    finite maximum, and hiding it is how a dead model reports a finite loss.
    """
    return y if y > x or math.isnan(y) else x


def is_close(x: float, y: float) -> float:
    r"""$f(x, y) = |x - y| < 10^{-2}$; equal infinities are close, NaN is close to nothing."""
    return 1.0 if x == y or abs(x - y) < 1e-2 else 0.0


def sigmoid(x: float) -> float:
    r"""$f(x) = \frac{1}{1 + e^{-x}}$

    Two branches so that `exp` only ever sees a non-positive argument: no overflow for
    large |x|, and no catastrophic cancellation for very negative x.
    """
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def relu(x: float) -> float:
    r"""$f(x) = x$ if $x > 0$ else $0$; NaN stays NaN (and -0.0 stays -0.0), as in PyTorch."""
    return 0.0 if x < 0.0 else x  # noqa: FURB136 - this module's max is not the builtin


def log(x: float) -> float:
    r"""$f(x) = \log(x)$: $-\infty$ at ±0 and NaN below 0, as IEEE and PyTorch say."""
    if x > 0.0:
        return math.log(x)
    return -math.inf if x == 0.0 else math.nan


_EXP_MAX = 709.782712893384  # log of the largest float64


def exp(x: float) -> float:
    r"""$f(x) = e^{x}$ (inf past the float range, where Python's `math.exp` would raise)."""
    return math.inf if x >= _EXP_MAX else math.exp(x)


def inv(x: float) -> float:
    r"""$f(x) = 1/x$; $\pm\infty$ at $\pm 0$, as IEEE and PyTorch say."""
    return 1.0 / x if x != 0.0 else math.copysign(math.inf, x)


def sqrt(x: float) -> float:
    r"""$f(x) = \sqrt{x}$, NaN below 0: Adam's step size needs it (it is never differentiated)."""
    return math.sqrt(x) if x >= 0.0 else math.nan


def log_back(x: float, d: float) -> float:
    r"""$d \times f'(x)$ for $f(x) = \log(x)$, i.e. $d / x$ (IEEE at $x = \pm 0$)."""
    return d / x if x != 0.0 else d * math.copysign(math.inf, x)


def inv_back(x: float, d: float) -> float:
    r"""$d \times f'(x)$ for $f(x) = 1/x$, i.e. $-d / x^2$ (IEEE at $x = \pm 0$)."""
    square = x * x
    return -d / square if square != 0.0 else -d * math.inf


def relu_back(x: float, d: float) -> float:
    r"""$d \times f'(x)$ for $f(x) = \text{ReLU}(x)$: $0$ if $x \le 0$ else $d$.

    At NaN the gradient passes (`x <= 0` is false), as PyTorch's `threshold_backward` does.
    Written with `<` and `==` only, so that it also runs on Scalars (second derivatives).
    """
    return 0.0 if (x < 0.0 or x == 0.0) else d


def sigmoid_back(x: float, d: float) -> float:
    r"""$d \times \sigma(x)(1 - \sigma(x))$."""
    # `sigmoid(x)` written out: a kernel compiles this function on its own (no calls)
    if x >= 0.0:
        s = 1.0 / (1.0 + math.exp(-x))
    else:
        e = math.exp(x)
        s = e / (1.0 + e)
    return d * s * (1.0 - s)


# ---- Higher-order list helpers ------------------------------------------------------------------


def map(fn: Callable[[float], float]) -> Callable[[Iterable[float]], list[float]]:  # noqa: A001
    """Lift `fn` to a function applying it to every element of an iterable."""

    def apply(ls: Iterable[float]) -> list[float]:
        return [fn(x) for x in ls]

    return apply


def zipWith(  # noqa: N802 - the course's name
    fn: Callable[[float, float], float],
) -> Callable[[Iterable[float], Iterable[float]], list[float]]:
    """Lift `fn` to a function combining two iterables element by element.

    Iterables of different lengths raise a ValueError rather than silently truncating.
    """

    def apply(ls1: Iterable[float], ls2: Iterable[float]) -> list[float]:
        return [fn(x, y) for x, y in zip(ls1, ls2, strict=True)]

    return apply


def reduce(fn: Callable[[float, float], float], start: float) -> Callable[[Iterable[float]], float]:
    """Lift `fn` to a left fold over an iterable: `fn(...fn(fn(start, x0), x1)..., xn)`."""

    def apply(ls: Iterable[float]) -> float:
        acc = start
        for x in ls:
            acc = fn(acc, x)
        return acc

    return apply


def negList(ls: Iterable[float]) -> list[float]:  # noqa: N802
    """Negate every element."""
    return map(neg)(ls)


def addLists(ls1: Iterable[float], ls2: Iterable[float]) -> list[float]:  # noqa: N802
    """Add two lists element by element."""
    return zipWith(add)(ls1, ls2)


def sum(ls: Iterable[float]) -> float:  # noqa: A001
    """Sum of a list (0.0 when empty)."""
    return reduce(add, 0.0)(ls)


def prod(ls: Iterable[float]) -> float:
    """Product of a list (1.0 when empty)."""
    return reduce(mul, 1.0)(ls)
