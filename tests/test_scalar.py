import math

import pytest
from hypothesis import given

import minitorch
from minitorch import (
    Context,
    MathTest,
    MathTestVariable,
    Scalar,
    ScalarFunction,
    derivative_check,
    operators,
)

from .strategies import small_floats

one_arg, two_arg, _ = MathTestVariable._comp_testing()


def test_catalogue_pairs_every_name() -> None:
    floats = MathTest._tests()
    variables = MathTestVariable._tests()
    for fs, vs in zip(floats, variables):
        assert [n for n, _ in fs] == [n for n, _ in vs]
    names = {n for n, _, _ in one_arg} | {n for n, _, _ in two_arg}
    assert {"neg", "cube", "explog", "complex", "add2", "div2", "gt2", "lt2", "eq2"} <= names


@given(small_floats)
@pytest.mark.parametrize("name, fn, scalar_fn", one_arg)
def test_one_arg_forward_matches_floats(name: str, fn, scalar_fn, x: float) -> None:
    assert scalar_fn(Scalar(x)).data == pytest.approx(fn(x))


@given(small_floats, small_floats)
@pytest.mark.parametrize("name, fn, scalar_fn", two_arg)
def test_two_arg_forward_matches_floats(name: str, fn, scalar_fn, x: float, y: float) -> None:
    assert scalar_fn(Scalar(x), Scalar(y)).data == pytest.approx(fn(x, y))


def _smooth_at(fn, *xs: float) -> bool:
    """Skip points next to a kink or jump, where central differences disagree with backward."""
    eps = 1e-3
    for i in range(len(xs)):
        up = list(xs)
        up[i] += eps
        down = list(xs)
        down[i] -= eps
        mid = fn(*xs)
        if abs((fn(*up) - mid) - (mid - fn(*down))) > 1e-4 * max(1.0, abs(mid)):
            return False
    return True


@given(small_floats)
@pytest.mark.parametrize("name, fn, scalar_fn", one_arg)
def test_one_arg_derivative_matches_central_difference(name, fn, scalar_fn, x: float) -> None:
    if _smooth_at(fn, x):
        derivative_check(scalar_fn, Scalar(x))


@given(small_floats, small_floats)
@pytest.mark.parametrize("name, fn, scalar_fn", two_arg)
def test_two_arg_derivative_matches_central_difference(name, fn, scalar_fn, x, y) -> None:
    if _smooth_at(fn, x, y):
        derivative_check(scalar_fn, Scalar(x), Scalar(y))


class WrongExp(ScalarFunction):
    """A deliberately wrong backward: forgets the chain rule's factor e^x."""

    @staticmethod
    def forward(ctx: Context, a: float) -> float:
        return math.exp(a)

    @staticmethod
    def backward(ctx: Context, d_output: float) -> float:
        return d_output


def test_derivative_check_catches_a_wrong_backward() -> None:
    with pytest.raises(
        AssertionError, match=r"argument 0.*backward gave 1\.0.*central difference gave 7\.389"
    ):
        derivative_check(lambda x: WrongExp.apply(x), Scalar(2.0))


def test_reprs_match_the_docs() -> None:
    assert repr(Scalar(10)) == "Scalar(10.000000)"
    assert repr(minitorch.ScalarHistory()) == "ScalarHistory(last_fn=None, ctx=None, inputs=[])"


def test_scalar_operators_compose_the_primitives() -> None:
    a, b = Scalar(6.0), Scalar(3.0)
    assert (a - b).data == 3.0 and (a / b).data == 2.0
    assert (1.0 - a).data == -5.0 and (12.0 / a).data == 2.0
    assert (a > b).data == 1.0 and (a < b).data == 0.0 and (a == a).data == 1.0
    assert (a - b).history.last_fn is minitorch.scalar_functions.Add
    assert (a / b).history.last_fn is minitorch.scalar_functions.Mul
    assert bool(Scalar(0.0)) is False and float(a) == 6.0
    assert (-a).data == -6.0 and (2 + a).data == 8.0 and (2 * a).data == 12.0


def test_leaf_constant_and_names() -> None:
    x = Scalar(1.0, name="x")
    assert x.is_leaf() and not x.is_constant() and x.name == "x"
    c = Scalar(1.0, None)
    assert c.is_constant() and not c.is_leaf()
    y = x * 2
    assert not y.is_leaf() and y.name == str(y.unique_id)
    assert y.parents[0] is x and y.parents[1].is_constant()
    with pytest.raises(ValueError, match="leaves"):
        y.accumulate_derivative(1.0)


def test_raw_numbers_become_constants() -> None:
    x = Scalar(2.0)
    y = minitorch.scalar_functions.Mul.apply(x, 4)
    y.backward()
    assert x.derivative == 4.0
    assert y.history.inputs[1].is_constant() and y.history.inputs[1].derivative is None


class ForwardOnly(ScalarFunction):
    @staticmethod
    def forward(ctx: Context, x: float) -> float:
        return x * 5


def test_a_forward_only_function_runs_forward_and_explains_backward() -> None:
    out = ForwardOnly.apply(Scalar(2.0))
    assert out.data == 10.0
    with pytest.raises(NotImplementedError, match="ForwardOnly defines no backward"):
        out.backward()


class ReturnsText(ScalarFunction):
    @staticmethod
    def forward(ctx: Context, x: float) -> float:
        return "ten"  # type: ignore[return-value]


class TooManyDerivatives(ScalarFunction):
    @staticmethod
    def forward(ctx: Context, x: float) -> float:
        return x

    @staticmethod
    def backward(ctx: Context, d: float) -> tuple[float, float]:
        return d, d


def test_bad_functions_get_errors_naming_them() -> None:
    with pytest.raises(TypeError, match="ReturnsText.forward must return a float.*'ten'"):
        ReturnsText.apply(Scalar(1.0))
    with pytest.raises(ValueError, match="TooManyDerivatives.backward returned 2 derivative"):
        TooManyDerivatives.apply(Scalar(1.0)).backward()
    with pytest.raises(TypeError, match="Mul.apply needs a real number.*'a'"):
        minitorch.scalar_functions.Mul.apply(Scalar(1.0), "a")
    with pytest.raises(TypeError, match="Scalar needs a real number"):
        Scalar("1")  # type: ignore[arg-type]


def test_backward_on_a_constant_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"backward\(\) on a constant Scalar\(3.000000\)"):
        Scalar(3.0, None).backward()


def test_log_of_a_non_positive_scalar_is_ieee() -> None:
    assert math.isnan(Scalar(-2.0).log().data)
    assert Scalar(0.0).log().data == -math.inf


def test_sigmoid_derivative_is_stable_far_out() -> None:
    x = Scalar(-800.0)
    y = x.sigmoid()
    y.backward()
    assert y.data == 0.0 and x.derivative == 0.0
    assert operators.sigmoid(800.0) == 1.0


def test_sgd_steps_scalars_downhill() -> None:
    p = minitorch.Parameter(Scalar(3.0))
    opt = minitorch.SGD([p], lr=0.25)
    for _ in range(50):
        opt.zero_grad()
        loss = (p.value - 1.0) * (p.value - 1.0)
        loss.backward()
        opt.step()
    assert p.value.data == pytest.approx(1.0, abs=1e-6)
    assert p.value.is_leaf()
    with pytest.raises(ValueError, match="lr=0"):
        minitorch.SGD([p], lr=0)
