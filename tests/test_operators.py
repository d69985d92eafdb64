import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitorch import operators
from minitorch.operators import (
    add,
    addLists,
    eq,
    exp,
    id,
    inv,
    inv_back,
    is_close,
    log,
    log_back,
    lt,
    map,
    max,
    mul,
    neg,
    negList,
    prod,
    reduce,
    relu,
    relu_back,
    sigmoid,
    sigmoid_back,
    sum,
    zipWith,
)

from .strategies import small_floats


@given(small_floats, small_floats)
def test_binary_ops_match_python(x: float, y: float) -> None:
    assert mul(x, y) == x * y
    assert add(x, y) == x + y
    assert lt(x, y) == (1.0 if x < y else 0.0)
    assert eq(x, y) == (1.0 if x == y else 0.0)
    assert max(x, y) == (x if x > y else y)
    assert is_close(x, y) == (1.0 if abs(x - y) < 1e-2 else 0.0)


@given(small_floats)
def test_unary_ops_match_python(x: float) -> None:
    assert id(x) == x
    assert neg(x) == -x
    assert relu(x) == (x if x > 0 else 0.0)
    assert exp(x) == pytest.approx(math.exp(x))
    if x > 0:
        assert log(x) == pytest.approx(math.log(x))
    if x != 0:
        assert inv(x) == pytest.approx(1.0 / x)


@given(small_floats)
def test_sigmoid_is_a_symmetric_probability(x: float) -> None:
    s = sigmoid(x)
    assert 0.0 <= s <= 1.0
    assert s + sigmoid(-x) == pytest.approx(1.0)
    assert sigmoid(0.0) == 0.5


@given(small_floats, small_floats)
def test_sigmoid_is_monotone(x: float, y: float) -> None:
    if x < y:
        assert sigmoid(x) <= sigmoid(y)


def test_sigmoid_is_stable_for_large_inputs() -> None:
    assert sigmoid(1000.0) == 1.0
    assert sigmoid(-1000.0) == 0.0
    assert sigmoid(-700.0) > 0.0  # two-branch form keeps tiny probabilities


@given(small_floats, small_floats)
def test_backward_helpers_match_central_differences(x: float, d: float) -> None:
    eps = 1e-6
    if abs(x) > 1e-3:
        assert relu_back(x, d) == (d if x > 0 else 0.0)
    if x > 1e-2:
        assert log_back(x, d) == pytest.approx(
            d * (math.log(x + eps) - math.log(x - eps)) / (2 * eps), rel=1e-4, abs=1e-4
        )
    if abs(x) > 1e-1:
        assert inv_back(x, d) == pytest.approx(
            d * (1 / (x + eps) - 1 / (x - eps)) / (2 * eps), rel=1e-4, abs=1e-4
        )
    assert sigmoid_back(x, d) == pytest.approx(
        d * (sigmoid(x + eps) - sigmoid(x - eps)) / (2 * eps), rel=1e-4, abs=1e-6
    )


def test_edges_of_the_domains_follow_ieee_rules() -> None:
    assert log(0.0) == -math.inf and log(-0.0) == -math.inf
    assert math.isnan(log(-1.0))
    assert inv(0.0) == math.inf and inv(-0.0) == -math.inf
    assert exp(1e6) == math.inf


@given(st.lists(small_floats, max_size=10))
def test_list_helpers(ls: list[float]) -> None:
    assert negList(ls) == [-x for x in ls]
    assert addLists(ls, ls) == [x + x for x in ls]
    assert map(neg)(ls) == [-x for x in ls]
    assert zipWith(mul)(ls, ls) == [x * x for x in ls]
    assert sum(ls) == pytest.approx(math.fsum(ls), abs=1e-9)
    assert reduce(add, 0.0)(ls) == sum(ls)


def test_sum_and_prod_of_empty_lists() -> None:
    assert sum([]) == 0
    assert prod([]) == 1
    assert prod([2.0, 3.0, 4.0]) == 24.0


def test_zipwith_refuses_lists_of_different_lengths() -> None:
    with pytest.raises(ValueError):
        addLists([1.0, 2.0], [1.0])


def test_operators_declares_its_api() -> None:
    for name in [
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
        "log_back",
        "inv_back",
        "relu_back",
        "map",
        "zipWith",
        "reduce",
        "negList",
        "addLists",
        "sum",
        "prod",
    ]:
        assert name in operators.__all__
