"""Backpropagation replayed one node at a time, for the autodiff page.

`minitorch.backpropagate` runs the whole walk at once and keeps derivatives only on the
leaves. To *show* the walk, this replays it with the same public pieces the engine uses
(`topological_sort` for the order, each node's `chain_rule` for what it passes back) and
records every step, intermediate derivatives included. The test suite checks that the
replay ends where `backward()` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..autodiff import topological_sort

__all__ = ["BackpropStep", "backprop_steps", "derivatives_after"]


@dataclass(frozen=True)
class BackpropStep:
    """One visit of backpropagation.

    Attributes:
        node: the variable visited; its derivative is complete when it is visited.
        d_node: d output / d node.
        sends: `(input, derivative)` pairs it passes back (empty for a leaf, which keeps
            its derivative); constants, which take no derivative, are left out.
    """

    node: Any
    d_node: Any
    sends: tuple[tuple[Any, Any], ...]


def backprop_steps(output: Any, d_output: Any = 1.0) -> list[BackpropStep]:
    """Every visit of backpropagation from `output`, in the engine's order.

    Reads the graph only; no derivative is stored on any variable.
    """
    derivs: dict[int, Any] = {output.unique_id: d_output}
    steps = []
    for node in topological_sort(output):
        d = derivs.get(node.unique_id)
        if d is None:  # pragma: no cover - every sorted node is reachable from output
            continue
        sends = (
            ()
            if node.is_leaf()
            else tuple(
                (parent, d_parent)
                for parent, d_parent in node.chain_rule(d)
                if not parent.is_constant()
            )
        )
        for parent, d_parent in sends:
            uid = parent.unique_id
            derivs[uid] = derivs[uid] + d_parent if uid in derivs else d_parent
        steps.append(BackpropStep(node, d, sends))
    return steps


def derivatives_after(
    steps: list[BackpropStep], done: int, output: Any, d_output: Any = 1.0
) -> dict[int, Any]:
    """The derivative each variable has received after the first `done` steps, by unique_id.

    A node not yet visited may hold a partial sum (some of its consumers have not passed
    theirs back yet).
    """
    derivs: dict[int, Any] = {output.unique_id: d_output}
    for step in steps[:done]:
        for parent, d_parent in step.sends:
            uid = parent.unique_id
            derivs[uid] = derivs[uid] + d_parent if uid in derivs else d_parent
    return derivs
