"""Tensor training benchmark: one epoch of `minitorch train` on the scalar and simple backends.

Both backends train the same network (2 -> hidden -> hidden -> 1, same initial weights) on
the same data with `minitorch.train`; the scalar one builds a graph of Scalars point by
point, the simple one runs batched tensor operations on the pure-Python kernels. Rounds
alternate between the backends in one process; each round times every epoch from the
training loop's per-epoch callback. Prints each backend's median epoch time and the ratio
simple / scalar (the target is at most 1.0).

    python bench/tensor_training.py [--rounds 5] [--epochs 6] [--dataset Split]
"""

from __future__ import annotations

import argparse
import statistics
import time

from minitorch.train import EpochReport, TrainConfig, train

BACKENDS = ("scalar", "simple")


def epoch_times(config: TrainConfig) -> list[float]:
    """Seconds of each epoch after the first, measured between callback calls."""
    stamps: list[float] = []

    def stamp(_: EpochReport) -> None:
        stamps.append(time.perf_counter())

    train(config, stamp)
    return [b - a for a, b in zip(stamps, stamps[1:])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per backend")
    parser.add_argument("--epochs", type=int, default=6, help="epochs per round")
    parser.add_argument("--dataset", default="Split")
    parser.add_argument("--hidden", type=int, default=10)
    parser.add_argument("--points", type=int, default=50)
    args = parser.parse_args()

    times: dict[str, list[float]] = {name: [] for name in BACKENDS}
    for round_ in range(args.rounds):
        for name in BACKENDS:
            config = TrainConfig(
                dataset=args.dataset, backend=name, hidden=args.hidden,
                epochs=args.epochs, points=args.points, seed=round_,
            )
            times[name].extend(epoch_times(config))

    medians = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"{args.dataset}, hidden {args.hidden}, {args.points} points: median seconds per epoch "
          f"over {args.rounds} x {args.epochs - 1} epochs")
    for name in BACKENDS:
        print(f"  {name:7s} {medians[name] * 1e3:8.2f} ms")
    print(f"  ratio simple / scalar: {medians['simple'] / medians['scalar']:.3f}")


if __name__ == "__main__":
    main()
