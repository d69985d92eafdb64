"""Functions on Scalars: each one a forward, what it saves, and a backward, on one screen.

Only these are primitives; subtraction, division and `>` are built from them in `Scalar`.
"""

from __future__ import annotations

from typing import Any

from . import operators
from .autodiff import Context, _grad_mode, next_unique_id
from .scalar import Scalar, _as_float

__all__ = [
    "EQ",
    "LT",
    "Add",
    "Exp",
    "Inv",
    "Log",
    "Mul",
    "Neg",
    "ReLU",
    "ScalarFunction",
    "Sigmoid",
]


class ScalarFunction:
    """A differentiable function of floats, lifted to Scalars by `apply`.

    Subclasses define static `forward(ctx, *floats) -> float` and
    `backward(ctx, d_output) -> float | tuple[float, ...]` (one derivative per input).
    """

    @classmethod
    def apply(cls, *vals: Any) -> Scalar:
        """Call `forward` on the inputs' floats and record the call in the result's history.

        Scalars and plain numbers are accepted; plain numbers become constants. The
        result is a constant too when no input needs a derivative or inside `no_grad()`.
        """
        floats = []
        need_grad = False
        for x in vals:
            if not isinstance(x, Scalar):
                return cls.apply(*_constants(cls, vals))
            floats.append(x.data)
            if x._inputs is not None:
                need_grad = True
        ctx = _new(Context)  # Context(no_grad, ()) without the cost of a Python __init__
        ctx.no_grad = not (need_grad and _grad_mode.enabled)
        ctx.saved_values = ()
        out = cls.forward(ctx, *floats)
        if type(out) is not float:
            out = _check_forward(cls, out)
        # Build the result without Scalar.__init__: this is the engine's hottest line.
        s = _new(Scalar)
        s.data = out
        s.derivative = None
        s.unique_id = next_unique_id()
        s._name = None
        if ctx.no_grad:
            s._fn = s._ctx = s._inputs = None
        else:
            s._fn, s._ctx, s._inputs = cls, ctx, vals
        return s

    @classmethod
    def recorded_backward(
        cls, inputs: tuple[Scalar, ...], output: Scalar, d_output: Scalar
    ) -> tuple[Scalar, ...]:
        """`backward` run on Scalars instead of floats, so that its computation is recorded.

        The values `forward` saved become the Scalars they came from: `forward` runs again
        on fresh float objects, and each saved float is identified (by identity) as one of
        the inputs or as the output. `backward`'s arithmetic (`*`, `/`, `-`, `>`) then
        builds a graph of the derivative. A saved float that is neither cannot be
        differentiated (its dependence on the inputs is unknown): that is an error.
        """
        fresh = [x.data * 1.0 for x in inputs]  # new float objects, one per input
        ctx = Context()
        out = cls.forward(ctx, *fresh)
        source = {id(out): output}
        source.update((id(f), x) for f, x in zip(fresh, inputs))  # an input wins a tie
        saved = []
        for v in ctx.saved_values:
            if isinstance(v, float):
                if id(v) not in source:
                    raise TypeError(
                        f"{cls.__name__} cannot be differentiated twice: its forward saves "
                        f"{v!r}, which is neither an input nor the output"
                    )
                v = source[id(v)]
            saved.append(v)
        ctx.saved_values = tuple(saved)
        derivs = cls.backward(ctx, d_output)
        if type(derivs) is not tuple:
            derivs = (derivs,)
        return tuple(d if isinstance(d, Scalar) else Scalar(d, None) for d in derivs)

    @classmethod
    def forward(cls, ctx: Context, *inputs: float) -> float:
        raise NotImplementedError(f"{cls.__name__} defines no forward(ctx, *inputs)")

    @classmethod
    def backward(cls, ctx: Context, d_output: float) -> Any:
        raise NotImplementedError(
            f"{cls.__name__} defines no backward(ctx, d_output), so no derivative can flow "
            "through it"
        )


_new = object.__new__


def _constants(cls: type, vals: tuple[Any, ...]) -> list[Scalar]:
    """The inputs of `cls.apply` as Scalars: plain numbers become constants."""
    return [v if isinstance(v, Scalar) else _constant(v, cls) for v in vals]


def _constant(v: Any, cls: type) -> Scalar:
    """A plain number as a constant Scalar, built as `apply` builds its result (a float, the
    common case, skips `Scalar.__init__`; anything else gets its checks)."""
    if type(v) is not float:
        return Scalar(_as_float(v, f"{cls.__name__}.apply"), None)
    s = _new(Scalar)
    s.data = v
    s.derivative = None
    s.unique_id = next_unique_id()
    s._name = None
    s._fn = s._ctx = s._inputs = None
    return s


def _check_forward(cls: type, out: Any) -> float:
    """`forward`'s result as a float, or a TypeError naming the function."""
    try:
        return _as_float(out, f"{cls.__name__}.forward")
    except TypeError:
        raise TypeError(
            f"{cls.__name__}.forward must return a float, but returned {out!r} "
            f"of type {type(out).__name__}"
        ) from None


class Add(ScalarFunction):
    r"""$f(x, y) = x + y$"""

    @staticmethod
    def forward(ctx: Context, a: float, b: float) -> float:
        return a + b

    @staticmethod
    def backward(ctx: Context, d_output: float) -> tuple[float, float]:
        return d_output, d_output


class Mul(ScalarFunction):
    r"""$f(x, y) = x \times y$"""

    @staticmethod
    def forward(ctx: Context, a: float, b: float) -> float:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, d_output: float) -> tuple[float, float]:
        a, b = ctx.saved_values
        return b * d_output, a * d_output


class Inv(ScalarFunction):
    r"""$f(x) = 1/x$"""

    @staticmethod
    def forward(ctx: Context, a: float) -> float:
        ctx.save_for_backward(a)
        return operators.inv(a)

    @staticmethod
    def backward(ctx: Context, d_output: float) -> float:
        (a,) = ctx.saved_values
        return operators.inv_back(a, d_output)


class Neg(ScalarFunction):
    r"""$f(x) = -x$"""

    @staticmethod
    def forward(ctx: Context, a: float) -> float:
        return -a

    @staticmethod
    def backward(ctx: Context, d_output: float) -> float:
        return -d_output


class Log(ScalarFunction):
    r"""$f(x) = \log(x)$"""

    @staticmethod
    def forward(ctx: Context, a: float) -> float:
        ctx.save_for_backward(a)
        return operators.log(a)

    @staticmethod
    def backward(ctx: Context, d_output: float) -> float:
        (a,) = ctx.saved_values
        return operators.log_back(a, d_output)


class Exp(ScalarFunction):
    r"""$f(x) = e^x$ (saves its output: $f'(x) = f(x)$)"""

    @staticmethod
    def forward(ctx: Context, a: float) -> float:
        out = operators.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, d_output: float) -> float:
        (out,) = ctx.saved_values
        return out * d_output


class Sigmoid(ScalarFunction):
    r"""$f(x) = \sigma(x)$ (saves its output: $f'(x) = f(x)(1 - f(x))$)"""

    @staticmethod
    def forward(ctx: Context, a: float) -> float:
        out = operators.sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, d_output: float) -> float:
        (out,) = ctx.saved_values
        return out * (1.0 - out) * d_output


class ReLU(ScalarFunction):
    r"""$f(x) = \max(x, 0)$"""

    @staticmethod
    def forward(ctx: Context, a: float) -> float:
        ctx.save_for_backward(a)
        return operators.relu(a)

    @staticmethod
    def backward(ctx: Context, d_output: float) -> float:
        (a,) = ctx.saved_values
        return operators.relu_back(a, d_output)


class _Comparison(ScalarFunction):
    """A 0/1 comparison: flat, so both derivatives are zero (almost everywhere)."""

    @staticmethod
    def backward(ctx: Context, d_output: float) -> tuple[float, float]:
        return 0.0, 0.0


class LT(_Comparison):
    r"""$f(x, y) = 1$ if $x < y$ else $0$"""

    @staticmethod
    def forward(ctx: Context, a: float, b: float) -> float:
        return operators.lt(a, b)


class EQ(_Comparison):
    r"""$f(x, y) = 1$ if $x = y$ else $0$"""

    @staticmethod
    def forward(ctx: Context, a: float, b: float) -> float:
        return operators.eq(a, b)
