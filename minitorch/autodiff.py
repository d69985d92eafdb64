"""The backpropagation engine shared by Scalars and Tensors.

A *variable* is anything with the small protocol below (`Variable`). The engine never looks
at values: it orders the graph and passes derivatives along it, so the same loop serves
`Scalar` and `Tensor`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from heapq import heapify, heappop, heappush
from typing import Any, Protocol

__all__ = [
    "Context",
    "Named",
    "Variable",
    "backpropagate",
    "central_difference",
    "grad",
    "is_grad_enabled",
    "next_unique_id",
    "no_grad",
    "topological_sort",
]


def central_difference(
    f: Callable[..., Any], *vals: Any, arg: int = 0, epsilon: float = 1e-6
) -> float:
    r"""Approximate $\partial f / \partial x_{arg}$ at `vals`.

    $f'_i(x) \approx
    \frac{f(\ldots, x_i + \epsilon, \ldots) - f(\ldots, x_i - \epsilon, \ldots)}{2\epsilon}$

    Args:
        f: a function of `len(vals)` arguments returning a number.
        *vals: the point to differentiate at.
        arg: which argument to vary.
        epsilon: the half-width of the difference.

    Returns:
        The central-difference estimate of the derivative.
    """
    if not 0 <= arg < len(vals):
        raise IndexError(f"central_difference: arg={arg} but f takes {len(vals)} values")
    up = list(vals)
    down = list(vals)
    up[arg] = vals[arg] + epsilon
    down[arg] = vals[arg] - epsilon
    return (float(f(*up)) - float(f(*down))) / (2.0 * epsilon)


class Variable(Protocol):
    """What the engine needs from a node of the computation graph."""

    @property
    def unique_id(self) -> int: ...

    def is_leaf(self) -> bool: ...

    def is_constant(self) -> bool: ...

    @property
    def parents(self) -> Iterable[Variable]: ...

    def chain_rule(
        self, d_output: Any, create_graph: bool = False
    ) -> Iterable[tuple[Variable, Any]]:
        """`(parent, derivative)` pairs; constants may be among them (they are skipped).

        With `create_graph` the derivatives are variables whose own history is recorded.
        """
        ...

    def accumulate_derivative(self, x: Any) -> None: ...

    def initial_derivative(self, d_output: Any, create_graph: bool) -> Any:
        """`d_output` (None: 1.0) as the derivative that starts a backward pass here."""
        ...


# Every variable, Scalar or Tensor, takes its `unique_id` from this one counter when it is
# created. Inputs exist before outputs, so ids increase along the graph: the order that
# `topological_sort` and `backpropagate` rely on.
next_unique_id = itertools.count(1).__next__


class Named:
    """The `name` of a variable: the label given at creation, else its unique id.

    Mixed into Scalar and Tensor, which store `_name` and `unique_id`.
    """

    __slots__ = ()
    _name: str | None
    unique_id: int

    @property
    def name(self) -> str:
        return self._name if self._name is not None else str(self.unique_id)

    @name.setter
    def name(self, value: str) -> None:
        self._name = value


class _GradMode(threading.local):
    """Whether function calls record history, per thread (as PyTorch's grad mode is): a
    page drawing under `no_grad()` must not stop a training thread from recording. A new
    thread starts with recording on."""

    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether new function calls record history in this thread (False inside
    `no_grad()`)."""
    return _grad_mode.enabled


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block, function calls record no history (like `torch.no_grad`).

    Use it for evaluation and parameter updates: results are constants, and nothing is
    saved for a backward pass. It holds in the calling thread only.
    """
    previous = _grad_mode.enabled
    _grad_mode.enabled = False
    try:
        yield
    finally:
        _grad_mode.enabled = previous


@dataclass(slots=True)
class Context:
    """What `forward` leaves for `backward`.

    Attributes:
        no_grad: True when no input needs a derivative; then nothing is saved.
        saved_values: the values given to `save_for_backward`.
    """

    no_grad: bool = False
    saved_values: tuple[Any, ...] = ()

    def save_for_backward(self, *values: Any) -> None:
        """Store `values` for the backward pass (skipped when `no_grad`)."""
        if self.no_grad:
            return
        self.saved_values = values

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The same tuple as `saved_values` (the tensor-side name)."""
        return self.saved_values


def topological_sort(variable: Variable) -> list[Variable]:
    """Order the graph behind `variable` so every node comes before the nodes it depends on.

    The output comes first (right-most first); constants are skipped.

    Every variable takes its `unique_id` from `next_unique_id` when it is created,
    and a function's inputs exist before its output, so each node's id is larger than its
    parents' ids: sorting the reachable nodes by decreasing id is a topological order.
    Collecting them is a plain loop (no recursion, so graphs of any depth work) and the
    sort runs in C.

    Args:
        variable: the right-most variable.

    Returns:
        Non-constant variables, each before all of its parents.
    """
    if variable.is_constant():
        return []
    found = {variable.unique_id: variable}
    todo = [variable]
    while todo:
        for parent in todo.pop().parents:
            uid = parent.unique_id
            if uid not in found and not parent.is_constant():
                found[uid] = parent
                todo.append(parent)
    return [found[uid] for uid in sorted(found, reverse=True)]


def backpropagate(variable: Variable, deriv: Any, create_graph: bool = False) -> None:
    """Pass `deriv` (d output / d `variable`) back through the graph to the leaves.

    Each node's derivative is complete (all its consumers have contributed) before it is
    passed on, exactly once; a leaf accumulates each share with `accumulate_derivative` as
    soon as it is computed (a leaf passes nothing on, so it need not wait).

    The loop visits nodes in the order of `topological_sort` (decreasing `unique_id`), but
    produces that order lazily with a heap of the nodes that have received a derivative:
    the largest id still waiting has no unvisited consumer, since consumers have larger
    ids. One pass instead of a sort followed by a walk, and nodes that no derivative
    reaches are never touched.

    Args:
        variable: the right-most variable.
        deriv: its derivative, e.g. 1.0 for a scalar loss.
        create_graph: record the backward pass itself, so that the derivatives left on
            the leaves have a history and can be differentiated again. Otherwise it runs
            under `no_grad`: derivatives are plain values and nothing extra is kept.
    """
    _propagate([(variable, deriv)], create_graph, None)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    create_graph: bool = False,
    materialize_grads: bool = False,
) -> tuple[Any, ...]:
    r"""The derivatives of `outputs` with respect to each of `inputs` (`torch.autograd.grad`).

    Computes $\sum_k g_k \, \partial y_k / \partial x_i$ for every input $x_i$, with
    $y_k$ the outputs and $g_k$ their `grad_outputs`, and leaves every `.derivative` /
    `.grad` untouched. Inputs may be leaves or intermediate results.

    Args:
        outputs: one Scalar / Tensor, or a sequence of them.
        inputs: one Scalar / Tensor, or a sequence of them.
        grad_outputs: the derivative to start from at each output (None: 1.0, which a
            Tensor output allows only when it has a single element).
        create_graph: record the computation of the derivatives, so that they can be
            differentiated again (a Hessian-vector product, a gradient penalty).
        materialize_grads: give zeros for an input the outputs do not depend on; without
            it, such an input is an error naming it (usually a mistake in the caller).

    Returns:
        One derivative per input, in order, shaped like that input.

    Raises:
        ValueError: naming an input that does not require a derivative, or that the
            outputs do not depend on (unless `materialize_grads`).
    """
    outputs, inputs = _sequence(outputs), _sequence(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = _sequence(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs given for {len(outputs)} outputs")
    for i, x in enumerate(inputs):
        if x.is_constant():
            raise ValueError(
                f"grad: input {i} ({_label(x)}) does not require a derivative (a constant, "
                "or made inside no_grad())"
            )
    starts = []
    for i, (y, d) in enumerate(zip(outputs, grad_outputs)):
        if y.is_constant():
            raise ValueError(
                f"grad: output {i} ({_label(y)}) has no history, so it depends on no input"
            )
        starts.append((y, y.initial_derivative(d, create_graph)))
    found = _propagate(starts, create_graph, {x.unique_id: None for x in inputs})
    result = []
    for i, x in enumerate(inputs):
        d = found[x.unique_id]
        if d is None:
            if not materialize_grads:
                raise ValueError(
                    f"grad: the outputs do not depend on input {i} ({_label(x)}); pass "
                    "materialize_grads=True to get zeros for it"
                )
            d = x.initial_derivative(0.0, create_graph)
        result.append(d)
    return tuple(result)


def _sequence(x: Any) -> list[Any]:
    """One variable (or value) as a one-item list; a list or tuple as a list."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _label(x: Any) -> str:
    """How an error message names a variable: its name (the unique id by default)."""
    return f"{type(x).__name__} {getattr(x, 'name', '?')!r}"


def _propagate(
    starts: list[tuple[Variable, Any]], create_graph: bool, wanted: dict[int, Any] | None
) -> dict[int, Any]:
    """The backward loop of `backpropagate` (see there), from one or more outputs.

    With `wanted` (a dict from unique id to None), the derivatives reaching those nodes are
    collected into it instead of accumulated on leaves, and the walk stops once no wanted
    node can still be reached (ids below the smallest wanted id lead only further back).
    """
    if create_graph:
        return _walk(starts, True, wanted)
    with no_grad():
        return _walk(starts, False, wanted)


def _walk(
    starts: list[tuple[Variable, Any]], create_graph: bool, wanted: dict[int, Any] | None
) -> dict[int, Any]:
    """`_propagate`'s loop, in the grad mode its caller chose."""
    derivs: dict[int, Any] = {}  # reached, not yet visited
    heap: list[tuple[int, Variable]] = []  # ids are unique
    for variable, deriv in starts:
        uid = variable.unique_id
        if uid in derivs:
            derivs[uid] = derivs[uid] + deriv
        else:
            derivs[uid] = deriv
            heappush(heap, (-uid, variable))
    if wanted is None:
        _accumulate(heap, derivs, create_graph)
        return {}
    stop = min(wanted, default=0)  # grad(): ids below every wanted one lead nowhere wanted
    while heap:
        _, node = heappop(heap)
        uid = node.unique_id
        if uid < stop:
            break
        d = derivs.pop(uid)
        if uid in wanted:
            wanted[uid] = d
        if node.is_leaf():
            continue
        pairs = node.chain_rule(d, True) if create_graph else node.chain_rule(d)
        for parent, d_parent in pairs:
            if parent.is_constant():
                continue
            uid = parent.unique_id
            if uid in derivs:
                derivs[uid] = derivs[uid] + d_parent  # never in place: d may be shared
            else:
                derivs[uid] = d_parent
                heappush(heap, (-uid, parent))
    return wanted


def _accumulate(
    heap: list[tuple[int, Variable]], derivs: dict[int, Any], create_graph: bool
) -> None:
    """`_walk`'s loop when the leaves accumulate (`backward`), the hottest loop of the
    scalar engine: a leaf's share goes to it as soon as it is computed, so leaves never
    wait in the heap; every other node is passed on once its derivative is complete."""
    pop, push, take = heappop, heappush, derivs.pop
    if any(node.is_leaf() for _, node in heap):  # a start that is itself a leaf
        for _, node in heap:
            if node.is_leaf():
                node.accumulate_derivative(take(node.unique_id))
        heap[:] = [entry for entry in heap if not entry[1].is_leaf()]
        heapify(heap)
    while heap:
        _, node = pop(heap)
        d = take(node.unique_id)
        pairs = node.chain_rule(d, True) if create_graph else node.chain_rule(d)
        for parent, d_parent in pairs:
            if parent.is_constant():
                continue
            if parent.is_leaf():
                parent.accumulate_derivative(d_parent)
                continue
            uid = parent.unique_id
            if uid in derivs:
                derivs[uid] = derivs[uid] + d_parent  # never in place: d may be shared
            else:
                derivs[uid] = d_parent
                push(heap, (-uid, parent))
