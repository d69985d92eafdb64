"""The kernels whose scalar functions gained NaN/inf handling, against numpy on the same data.

Branch `ieee` made `max`, `relu`, `relu_back`, `inv`, `log`, `log_back`, `inv_back`, `exp` and
`sqrt` follow IEEE/PyTorch (NaN propagates, division by zero gives a signed infinity) in the
source every backend compiles. This times each of them on the fast backend, interleaved with
numpy's equivalent, and prints milliseconds per call and our ratio to numpy. Run it on `main`
and on the branch (same machine, idle) to see what the semantics cost.

    python bench/ieee_kernels.py [--size 1000000] [--rounds 7] [--number 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import interleaved, ratio_line  # noqa: E402

import minitorch  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="elements per tensor")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20, help="calls per round")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    rows = max(1, args.size // 1000)
    x = rng.normal(size=(rows, 1000)) + 0.1  # positive and negative, no zeros
    d = rng.normal(size=x.shape)
    fast = minitorch.FastBackend
    a, g = minitorch.tensor(x, backend=fast), minitorch.tensor(d, backend=fast)

    kernels = {
        "max_reduce": (lambda: fast.max_reduce(a, 1), lambda: x.max(1, keepdims=True)),
        "relu": (lambda: fast.relu_map(a), lambda: np.maximum(x, 0.0)),
        "relu_back": (lambda: fast.relu_back_zip(a, g), lambda: np.where(x > 0, d, 0.0)),
        "inv": (lambda: fast.inv_map(a), lambda: 1.0 / x),
        "log": (lambda: fast.log_map(a), lambda: np.log(np.abs(x))),
        "log_back": (lambda: fast.log_back_zip(a, g), lambda: d / x),
        "inv_back": (lambda: fast.inv_back_zip(a, g), lambda: -d / (x * x)),
        "exp": (lambda: fast.exp_map(a), lambda: np.exp(x)),
        "sqrt": (lambda: fast.sqrt_map(a), lambda: np.sqrt(np.abs(x))),
    }
    print(f"{x.size:,} float64 elements, fast backend against numpy")
    with np.errstate(all="ignore"):
        for name, (ours, theirs) in kernels.items():
            times = interleaved({"ours": ours, "numpy": theirs}, args.rounds, args.number)
            ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
            print(
                f"  {name:10s} ours {ms['ours']:8.3f} ms  numpy {ms['numpy']:8.3f} ms  "
                + ratio_line(times["ours"], times["numpy"], "ratio")
            )


if __name__ == "__main__":
    main()
