"""Backend kernels and glue: map, zip, reduce and matmul against numpy, on any layout."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch
from minitorch import IndexingError, SimpleBackend, Tensor, operators

from .tensor_strategies import BACKENDS, broadcastable_tensors, on, shapes, tensors


@pytest.mark.parametrize("backend", BACKENDS)
@given(t=tensors())
def test_map_applies_the_float_function_to_every_element(backend, t):
    t = Tensor(t._tensor, backend=backend)
    out = backend.neg_map(t)
    assert out.shape == t.shape and out._tensor.is_contiguous()
    np.testing.assert_array_equal(out.to_numpy(), -t.to_numpy())


@pytest.mark.parametrize("backend", BACKENDS)
@given(t=tensors(shape=(1, 3)))
def test_map_broadcasts_into_a_given_output(backend, t):
    t = on(backend, t)
    out = backend.id_map(t, minitorch.zeros((2, 4, 3), backend=backend))
    np.testing.assert_array_equal(out.to_numpy(), np.broadcast_to(t.to_numpy(), (2, 4, 3)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_map_into_an_output_it_cannot_broadcast_to_raises(backend):
    out = minitorch.zeros((2,), backend=backend)
    with pytest.raises(IndexingError, match=r"\(3,\).*\(2,\)"):
        backend.id_map(minitorch.zeros((3,), backend=backend), out)
    assert out.to_numpy().tolist() == [0.0, 0.0]  # nothing half-written


@pytest.mark.parametrize("backend", BACKENDS)
@given(ts=broadcastable_tensors())
def test_zip_broadcasts_like_numpy(backend, ts):
    a, b = on(backend, *ts)
    out = backend.add_zip(a, b)
    np.testing.assert_array_equal(out.to_numpy(), a.to_numpy() + b.to_numpy())


@pytest.mark.parametrize("backend", BACKENDS)
@given(t=tensors())
def test_zip_broadcasts_a_scalar(backend, t):
    t = on(backend, t)
    out = backend.mul_zip(t, minitorch.tensor([2.0], backend=backend))
    np.testing.assert_array_equal(out.to_numpy(), t.to_numpy() * 2.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_zip_of_shapes_that_do_not_broadcast_raises_naming_both(backend):
    a, b = minitorch.zeros((2, 3), backend=backend), minitorch.zeros((4,), backend=backend)
    with pytest.raises(IndexingError, match=r"\(2, 3\).*\(4,\)"):
        backend.add_zip(a, b)
    with pytest.raises(IndexingError, match=r"\(2, 3\).*\(4,\)"):
        a + b


@pytest.mark.parametrize("backend", BACKENDS)
@given(st.data())
def test_reduce_folds_one_dimension_and_keeps_it(backend, data):
    t = on(backend, data.draw(tensors()))
    dim = data.draw(st.integers(0, t.dims - 1))
    out = backend.add_reduce(t, dim)
    np.testing.assert_allclose(out.to_numpy(), t.to_numpy().sum(axis=dim, keepdims=True))
    out = backend.mul_reduce(t, dim)
    np.testing.assert_allclose(out.to_numpy(), t.to_numpy().prod(axis=dim, keepdims=True))


@pytest.mark.parametrize("backend", BACKENDS)
def test_reduce_over_a_missing_dimension_raises(backend):
    with pytest.raises(IndexingError, match=r"dimension 2 is out of range for shape \(2, 3\)"):
        backend.add_reduce(minitorch.zeros((2, 3), backend=backend), 2)
    with pytest.raises(IndexingError, match=r"dimension -3 is out of range for shape \(2, 3\)"):
        minitorch.zeros((2, 3), backend=backend).sum(-3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reduce_starts_from_the_given_start_value(backend):
    fold = backend.ops.reduce(operators.max, -1e9)
    out = fold(minitorch.tensor([[-5.0, -2.0], [-7.0, -9.0]], backend=backend), 1)
    assert out.to_numpy().tolist() == [[-2.0], [-7.0]]


@st.composite
def matmul_operands(draw, batched_a: bool, batched_b: bool):
    i, k, j, n = (draw(st.integers(1, 4)) for _ in range(4))
    batch_a = (draw(st.sampled_from([1, n])),) if batched_a else ()
    batch_b = (draw(st.sampled_from([1, n])),) if batched_b else ()
    return draw(tensors(shape=batch_a + (i, k))), draw(tensors(shape=batch_b + (k, j)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("batched_a, batched_b", [(0, 0), (1, 0), (0, 1), (1, 1)])
@given(data=st.data())
def test_matrix_multiply_matches_numpy_in_2d_and_batched_3d(backend, batched_a, batched_b, data):
    a, b = on(backend, *data.draw(matmul_operands(bool(batched_a), bool(batched_b))))
    out = backend.matrix_multiply(a, b)
    np.testing.assert_allclose(out.to_numpy(), a.to_numpy() @ b.to_numpy(), atol=1e-9)


@pytest.mark.parametrize(
    "shape_a, shape_b, message",
    [
        ((2, 3), (4, 5), "inner sizes"),
        ((2, 2, 3), (3, 3, 1), "batch sizes"),
        ((3,), (3, 3), "2-D or 3-D"),
    ],
)
@pytest.mark.parametrize("backend", BACKENDS)
def test_matrix_multiply_of_mismatched_shapes_raises_naming_them(
    backend, shape_a, shape_b, message
):
    a, b = minitorch.zeros(shape_a, backend=backend), minitorch.zeros(shape_b, backend=backend)
    with pytest.raises(IndexingError, match=message):
        backend.matrix_multiply(a, b)
    with pytest.raises(IndexingError, match=message):
        a @ b


@pytest.mark.parametrize("backend", BACKENDS)
@given(shape=shapes())
def test_kernels_write_through_a_non_contiguous_output(backend, shape):
    a = minitorch.rand(shape, backend=backend)
    out = minitorch.zeros(tuple(reversed(shape)), backend=backend)
    out = out.permute(*reversed(range(len(shape))))
    backend.exp_map(a, out)
    np.testing.assert_allclose(out.to_numpy(), np.exp(a.to_numpy()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_builds_every_named_operation(backend):
    names = [
        "neg_map",
        "sigmoid_map",
        "relu_map",
        "log_map",
        "exp_map",
        "id_map",
        "inv_map",
        "add_zip",
        "mul_zip",
        "lt_zip",
        "eq_zip",
        "is_close_zip",
        "relu_back_zip",
        "log_back_zip",
        "inv_back_zip",
        "add_reduce",
        "mul_reduce",
        "matrix_multiply",
    ]
    assert all(callable(getattr(backend, name)) for name in names)
    assert backend.cuda is False
    assert repr(backend) == f"TensorBackend({backend.ops.__name__})"


@pytest.mark.parametrize("backend", BACKENDS)
def test_backends_built_from_the_same_ops_are_equal(backend):
    # The course's scripts build their own TensorBackend(FastOps) and compare it with a.backend.
    twin = minitorch.TensorBackend(backend.ops)
    assert twin == backend and hash(twin) == hash(backend)
    other = minitorch.FastBackend if backend.ops is minitorch.SimpleOps else SimpleBackend
    assert twin != other
