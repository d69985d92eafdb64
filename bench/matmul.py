"""Matmul benchmark: N x N @ N x N in GFLOP/s (`--dtype`), our kernel against numpy (BLAS).

Our kernel is `minitorch.fast_ops.tensor_matrix_multiply` (no BLAS call), timed through the
tensor operation `a @ b` on the fast backend, so the figure includes the shared glue. The
peers run in the same process, interleaved round by round: numpy's `@` (OpenBLAS, all
threads) and, for scale, a plain numba `prange` i-k-j loop. numba and OpenBLAS both use
every core. Prints GFLOP/s medians and, last, `ratio ours/numpy: R`: our GFLOP/s over
numpy's, the median over rounds (above 1: we are faster).

    python bench/matmul.py [--n 1024] [--rounds 7] [--dtype float64]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np
from numba import njit, prange

sys.path.insert(0, os.path.dirname(__file__))
from _timing import (  # noqa: E402
    add_dtype_option,
    interleaved,
    median_ratio,
    print_final_ratio,
    ratio_line,
)

import minitorch  # noqa: E402


@njit(parallel=True, cache=True)
def plain_numba(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """The textbook loop: rows in parallel, i-k-j order so the inner loop is contiguous."""
    for i in prange(a.shape[0]):
        for k in range(a.shape[1]):
            x = a[i, k]
            for j in range(b.shape[1]):
                out[i, j] += x * b[k, j]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=7)
    add_dtype_option(parser)
    args = parser.parse_args()
    n = args.n
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, n)).astype(args.dtype)
    y = rng.standard_normal((n, n)).astype(args.dtype)
    a = minitorch.tensor(x, backend=minitorch.FastBackend, dtype=args.dtype)
    b = minitorch.tensor(y, backend=minitorch.FastBackend, dtype=args.dtype)
    tol = 1e-9 if args.dtype == "float64" else 1e-3 * np.sqrt(n)
    np.testing.assert_allclose((a @ b).to_numpy(), x @ y, rtol=tol, atol=tol)
    out = np.zeros((n, n), args.dtype)

    def numba_ikj() -> None:
        out[:] = 0.0
        plain_numba(x, y, out)

    times = interleaved(
        {"minitorch": lambda: a @ b, "numpy": lambda: x @ y, "plain numba": numba_ikj},
        rounds=args.rounds,
        number=1,
    )
    flops = 2.0 * n**3
    print(f"{args.dtype} {n}x{n} @ {n}x{n}, {os.cpu_count()} cores, median of {args.rounds} rounds")
    for name, ts in times.items():
        rates = sorted(flops / t / 1e9 for t in ts)
        print(
            f"  {name:12s} {statistics.median(rates):7.1f} GFLOP/s  "
            f"(range {rates[0]:.1f}-{rates[-1]:.1f})"
        )
    # a ratio of speeds is the inverse ratio of times
    print("  " + ratio_line(times["numpy"], times["minitorch"], "minitorch / numpy speed"))
    print_final_ratio("ours/numpy", median_ratio(times["numpy"], times["minitorch"]))


if __name__ == "__main__":
    main()
