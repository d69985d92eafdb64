"""Tensor autodiff: every function three ways, from the shared catalogue.

Forward against the float functions (and numpy), backward against central differences
(`grad_check`), and both against PyTorch where it is installed; all over random shapes and
non-contiguous layouts.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch
from minitorch import Tensor, grad_check, tensor
from minitorch.testing import MathTestVariable

from .tensor_strategies import (
    BACKENDS,
    broadcastable_tensors,
    on,
    shaped_tensors,
    small_floats,
    smooth_floats,
    tensors,
)

# Each example here runs several forward and backward passes over up to 81 values: fewer
# examples than the suite's profile keep this module about as fast as the others.
few = settings(max_examples=20)

one_arg, two_arg, red_arg = MathTestVariable._comp_testing()
COMPARISONS = {"gt2", "lt2", "eq2"}  # flat almost everywhere: their gradients are checked as zero
smooth_two_arg = [fn for fn in two_arg if fn[0] not in COMPARISONS]


def close(x: float, y: float) -> bool:
    return abs(x - y) <= 1e-6 * (1.0 + abs(y))


# ---- Forward: the catalogue against its float twin ----------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", one_arg, ids=[name for name, _, _ in one_arg])
@few
@given(t=tensors())
def test_one_arg_functions_match_floats_elementwise(backend, fn, t):
    t = on(backend, t)
    name, float_fn, tensor_fn = fn
    out = tensor_fn(t)
    assert out.shape == t.shape
    for index in out._tensor.indices():
        assert close(out[index], float_fn(t[index])), (name, index)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", two_arg, ids=[name for name, _, _ in two_arg])
@few
@given(ts=shaped_tensors(2))
def test_two_arg_functions_match_floats_elementwise(backend, fn, ts):
    ts = on(backend, *ts)
    name, float_fn, tensor_fn = fn
    a, b = ts
    out = tensor_fn(a, b)
    for index in out._tensor.indices():
        assert close(out[index], float_fn(a[index], b[index])), (name, index)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", two_arg, ids=[name for name, _, _ in two_arg])
@few
@given(ts=broadcastable_tensors())
def test_two_arg_functions_broadcast_like_numpy(backend, fn, ts):
    ts = on(backend, *ts)
    name, float_fn, tensor_fn = fn
    a, b = ts
    expected = np.vectorize(float_fn)(a.to_numpy(), b.to_numpy())
    np.testing.assert_allclose(tensor_fn(a, b).to_numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", red_arg, ids=[name for name, _, _ in red_arg])
@few
@given(t=tensors())
def test_reductions_match_floats_and_keep_their_dimension(backend, fn, t):
    t = on(backend, t)
    name, float_fn, tensor_fn = fn
    out = tensor_fn(t)
    values = t.to_numpy()
    if name == "mean_full_red":
        assert out.shape == (1,)
        assert close(out.item(), float_fn(values.ravel().tolist()))
        return
    assert out.shape == (1,) + t.shape[1:]
    for index in out._tensor.indices():
        column = values[(slice(None),) + tuple(index[1:])].tolist()
        assert close(out[index], float_fn(column)), (name, index)


# ---- Backward: central differences -------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", one_arg, ids=[name for name, _, _ in one_arg])
@few
@given(t=tensors(smooth_floats))
def test_one_arg_gradients_match_central_differences(backend, fn, t):
    t = on(backend, t)
    grad_check(fn[2], t)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", smooth_two_arg, ids=[name for name, _, _ in smooth_two_arg])
@few
@given(ts=shaped_tensors(2, smooth_floats))
def test_two_arg_gradients_match_central_differences(backend, fn, ts):
    ts = on(backend, *ts)
    grad_check(fn[2], *ts)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", smooth_two_arg, ids=[name for name, _, _ in smooth_two_arg])
@few
@given(ts=shaped_tensors(2, smooth_floats))
def test_two_arg_gradients_sum_back_over_broadcast_dimensions(backend, fn, ts):
    ts = on(backend, *ts)
    a, b = ts
    grad_check(fn[2], a, b)
    grad_check(fn[2], a.sum(0), b)
    grad_check(fn[2], a, b.sum(0))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", red_arg, ids=[name for name, _, _ in red_arg])
@few
@given(t=tensors(smooth_floats))
def test_reduction_gradients_match_central_differences(backend, fn, t):
    t = on(backend, t)
    grad_check(fn[2], t)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(COMPARISONS))
@few
@given(ts=broadcastable_tensors())
def test_comparisons_pass_back_zero_gradients_of_each_input_shape(backend, name, ts):
    ts = on(backend, *ts)
    fn = dict((n, f) for n, _, f in two_arg)[name]
    a, b = (t.requires_grad_(True) for t in ts)
    fn(a, b).sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    assert not a.grad.to_numpy().any() and not b.grad.to_numpy().any()


def test_all_and_is_close_pass_back_zero_gradients():
    a = tensor([[1.0, 0.5], [2.0, 3.0]], requires_grad=True)
    b = tensor([1.0, 0.5], requires_grad=True)
    (a.is_close(b).sum() + a.all()).backward()
    assert a.grad.to_numpy().tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert b.grad.to_numpy().tolist() == [0.0, 0.0]


@pytest.mark.parametrize("backend", BACKENDS)
@few
@given(st.data())
def test_permute_gradient_is_the_inverse_permutation(backend, data):
    t = on(backend, data.draw(tensors(smooth_floats)))
    order = data.draw(st.permutations(range(t.dims)))
    grad_check(lambda a: a.permute(*order) * a.permute(*order), t)


@pytest.mark.parametrize("backend", BACKENDS)
@few
@given(tensors(smooth_floats))
def test_view_gradient_reads_back_into_the_original_shape(backend, t):
    t = on(backend, t)
    grad_check(lambda a: a.contiguous().view(a.size) * 2.0, t)


@pytest.mark.parametrize("backend", BACKENDS)
@few
@given(st.data())
def test_matmul_gradients_match_central_differences(backend, data):
    i, k, j, n = (data.draw(st.integers(1, 3)) for _ in range(4))
    a = on(backend, data.draw(tensors(smooth_floats, shape=(n, i, k))))
    b = on(backend, data.draw(tensors(smooth_floats, shape=(k, j))))
    grad_check(lambda x, y: x @ y, a, b)
    grad_check(lambda x, y: x @ y, b.permute(1, 0), a.permute(0, 2, 1))


# ---- Against PyTorch ---------------------------------------------------------------------------


def _torch(t: Tensor):
    torch = pytest.importorskip("torch")
    return torch.tensor(t.to_numpy(), dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", one_arg + red_arg, ids=[n for n, _, _ in one_arg + red_arg])
@few
@given(t=tensors(smooth_floats))
def test_one_arg_forward_and_gradients_match_torch(backend, fn, t):
    t = on(backend, t)
    name, _, tensor_fn = fn
    reference = _torch(t)
    expected = tensor_fn(reference)
    expected.sum().backward()
    t.requires_grad_(True)
    out = tensor_fn(t)
    out.sum().backward()
    np.testing.assert_allclose(
        out.to_numpy().ravel(), expected.detach().numpy().ravel(), 1e-6, 1e-9
    )
    np.testing.assert_allclose(t.grad.to_numpy(), reference.grad.numpy(), 1e-6, 1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", two_arg, ids=[n for n, _, _ in two_arg])
@few
@given(ts=broadcastable_tensors(smooth_floats))
def test_two_arg_forward_and_broadcast_gradients_match_torch(backend, fn, ts):
    ts = on(backend, *ts)
    name, _, tensor_fn = fn
    a, b = (t.requires_grad_(True) for t in ts)
    ra, rb = _torch(a), _torch(b)
    expected = tensor_fn(ra, rb)
    out = tensor_fn(a, b)
    np.testing.assert_allclose(out.to_numpy(), expected.detach().numpy().astype(float), 1e-6, 1e-9)
    if name in COMPARISONS:
        return
    expected.sum().backward()
    out.sum().backward()
    np.testing.assert_allclose(a.grad.to_numpy(), ra.grad.numpy(), 1e-6, 1e-9)
    np.testing.assert_allclose(b.grad.to_numpy(), rb.grad.numpy(), 1e-6, 1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
@few
@given(st.data())
def test_matmul_forward_and_gradients_match_torch(backend, data):
    i, k, j, n = (data.draw(st.integers(1, 4)) for _ in range(4))
    a = on(backend, data.draw(tensors(shape=(i, k)))).requires_grad_(True)
    b = on(backend, data.draw(tensors(shape=(n, k, j)))).requires_grad_(True)
    ra, rb = _torch(a), _torch(b)
    expected = ra @ rb
    out = a @ b
    np.testing.assert_allclose(out.to_numpy(), expected.detach().numpy(), 1e-9, 1e-9)
    expected.sum().backward()
    out.sum().backward()
    np.testing.assert_allclose(a.grad.to_numpy(), ra.grad.numpy(), 1e-9, 1e-9)
    np.testing.assert_allclose(b.grad.to_numpy(), rb.grad.numpy(), 1e-9, 1e-9)


# ---- The checker can fail ----------------------------------------------------------------------


class WrongExp(minitorch.tensor_functions.Exp):
    """Exp with a deliberately wrong backward (it forgets the chain rule factor)."""

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def test_grad_check_fails_on_a_wrong_backward_with_a_useful_message():
    t = tensor([[0.5, 1.0], [1.5, 2.0]])
    with pytest.raises(AssertionError, match=r"argument 0 at index \(\d, \d\).*central difference"):
        grad_check(lambda a: WrongExp.apply(a), t)


def test_grad_check_passes_on_the_right_backward():
    grad_check(lambda a: a.exp(), tensor([[0.5, 1.0], [1.5, 2.0]]))


# ---- Gradients accumulate and broadcast back -----------------------------------------------------


def test_a_tensor_used_twice_gets_both_contributions():
    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.to_numpy().tolist() == [2.0, 4.0, 6.0]

    c = tensor([[1.0, 2.0]], requires_grad=True)
    (c + c).sum().backward()
    assert c.grad.to_numpy().tolist() == [[2.0, 2.0]]


def test_a_diamond_graph_sums_both_paths():
    x = tensor([2.0], requires_grad=True)
    y = x * 3.0
    z = y * x + y.exp()  # dz/dx = 6x + 3 e^(3x)
    z.backward()
    assert x.grad.item() == pytest.approx(12.0 + 3.0 * np.exp(6.0))


def test_gradients_are_constants_with_their_own_storage():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    assert x.grad.is_constant() and y.grad.is_constant()
    assert x.grad._tensor._storage is not y.grad._tensor._storage


def test_gradients_accumulate_across_backward_calls_until_zeroed():
    x = tensor([1.0, 2.0], requires_grad=True)
    (x * 2.0).sum().backward()
    (x * 2.0).sum().backward()
    assert x.grad.to_numpy().tolist() == [4.0, 4.0]
    x.zero_grad_()
    assert x.grad is None


@pytest.mark.parametrize("backend", BACKENDS)
@few
@given(broadcastable_tensors())
def test_broadcast_gradients_have_their_input_shapes(backend, ts):
    ts = on(backend, *ts)
    a, b = (t.requires_grad_(True) for t in ts)
    (a * b).sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    full = np.broadcast_shapes(a.shape, b.shape)
    expected_a = np.broadcast_to(b.to_numpy(), full)
    expected_a = expected_a.sum(axis=tuple(range(len(full) - a.dims)))
    expected_a = expected_a.sum(
        axis=tuple(i for i, n in enumerate(a.shape) if n == 1), keepdims=True
    )
    np.testing.assert_allclose(a.grad.to_numpy(), expected_a, 1e-9, 1e-9)


def test_grad_size_matches_a_broadcast_input():
    a = tensor([1.0], requires_grad=True)
    b = tensor([[1.0, 1.0]], requires_grad=True)
    c = (a * b).sum()
    c.backward()
    assert c[0] == 2.0
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


def test_backward_accepts_a_grad_output_of_the_tensors_shape():
    x = tensor([[1.0, 2.0]], requires_grad=True)
    (x * 3.0).backward(tensor([[1.0, 10.0]]))
    assert x.grad.to_numpy().tolist() == [[3.0, 30.0]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_graphs_hold_no_reference_cycles_so_they_free_at_once(backend):
    # A function that saves its own output must not close output -> history -> ctx -> output:
    # with the cycle collector off, every graph is freed as soon as its last name goes.
    import gc
    import weakref

    x = minitorch.rand((3, 4), backend=backend, requires_grad=True)
    fns = [
        lambda t: t.sigmoid(),
        lambda t: t.exp(),
        lambda t: minitorch.max(t, 1),
        lambda t: minitorch.logsoftmax(t, 1),
        lambda t: (t @ t.permute(1, 0)).relu(),
    ]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for fn in fns:
            y = fn(x)
            y.sum().backward()
            ref = weakref.ref(y)
            del y
            assert ref() is None
    finally:
        if enabled:
            gc.enable()


def test_a_long_chain_backpropagates_without_recursion():
    x = tensor([1.0], requires_grad=True)
    y = x
    for _ in range(3000):
        y = y + x
    y.backward()
    assert x.grad.item() == 3001.0


# ---- Grad mode, leaves and constants ------------------------------------------------------------


def test_no_grad_results_are_constants_that_save_nothing():
    x = tensor([1.0, 2.0], requires_grad=True)
    with minitorch.no_grad():
        y = x * x
    assert y.is_constant() and y.history is None
    z = x * x
    assert not z.is_constant() and z.history.ctx.saved_values


def test_constant_inputs_record_no_history():
    assert (tensor([1.0]) * tensor([2.0])).history is None


def test_requires_grad_switches_between_leaf_and_constant():
    x = tensor([1.0])
    assert x.is_constant() and not x.requires_grad()
    assert x.requires_grad_(True) is x and x.is_leaf()
    x.requires_grad_(False)
    assert x.is_constant()


def test_an_sgd_step_pattern_makes_a_fresh_leaf():
    w = tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    with minitorch.no_grad():
        new = w - 0.5 * w.grad
    new.requires_grad_(True)
    assert new.is_leaf() and new.grad is None
    assert new.to_numpy().tolist() == [0.0, 0.0]


def test_detach_shares_data_but_not_history():
    x = tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2.0).detach()
    assert d.is_constant() and d.to_numpy().tolist() == [2.0, 4.0]


def test_backward_on_a_constant_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tensor([1.0]).backward()


# ---- Layout operations --------------------------------------------------------------------------


def test_view_reshapes_contiguous_data():
    t = tensor([[2, 3, 4], [4, 5, 7]])
    assert t.view(6).shape == (6,)
    assert t.view(6).view(1, 6).view(6, 1).view(2, 3).is_close(t).all().item() == 1.0
    assert t.view((3, 2)).to_numpy().tolist() == [[2, 3], [4, 4], [5, 7]]


@few
@given(st.data())
def test_permute_matches_numpy_transpose(data):
    t = data.draw(tensors())
    order = data.draw(st.permutations(range(t.dims)))
    np.testing.assert_array_equal(t.permute(*order).to_numpy(), t.to_numpy().transpose(order))


@few
@given(tensors())
def test_contiguous_copies_any_layout_into_row_major(t):
    c = t.contiguous()
    assert c._tensor.is_contiguous()
    np.testing.assert_array_equal(c.to_numpy(), t.to_numpy())


def test_reductions_keep_their_dimension():
    t = tensor([[2, 3, 4], [4, 5, 7]])
    assert t.sum(0).to_numpy().tolist() == [[6, 8, 11]]
    assert t.sum(1).to_numpy().tolist() == [[9], [16]]
    assert t.sum().to_numpy().tolist() == [25]
    assert t.mean(1).to_numpy().tolist() == [[3.0], [16 / 3]]
    assert t.mean().item() == pytest.approx(25 / 6)


def test_all_and_is_close():
    t = tensor([[1.0, 0.0], [1.0, 1.0]])
    assert t.all().item() == 0.0
    assert t.all(0).to_numpy().tolist() == [[1.0, 0.0]]
    assert t.is_close(t + 0.001).all().item() == 1.0


# ---- Construction and conversion ----------------------------------------------------------------


def test_tensor_from_nested_lists_tuples_numbers_and_numpy():
    assert tensor([[2, 3, 4], [4, 5, 7]]).shape == (2, 3)
    assert tensor([[[2, 3, 4], [4, 5, 7]]]).shape == (1, 2, 3)
    assert tensor(((1, 2),)).shape == (1, 2)
    assert tensor(3.5).to_numpy().tolist() == [3.5]
    array = np.arange(6.0).reshape(2, 3).T
    t = tensor(array)
    assert t.shape == (3, 2) and t.to_numpy().tolist() == array.tolist()
    array[0, 0] = 99.0
    assert t[0, 0] == 0.0  # a copy


def test_tensor_requires_grad_and_backend_arguments():
    t = tensor([1.0], backend=minitorch.SimpleBackend, requires_grad=True)
    assert t.is_leaf() and t.backend is minitorch.SimpleBackend


@few
@given(tensors())
def test_to_numpy_round_trips_through_nested_lists(t):
    values = t.to_numpy()
    assert values.shape == t.shape
    np.testing.assert_array_equal(tensor(values.tolist()).to_numpy(), values)
    for index in t._tensor.indices():
        assert values[index] == t[index]


def test_zeros_and_rand():
    assert minitorch.zeros((2, 3)).to_numpy().tolist() == [[0.0] * 3] * 2
    import random

    random.seed(1)
    a = minitorch.rand((2, 2), requires_grad=True)
    random.seed(1)
    b = minitorch.rand((2, 2))
    assert a.to_numpy().tolist() == b.to_numpy().tolist()
    assert a.is_leaf() and b.is_constant()
    assert ((a.to_numpy() >= 0) & (a.to_numpy() < 1)).all()


def test_storage_is_float64_and_items_are_floats():
    t = tensor([[1, 2]])
    assert t._tensor._storage.dtype == np.float64
    assert isinstance(t[0, 1], float) and isinstance(t.sum().item(), float)


def test_setitem_writes_one_value():
    t = minitorch.zeros((2, 2))
    t[1, 0] = 5.0
    assert t.to_numpy().tolist() == [[0.0, 0.0], [5.0, 0.0]]


def test_repr_shows_the_values():
    assert repr(tensor([[1.0, 2.0]])) == "tensor([[1.0000, 2.0000]])"


@few
@given(small_floats)
def test_reflected_operators_put_the_number_on_the_left(x):
    t = tensor([2.0])
    assert close((x - t).item(), x - 2.0)
    assert close((x / t).item(), x / 2.0)
    assert close((x + t).item(), x + 2.0)
    assert close((x * t).item(), x * 2.0)


# ---- Bad input gets a clear error ---------------------------------------------------------------


def test_ragged_nested_lists_raise_naming_where():
    with pytest.raises(ValueError, match=r"ragged.*element \[1\] has 3 entries"):
        tensor([[1, 2], [3, 4, 5]])
    with pytest.raises(ValueError, match=r"ragged.*element \[1\] is the number 3"):
        tensor([[1, 2], 3])
    with pytest.raises(ValueError, match=r"ragged.*element \[1, 0\] is a list"):
        tensor([[1, 2], [[3], 4]])


def test_view_of_a_non_contiguous_tensor_raises():
    t = tensor([[2, 3, 4], [4, 5, 7]]).permute(1, 0)
    with pytest.raises(ValueError, match=r"contiguous.*\(3, 2\)"):
        t.view(6)


def test_view_of_the_wrong_size_raises_naming_both_shapes():
    with pytest.raises(minitorch.IndexingError, match=r"\(2, 3\).*\(4,\)"):
        tensor([[2, 3, 4], [4, 5, 7]]).view(4)


def test_index_out_of_range_or_wrong_length_raises():
    t = tensor([[2, 3, 4], [4, 5, 7]])
    with pytest.raises(minitorch.IndexingError, match=r"\(50, 2\).*\(2, 3\)"):
        t[50, 2]
    with pytest.raises(minitorch.IndexingError, match="entries"):
        t[1]


def test_permute_with_an_invalid_order_raises_naming_it():
    with pytest.raises(minitorch.IndexingError, match=r"\(0, 0\)"):
        tensor([[1.0]]).permute(0, 0)


def test_backward_on_many_elements_without_grad_output_raises():
    x = tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(2,\) needs a grad_output"):
        (x * 2.0).backward()


def test_operating_on_shapes_that_do_not_broadcast_raises():
    with pytest.raises(minitorch.IndexingError, match=r"\(2,\).*\(3,\)"):
        tensor([1.0, 2.0]) + tensor([1.0, 2.0, 3.0])


def test_item_of_many_elements_raises():
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        tensor([1.0, 2.0]).item()


def test_backward_computes_no_gradient_for_a_constant_operand(monkeypatch) -> None:
    """Mul and MatMul skip the product for an operand without history (a label sign, an
    input batch): the engine would drop it. The other operand's gradient is unchanged."""
    from minitorch import tensor_functions

    fast = minitorch.FastBackend
    x = tensor([[1.0, -2.0], [3.0, 0.5]], backend=fast, requires_grad=True)
    w = tensor([[0.5, 1.0], [-1.0, 2.0]], backend=fast, requires_grad=True)
    sign = tensor([[1.0, -1.0], [-1.0, 1.0]], backend=fast)
    batch = tensor([[2.0, 1.0], [0.0, -1.0]], backend=fast)
    calls: list[str] = []
    forward = tensor_functions.Mul.forward

    def counting(ctx, a, b):  # noqa: ANN001, ANN202
        calls.append("Mul")
        return forward(ctx, a, b)

    monkeypatch.setattr(tensor_functions.Mul, "forward", staticmethod(counting))
    product = fast.matrix_multiply  # a plain backward multiplies on the backend directly

    def counting_product(a, b):  # noqa: ANN001, ANN202
        calls.append("MatMul")
        return product(a, b)

    monkeypatch.setattr(fast, "matrix_multiply", counting_product)
    loss = ((batch @ w) * sign * x).sum()
    calls.clear()
    loss.backward()
    # d/dw: batch^T @ g, one MatMul (none for the constant batch); `p * sign` gives one Mul
    # (none for `sign`), `(p * sign) * x` two: three, where computing every operand's is four
    assert sorted(calls) == ["MatMul", "Mul", "Mul", "Mul"], calls
    g = sign.to_numpy() * x.to_numpy()
    np.testing.assert_allclose(w.grad.to_numpy(), batch.to_numpy().T @ g)
    np.testing.assert_allclose(
        x.grad.to_numpy(), (batch.to_numpy() @ w.to_numpy()) * sign.to_numpy()
    )
