"""Shared by bench/mnist.py and bench/sentiment.py: copying a minitorch model's weights into
a PyTorch twin, and reporting two lists of epoch times side by side."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from _timing import median_ratio, print_final_ratio

import minitorch

__all__ = ["torch_param", "report", "set_threads", "cast_parameters"]


def cast_parameters(model: minitorch.Module, dtype: str) -> None:
    """Store every parameter of `model` in `dtype` (a no-op for the dtype it has)."""
    for p in model.parameters():
        if p.value.dtype != np.dtype(dtype):
            p.update(p.value.to(dtype).detach())


def torch_param(p: Any, transpose: bool = False, flat: bool = False) -> Any:
    """A minitorch Parameter's value as a torch Parameter of the same dtype (a copy)."""
    import torch

    a = p.value.to_numpy()
    if transpose:
        a = a.T  # minitorch Linear keeps (in, out); torch keeps (out, in)
    if flat:
        a = a.reshape(-1)  # minitorch conv biases are (out, 1[, 1]); torch's are (out,)
    return torch.nn.Parameter(torch.from_numpy(np.array(a, order="C")))


def set_threads(n: int | None) -> None:
    """Give numba and torch the same number of threads (on a loaded machine, 1 avoids both
    libraries' thread pools spinning against other processes)."""
    if n is None:
        return
    import numba
    import torch

    numba.set_num_threads(n)
    torch.set_num_threads(n)


def report(title: str, ours: list[float], theirs: list[float], dtype: str) -> None:
    """Median and spread of each side's seconds per epoch, their ratio per round, and as the
    last line the median of those ratios."""
    med_o, med_t = statistics.median(ours), statistics.median(theirs)
    print(title)
    for name, times, med in (("minitorch (fast)", ours, med_o), ("PyTorch CPU", theirs, med_t)):
        print(
            f"  {name + ', ' + dtype:26s} {med:8.2f} s/epoch  (min {min(times):.2f}, "
            f"max {max(times):.2f}, {len(times)} epochs)"
        )
    rounds = ", ".join(f"{o / t:.2f}" for o, t in zip(ours, theirs))
    print(f"  minitorch / PyTorch: {med_o / med_t:.2f} (median over median); per round: {rounds}")
    print_final_ratio("ours/torch", median_ratio(ours, theirs))
