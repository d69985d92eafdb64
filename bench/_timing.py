"""Shared helpers for the benchmarks: interleaved rounds, medians and the spread of ratios."""

from __future__ import annotations

import statistics
import time
from typing import Callable, Sequence


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
