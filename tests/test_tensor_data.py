"""Strided layout: index arithmetic, permutation, broadcasting rules and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch
from minitorch import IndexingError, TensorData
from minitorch.tensor_data import (
    broadcast_index,
    index_to_position,
    shape_broadcast,
    strides_from_shape,
    to_index,
)

from .tensor_strategies import broadcastable_shapes, shapes, tensor_data


def test_layout_reads_row_major_and_column_major():
    data = [0.0] * 15
    row_major = TensorData(data, (3, 5), (5, 1))
    assert row_major.is_contiguous()
    assert row_major.shape == (3, 5)
    assert row_major.index((1, 0)) == 5
    assert row_major.index((1, 2)) == 7

    column_major = TensorData(data, (5, 3), (1, 5))
    assert column_major.shape == (5, 3)
    assert not column_major.is_contiguous()

    assert TensorData([0.0] * 16, (4, 2, 2)).strides == (4, 2, 1)


def test_storage_is_float64_whatever_the_input():
    assert TensorData([1, 2, 3], (3,))._storage.dtype == np.float64


def test_strides_of_the_wrong_length_raise_naming_both():
    with pytest.raises(IndexingError, match=r"\(6,\).*\(3, 5\)"):
        TensorData([0.0] * 15, (3, 5), (6,))


def test_layout_past_the_end_of_storage_raises():
    with pytest.raises(IndexingError, match="past the end"):
        TensorData([0.0] * 4, (3, 2))


def test_size_one_dimensions_do_not_break_contiguity():
    assert TensorData([0.0] * 3, (3, 1), (1, 7)).is_contiguous()


@given(tensor_data())
def test_indices_enumerate_every_index_once_in_range(data: TensorData):
    indices = list(data.indices())
    assert len(indices) == data.size
    assert len(set(indices)) == data.size
    for index in indices:
        assert all(0 <= i < n for i, n in zip(index, data.shape))


@given(tensor_data())
def test_every_index_maps_to_a_distinct_position_in_storage(data: TensorData):
    positions = {data.index(index) for index in data.indices()}
    assert len(positions) == data.size
    assert all(0 <= p < data.size for p in positions)


@given(tensor_data())
def test_indexing_with_a_negative_entry_raises(data: TensorData):
    index = [0] * data.dims
    index[0] = -1
    with pytest.raises(IndexingError, match="out of range"):
        data.index(tuple(index))


@given(tensor_data())
def test_indexing_past_the_end_raises_naming_index_and_shape(data: TensorData):
    index = tuple(data.shape)
    with pytest.raises(IndexingError, match=rf"{data.shape}"):
        data.index(index)


@given(tensor_data())
def test_indexing_with_the_wrong_number_of_entries_raises(data: TensorData):
    with pytest.raises(IndexingError, match="entries"):
        data.index((0,) * (data.dims + 1))


@given(st.data())
def test_permute_swaps_index_entries_not_storage(draw):
    data = draw.draw(tensor_data())
    index = tuple(draw.draw(st.integers(0, n - 1)) for n in data.shape)
    reverse = list(reversed(range(data.dims)))
    flipped = data.permute(*reverse)
    assert flipped._storage is data._storage
    assert data.index(index) == flipped.index(tuple(reversed(index)))
    assert data.index(index) == flipped.permute(*reverse).index(index)


@pytest.mark.parametrize("order", [(0,), (0, 0), (1, 2), (0, 1, 2)])
def test_permute_with_an_invalid_order_raises(order):
    data = TensorData([0.0] * 6, (2, 3))
    with pytest.raises(IndexingError, match="not a permutation"):
        data.permute(*order)


@given(tensor_data())
def test_get_and_set_round_trip_through_the_layout(data: TensorData):
    for value, index in enumerate(data.indices()):
        data.set(index, float(value))
    assert [data.get(index) for index in data.indices()] == list(range(data.size))


@given(tensor_data())
def test_to_string_shows_every_value(data: TensorData):
    text = data.to_string()
    assert text.count("[") == text.count("]")
    assert text.count(".") == data.size


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((1,), (5, 5), (5, 5)),
        ((5, 5), (1,), (5, 5)),
        ((1, 5, 5), (5, 5), (1, 5, 5)),
        ((5, 1, 5, 1), (1, 5, 1, 5), (5, 5, 5, 5)),
        ((2, 5), (5,), (2, 5)),
        ((7, 2, 3, 5), (2, 1, 1), (7, 2, 3, 5)),
    ],
)
def test_shape_broadcast_follows_numpy(a, b, expected):
    assert shape_broadcast(a, b) == expected
    assert minitorch.shape_broadcast(b, a) == expected
    assert expected == np.broadcast_shapes(a, b)


@pytest.mark.parametrize("a, b", [((2, 5), (9,)), ((5, 2), (5,)), ((3, 1), (1, 4, 2))])
def test_shapes_that_do_not_broadcast_raise_naming_both(a, b):
    with pytest.raises(IndexingError, match=rf"{a}.*{b}"):
        shape_broadcast(a, b)


@given(broadcastable_shapes())
def test_shape_broadcast_agrees_with_numpy(pair):
    a, b = pair
    assert shape_broadcast(a, b) == np.broadcast_shapes(a, b)


@given(shapes())
def test_strides_from_shape_match_numpy_row_major(shape):
    assert strides_from_shape(shape) == tuple(s // 8 for s in np.zeros(shape).strides)


@given(shapes())
def test_to_index_inverts_row_major_numbering(shape):
    out = np.zeros(len(shape), dtype=np.int32)
    strides = np.array(strides_from_shape(shape), dtype=np.int32)
    for ordinal in range(int(np.prod(shape))):
        to_index(ordinal, np.array(shape, dtype=np.int32), out)
        assert tuple(out) == np.unravel_index(ordinal, shape)
        assert index_to_position(out, strides) == ordinal


@given(broadcastable_shapes())
def test_broadcast_index_reads_what_numpy_broadcasting_reads(pair):
    small, _ = pair
    big = shape_broadcast(*pair)
    values = np.arange(np.prod(small)).reshape(small)
    spread = np.broadcast_to(values, big)
    big_index = np.zeros(len(big), dtype=np.int32)
    out = np.zeros(len(small), dtype=np.int32)
    for ordinal in range(int(np.prod(big))):
        to_index(ordinal, np.array(big, dtype=np.int32), big_index)
        broadcast_index(big_index, np.array(big), np.array(small), out)
        assert values[tuple(out)] == spread[tuple(big_index)]


def test_index_helpers_compile_with_numba():
    numba = pytest.importorskip("numba")
    position = numba.njit(index_to_position)
    index_of = numba.njit(to_index)
    spread = numba.njit(broadcast_index)
    shape = np.array([2, 3, 4], dtype=np.int32)
    strides = np.array(strides_from_shape((2, 3, 4)), dtype=np.int32)
    out = np.zeros(3, dtype=np.int32)
    index_of(17, shape, out)
    assert tuple(out) == (1, 1, 1)
    assert position(out, strides) == 17
    small = np.zeros(2, dtype=np.int32)
    spread(out, shape, np.array([1, 4], dtype=np.int32), small)
    assert tuple(small) == (0, 1)
