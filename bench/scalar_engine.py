"""Scalar engine benchmark: one training epoch of a 2-10-10-1 ReLU MLP over 50 points.

Each engine builds the same network (same initial weights) from its own scalar type and
runs the same epoch: forward over every point into the mean hinge loss
`relu(1 - y * score)` (y = +-1), one backward pass, one SGD step. That is full-batch
gradient descent, the loop `minitorch train` runs and micrograd's own demo uses.

minitorch (Parameters stepped by `minitorch.SGD`), micrograd, and PyTorch 0-dim float64
tensors when torch is installed, are interleaved round by round in one process with the
cyclic garbage collector left on as users have it. Each engine is charged for the
collector work its own epoch causes and no other's: the collections its allocations
trigger during the epoch, plus the cost of collecting the garbage it leaves behind
(a full collection right after the epoch, minus the same collection over the clean heap
that follows). micrograd's closures leave a reference cycle per node for the collector;
minitorch's graphs are freed by reference counting. Prints each median epoch time and,
last, `ratio ours/micrograd: R` (the median over rounds of each round's ratio). Scalars
are Python floats: there is no --dtype.

    python bench/scalar_engine.py [--rounds 21] [--points 50] [--per-point]

`--per-point` runs the course's loop instead: one backward per point (small graphs).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from typing import Any, Callable

import minitorch

sys.path.insert(0, os.path.dirname(__file__))
from _timing import print_final_ratio  # noqa: E402

Epoch = Callable[[], None]
Init = list[tuple[list[list[float]], list[float]]]


def weights(seed: int, sizes: list[int]) -> Init:
    """One shared initialisation, so every engine trains the same network."""
    rng = random.Random(seed)
    return [
        (
            [[rng.uniform(-1, 1) for _ in range(n_out)] for _ in range(n_in)],
            [rng.uniform(-1, 1) for _ in range(n_out)],
        )
        for n_in, n_out in zip(sizes, sizes[1:])
    ]


class Holder:
    """A parameter slot for engines without one: `.value` is the engine's scalar."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def mlp_epoch(
    init: Init,
    data: list,
    make: Callable[[float], Any],
    step: Callable[[list], None],
    per_point: bool,
) -> Epoch:
    """An epoch over any scalar type with `+ *`, `.relu()` and `.backward()`.

    `make(v)` returns a parameter (anything with `.value`); `step(params)` applies SGD and
    clears the gradients.
    """
    layers = [([[make(w) for w in row] for row in W], [make(b) for b in B]) for W, B in init]
    params = [p for W, B in layers for row in W for p in row] + [p for _, B in layers for p in B]
    last = len(layers) - 1
    scale = 1.0 / len(data)

    def forward(x: list[Any]) -> Any:
        for k, (W, B) in enumerate(layers):
            out = []
            for j in range(len(B)):
                s = B[j].value
                for i in range(len(x)):
                    s = s + x[i] * W[i][j].value
                out.append(s.relu() if k < last else s)
            x = out
        return x[0]

    def epoch() -> None:
        total = 0.0
        for (x1, x2), label in data:
            loss = (1.0 + (-label) * forward([x1, x2])).relu() * scale
            if per_point:
                loss.backward()
            else:
                total = loss + total
        if not per_point:
            total.backward()
        step(params)

    return epoch


def minitorch_epoch(init: Init, data: list, lr: float, per_point: bool) -> Epoch:
    """Ours, trained the library's way: Parameters updated by `minitorch.SGD`."""
    params: list[minitorch.Parameter] = []

    def make(v: float) -> minitorch.Parameter:
        params.append(minitorch.Parameter(minitorch.Scalar(v)))
        return params[-1]

    def step(_: list) -> None:
        optim.step()
        optim.zero_grad()

    epoch = mlp_epoch(init, data, make, step, per_point)
    optim = minitorch.SGD(params, lr)
    return epoch


def micrograd_epoch(init: Init, data: list, lr: float, per_point: bool) -> Epoch:
    from micrograd.engine import Value

    def step(params: list) -> None:
        for p in params:
            p.value.data -= lr * p.value.grad
            p.value.grad = 0.0

    return mlp_epoch(init, data, lambda v: Holder(Value(v)), step, per_point)


def torch_epoch(init: Init, data: list, lr: float, per_point: bool) -> Epoch:
    import torch

    def make(v: float) -> Holder:
        return Holder(torch.tensor(v, dtype=torch.float64, requires_grad=True))

    def step(params: list) -> None:
        with torch.no_grad():
            for p in params:
                if p.value.grad is not None:
                    p.value -= lr * p.value.grad
                    p.value.grad = None

    return mlp_epoch(init, data, make, step, per_point)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="epochs timed per engine")
    parser.add_argument("--points", type=int, default=50)
    parser.add_argument("--per-point", action="store_true", help="one backward per point")
    args = parser.parse_args()

    graph = minitorch.datasets["Xor"](args.points, seed=0)
    data = [(x, 1.0 if y == 1 else -1.0) for x, y in zip(graph.X, graph.y)]
    init = weights(0, [2, 10, 10, 1])
    engines: dict[str, Callable[..., Epoch]] = {
        "minitorch": minitorch_epoch,
        "micrograd": micrograd_epoch,
    }
    try:
        import torch

        # One thread: 0-dim ops gain nothing from more, and idle workers spinning on a
        # 2-core machine would steal time from the engines timed after them.
        torch.set_num_threads(1)
        engines["torch (0-dim float64)"] = torch_epoch
    except ImportError:
        pass
    epochs = {name: make(init, data, 0.05, args.per_point) for name, make in engines.items()}
    times: dict[str, list[float]] = {name: [] for name in epochs}
    for epoch in epochs.values():  # warm-up
        epoch()
    gc.collect()
    for _ in range(args.rounds):
        for name, epoch in epochs.items():
            t0 = time.perf_counter()
            epoch()
            t1 = time.perf_counter()
            gc.collect()  # the garbage this epoch left for the collector
            t2 = time.perf_counter()
            gc.collect()  # the same pass with nothing to find: the baseline
            t3 = time.perf_counter()
            times[name].append((t1 - t0) + max(0.0, (t2 - t1) - (t3 - t2)))

    medians = {name: statistics.median(ts) for name, ts in times.items()}
    loop = "one backward per point" if args.per_point else "full batch, one backward"
    print(f"one epoch, 2-10-10-1 ReLU MLP, {args.points} points ({loop}), median of {args.rounds}:")
    for name, m in medians.items():
        print(f"  {name:24s} {m * 1e3:9.2f} ms")
    print(
        f"  minitorch / micrograd, median over median: "
        f"{medians['minitorch'] / medians['micrograd']:.3f}"
    )
    # Each round times the engines back to back, so a round's ratio is little affected by
    # the machine's load drifting between rounds: their median is the figure reported.
    rounds = sorted(a / b for a, b in zip(times["minitorch"], times["micrograd"]))
    print(f"  per-round ratios: range {rounds[0]:.3f} to {rounds[-1]:.3f}")
    print_final_ratio("ours/micrograd", statistics.median(rounds))


if __name__ == "__main__":
    main()
