"""Scalar autodiff: a float that remembers how it was computed.

A `Scalar` is one node of the computation graph. Its `history` records the
`ScalarFunction` that produced it, that call's `Context` and the input Scalars;
`backward()` walks that graph with the shared engine in `autodiff`.

Node design: a Scalar holds its parents, never the other way round, so a graph is a DAG
with no reference cycles. When a loss goes out of scope its whole graph is freed by
reference counting at once, and the cyclic garbage collector has nothing to chase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from .autodiff import Context, Named, backpropagate, central_difference, next_unique_id, no_grad

if TYPE_CHECKING:
    from .scalar_functions import ScalarFunction

__all__ = ["Scalar", "ScalarHistory", "ScalarLike", "derivative_check"]

ScalarLike = Union[float, int, "Scalar"]


@dataclass(slots=True)
class ScalarHistory:
    """How a Scalar was made: the function, its context, and the input Scalars.

    `ScalarHistory()` (no function) marks a leaf, a variable that collects a derivative.
    """

    last_fn: type[ScalarFunction] | None = None
    ctx: Context | None = None
    inputs: Sequence[Scalar] = field(default_factory=list)


class Scalar(Named):
    """A float in the computation graph.

    Args:
        v: the value.
        back: its history; the default `ScalarHistory()` makes a leaf, `None` a constant.
        name: an optional label (defaults to the unique id).
    """

    # The history's three fields are stored flat on the node (`_fn`, `_ctx`, `_inputs`,
    # with `_inputs is None` for a constant): one object per graph node instead of two,
    # which is most of what makes the engine fast. `history` reads and writes them as one
    # ScalarHistory.
    __slots__ = (
        "__weakref__",
        "_ctx",
        "_fn",
        "_inputs",
        "_name",
        "data",
        "derivative",
        "unique_id",
    )

    def __init__(
        self, v: float, back: ScalarHistory | None = ScalarHistory(), name: str | None = None
    ) -> None:
        if type(v) is not float:
            v = _as_float(v, "Scalar")
        self.data = v
        self.history = back
        self.derivative: float | None = None
        self.unique_id = next_unique_id()
        self._name = name

    @property
    def history(self) -> ScalarHistory | None:
        """How this Scalar was made; `None` for a constant, `ScalarHistory()` for a leaf."""
        if self._inputs is None:
            return None
        return ScalarHistory(self._fn, self._ctx, list(self._inputs))

    @history.setter
    def history(self, back: ScalarHistory | None) -> None:
        if back is None:
            self._fn, self._ctx, self._inputs = None, None, None
        else:
            self._fn, self._ctx, self._inputs = back.last_fn, back.ctx, tuple(back.inputs)

    @property
    def grad(self) -> float | None:
        """The same as `derivative` (the PyTorch name)."""
        return self.derivative

    @grad.setter
    def grad(self, value: float | None) -> None:
        self.derivative = value

    def requires_grad_(self, flag: bool = True) -> Scalar:
        """Make this Scalar a leaf that collects a derivative (flag True) or a constant."""
        if not flag:
            self._fn, self._ctx, self._inputs = None, None, None
        elif self._inputs is None:
            self._inputs = ()
        return self

    def __repr__(self) -> str:
        return f"Scalar({self.data:f})"

    def __float__(self) -> float:
        return self.data

    def __bool__(self) -> bool:
        return bool(self.data)

    __hash__ = object.__hash__  # identity, so Scalars can sit in sets and dict keys

    # ---- operators: a few primitives, the rest composed -------------------------------------

    def __add__(self, b: ScalarLike) -> Scalar:
        return _add(self, b)

    def __radd__(self, b: ScalarLike) -> Scalar:
        return _add(b, self)

    def __sub__(self, b: ScalarLike) -> Scalar:
        return _add(self, _neg(b))

    def __rsub__(self, b: ScalarLike) -> Scalar:
        return _add(b, _neg(self))

    def __mul__(self, b: ScalarLike) -> Scalar:
        return _mul(self, b)

    def __rmul__(self, b: ScalarLike) -> Scalar:
        return _mul(b, self)

    def __truediv__(self, b: ScalarLike) -> Scalar:
        return _mul(self, _inv(b))

    def __rtruediv__(self, b: ScalarLike) -> Scalar:
        return _mul(b, _inv(self))

    def __neg__(self) -> Scalar:
        return _neg(self)

    def __lt__(self, b: ScalarLike) -> Scalar:
        return LT.apply(self, b)

    def __gt__(self, b: ScalarLike) -> Scalar:
        return LT.apply(b, self)

    def __eq__(self, b: ScalarLike) -> Scalar:  # type: ignore[override]
        return EQ.apply(self, b)

    def log(self) -> Scalar:
        r"""$\log(x)$"""
        return Log.apply(self)

    def exp(self) -> Scalar:
        r"""$e^x$"""
        return Exp.apply(self)

    def sigmoid(self) -> Scalar:
        r"""$\sigma(x)$"""
        return Sigmoid.apply(self)

    def relu(self) -> Scalar:
        r"""$\max(x, 0)$"""
        return ReLU.apply(self)

    # ---- the Variable protocol used by autodiff ----------------------------------------------

    def is_leaf(self) -> bool:
        """True for a variable created by the user (it collects a derivative)."""
        return self._fn is None and self._inputs is not None

    def is_constant(self) -> bool:
        """True when no derivative flows to this Scalar."""
        return self._inputs is None

    @property
    def parents(self) -> Sequence[Scalar]:
        """The inputs of the function that made this Scalar."""
        return self._inputs or ()

    def accumulate_derivative(self, x: float) -> None:
        """Add `x` to this leaf's derivative (a variable used twice gets both)."""
        if self._fn is not None or self._inputs is None:
            made = "a constant" if self._inputs is None else f"made by {self._fn.__name__}"
            raise ValueError(f"accumulate_derivative is for leaves; {self!r} is {made}")
        self.derivative = x if self.derivative is None else self.derivative + x

    def chain_rule(
        self, d_output: float | Scalar, create_graph: bool = False
    ) -> Iterable[tuple[Scalar, float | Scalar]]:
        """Pairs `(input, d_output * d self / d input)`, one for every input in argument order.

        Constants are included (the course's contract); `backpropagate` skips them. With
        `create_graph`, `d_output` and the derivatives are Scalars whose computation is
        recorded (see `ScalarFunction.recorded_backward`).
        """
        fn = self._fn
        if fn is None:
            return []
        if create_graph:
            derivs = fn.recorded_backward(self._inputs, self, d_output)
        else:
            derivs = fn.backward(self._ctx, d_output)
        if type(derivs) is not tuple:
            derivs = (derivs,)
        inputs = self._inputs
        if len(derivs) != len(inputs):
            raise ValueError(
                f"{fn.__name__}.backward returned {len(derivs)} derivative(s) "
                f"{derivs!r}, but the function took {len(inputs)} input(s)"
            )
        return zip(inputs, derivs)

    def initial_derivative(self, d_output: ScalarLike | None, create_graph: bool) -> Any:
        """`d_output` (None: 1.0) as a float, or as a Scalar when the pass is recorded."""
        d = 1.0 if d_output is None else d_output
        if not create_graph:
            return float(d)
        return d if isinstance(d, Scalar) else Scalar(_as_float(d, "backward"), None)

    def backward(self, d_output: ScalarLike | None = None, create_graph: bool = False) -> None:
        """Backpropagate from this Scalar: every leaf behind it collects its derivative.

        Derivatives accumulate, as in PyTorch: calling `backward` twice adds the second
        pass to the first. Reset them with `zero_grad` on an optimizer (or `x.grad = None`).

        Args:
            d_output: d(final output)/d(self); 1.0 by default.
            create_graph: record the backward pass, so that each leaf's `derivative` is a
                Scalar with a history that can be differentiated again (its
                `.backward()` then adds the second derivatives to the leaves: reset them
                first). Otherwise derivatives are floats.
        """
        if self._inputs is None:
            raise ValueError(
                f"backward() on a constant {self!r}: it has no history, so no derivative "
                "can flow (was it made inside no_grad(), or from plain numbers?)"
            )
        backpropagate(self, self.initial_derivative(d_output, create_graph), create_graph)


def _as_float(v: Any, where: str) -> float:
    """`v` as a float, or a TypeError naming `where` and the value."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where} needs a real number, got {v!r} of type {type(v).__name__}")
    return float(v)


def derivative_check(f: Callable[..., Scalar], *scalars: Scalar) -> None:
    """Check backpropagated derivatives of `f` against central differences.

    Resets the inputs' derivatives, runs `f(*scalars).backward()`, and compares each
    input's derivative with `central_difference` (relative and absolute tolerance 1e-2).

    Raises:
        AssertionError: naming the argument, both values and the inputs on a mismatch.
    """
    for x in scalars:
        x.derivative = None
    out = f(*scalars)
    out.backward()
    values = [x.data for x in scalars]
    with no_grad():
        for i, x in enumerate(scalars):
            expected = central_difference(
                lambda *vs: f(*[Scalar(v) for v in vs]).data, *values, arg=i
            )
            got = 0.0 if x.derivative is None else x.derivative
            if not np.isclose(got, expected, rtol=1e-2, atol=1e-2):
                raise AssertionError(
                    f"derivative_check failed for argument {i} of "
                    f"{getattr(f, '__name__', f)!s}: backward gave {got!r}, central "
                    f"difference gave {expected!r}, at inputs {values}"
                )


from .scalar_functions import EQ, LT, Add, Exp, Inv, Log, Mul, Neg, ReLU, Sigmoid  # noqa: E402

# The arithmetic operators run on every node: bind their `apply` once.
_add, _mul, _neg, _inv = Add.apply, Mul.apply, Neg.apply, Inv.apply
