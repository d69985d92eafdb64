"""The app's expression parser: the whitelist accepts the library's expressions, evaluates
them with the real Scalars, and rejects everything else with a message, running nothing."""

import builtins
import math
import time

import pytest

import minitorch
from minitorch.app import expr
from minitorch.app.expr import ExpressionError, parse

# Anything that reaches real Python would call this (through builtins), and fail the test.
SENTINEL = "_minitorch_app_sentinel"


@pytest.fixture
def sentinel():
    calls = []
    setattr(builtins, SENTINEL, lambda *a: calls.append(a))
    yield calls
    delattr(builtins, SENTINEL)


@pytest.mark.parametrize(
    "text, x, y, expected",
    [
        ("(x * y).log() + (x * y).exp()", 2.0, 0.5, math.log(1.0) + math.exp(1.0)),
        ("x + y * 2 - 1 / y", 1.0, 4.0, 1.0 + 8.0 - 0.25),
        ("-x + +y", 3.0, 5.0, 2.0),
        ("log(x) * sigmoid(y)", math.e, 0.0, 0.5),
        ("(x - 3).relu() + relu(x - 1)", 2.0, 0.0, 1.0),
        ("x ** 3 / y", 2.0, 4.0, 2.0),
        ("log(2) * x", 3.0, 0.0, 3 * math.log(2)),
        ("1.5e2 * x", 2.0, 0.0, 300.0),
    ],
)
def test_evaluates_with_floats_and_scalars(text, x, y, expected):
    e = parse(text)
    assert e(x, y) == pytest.approx(expected)
    out = e(minitorch.Scalar(x), minitorch.Scalar(y))
    assert isinstance(out, minitorch.Scalar)
    assert out.data == pytest.approx(expected)


def test_scalar_derivatives_match_central_difference():
    e = parse("(x * y).log() + (x * y).exp()")
    x, y = minitorch.Scalar(1.5), minitorch.Scalar(0.7)
    e(x, y).backward()
    assert x.derivative == pytest.approx(minitorch.central_difference(e, 1.5, 0.7, arg=0), rel=1e-5)
    assert y.derivative == pytest.approx(minitorch.central_difference(e, 1.5, 0.7, arg=1), rel=1e-5)


def test_reports_which_variables_are_used():
    assert parse("x.exp()").used == {"x"}
    assert parse("x * y").used == {"x", "y"}
    assert parse("a + 1", variables=("a",)).used == {"a"}


def test_works_on_tensors():
    t = minitorch.tensor([1.0, 2.0])
    out = parse("(x * 2).log() - x.relu()")(t, t)
    assert out.to_numpy().tolist() == pytest.approx([math.log(2) - 1, math.log(4) - 2])


def test_wrong_number_of_values():
    with pytest.raises(TypeError, match="takes 2 values"):
        parse("x")(1.0)


HOSTILE = [
    ("__import__('os').system('touch /tmp/pwned')", ".system is not allowed"),
    ("__import__('os')", "only the functions log, exp, sigmoid, relu may be called"),
    (f"{SENTINEL}(1)", "may be called"),
    ("x.__class__", "double underscores"),
    ("x.__class__.__mro__", "double underscores"),
    ("x.__init__()", "double underscores"),
    ("().__class__.__bases__[0].__subclasses__()", "double underscores"),
    ("x.data", ".data is not allowed"),
    ("x.backward()", ".backward"),
    ("(lambda: 1)()", "may be called"),
    ("lambda: 1", "a lambda is not allowed"),
    ("import os", "not a valid expression"),
    ("exec('1')", "may be called"),
    ("eval('x')", "may be called"),
    ("open('/etc/passwd')", "may be called"),
    ("9**9**9", "exponents must be whole numbers"),
    ("x ** 100", "exponents must be whole numbers"),
    ("x ** 0.5", "exponents must be whole numbers"),
    ("x ** -1", "exponents must be whole numbers"),
    ("1e999 * x", "numbers may be at most"),
    ("x + 'a'", "only numbers"),
    ("x if y else 1", "if/else is not allowed"),
    ("[x][0]", "not allowed"),
    ("x < y", "a comparison is not allowed"),
    ("(z := x)", "an assignment is not allowed"),
    ("x.log(1)", "takes no arguments"),
    ("log(x, y)", "exactly one argument"),
    ("z + 1", "unknown name"),
    ("f'{x}'", "an f-string is not allowed"),
    ("x // y", "operator is not allowed"),
    ("(" * 150 + "x" + ")" * 150, "not a valid expression|nested too deeply|characters long"),
    ("-" * 200 + "x", "nested too deeply"),
    ("+".join(["x"] * 150), "nested too deeply|too large"),
    ("x" * 10_000_000, "10,000,000 characters long"),
    ("", "type an expression"),
    ("   ", "type an expression"),
    ("x +", "not a valid expression"),
    ("x\0", "not a valid expression"),
]


@pytest.mark.parametrize(
    "text, message", HOSTILE, ids=lambda v: repr(v)[:40] if isinstance(v, str) else None
)
def test_hostile_text_is_refused_with_a_message_and_runs_nothing(text, message, sentinel):
    start = time.perf_counter()
    with pytest.raises(ExpressionError, match=message):
        parse(text)
    assert time.perf_counter() - start < 1.0
    assert sentinel == []


def test_non_text_is_refused():
    with pytest.raises(ExpressionError, match="as text"):
        parse(123)  # type: ignore[arg-type]


def test_limits_are_small():
    assert expr.MAX_LENGTH <= 1000 and expr.MAX_DEPTH <= 100 and expr.MAX_EXPONENT <= 10


def test_a_flat_sum_of_many_terms_is_not_nested_too_deeply():
    # a + b + ... is a left-leaning chain: 41 terms are 41 levels, not a deep nesting
    terms = 41
    f = expr.parse(" + ".join(["x"] * terms))
    assert f(minitorch.Scalar(2.0), minitorch.Scalar(0.0)).data == 2.0 * terms
