"""Data-parallel scaling: the digits task's training pass on 1 and on 2 MPI ranks.

Each configuration is a fresh `mpiexec -n R` job of this script (numba threads per rank =
this machine's cores / R, so both use every core once). Each job trains the LeNet of
`minitorch train mnist` on the embedded digits with the shared loop, the task split over the
ranks by `minitorch.distributed.distribute`: one warm-up epoch on a few batches (numba
compiles or loads its cache), then `--rounds` timed epochs of the training pass (validation
excluded, as in the epoch times the CLI reports). The global batch is the same for 1 and 2
ranks, so both do the same arithmetic and end with the same weights.

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


def worker(args: argparse.Namespace) -> None:
    """One rank of a job: train, then (rank 0) print one JSON line of figures."""
    from minitorch.distributed import distribute, stats, world
    from minitorch.tasks.common import backend_named, seed_everything
    from minitorch.tasks.loop import EpochReport, StepReport, fit
    from minitorch.tasks.mnist.model import LeNet
    from minitorch.tasks.mnist.train import MnistConfig, _MnistLoop, load_training_data
    from minitorch.tasks.optimizers import make_optimizer

    config = MnistConfig(epochs=1, batch=args.batch, train_size=args.train_size, lr=0.002)
    train, val = load_training_data(config)
    seed_everything(0)
    model = LeNet(backend_named("fast"))
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    warm = train.take(np.arange(min(len(train), 3 * args.batch)))
    fit(distribute(_MnistLoop(config, model, optimizer, warm, val.take(np.arange(16)))), 1, 0)

    task = distribute(_MnistLoop(config, model, optimizer, train, val.take(np.arange(16))))
    w = world()
    rounds: list[dict[str, float]] = []

    def watch(r: StepReport | EpochReport) -> None:
        if isinstance(r, StepReport) and r.step == r.steps:  # the training pass is over
            rounds.append(_split_waits(list(stats.durations or []), w))
        elif isinstance(r, EpochReport):
            rounds[-1]["seconds"] = r.seconds

    for r in range(args.rounds):
        stats.durations = []
        fit(task, 1, r, watch)
        stats.durations = None
    if w.main:
        import numba

        print(
            json.dumps(
                {
                    "ranks": w.size,
                    "threads": numba.get_num_threads(),
                    "samples": len(train),
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
