"""A training task split over the ranks: the shared loop drives it without knowing MPI.

`distribute(task)` takes anything with the shared loop's task protocol (`tasks.loop.TaskLoop`:
`model`, `train_batches`, `val_batches`, `loss`) and, in a job of N ranks, gives back one
whose

- batches are the same global batches on every rank (the loop's generator shuffles alike
  everywhere), each rank making only its contiguous shard of each, while `batch.labels` are
  the whole global batch's labels;
- `loss` runs the task's loss on the shard (dropout told which samples of the global batch
  the shard holds, so each sample gets its one-process mask) and returns a `GlobalLoss`,
  whose value is the global batch's mean loss, and the predictions for the whole global
  batch;
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

A sample may have several labels (a language model's window has one per position): a batch
of `n` samples then has `n * r` labels and predictions, `r` the same for every sample of the
batch, and the task's loss is their mean. A rank whose shard is empty (a global batch smaller
than the job) still runs the model forward on one sample of the batch, without a graph, so
that its random generators (dropout) advance as the other ranks' do.

Stopping. Each all-reduce also carries one more number: whether the `stop` event of this rank
is set (`agreed_stop`). A Ctrl-C reaches the ranks at slightly different moments; the loop
asks the agreed flag, which changes on every rank at the same collective, so every rank ends
at the same step boundary.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autodiff import no_grad
from ..nn import batch_offset
from ..tasks.loop import Batch, Batches
from ..tensor import Tensor
from .gradients import allreduce_gradients, check_same_start
from .world import World, allreduce, world

__all__ = [
    "GlobalLoss",
    "Shard",
    "ShardedTask",
    "agreed_stop",
    "distribute",
    "shard",
    "shard_bounds",
]


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

    local: Batch[Any] | None  # the task's own batch of samples first..first+count-1 (or None)
    first: int  # index of its first sample in the global batch
    count: int  # samples in it (0: none here)
    total: int  # the global batch's size
    stand_in: Callable[[], Batch[Any]] | None = None  # (no samples here) one sample's batch


class GlobalLoss:
    """The global batch's mean loss, as `ShardedTask.loss` returns it.

    `item()` is the global mean (the same on every rank); `backward()` backpropagates this
    rank's share and then sums the gradients over the ranks. Anything else is the share's
    (a one-element Tensor).
    """

    def __init__(self, share: Tensor, value: float, reduce: Callable[[], None]) -> None:
        self.share, self.value, self.reduce = share, value, reduce

    def item(self) -> float:
        return self.value

    def backward(self, *args: Any, **kwargs: Any) -> None:
        self.share.backward(*args, **kwargs)
        self.reduce()

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
        # per gathered kind ("the labels", ...): the dtype and the shape after the first axis
        self._kinds: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
        self.stop: threading.Event | None = None  # this rank's own stop request
        self.stopping = False  # some rank asked to stop: the same on every rank

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
            _, everyone = self._gather(labels, lo, hi - lo, len(group), "the labels")
            stand_in = None if local is not None else (lambda: make(group[:1]))
            return Batch(Shard(local, lo, hi - lo, len(group), stand_in), everyone)

        return Batches(list(batches.groups), make_shard)

    def loss(self, batch: Batch[Any]) -> tuple[GlobalLoss, np.ndarray]:
        """The global batch's mean loss (its backward gives the global mean gradient) and
        the predictions for the whole global batch."""
        shard: Shard = batch.x
        if shard.local is None:  # a global batch smaller than the job: no samples here
            if self.model.training and shard.stand_in is not None:
                with no_grad():  # dropout draws its keys, as on the ranks with samples
                    self.task.loss(shard.stand_in())
            share, predicted = self._nothing(), None
        else:
            with batch_offset(shard.first, shard.count):
                loss, predicted = self.task.loss(shard.local)
            share = loss * (shard.count / shard.total)  # the task's loss: a mean over samples
            predicted = np.asarray(predicted)
        total, everyone = self._gather(
            predicted,
            shard.first,
            shard.count,
            shard.total,
            "the loss and predictions",
            float(share.item()),
        )
        return GlobalLoss(share, total, self._reduce_gradients), everyone

    def _reduce_gradients(self) -> None:
        stop = allreduce_gradients(self.model.parameters(), stop=self._stop_requested())
        self.stopping = self.stopping or stop

    def _stop_requested(self) -> bool:
        return self.stop is not None and self.stop.is_set()

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
        count: int,
        total: int,
        what: str,
        number: float = 0.0,
    ) -> tuple[float, np.ndarray]:
        """Every rank's `rows` (those of its `count` samples `first..`) in their places in an
        array of the global batch's `total` samples' rows, and the sum of every rank's
        `number`: one all-reduce of one buffer, which carries the stop flag too.

        A sample has `r` rows, the same on every rank: `rows` is `(count * r, ...)`. When
        the global batch leaves a rank without samples, one small all-reduce first tells it
        `r`.
        """
        if rows is not None:
            if count == 0 or len(rows) % count:
                raise ValueError(
                    f"{what} of rank {self.world.rank}: {len(rows)} rows for {count} sample(s), "
                    f"not the same number for each sample"
                )
            self._kinds.setdefault(what, (rows.dtype, rows.shape[1:]))
        if what not in self._kinds:  # no samples here, and none seen yet
            raise ValueError(
                f"a global batch of {total} sample(s) leaves rank {self.world.rank} of "
                f"{self.world.size} without samples before it has seen any: use a batch of at "
                f"least {self.world.size} (one sample per rank)"
            )
        dtype, tail = self._kinds[what]
        if total < self.world.size:  # some rank has no samples: learn r from those that do
            header = np.array([0.0, 0.0] if rows is None else [len(rows) // count, 1.0])
            allreduce(header, f"the row count of {what}")
            per_sample = round(header[0] / header[1])
        else:
            per_sample = len(rows) // count  # every rank has samples
        width = int(np.prod(tail, dtype=np.int64))
        buffer = np.zeros(2 + total * per_sample * width)  # [number, stop, rows...]
        buffer[0], buffer[1] = number, float(self._stop_requested())
        placed = buffer[2:].reshape(total * per_sample, *tail)
        if rows is not None:
            placed[first * per_sample : first * per_sample + len(rows)] = rows
        allreduce(buffer, what)
        self.stopping = self.stopping or buffer[1] > 0
        return float(buffer[0]), placed.astype(dtype)


class _AgreedStop:
    """A stop event as the loop reads it: set once any rank's own event was set, as every
    rank learnt in the same collective (so all of them end at the same step boundary)."""

    def __init__(self, task: ShardedTask) -> None:
        self.task = task

    def is_set(self) -> bool:
        return self.task.stopping

    def set(self) -> None:
        if self.task.stop is not None:
            self.task.stop.set()


def agreed_stop(task: Any, stop: threading.Event | None) -> Any:
    """`stop` as the loop of a distributed `task` must read it: set on every rank at the same
    step boundary once any rank's `stop` was set; `stop` itself in a single process.

    Args:
        task: what `distribute` returned.
        stop: this rank's own event (a Ctrl-C sets it).
    """
    if not isinstance(task, ShardedTask) or stop is None:
        return stop
    task.stop = stop
    return _AgreedStop(task)


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
