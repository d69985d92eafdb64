"""Expressions typed by a user, such as `(x * y).log() + (x * y).exp()`, read safely.

The text is parsed with `ast` and checked against a whitelist: numbers, the variables, the
operators `+ - * /`, unary minus, `**` with a small whole exponent, and the library's unary
methods (`.log()`, `.exp()`, `.sigmoid()`, `.relu()`, also written `log(x)`). Evaluation
walks the checked tree itself: user text never reaches `eval` or `exec`, so no name, import
or attribute outside the whitelist can be reached. Size limits (length, depth, node count,
exponent) are checked before anything is computed, so a hostile input costs microseconds.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import operators

__all__ = [
    "ExpressionError",
    "Expression",
    "parse",
    "METHODS",
    "MAX_LENGTH",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_EXPONENT",
    "MAX_NUMBER",
]

METHODS = ("log", "exp", "sigmoid", "relu")
"""The methods a Scalar and a Tensor share, callable in an expression."""

MAX_LENGTH = 300  # characters: room for any expression a person types
# levels of the syntax tree (the evaluator recurses this deep at most: a few frames a level,
# far below Python's limit). A flat sum of n terms is n levels deep (`a + b + c` is
# `(a + b) + c`), so this must leave room for what MAX_NODES allows in a chain.
MAX_DEPTH = 100
MAX_NODES = 200  # syntax-tree nodes: bounds the size of the computation graph drawn
MAX_EXPONENT = 8  # `x ** n` becomes n - 1 multiplications, so n stays small
MAX_NUMBER = 1e9  # literals beyond this are typos or attempts to overflow

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
# Methods applied to a plain number (e.g. `log(2) * x`) use the float operators.
_ON_FLOAT: dict[str, Callable[[float], float]] = {
    name: getattr(operators, name) for name in METHODS
}
_ALLOWED = (
    f"numbers, {{vars}}, + - * /, ** with a whole exponent from 1 to {MAX_EXPONENT}, "
    f"and the methods {', '.join(f'.{m}()' for m in METHODS)}"
)


class ExpressionError(ValueError):
    """The text is not an expression this module accepts; the message says why."""


@dataclass(frozen=True)
class Expression:
    """A checked expression, callable on values for its variables.

    Attributes:
        text: the text as typed.
        variables: the names it may use, in order.
        used: the names it does use.
    """

    text: str
    variables: tuple[str, ...]
    used: frozenset[str]
    _tree: ast.expr = field(repr=False, compare=False)

    def __call__(self, *values: Any) -> Any:
        """Evaluate with `values[i]` for `variables[i]` (floats, Scalars or Tensors)."""
        if len(values) != len(self.variables):
            raise TypeError(
                f"{self.text!r} takes {len(self.variables)} values "
                f"({', '.join(self.variables)}), got {len(values)}"
            )
        return _evaluate(self._tree, dict(zip(self.variables, values)))


def parse(text: str, variables: Sequence[str] = ("x", "y")) -> Expression:
    """Check `text` and return it as an `Expression`.

    Args:
        text: the expression, e.g. `"(x * y).log() + (x * y).exp()"`.
        variables: the names it may use.

    Raises:
        ExpressionError: with a message for the user, for anything outside the whitelist
            or the size limits.
    """
    names = ", ".join(variables)
    if not isinstance(text, str):
        raise ExpressionError(f"expected the expression as text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text):,} characters long; at most {MAX_LENGTH} are allowed"
        )
    if not text.strip():
        raise ExpressionError(
            f"type an expression in {names}, such as (x * y).log() + (x * y).exp()"
        )
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:  # includes "too many nested parentheses"
        where = f" (column {err.offset})" if err.offset else ""
        raise ExpressionError(f"not a valid expression: {err.msg}{where}") from None
    except (RecursionError, MemoryError, ValueError) as err:  # pathological input
        raise ExpressionError(f"not a valid expression: {type(err).__name__}") from None
    used = _check(tree, tuple(variables), _ALLOWED.format(vars=names))
    return Expression(text, tuple(variables), frozenset(used), tree)


def _check(tree: ast.expr, variables: tuple[str, ...], allowed: str) -> set[str]:
    """Walk the tree (iteratively) and raise on the first node outside the whitelist."""
    used: set[str] = set()
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)"
            )
        if count > MAX_NODES:
            raise ExpressionError(f"the expression is too large (more than {MAX_NODES} parts)")
        children = _children(node, variables, allowed)
        if isinstance(node, ast.Name):
            used.add(node.id)
        stack.extend((child, depth + 1) for child in children)
    return used


def _children(node: ast.AST, variables: tuple[str, ...], allowed: str) -> list[ast.expr]:
    """The sub-expressions of an allowed node; raises for a node that is not allowed."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(
                f"{_show(node)}: only numbers are allowed, not {type(value).__name__}"
            )
        if not abs(value) <= MAX_NUMBER:  # also catches nan from huge float literals
            raise ExpressionError(f"{_show(node)}: numbers may be at most {MAX_NUMBER:g} in size")
        return []
    if isinstance(node, ast.Name):
        if node.id not in variables:
            raise ExpressionError(f"{_show(node)}: unknown name; use {allowed}")
        return []
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            _check_exponent(node)
            return [node.left]
        if type(node.op) not in _BINARY:
            raise ExpressionError(f"{_show(node)}: the operator is not allowed; use {allowed}")
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(f"{_show(node)}: only unary minus (and plus) are allowed")
        return [node.operand]
    if isinstance(node, ast.Call):
        return [_check_call(node, allowed)]
    if isinstance(node, ast.Attribute):  # an attribute that is not called: x.data, x.__class__
        raise ExpressionError(_attribute_message(node, allowed))
    kind = type(node).__name__
    raise ExpressionError(f"{_show(node)}: {_KIND.get(kind, kind)} is not allowed; use {allowed}")


_KIND = {
    "Lambda": "a lambda",
    "Subscript": "indexing",
    "Compare": "a comparison",
    "BoolOp": "and/or",
    "NamedExpr": "an assignment",
    "IfExp": "if/else",
    "ListComp": "a comprehension",
    "GeneratorExp": "a comprehension",
    "JoinedStr": "an f-string",
    "Await": "await",
    "Yield": "yield",
}


def _check_call(node: ast.Call, allowed: str) -> ast.expr:
    """`e.log()` or `log(e)`: returns `e`."""
    func = node.func
    if isinstance(func, ast.Attribute):
        if func.attr not in METHODS or func.attr.startswith("_"):
            raise ExpressionError(_attribute_message(func, allowed))
        if node.args or node.keywords:
            raise ExpressionError(f"{_show(node)}: .{func.attr}() takes no arguments")
        return func.value
    if isinstance(func, ast.Name) and func.id in METHODS:
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            raise ExpressionError(f"{_show(node)}: {func.id}(...) takes exactly one argument")
        return node.args[0]
    raise ExpressionError(
        f"{_show(node)}: only the functions {', '.join(METHODS)} may be called; use {allowed}"
    )


def _attribute_message(node: ast.Attribute, allowed: str) -> str:
    if node.attr.startswith("__"):
        return f"{_show(node)}: names with double underscores are not allowed"
    return (
        f"{_show(node)}: .{node.attr} is not allowed; the only methods are "
        f"{', '.join(f'.{m}()' for m in METHODS)}"
    )


def _check_exponent(node: ast.BinOp) -> None:
    exponent = node.right
    ok = (
        isinstance(exponent, ast.Constant)
        and type(exponent.value) is int
        and 1 <= exponent.value <= MAX_EXPONENT
    )
    if not ok:
        raise ExpressionError(
            f"{_show(node)}: exponents must be whole numbers from 1 to {MAX_EXPONENT} "
            f"(x ** n is n copies of x multiplied)"
        )


def _show(node: ast.AST, limit: int = 40) -> str:
    """A short quotation of the offending part, for messages."""
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError):  # pragma: no cover - bounded by MAX_DEPTH
        text = type(node).__name__
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _evaluate(node: ast.expr, env: dict[str, Any]) -> Any:
    """Compute a checked tree (its depth is at most MAX_DEPTH, so recursion is safe)."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left = _evaluate(node.left, env)
        if isinstance(node.op, ast.Pow):
            out = left
            for _ in range(node.right.value - 1):  # type: ignore[attr-defined]
                out = out * left
            return out
        return _BINARY[type(node.op)](left, _evaluate(node.right, env))
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            name, arg = node.func.attr, node.func.value
        else:
            name, arg = node.func.id, node.args[0]  # type: ignore[attr-defined]
        value = _evaluate(arg, env)
        if isinstance(value, float):
            return _ON_FLOAT[name](value)
        return getattr(value, name)()  # name is one of METHODS: checked in _check_call
    raise AssertionError(f"unchecked node {type(node).__name__}")  # pragma: no cover
