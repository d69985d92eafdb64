"""Per-operation overhead on small tensors: minitorch's fast backend against PyTorch and numpy.

One of two workloads (`--workload`) on 10 x 10 tensors of `--dtype`, timed per call,
interleaved round by round:

* `a + b`: one elementwise operation (the cost of one trip through the library: Function
  and Context, output allocation, broadcasting check, kernel dispatch);
* `(a @ b).relu().sum()` then `backward()`: a forward and backward pass through three
  operations with gradients (numpy has no autograd, so its figure is the forward alone).

Prints microseconds per call and, last, `ratio ours/torch: R` (the median over rounds of
each round's ratio).

    python bench/op_overhead.py --workload add|graph [--rounds 9] [--number 2000] [--dtype float64]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import (  # noqa: E402
    add_dtype_option,
    interleaved,
    median_ratio,
    print_final_ratio,
    ratio_line,
)

import minitorch  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("add", "graph"), default="add")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--number", type=int, default=2000, help="calls per round")
    add_dtype_option(parser)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x, y = rng.random((10, 10)).astype(args.dtype), rng.random((10, 10)).astype(args.dtype)
    fast = minitorch.FastBackend
    a = minitorch.tensor(x, backend=fast, requires_grad=True, dtype=args.dtype)
    b = minitorch.tensor(y, backend=fast, requires_grad=True, dtype=args.dtype)

    def ours_backward() -> None:
        (a @ b).relu().sum().backward()

    if args.workload == "add":
        title = "a + b"
        contenders = {"minitorch": lambda: a + b, "numpy": lambda: x + y}
    else:
        title = "(a @ b).relu().sum().backward()"
        contenders = {
            "minitorch": ours_backward,
            "numpy (forward only)": lambda: np.maximum(x @ y, 0).sum(),
        }
    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        ta = torch.tensor(x, requires_grad=True)
        tb = torch.tensor(y, requires_grad=True)

        def torch_backward() -> None:
            (ta @ tb).relu().sum().backward()

        contenders["torch"] = (lambda: ta + tb) if args.workload == "add" else torch_backward
    except ImportError:
        print("PyTorch is not installed: no ratio to PyTorch")

    times = interleaved(contenders, rounds=args.rounds, number=args.number)
    print(f"{title}, 10x10 {args.dtype}, median of {args.rounds} rounds of {args.number} calls")
    for name, ts in times.items():
        us = sorted(t * 1e6 for t in ts)
        print(f"  {name:22s} {statistics.median(us):8.2f} us  (range {us[0]:.2f}-{us[-1]:.2f})")
    if "torch" in times:
        print("  " + ratio_line(times["minitorch"], times["torch"], "minitorch / torch time"))
        print_final_ratio("ours/torch", median_ratio(times["minitorch"], times["torch"]))


if __name__ == "__main__":
    main()
