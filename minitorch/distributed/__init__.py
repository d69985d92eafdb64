"""Data-parallel training on MPI: N processes, each a shard of every batch, one set of weights.

Run any task under an MPI launcher (`mpiexec -n 2 ...`, `srun ...`); in a single process
everything here is a no-op and mpi4py is never imported.

- `world()`: this process's rank, the number of ranks, its rank on this machine.
- `distribute(task)`: the shared loop's task, split over the ranks (`task.py`);
  `agreed_stop(task, stop)`: a stop event every rank honours at the same step.
- `allreduce_gradients(parameters)`: gradients summed in one flat buffer (`gradients.py`).
- `allreduce`, `broadcast`: the collectives, with the failure guards (`world.py`).

Importing this package imports no MPI.
"""

from .gradients import allreduce_gradients, check_same_start, cuda_aware_mpi
from .task import (
    GlobalLoss,
    Shard,
    ShardedTask,
    agreed_stop,
    distribute,
    shard,
    shard_bounds,
)
from .world import CollectiveStats, World, abort, allreduce, broadcast, stats, world

__all__ = [
    "CollectiveStats",
    "GlobalLoss",
    "Shard",
    "ShardedTask",
    "World",
    "abort",
    "agreed_stop",
    "allreduce",
    "allreduce_gradients",
    "broadcast",
    "check_same_start",
    "cuda_aware_mpi",
    "distribute",
    "shard",
    "shard_bounds",
    "stats",
    "world",
]
