"""The test catalogue: one set of named functions, written on floats and on variables.

`MathTest` writes each function with `operators` on floats; `MathTestVariable` writes the
same names with Scalar/Tensor methods. Tests pair them by name, so every op is checked
against one reference from one list. Names ending in `2` take two arguments, names ending
in `red` are reductions, the rest take one.
"""

from __future__ import annotations

from typing import Any, Callable

from . import operators

__all__ = ["MathTest", "MathTestVariable"]

Fn = Callable[..., Any]


class MathTest:
    """The catalogue on floats (reductions take a list)."""

    @staticmethod
    def neg(a: float) -> float:
        return operators.neg(a)

    @staticmethod
    def addConstant(a: float) -> float:  # noqa: N802 - the course's names
        return operators.add(a, 5)

    @staticmethod
    def square(a: float) -> float:
        return operators.mul(a, a)

    @staticmethod
    def cube(a: float) -> float:
        return operators.mul(a, operators.mul(a, a))

    @staticmethod
    def subConstant(a: float) -> float:  # noqa: N802
        return operators.add(a, -5)

    @staticmethod
    def multConstant(a: float) -> float:  # noqa: N802
        return operators.mul(a, 5)

    @staticmethod
    def div(a: float) -> float:
        return a / 5

    @staticmethod
    def inv(a: float) -> float:
        return operators.inv(a + 3.5)

    @staticmethod
    def sig(a: float) -> float:
        return operators.sigmoid(a)

    @staticmethod
    def log(a: float) -> float:
        return operators.log(a + 100000)

    @staticmethod
    def relu(a: float) -> float:
        return operators.relu(a + 5.5)

    @staticmethod
    def exp(a: float) -> float:
        return operators.exp(a - 200)

    @staticmethod
    def explog(a: float) -> float:
        return operators.log(a + 100000) + operators.exp(a - 200)

    @staticmethod
    def add2(a: float, b: float) -> float:
        return a + b

    @staticmethod
    def mul2(a: float, b: float) -> float:
        return a * b

    @staticmethod
    def div2(a: float, b: float) -> float:
        return a / (b + 5.5)

    @staticmethod
    def gt2(a: float, b: float) -> float:
        return operators.lt(b, a + 1.2)

    @staticmethod
    def lt2(a: float, b: float) -> float:
        return operators.lt(a + 1.2, b)

    @staticmethod
    def eq2(a: float, b: float) -> float:
        return operators.eq(a, b + 5.5)

    @staticmethod
    def sum_red(a: list[float]) -> float:
        return operators.sum(a)

    @staticmethod
    def mean_red(a: list[float]) -> float:
        return operators.sum(a) / float(len(a))

    @staticmethod
    def mean_full_red(a: list[float]) -> float:
        return operators.sum(a) / float(len(a))

    @staticmethod
    def complex(a: float) -> float:
        return (
            operators.log(
                operators.sigmoid(operators.relu(operators.relu(a * 10 + 7) * 6 + 5) * 10)
            )
            / 50
        )

    @classmethod
    def _tests(cls) -> tuple[list[tuple[str, Fn]], list[tuple[str, Fn]], list[tuple[str, Fn]]]:
        """The catalogue as `(one_arg, two_arg, red_arg)` lists of `(name, fn)`."""
        one_arg, two_arg, red_arg = [], [], []
        for name in sorted(vars(MathTest)):
            if name.startswith("_"):
                continue
            fn = getattr(cls, name)
            if name.endswith("red"):
                red_arg.append((name, fn))
            elif name.endswith("2"):
                two_arg.append((name, fn))
            else:
                one_arg.append((name, fn))
        return one_arg, two_arg, red_arg

    @classmethod
    def _comp_testing(
        cls,
    ) -> tuple[list[tuple[str, Fn, Fn]], list[tuple[str, Fn, Fn]], list[tuple[str, Fn, Fn]]]:
        """The catalogue as `(name, float_fn, variable_fn)` triples, paired by name."""
        floats = MathTest._tests()
        variables = MathTestVariable._tests()
        return tuple(  # type: ignore[return-value]
            [(name, f, dict(vs)[name]) for name, f in fs] for fs, vs in zip(floats, variables)
        )


class MathTestVariable(MathTest):
    """The same catalogue with Scalar/Tensor methods (reductions over dim 0, or all)."""

    @staticmethod
    def neg(a: Any) -> Any:
        return -a

    @staticmethod
    def addConstant(a: Any) -> Any:  # noqa: N802
        return 5 + a

    @staticmethod
    def square(a: Any) -> Any:
        return a * a

    @staticmethod
    def cube(a: Any) -> Any:
        return a * a * a

    @staticmethod
    def subConstant(a: Any) -> Any:  # noqa: N802
        return a - 5

    @staticmethod
    def multConstant(a: Any) -> Any:  # noqa: N802
        return 5 * a

    @staticmethod
    def div(a: Any) -> Any:
        return a / 5

    @staticmethod
    def inv(a: Any) -> Any:
        return 1.0 / (a + 3.5)

    @staticmethod
    def sig(a: Any) -> Any:
        return a.sigmoid()

    @staticmethod
    def log(a: Any) -> Any:
        return (a + 100000).log()

    @staticmethod
    def relu(a: Any) -> Any:
        return (a + 5.5).relu()

    @staticmethod
    def exp(a: Any) -> Any:
        return (a - 200).exp()

    @staticmethod
    def explog(a: Any) -> Any:
        return (a + 100000).log() + (a - 200).exp()

    @staticmethod
    def add2(a: Any, b: Any) -> Any:
        return a + b

    @staticmethod
    def mul2(a: Any, b: Any) -> Any:
        return a * b

    @staticmethod
    def div2(a: Any, b: Any) -> Any:
        return a / (b + 5.5)

    @staticmethod
    def gt2(a: Any, b: Any) -> Any:
        return a + 1.2 > b

    @staticmethod
    def lt2(a: Any, b: Any) -> Any:
        return a + 1.2 < b

    @staticmethod
    def eq2(a: Any, b: Any) -> Any:
        return a == (b + 5.5)

    @staticmethod
    def sum_red(a: Any) -> Any:
        return a.sum(0)

    @staticmethod
    def mean_red(a: Any) -> Any:
        return a.mean(0)

    @staticmethod
    def mean_full_red(a: Any) -> Any:
        return a.mean()

    @staticmethod
    def complex(a: Any) -> Any:
        return (((a * 10 + 7).relu() * 6 + 5).relu() * 10).sigmoid().log() / 50
