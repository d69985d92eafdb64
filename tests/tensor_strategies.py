"""Hypothesis strategies for tensors: random shapes, values *and* memory layouts.

Every tensor drawn here is stored in a randomly permuted layout and then permuted back, so
its logical shape is the one asked for while its strides are usually not row-major. Tests
that pass on these pass for non-contiguous tensors, not just fresh ones.
"""

from __future__ import annotations

from typing import Any, Sequence

import pytest
from hypothesis import strategies as st

import minitorch
from minitorch import TensorData

# Values where the catalogue's functions are smooth enough for central differences: away
# from the pole of inv (a = -3.5), the kink of relu (a = -5.5) and the kink in complex
# (a = -0.7) by more than the difference step.
KINKS = (-3.5, -5.5, -0.7)
small_floats = st.floats(min_value=-100, max_value=100, allow_nan=False, allow_subnormal=False)
smooth_floats = small_floats.filter(lambda x: all(abs(x - k) > 1e-3 for k in KINKS))


# Every backend the tensor tests run on (the CUDA backend adds itself where it can run).
BACKENDS = [
    pytest.param(minitorch.backend_named("simple"), id="simple"),
    pytest.param(minitorch.backend_named("fast"), id="fast"),
]


def on(backend: minitorch.TensorBackend, *ts: minitorch.Tensor) -> Any:
    """The tensors moved to `backend`, each keeping its storage layout (and history state)."""
    moved = [minitorch.Tensor(t._tensor, back=t.history, backend=backend) for t in ts]
    return moved[0] if len(moved) == 1 else moved


@st.composite
def shapes(draw: st.DrawFn, max_dims: int = 4, max_size: int = 3) -> tuple[int, ...]:
    """A shape of 1 to `max_dims` dimensions, each of size 1 to `max_size`."""
    return tuple(draw(st.lists(st.integers(1, max_size), min_size=1, max_size=max_dims)))


@st.composite
def tensor_data(
    draw: st.DrawFn,
    numbers: st.SearchStrategy[float] = small_floats,
    shape: Sequence[int] | None = None,
) -> TensorData:
    """A TensorData of `shape` whose storage is laid out in a random dimension order."""
    shape = draw(shapes()) if shape is None else tuple(shape)
    size = 1
    for n in shape:
        size *= n
    values = draw(st.lists(numbers, min_size=size, max_size=size))
    order = draw(st.permutations(range(len(shape))))
    stored = TensorData(values, tuple(shape[i] for i in order))  # row-major in `order`
    inverse = sorted(range(len(order)), key=order.__getitem__)
    data = stored.permute(*inverse)
    assert data.shape == shape
    return data


@st.composite
def tensors(
    draw: st.DrawFn,
    numbers: st.SearchStrategy[float] = small_floats,
    shape: Sequence[int] | None = None,
) -> minitorch.Tensor:
    """A tensor with a random shape (or `shape`), values and layout."""
    return minitorch.Tensor(draw(tensor_data(numbers, shape)))


@st.composite
def shaped_tensors(
    draw: st.DrawFn, n: int, numbers: st.SearchStrategy[float] = small_floats
) -> list[minitorch.Tensor]:
    """`n` tensors of one random shape, each with its own layout."""
    shape = draw(shapes())
    return [draw(tensors(numbers, shape)) for _ in range(n)]


@st.composite
def broadcastable_shapes(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast: the second drops leading dimensions and sets some to 1."""
    big = draw(shapes())
    drop = draw(st.integers(0, len(big) - 1))
    small = tuple(1 if draw(st.booleans()) else n for n in big[drop:])
    return (big, small) if draw(st.booleans()) else (small, big)


@st.composite
def broadcastable_tensors(
    draw: st.DrawFn, numbers: st.SearchStrategy[float] = small_floats
) -> tuple[minitorch.Tensor, minitorch.Tensor]:
    """Two tensors of different shapes that broadcast together."""
    shape_a, shape_b = draw(broadcastable_shapes())
    return draw(tensors(numbers, shape_a)), draw(tensors(numbers, shape_b))
