"""Training benchmark: the course's fast training, minitorch against PyTorch on the CPU.

The workload of the course's `run_fast_tensor.py`: Split, 50 points, a 2 -> 100 -> 100 -> 1
ReLU network with a sigmoid output, mini-batches of 10, SGD with lr 0.05. minitorch trains
it with `minitorch.train` (`--backend fast` unless told otherwise); PyTorch trains the same
network from the same initial weights on the same batches in the same order, in float64,
with the same loss (mean of -log P(right class)), both in `--dtype` (float64 by default: the
toy job stays float64). Rounds alternate between the two in one process; each round times
every epoch after the first. Prints median milliseconds per epoch and, last,
`ratio ours/torch: R` (the median over rounds of each round's ratio).

    python bench/tensor_training.py [--rounds 7] [--epochs 11] [--backend fast] [--dtype float64]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _timing import add_dtype_option, median_ratio, print_final_ratio, ratio_line  # noqa: E402

from minitorch import datasets  # noqa: E402
from minitorch.models import init_weights  # noqa: E402
from minitorch.tasks.loop import EvalReport  # noqa: E402
from minitorch.train import TrainConfig, train  # noqa: E402


def minitorch_epochs(config: TrainConfig) -> list[float]:
    """Seconds of each epoch's training pass after the first, as the loop measures them (its
    per-epoch evaluation and the first step's compilation are not counted)."""
    seconds: list[float] = []

    def keep(r: object) -> None:
        if isinstance(r, EvalReport):
            seconds.append(r.seconds)

    train(config, keep)
    return seconds[1:]


def torch_epochs(config: TrainConfig, device: str = "cpu", dtype: str = "float64") -> list[float]:
    """The same training in PyTorch (on `device`, in `dtype`): seconds of each epoch after
    the first."""
    import torch

    dtype = getattr(torch, getattr(config, "dtype", dtype))
    graph = datasets[config.dataset](config.points, seed=config.seed)
    params = []
    for w, b in init_weights(config.seed, [2, config.hidden, config.hidden, 1]):
        params += [
            torch.tensor(w, dtype=dtype, device=device, requires_grad=True),
            torch.tensor(b, dtype=dtype, device=device, requires_grad=True),
        ]
    optim = torch.optim.SGD(params, lr=config.lr)
    X = torch.tensor(graph.X, dtype=dtype, device=device)
    sign = torch.tensor(
        [[1.0 if label == 1 else -1.0] for label in graph.y], dtype=dtype, device=device
    )
    order = list(range(graph.N))
    shuffle = random.Random(config.seed).shuffle
    batch = config.batch or graph.N
    stamps = []
    for _ in range(config.epochs):
        shuffle(order)
        for first in range(0, graph.N, batch):
            idx = torch.tensor(order[first : first + batch], device=device)
            optim.zero_grad()
            h = X[idx]
            for layer in range(3):
                h = h @ params[2 * layer] + params[2 * layer + 1]
                if layer < 2:
                    h = h.relu()
            loss = -(h * sign[idx]).sigmoid().log().mean()
            loss.backward()
            optim.step()
            loss.item()  # minitorch reads each batch's loss too
        stamps.append(time.perf_counter())
    return [b - a for a, b in zip(stamps, stamps[1:])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds")
    parser.add_argument("--epochs", type=int, default=11, help="epochs per round")
    parser.add_argument("--backend", default="fast", help="minitorch backend to time")
    parser.add_argument("--dataset", default="Split")
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--points", type=int, default=50)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.05)
    add_dtype_option(parser)
    args = parser.parse_args()
    # The toy job's `dtype` field (float64 unless told) is what both sides train in.
    has_dtype = "dtype" in {f.name for f in dataclasses.fields(TrainConfig)}
    if args.dtype != "float64" and not has_dtype:
        parser.error(f"--dtype {args.dtype}: this minitorch's TrainConfig has no dtype field")
    extra = {"dtype": args.dtype} if has_dtype else {}

    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        contenders = {"minitorch": minitorch_epochs, "torch": torch_epochs}
    except ImportError:
        print("PyTorch is not installed: timing minitorch alone")
        contenders = {"minitorch": minitorch_epochs}

    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(args.rounds):
        config = TrainConfig(
            dataset=args.dataset,
            backend=args.backend,
            hidden=args.hidden,
            epochs=args.epochs,
            points=args.points,
            batch=args.batch,
            lr=args.lr,
            seed=round_,
            **extra,
        )
        for name, run in contenders.items():
            times[name].append(statistics.median(run(config)))

    print(
        f"{args.dataset}, {args.points} points, hidden {args.hidden}, batch {args.batch}, "
        f"lr {args.lr}, {args.dtype}: ms per epoch, median over {args.rounds} rounds "
        f"(each round: the median of {args.epochs - 1} epochs)"
    )
    for name, ts in times.items():
        ms = sorted(t * 1e3 for t in ts)
        label = f"{name} ({args.backend})" if name == "minitorch" else name
        print(f"  {label:18s} {statistics.median(ms):8.2f} ms  (range {ms[0]:.2f}-{ms[-1]:.2f})")
    if "torch" in times:
        print("  " + ratio_line(times["minitorch"], times["torch"], "minitorch / torch time"))
        print_final_ratio("ours/torch", median_ratio(times["minitorch"], times["torch"]))


if __name__ == "__main__":
    main()
