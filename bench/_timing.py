"""Shared helpers for the benchmarks: interleaved rounds, medians, the spread of ratios, the
`--dtype` option and the last line every script prints (`ratio ours/torch: R`)."""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, Sequence

DTYPES = ("float64", "float32")


def per_call(fn: Callable[[], object], number: int) -> float:
    """Seconds per call of `fn`, over `number` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def interleaved(
    contenders: dict[str, Callable[[], object]], rounds: int, number: int
) -> dict[str, list[float]]:
    """Seconds per call of each contender, one figure per round; rounds alternate between
    contenders so that a slow spell of the machine hits all of them alike."""
    for fn in contenders.values():  # warm up: compile, allocate, fill caches
        per_call(fn, max(1, number // 10))
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            times[name].append(per_call(fn, number))
    return times


def ratio_line(ours: Sequence[float], peer: Sequence[float], label: str) -> str:
    """`ours / peer` as the ratio of medians, with the median and range of per-round ratios."""
    ratios = sorted(o / p for o, p in zip(ours, peer))
    return (
        f"{label}: {statistics.median(ours) / statistics.median(peer):.2f}x "
        f"(per round: median {statistics.median(ratios):.2f}, "
        f"range {ratios[0]:.2f}-{ratios[-1]:.2f})"
    )


def add_dtype_option(parser: argparse.ArgumentParser, default: str = "float64") -> None:
    """`--dtype float64|float32`: both sides of the comparison compute in it."""
    parser.add_argument(
        "--dtype", choices=DTYPES, default=default, help="what both sides compute in"
    )


def median_ratio(ours: Sequence[float], peer: Sequence[float]) -> float:
    """The median over rounds of `ours[i] / peer[i]` (each round times both back to back,
    so a round's ratio is little affected by the machine's load drifting between rounds)."""
    return statistics.median(o / p for o, p in zip(ours, peer))


def print_final_ratio(label: str, ratio: float) -> None:
    """The last line of every benchmark, in one format: `ratio ours/torch: 1.23`."""
    print(f"ratio {label}: {ratio:.3f}")
