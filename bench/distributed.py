"""Data-parallel scaling: the digits task's training pass on 1 and on 2 MPI ranks.

Each configuration is a fresh `mpiexec -n R` job of this script (numba threads per rank =
this machine's cores / R, so both use every core once). Each job trains the LeNet of
`minitorch train mnist` on some of its embedded digits with Adam, the task split over the
ranks by `minitorch.distributed.distribute`: a warm-up pass over a few batches (numba
compiles or loads its cache), then `--rounds` timed passes over the training digits, each
step as the shared loop takes it (zero_grad, loss, backward, step; no evaluation). The global
batch is the same for 1 and 2 ranks, so both do the same arithmetic and end with the same
weights.

Prints samples per second for each rank count (median over the rounds), the share of rank
0's training time spent in the all-reduces (for each, the least time any rank spent in it:
the last rank to arrive waits for the transfer alone) and waiting in them for the other rank
to arrive (load imbalance), the scaling efficiency (2-rank rate / twice the 1-rank rate), and
a last line `scaling 2 ranks / 1 rank: R`.

    python bench/distributed.py [--rounds 3] [--train-size 2048] [--batch 64]
    python bench/distributed.py --quick      # a few batches: checks that it runs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


class Digits:
    """The digits task in the shared loop's task protocol (`tasks.loop.TaskLoop`): `model`
    (the LeNet of `minitorch train mnist`) on some of its embedded digits, with its loss."""

    def __init__(self, model: Any, images: np.ndarray, labels: np.ndarray, batch: int) -> None:
        self.model, self.images, self.labels, self.batch = model, images, labels, batch

    def train_batches(self, rng: np.random.Generator) -> Any:
        from minitorch import FastBackend
        from minitorch.tasks.loop import Batch, Batches, batch_indices
        from minitorch.tasks.mnist.train import to_input

        def make(g: np.ndarray) -> Any:
            return Batch(to_input(self.images[g], "standard", FastBackend), self.labels[g])

        return Batches(batch_indices(len(self.labels), self.batch, rng), make)

    def val_batches(self) -> Any:
        return self.train_batches(np.random.default_rng(0))  # (no evaluation here)

    def loss(self, batch: Any) -> tuple[Any, np.ndarray]:
        r"""Mean negative log-likelihood $-\frac{1}{n}\sum_i \log p_i(y_i)$."""
        from minitorch import FastBackend, tensor

        log_probs = self.model(batch.x)  # (n, 10)
        onehot = np.zeros((len(batch.labels), 10))
        onehot[np.arange(len(batch.labels)), batch.labels] = 1.0
        loss = -(log_probs * tensor(onehot, backend=FastBackend)).sum() / float(len(batch.labels))
        return loss, log_probs.detach().to_numpy().argmax(axis=1)


def train_pass(task: Any, optimizer: Any, rng: np.random.Generator) -> float:
    """One timed pass over the shuffled training batches, as the shared loop makes it."""
    import time

    task.model.train()
    batches = task.train_batches(rng)
    start = time.perf_counter()
    for batch in batches:
        optimizer.zero_grad()
        loss, _ = task.loss(batch)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def worker(args: argparse.Namespace) -> None:
    """One rank of a job: train, then (rank 0) print one JSON line of figures."""
    import random

    from minitorch import Adam, FastBackend
    from minitorch.distributed import distribute, stats, world
    from minitorch.tasks.mnist.data import load_embedded
    from minitorch.tasks.mnist.model import LeNet

    digits = load_embedded()
    keep = np.random.default_rng(0).permutation(len(digits))[: args.train_size]
    images, labels = digits.images[keep], digits.labels[keep]
    random.seed(0)
    np.random.seed(0)
    model = LeNet(FastBackend)
    optimizer = Adam(model.parameters(), lr=0.002)
    w = world()
    # warm up on a few batches: numba compiles (or loads) the kernels
    few = 3 * args.batch
    warm = distribute(Digits(model, images[:few], labels[:few], args.batch))
    train_pass(warm, optimizer, np.random.default_rng(0))
    task = distribute(Digits(model, images, labels, args.batch))

    rounds: list[dict[str, float]] = []
    for r in range(args.rounds):
        stats.durations = []
        seconds = train_pass(task, optimizer, np.random.default_rng(r))
        rounds.append({"seconds": seconds, **_split_waits(list(stats.durations), w)})
        stats.durations = None
    if w.main:
        import numba

        print(
            json.dumps(
                {
                    "ranks": w.size,
                    "threads": numba.get_num_threads(),
                    "samples": len(keep),
                    "rounds": rounds,
                }
            )
        )


def _split_waits(durations: list[float], w: Any) -> dict[str, float]:
    """Rank 0's time in collectives, split into communication (the least time any rank spent
    in each collective: the last to arrive waits for the transfer alone) and waiting for the
    other ranks to arrive (the rest)."""
    from minitorch.distributed import allreduce

    table = np.zeros((w.size, len(durations)))
    table[w.rank] = durations
    allreduce(table.reshape(-1), "the benchmark's timings")
    communication = float(table.min(axis=0).sum())
    return {
        "collectives": len(durations),
        "communication_seconds": communication,
        "waiting_seconds": float(table[0].sum()) - communication,
    }


def launch(ranks: int, args: argparse.Namespace, mpiexec: str) -> dict:
    """Run one `mpiexec -n ranks` job of this script and return rank 0's figures."""
    threads = max(1, _cores() // ranks)
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    root = str(HERE.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    command = [
        mpiexec,
        "-n",
        str(ranks),
        sys.executable,
        str(HERE),
        "--worker",
        "--rounds",
        str(args.rounds),
        "--train-size",
        str(args.train_size),
        "--batch",
        str(args.batch),
    ]
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        sys.exit(f"bench/distributed.py: the {ranks}-rank job failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed epochs per rank count")
    parser.add_argument("--train-size", type=int, default=2048, help="training digits per epoch")
    parser.add_argument("--batch", type=int, default=64, help="the global batch")
    parser.add_argument("--quick", action="store_true", help="1 round of 4 batches: a smoke test")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.train_size, args.batch = 1, 64, 16
    if args.worker:
        worker(args)
        return
    mpiexec = shutil.which(
        "mpiexec", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    if mpiexec is None:
        sys.exit('bench/distributed.py needs mpiexec: pip install "minitorch[distributed]"')

    rate = {}
    print(
        f"Digits, training pass: {args.train_size} digits, global batch {args.batch}, "
        f"{args.rounds} round(s), {_cores()} cores"
    )
    for ranks in (1, 2):
        job = launch(ranks, args, mpiexec)
        seconds = statistics.median(r["seconds"] for r in job["rounds"])
        talk = statistics.median(r["communication_seconds"] / r["seconds"] for r in job["rounds"])
        wait = statistics.median(r["waiting_seconds"] / r["seconds"] for r in job["rounds"])
        calls = job["rounds"][0]["collectives"]
        rate[ranks] = job["samples"] / seconds
        print(
            f"{ranks} rank(s) x {job['threads']} numba thread(s): {rate[ranks]:8.1f} samples/s "
            f"({seconds:.2f} s/epoch); of rank 0's time: all-reduce {talk:5.1%}, waiting for "
            f"the other rank {wait:5.1%} ({calls} collectives per epoch)"
        )
    print(f"efficiency: {rate[2] / (2 * rate[1]):.0%} of linear scaling")
    print(f"scaling 2 ranks / 1 rank: {rate[2] / rate[1]:.2f}")


if __name__ == "__main__":
    main()
