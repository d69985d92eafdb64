"""The six toy classification tasks of the course: points in the unit square, labels 0/1.

Each generator takes the number of points `N` and an optional `seed`; the same seed gives
the same points. Every generator returns exactly `N` points, odd `N` included.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable

__all__ = ["Graph", "datasets", "simple", "diag", "split", "xor", "circle", "spiral"]

Point = tuple[float, float]


@dataclass
class Graph:
    """A labelled data set.

    Attributes:
        N: the number of points.
        X: the points, each `(x1, x2)` in the unit square.
        y: the labels, 0 or 1.
    """

    N: int
    X: list[Point]
    y: list[int]


def _points(N: int, seed: int | None) -> list[Point]:
    """`N` uniform points in the unit square."""
    if not isinstance(N, int) or N <= 0:
        raise ValueError(f"a data set needs a positive number of points, got N={N!r}")
    rng = random.Random(seed)
    return [(rng.random(), rng.random()) for _ in range(N)]


def _labelled(rule: Callable[[float, float], bool]) -> Callable[..., Graph]:
    """A generator of uniform points labelled 1 where `rule(x1, x2)` holds."""

    def make(N: int, seed: int | None = None) -> Graph:
        X = _points(N, seed)
        return Graph(N, X, [1 if rule(x1, x2) else 0 for x1, x2 in X])

    make.__doc__ = f"N uniform points labelled by: {rule.__doc__}"
    return make


def _simple(x1: float, x2: float) -> bool:
    """x1 < 0.5"""
    return x1 < 0.5


def _diag(x1: float, x2: float) -> bool:
    """x1 + x2 < 0.5"""
    return x1 + x2 < 0.5


def _split(x1: float, x2: float) -> bool:
    """x1 < 0.2 or x1 > 0.8"""
    return x1 < 0.2 or x1 > 0.8


def _xor(x1: float, x2: float) -> bool:
    """the coordinates lie on opposite sides of 0.5"""
    return (x1 < 0.5) != (x2 < 0.5)


def _circle(x1: float, x2: float) -> bool:
    """(x1 - 0.5)^2 + (x2 - 0.5)^2 > 0.1"""
    return (x1 - 0.5) ** 2 + (x2 - 0.5) ** 2 > 0.1


simple = _labelled(_simple)
diag = _labelled(_diag)
split = _labelled(_split)
xor = _labelled(_xor)
circle = _labelled(_circle)


def spiral(N: int, seed: int | None = None) -> Graph:
    r"""Two interleaved spirals: class 0 along $(t\cos t, t\sin t)/20 + 0.5$, class 1 the
    same curve turned half a revolution. `seed` adds nothing random (the curves are fixed);
    it is accepted so that every generator has the same signature."""
    if not isinstance(N, int) or N <= 0:
        raise ValueError(f"a data set needs a positive number of points, got N={N!r}")
    n1 = N // 2
    n0 = N - n1

    def arm(n: int, turn: float) -> list[Point]:
        # t runs from 0.5 to 10 so that radius t / 20 stays inside the unit square.
        ts = [0.5 + 9.5 * i / max(n - 1, 1) for i in range(n)]
        return [
            (t * math.cos(t + turn) / 20.0 + 0.5, t * math.sin(t + turn) / 20.0 + 0.5) for t in ts
        ]

    return Graph(N, arm(n0, 0.0) + arm(n1, math.pi), [0] * n0 + [1] * n1)


class _Datasets(dict):
    """A dict whose missing keys raise a KeyError listing the known names."""

    def __missing__(self, key: str) -> Callable[..., Graph]:
        raise KeyError(f"unknown dataset {key!r}; choose one of {', '.join(self)}")


datasets: dict[str, Callable[..., Graph]] = _Datasets(
    Simple=simple, Diag=diag, Split=split, Xor=xor, Circle=circle, Spiral=spiral
)
