"""First-order backward, before and after higher-order derivatives: is `create_graph=False` as fast?

Times two workloads on this checkout and on another one (the code before the change), each
in its own fresh process, rounds alternating between the two trees so that a slow spell of
the machine hits both alike:

* scalar: a 2-10-10-1 ReLU MLP over 50 points as Scalars (the scalar engine benchmark's
  graph): building the loss, then `loss.backward()` alone, timed separately;
* tensor: one training epoch of a 2-100-100-1 ReLU MLP on the fast backend (batches of 10,
  sigmoid / log loss, SGD), whose backward runs every rewritten Function (log, inv, relu,
  permute, view, sum, matmul).

    git worktree add /tmp/minitorch-before <commit before the change>
    python bench/first_order.py --before /tmp/minitorch-before [--rounds 9]

Also counts the Python function calls of one scalar backward and one tensor epoch: a
figure a busy machine does not disturb. Prints the median of each figure for both trees and,
last, `ratio ours/before: R` for the
tensor epoch (R > 1: slower now).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _scalar_workload(minitorch, reps: int) -> dict[str, float]:
    import random

    rng = random.Random(0)
    sizes = [2, 10, 10, 1]
    layers = [
        (
            [[minitorch.Scalar(rng.uniform(-1, 1)) for _ in range(o)] for _ in range(i)],
            [minitorch.Scalar(rng.uniform(-1, 1)) for _ in range(o)],
        )
        for i, o in pairwise(sizes)
    ]
    data = [([rng.uniform(-1, 1), rng.uniform(-1, 1)], rng.choice([-1.0, 1.0])) for _ in range(50)]

    def loss():
        total = 0.0
        for x, y in data:
            h = x
            for k, (W, B) in enumerate(layers):
                out = []
                for j in range(len(B)):
                    s = B[j]
                    for i in range(len(h)):
                        s = s + h[i] * W[i][j]
                    out.append(s.relu() if k < len(layers) - 1 else s)
                h = out
            total = total + (1.0 - y * h[0]).relu()
        return total / len(data)

    forward, backward = [], []
    for _ in range(reps):
        start = time.perf_counter()
        out = loss()
        middle = time.perf_counter()
        out.backward()
        end = time.perf_counter()
        forward.append(middle - start)
        backward.append(end - middle)
    out = loss()
    return {
        "scalar forward": statistics.median(forward),
        "scalar backward": statistics.median(backward),
        "scalar backward calls": _python_calls(out.backward),
    }


def _tensor_workload(minitorch, reps: int) -> dict[str, float]:
    import numpy as np

    rng = np.random.default_rng(0)
    backend = minitorch.FastBackend
    sizes = [2, 100, 100, 1]
    params = []
    for i, o in pairwise(sizes):
        params.append(minitorch.tensor(rng.uniform(-0.3, 0.3, (i, o)).tolist(), backend=backend))
        params.append(minitorch.tensor(rng.uniform(-0.3, 0.3, (o,)).tolist(), backend=backend))
    for p in params:
        p.requires_grad_(True)
    X = rng.uniform(-1, 1, (50, 2))
    sign = np.where(X[:, 0] > 0, 1.0, -1.0)[:, None]
    batches = [
        (
            minitorch.tensor(X[i : i + 10].tolist(), backend=backend),
            minitorch.tensor(sign[i : i + 10].tolist(), backend=backend),
        )
        for i in range(0, 50, 10)
    ]

    def epoch():
        nonlocal params
        for x, s in batches:
            h = x
            for layer in range(3):
                h = h @ params[2 * layer] + params[2 * layer + 1]
                if layer < 2:
                    h = h.relu()
            loss = -((h * s).sigmoid().log()).sum() / h.shape[0]
            loss.backward()
            with minitorch.no_grad():
                params = [(p - 0.05 * p.grad).detach().requires_grad_(True) for p in params]
            loss.item()

    epoch()  # warm up: compile the kernels
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    return {"tensor epoch": statistics.median(times), "tensor epoch calls": _python_calls(epoch)}


def _python_calls(fn) -> int:
    """How many Python function calls `fn()` makes: a measure of the interpreter's work that,
    unlike a time, a busy machine does not disturb."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.runcall(fn)
    return pstats.Stats(profile).total_calls


def child(tree: str, reps: int) -> None:
    """Run both workloads with `minitorch` imported from `tree`; print the figures as JSON."""
    sys.path.insert(0, tree)
    import minitorch

    assert Path(minitorch.__file__).resolve().is_relative_to(Path(tree).resolve()), (
        f"imported {minitorch.__file__}, not the tree {tree}"
    )
    figures = _scalar_workload(minitorch, reps)
    figures.update(_tensor_workload(minitorch, reps))
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="a checkout of the code before")
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds")
    parser.add_argument("--reps", type=int, default=5, help="repetitions inside each round")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.reps)
        return
    trees = {"ours": str(HERE.parent), "before": args.before}
    results: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--before",
                    args.before,
                    "--child",
                    tree,
                    "--reps",
                    str(args.reps),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd="/",
                env={**os.environ},
            ).stdout
            for key, value in json.loads(out.strip().splitlines()[-1]).items():
                results[name].setdefault(key, []).append(value)
    print(f"median over {args.rounds} rounds (each the median of {args.reps} repetitions), ms")
    for key in results["ours"]:
        unit = 1 if key.endswith("calls") else 1e3  # a count of Python calls, or ms
        ours = statistics.median(results["ours"][key]) * unit
        before = statistics.median(results["before"][key]) * unit
        print(f"  {key:22s} ours {ours:9.2f}   before {before:9.2f}   ratio {ours / before:.3f}")
    ours = statistics.median(results["ours"]["tensor epoch"])
    before = statistics.median(results["before"]["tensor epoch"])
    print(f"ratio ours/before: {ours / before:.3f}")


if __name__ == "__main__":
    main()
