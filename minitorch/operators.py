"""Module 0: pure float functions and the higher-order list helpers built on them.

No autodiff here: these are the mathematical building blocks that scalar and tensor
functions call in their `forward` and `backward`.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

__all__ = [
    "mul", "id", "add", "neg", "lt", "eq", "max", "is_close", "sigmoid", "relu",
    "log", "exp", "inv", "sqrt", "log_back", "inv_back", "relu_back", "sigmoid_back",
    "map", "zipWith", "reduce", "negList", "addLists", "sum", "prod",
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
    r"""$f(x, y) = x$ if $x > y$ else $y$"""
    return x if x > y else y


def is_close(x: float, y: float) -> float:
    r"""$f(x, y) = |x - y| < 10^{-2}$"""
    return 1.0 if abs(x - y) < 1e-2 else 0.0


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
    r"""$f(x) = x$ if $x > 0$ else $0$"""
    return x if x > 0.0 else 0.0


def log(x: float) -> float:
    r"""$f(x) = \log(x)$; a non-positive `x` raises a ValueError naming it."""
    if x <= 0.0:
        raise ValueError(f"log is undefined for x = {x!r} (needs x > 0)")
    return math.log(x)


def exp(x: float) -> float:
    r"""$f(x) = e^{x}$ (inf past the float range, like numpy)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def inv(x: float) -> float:
    r"""$f(x) = 1/x$; `x == 0` raises a ZeroDivisionError naming the function."""
    if x == 0.0:
        raise ZeroDivisionError("inv is undefined at x = 0.0")
    return 1.0 / x


def sqrt(x: float) -> float:
    r"""$f(x) = \sqrt{x}$: Adam's step size needs it (it is never differentiated)."""
    return math.sqrt(x)


def log_back(x: float, d: float) -> float:
    r"""$d \times f'(x)$ for $f(x) = \log(x)$, i.e. $d / x$."""
    return d / x


def inv_back(x: float, d: float) -> float:
    r"""$d \times f'(x)$ for $f(x) = 1/x$, i.e. $-d / x^2$."""
    return -d / (x * x)


def relu_back(x: float, d: float) -> float:
    r"""$d \times f'(x)$ for $f(x) = \text{ReLU}(x)$: $d$ if $x > 0$ else $0$."""
    return d if x > 0.0 else 0.0


def sigmoid_back(x: float, d: float) -> float:
    r"""$d \times \sigma(x)(1 - \sigma(x))$."""
    s = sigmoid(x)
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


def reduce(
    fn: Callable[[float, float], float], start: float
) -> Callable[[Iterable[float]], float]:
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
