import math
import sys

import pytest

import minitorch
from minitorch import Context, Scalar, ScalarFunction, ScalarHistory, central_difference


def test_central_difference_of_known_functions() -> None:
    assert central_difference(lambda x: x * x + 1.0, 2.0) == pytest.approx(4.0, abs=1e-5)
    assert central_difference(lambda x, y: x * y, 3.0, 5.0, arg=1) == pytest.approx(3.0)
    assert central_difference(math.sin, 0.5) == pytest.approx(math.cos(0.5), abs=1e-6)
    with pytest.raises(IndexError, match="arg=2"):
        central_difference(lambda x: x, 1.0, arg=2)


class Function1(ScalarFunction):
    @staticmethod
    def forward(ctx: Context, x: float, y: float) -> float:
        return x + y + 10

    @staticmethod
    def backward(ctx: Context, d_output: float) -> tuple[float, float]:
        return d_output, d_output


class Function2(ScalarFunction):
    @staticmethod
    def forward(ctx: Context, x: float, y: float) -> float:
        ctx.save_for_backward(x, y)
        return x * y + x

    @staticmethod
    def backward(ctx: Context, d_output: float) -> tuple[float, float]:
        x, y = ctx.saved_values
        return d_output * (y + 1), d_output * x


def test_chain_rule_pairs_every_input_and_backpropagate_skips_constants() -> None:
    var = Scalar(0.0)
    const = Scalar(0.0, None)
    out = Scalar(0.0, ScalarHistory(Function1, ctx=Context(), inputs=[var, const]))
    back = list(out.chain_rule(d_output=5))
    assert back == [(var, 5), (const, 5)]
    out.backward(5.0)
    assert var.derivative == 5.0 and const.derivative is None


def test_chain_rule_includes_a_raw_number_argument() -> None:
    # The course's check: the constant 10 gets a pair too, and the variable's carries 5 * 10.
    var = Scalar(5.0)
    back = list(Function2.apply(10, var).chain_rule(d_output=5))
    assert len(back) == 2
    assert back[1] == (var, 5 * 10)


def test_chain_rule_through_a_function_with_saved_values() -> None:
    x, y = Scalar(2.0), Scalar(3.0)
    z = Function2.apply(x, y)
    (vx, dx), (vy, dy) = z.chain_rule(d_output=2.0)
    assert (vx, dx, vy, dy) == (x, 8.0, y, 4.0)


def test_backprop_through_two_functions() -> None:
    var = Scalar(0.0)
    var2 = Function1.apply(0, var)
    var3 = Function1.apply(0, var2)
    var3.backward(d_output=5)
    assert var.derivative == 5


def test_reused_variable_gets_every_contribution() -> None:
    x = Scalar(3.0)
    (x * x).backward()
    assert x.derivative == 6.0
    c = Scalar(2.0)
    (c + c + c).backward()
    assert c.derivative == 3.0
    var1 = Scalar(0.0)
    var2 = Function1.apply(0, var1)
    var3 = Function1.apply(0, var1)
    Function1.apply(var2, var3).backward(d_output=5)
    assert var1.derivative == 10


def test_topological_sort_puts_each_node_before_its_parents() -> None:
    x, y = Scalar(1.0), Scalar(2.0)
    a = x * y
    b = a + x
    out = b * a
    order = minitorch.topological_sort(out)
    assert order[0] is out
    pos = {v.unique_id: i for i, v in enumerate(order)}
    for v in order:
        for p in v.parents:
            if not p.is_constant():
                assert pos[v.unique_id] < pos[p.unique_id]
    assert {v.unique_id for v in order} == {
        x.unique_id,
        y.unique_id,
        a.unique_id,
        b.unique_id,
        out.unique_id,
    }


def test_topological_sort_skips_constants() -> None:
    x = Scalar(1.0)
    out = x * 3.0  # 3.0 becomes a constant input
    assert [v.unique_id for v in minitorch.topological_sort(out)] == [out.unique_id, x.unique_id]
    assert minitorch.topological_sort(Scalar(1.0, None)) == []


def test_deep_chain_backpropagates_without_recursion() -> None:
    x = Scalar(0.5)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    assert 100_000 > sys.getrecursionlimit()
    y.backward()
    assert x.derivative == 1.0
    assert len(minitorch.topological_sort(y)) == 100_001


def test_backward_twice_accumulates_like_pytorch() -> None:
    x = Scalar(2.0)
    y = x * x
    y.backward()
    y.backward()
    assert x.grad == 8.0
    x.grad = None
    (x * x).backward()
    assert x.derivative == 4.0


def test_no_grad_records_nothing() -> None:
    x = Scalar(2.0)
    with minitorch.no_grad():
        y = x * x
        assert not minitorch.is_grad_enabled()
    assert minitorch.is_grad_enabled()
    assert y.is_constant() and y.history is None
    with pytest.raises(ValueError, match="constant"):
        y.backward()
    z = x * x
    assert z.history.last_fn is minitorch.scalar_functions.Mul
    assert z.history.ctx.saved_values == (2.0, 2.0)


def test_context_saves_nothing_when_no_grad() -> None:
    ctx = Context(no_grad=True)
    ctx.save_for_backward(1.0)
    assert ctx.saved_values == ()
    ctx = Context()
    ctx.save_for_backward(1.0, 2.0)
    assert ctx.saved_values == ctx.saved_tensors == (1.0, 2.0)
    assert repr(ctx) == "Context(no_grad=False, saved_values=(1.0, 2.0))"


def test_grad_mode_belongs_to_each_thread():
    # The app trains in a background thread while the page evaluates under no_grad: one
    # thread's no_grad must not turn the other's forward pass into constants.
    import threading

    inside, done = threading.Event(), threading.Event()

    def page() -> None:
        with minitorch.no_grad():
            inside.set()
            done.wait(timeout=30)
            assert not minitorch.is_grad_enabled()

    thread = threading.Thread(target=page)
    thread.start()
    assert inside.wait(timeout=30)
    try:
        assert minitorch.is_grad_enabled()
        x = minitorch.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        assert x.grad.to_numpy().tolist() == [2.0, 4.0]
        s = minitorch.Scalar(3.0)
        (s * s).backward()
        assert s.derivative == 6.0
    finally:
        done.set()
        thread.join()
    assert minitorch.is_grad_enabled()
