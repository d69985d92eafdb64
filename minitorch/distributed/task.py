"""A training task split over the ranks: the shared loop drives it without knowing MPI.

`distribute(task)` takes anything with the shared loop's task protocol (`tasks.loop.TaskLoop`:
`model`, `train_batches`, `val_batches`, `loss`) and, in a job of N ranks, gives back one
whose

- batches are the same global batches on every rank (the loop's generator shuffles alike
  everywhere), each rank making only its contiguous shard of each, while `batch.labels` are
  the whole global batch's labels;
- `loss` runs the task's loss on the shard (dropout told where the shard starts, so each
  sample gets its one-process mask) and returns a `GlobalLoss`, whose value is the global
  batch's mean loss, and the predictions for the whole global batch;
- `GlobalLoss.backward()` backpropagates this rank's share of that mean (its loss scaled by
  shard / global batch), then sums every parameter's gradient over the ranks (one flat
  buffer, one `Allreduce`): when it returns, each rank holds the global batch's mean
  gradient, as after PyTorch's DistributedDataParallel backward. The optimizer, whoever
  holds it, steps as it would in one process.

So the loop's figures (step losses, training and validation accuracy, validation loss) are
the global ones on every rank, and every rank ends with the same weights as one process.
Per step that is three all-reduces: the labels (with the batch), the loss and predictions
(with the loss), the gradients (with backward); the first two carry a few numbers a sample.
A loop that calls `backward()` more than once before a step (gradient accumulation) would sum
already summed gradients: the loops here do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn import batch_offset
from ..tasks.loop import Batch, Batches
from ..tensor import Tensor
from .gradients import allreduce_gradients, check_same_start
from .world import World, allreduce, world

__all__ = ["GlobalLoss", "Shard", "ShardedTask", "distribute", "shard", "shard_bounds"]


def shard_bounds(n: int, rank: int, size: int) -> tuple[int, int]:
    """`(lo, hi)`: rank `rank`'s contiguous share `lo..hi-1` of `n` samples split over `size`
    ranks; shares differ by at most one, the lower ranks take the extra ones."""
    q, extra = divmod(n, size)
    lo = rank * q + min(rank, extra)
    return lo, lo + q + (rank < extra)


def shard(global_batch_indices: np.ndarray, w: World | None = None) -> np.ndarray:
    """This rank's contiguous slice of a global batch's indices."""
    w = world() if w is None else w
    lo, hi = shard_bounds(len(global_batch_indices), w.rank, w.size)
    return global_batch_indices[lo:hi]


@dataclass
class Shard:
    """What `ShardedTask` hands the loop as a batch's `x`: this rank's part of the batch."""

    local: Batch[Any] | None  # the task's own batch of samples first..first+len-1 (None: none)
    first: int  # index of its first sample in the global batch
    total: int  # the global batch's size


class GlobalLoss:
    """The global batch's mean loss, as `ShardedTask.loss` returns it.

    `item()` is the global mean (the same on every rank); `backward()` backpropagates this
    rank's share and then sums the gradients over the ranks. Anything else is the share's
    (a one-element Tensor).
    """

    def __init__(self, share: Tensor, value: float, parameters: list[Any]) -> None:
        self.share, self.value, self.parameters = share, value, parameters

    def item(self) -> float:
        return self.value

    def backward(self, *args: Any, **kwargs: Any) -> None:
        self.share.backward(*args, **kwargs)
        allreduce_gradients(self.parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["share"], name)

    def __repr__(self) -> str:
        return f"GlobalLoss({self.value!r})"


class ShardedTask:
    """`task` with each global batch split over the ranks (see the module's docstring).

    Anything else the loop asks of it (`config`, ...) is the wrapped task's.
    """

    def __init__(self, task: Any, w: World) -> None:
        self.task, self.world = task, w
        self.model = task.model
        self._labels: tuple[np.dtype, tuple[int, ...]] | None = None  # dtype, shape per sample
        self._predictions: tuple[np.dtype, tuple[int, ...]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["task"], name)

    def train_batches(self, rng: np.random.Generator) -> Batches[Any]:
        return self._sharded(self.task.train_batches(rng))

    def val_batches(self) -> Batches[Any]:
        return self._sharded(self.task.val_batches())

    def _sharded(self, batches: Batches[Any]) -> Batches[Any]:
        make = batches.make

        def make_shard(group: np.ndarray) -> Batch[Any]:
            lo, hi = shard_bounds(len(group), self.world.rank, self.world.size)
            local = make(group[lo:hi]) if hi > lo else None
            labels = None if local is None else np.asarray(local.labels)
            if labels is not None and self._labels is None:
                self._labels = (labels.dtype, labels.shape[1:])
            _, everyone = self._gather(labels, lo, len(group), self._labels, "the labels")
            return Batch(Shard(local, lo, len(group)), everyone)

        return Batches(list(batches.groups), make_shard)

    def loss(self, batch: Batch[Any]) -> tuple[GlobalLoss, np.ndarray]:
        """The global batch's mean loss (its backward gives the global mean gradient) and
        the predictions for the whole global batch."""
        shard: Shard = batch.x
        if shard.local is None:  # a global batch smaller than the job: no samples here
            share, predicted = self._nothing(), None
        else:
            with batch_offset(shard.first):
                loss, predicted = self.task.loss(shard.local)
            share = loss * (len(shard.local.labels) / shard.total)
            predicted = np.asarray(predicted)
            if self._predictions is None:
                self._predictions = (predicted.dtype, predicted.shape[1:])
        value = float(share.item())
        total, everyone = self._gather(
            predicted,
            shard.first,
            shard.total,
            self._predictions,
            "the loss and predictions",
            value,
        )
        return GlobalLoss(share, total, self.model.parameters()), everyone

    def _nothing(self) -> Tensor:
        """A loss of 0 that backpropagates (to a throwaway leaf, so no parameter gets a
        gradient here; the other ranks' gradients arrive with the all-reduce)."""
        backend = self.model.parameters()[0].value.backend
        leaf = Tensor.make(np.zeros(1), (1,), backend=backend).requires_grad_(True)
        return leaf * 0.0

    def _gather(
        self,
        rows: np.ndarray | None,
        first: int,
        total: int,
        kind: tuple[np.dtype, tuple[int, ...]] | None,
        what: str,
        number: float = 0.0,
    ) -> tuple[float, np.ndarray]:
        """Every rank's `rows` in their places `first..` of an array of `total` rows, and the
        sum of every rank's `number`: one all-reduce of one buffer."""
        if kind is None:
            raise ValueError(
                f"a global batch of {total} sample(s) leaves rank {self.world.rank} of "
                f"{self.world.size} without samples before it has seen any: use a batch of at "
                f"least {self.world.size} (one sample per rank)"
            )
        dtype, per_sample = kind
        size = total * int(np.prod(per_sample, dtype=np.int64))
        buffer = np.zeros(1 + size)  # [number, rows...]
        buffer[0] = number
        if rows is not None:
            buffer[1:].reshape(total, *per_sample)[first : first + len(rows)] = rows
        allreduce(buffer, what)
        return float(buffer[0]), buffer[1:].reshape(total, *per_sample).astype(dtype)


def distribute(task: Any) -> Any:
    """`task` split over the ranks of this MPI job; `task` itself in a single process.

    First every rank takes rank 0's random state and checks that it holds rank 0's weights,
    and each rank's numba threads are cut to its share of this machine's cores.

    Raises:
        RuntimeError: a rank built other weights than rank 0.
        TypeError: the model's parameters are not tensors (the scalar engine runs in one
            process only).
    """
    w = world()
    if w.size == 1:
        return task
    if isinstance(task, ShardedTask):
        return task
    scalars = [(n, p.value) for n, p in task.model.named_parameters()]
    scalars = [(n, v) for n, v in scalars if not isinstance(v, Tensor)]
    if scalars:
        name, value = scalars[0]
        raise TypeError(
            f"minitorch.distributed splits models of tensors; parameter {name!r} is a "
            f"{type(value).__name__}: run the scalar engine in one process, or pick a tensor "
            f"backend"
        )
    _share_cores(w)
    check_same_start(task.model)
    return ShardedTask(task, w)


def _share_cores(w: World) -> None:
    """At most this machine's cores / its ranks numba threads per rank (never more than the
    process has already chosen, e.g. by `--threads`), unless `NUMBA_NUM_THREADS` is set."""
    import os

    if "NUMBA_NUM_THREADS" in os.environ:
        return
    import numba

    share = max(1, numba.config.NUMBA_NUM_THREADS // w.local_size)
    numba.set_num_threads(min(numba.get_num_threads(), share))
