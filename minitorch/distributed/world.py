"""Who this process is in an MPI job, the job's two collectives, and how a failure ends it.

Nothing here imports mpi4py until `world()` is first called inside a launched job (`mpiexec`,
`srun`): a plain process is rank 0 of 1 and never touches MPI.

Failures. MPI itself ends a job when a rank dies, but not when a rank raises or exits while
the others wait in a collective: they would wait forever. So, in a job of two or more ranks,
`world()` installs three guards:

- an exception that reaches the top of a rank prints its traceback and one line naming the
  rank, then `MPI_Abort` ends every rank;
- a rank that exits (say with a one-line error and status 2) first tells the others how many
  collectives it took part in; a rank waiting in a collective that the leaver never joined
  ends the job, naming the leaver;
- a collective that does not complete within `MINITORCH_MPI_TIMEOUT` seconds (default 300)
  ends the job, so a stuck rank that MPI cannot see (an endless loop) still ends it.

Collectives are non-blocking calls completed by polling with short sleeps, which is what
lets a waiting rank watch for leavers and the clock (and yields the core while it waits).
"""

from __future__ import annotations

import atexit
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CollectiveStats", "World", "abort", "allreduce", "broadcast", "stats", "world"]

# Variables a launcher sets in each rank's environment (MPICH/Hydra and Intel MPI, Open MPI,
# PMIx launchers such as `srun --mpi=pmix`, MVAPICH), with the job's size where it gives it.
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK")

_LEAVING = 7001  # the tag of "this rank is leaving after N collectives"
_DEFAULT_TIMEOUT = 300.0
_ABORT_GRACE = 1.0  # seconds between a rank's last words and MPI_Abort


@dataclass(frozen=True)
class World:
    """This process's place in the job.

    Attributes:
        rank: 0..size-1; rank 0 alone prints and writes files.
        size: the number of processes (1 without MPI).
        local_rank: the rank among the processes on this machine (it picks the GPU).
        local_size: the number of processes on this machine (they share its cores).
        gpu: the GPU this rank was given (`CUDA_VISIBLE_DEVICES` now names it alone), or
            None (a single process, or a machine without NVIDIA GPUs).
        comm: the mpi4py communicator of the job (None in a single process).
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1
    gpu: str | None = None
    comm: Any = field(default=None, repr=False, compare=False)

    @property
    def main(self) -> bool:
        """Whether this is rank 0, the one that prints and writes."""
        return self.rank == 0


@dataclass
class CollectiveStats:
    """What the collectives of this process cost so far (for benchmarks)."""

    calls: int = 0  # collectives completed
    seconds: float = 0.0  # wall time from posting each to its completion, waiting included
    values: int = 0  # numbers reduced or broadcast
    durations: list[float] | None = None  # set to a list to get each collective's seconds


stats = CollectiveStats()

_world: World | None = None
_notices: Any = None  # a duplicate of the job's communicator: leave notices never meet collectives
_aborting = False
_left: dict[int, int] = {}  # rank -> the number of collectives it completed before leaving


def world() -> World:
    """This process's `World`; the first call inside a launched job starts MPI and the
    failure guards (see the module's docstring).

    Raises:
        RuntimeError: the launcher started several ranks but mpi4py is not installed (each
            rank would otherwise train alone, all of them writing the same files).
    """
    global _world
    if _world is None:
        _world = _start() if _launched() else World()
    return _world


def _launched() -> bool:
    return any(name in os.environ for name in _SIZE_VARIABLES + _RANK_VARIABLES)


def _start() -> World:
    try:
        from mpi4py import MPI
    except ImportError as err:
        sizes = [os.environ[v] for v in _SIZE_VARIABLES if v in os.environ]
        if sizes and sizes[0] != "1":
            raise RuntimeError(
                f"started as one of {sizes[0]} MPI ranks, but mpi4py cannot be imported ({err}): "
                f'pip install "minitorch[distributed]"'
            ) from None
        return World()
    comm = MPI.COMM_WORLD
    if comm.Get_size() == 1:
        return World(comm=comm)
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    local_rank, local_size = local.Get_rank(), local.Get_size()
    local.Free()
    gpu = _pin_gpu(local_rank)
    w = World(comm.Get_rank(), comm.Get_size(), local_rank, local_size, gpu, comm)
    global _notices
    _notices = comm.Dup()
    sys.excepthook = _abort_on_exception(sys.excepthook, w)
    atexit.register(_leave)  # runs before mpi4py's own MPI_Finalize (atexit is last in, first out)
    return w


def _pin_gpu(local_rank: int) -> str | None:
    """Give this rank the GPU of its local rank (round robin when there are fewer GPUs than
    ranks), by narrowing `CUDA_VISIBLE_DEVICES` before anything starts CUDA: the CUDA backend
    then sees that one GPU as device 0. The GPUs are those `CUDA_VISIBLE_DEVICES` lists, else
    those the NVIDIA driver lists in /proc (reading it starts no CUDA context)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        devices = [d.strip() for d in visible.split(",") if d.strip()]
    else:
        try:
            devices = [str(i) for i in range(len(os.listdir("/proc/driver/nvidia/gpus")))]
        except OSError:
            devices = []
    if not devices:
        return None
    chosen = devices[local_rank % len(devices)]
    os.environ["CUDA_VISIBLE_DEVICES"] = chosen
    return chosen


def _timeout() -> float:
    raw = os.environ.get("MINITORCH_MPI_TIMEOUT", "")
    try:
        return float(raw) if raw else _DEFAULT_TIMEOUT
    except ValueError:
        raise ValueError(
            f"MINITORCH_MPI_TIMEOUT must be a number of seconds, got {raw!r}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Collectives


def allreduce(buffer: np.ndarray, what: str = "an all-reduce") -> np.ndarray:
    """Sum the contiguous `buffer` over every rank, in place; every rank gets the sums.

    Args:
        buffer: a contiguous numpy array (or, with a CUDA-aware MPI, a device array).
        what: names the collective in a timeout or leaver message.
    """
    w = world()
    if w.size > 1:
        from mpi4py import MPI

        _complete(w.comm.Iallreduce(MPI.IN_PLACE, buffer, op=MPI.SUM), what, buffer.size)
    return buffer


def broadcast(buffer: np.ndarray, what: str = "a broadcast") -> np.ndarray:
    """Overwrite `buffer` on every rank with rank 0's, in place."""
    w = world()
    if w.size > 1:
        _complete(w.comm.Ibcast(buffer, root=0), what, buffer.size)
    return buffer


def _complete(request: Any, what: str, values: int) -> None:
    """Poll `request` until it completes, watching for leavers and the clock."""
    start = time.perf_counter()
    deadline = time.monotonic() + _timeout()
    polls, delay = 0, 1e-5
    while not request.Test():
        _check_leavers(what)
        if time.monotonic() > deadline:
            abort(
                f"no answer from the other ranks within {_timeout():.0f} s in {what} "
                f"(collective {stats.calls + 1}); set MINITORCH_MPI_TIMEOUT to wait longer"
            )
        polls += 1
        if polls > 200:  # short collectives finish while spinning; then let the core go
            time.sleep(delay)
            delay = min(2 * delay, 1e-3)
    seconds = time.perf_counter() - start
    stats.calls += 1
    stats.seconds += seconds
    if stats.durations is not None:
        stats.durations.append(seconds)
    stats.values += int(values)


def _check_leavers(what: str) -> None:
    from mpi4py import MPI

    status = MPI.Status()
    while _notices.Iprobe(source=MPI.ANY_SOURCE, tag=_LEAVING, status=status):
        done = np.empty(1, dtype=np.int64)
        source = status.Get_source()
        _notices.Recv(done, source=source, tag=_LEAVING)
        _left[source] = int(done[0])
        if done[0] <= stats.calls:  # it never joined the collective this rank waits in
            abort(
                f"rank {source} left the job after {done[0]} collective(s), while this rank "
                f"waits for it in {what} (collective {stats.calls + 1})"
            )


# ---------------------------------------------------------------------------------------------
# Ending the job


def abort(message: str, status: int = 1) -> None:
    """Print `minitorch.distributed: rank R of N: message` and end every rank of the job."""
    global _aborting
    w = world()
    _aborting = True
    print(
        f"minitorch.distributed: rank {w.rank} of {w.size}: {message}; ending the job",
        file=sys.stderr,
        flush=True,
    )
    if w.size > 1:
        sys.stdout.flush()
        # MPI_Abort tears the job down at once; the launcher may still be forwarding what
        # this rank printed (its traceback, the line above): give it a moment
        time.sleep(_ABORT_GRACE)
        w.comm.Abort(status)
    raise SystemExit(status)  # pragma: no cover - Abort does not return


def _abort_on_exception(previous: Any, w: World) -> Any:
    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        previous(kind, value, tb)  # the usual traceback first
        line = traceback.format_exception_only(kind, value)[-1].strip()
        abort(f"failed with {line}")

    return hook


def _leave() -> None:
    """At exit: tell the others how far this rank got, then wait for all to leave."""
    if _aborting:
        return
    w = world()
    done = np.array([stats.calls], dtype=np.int64)
    sends = [_notices.Isend(done, dest=r, tag=_LEAVING) for r in range(w.size) if r != w.rank]
    barrier = _notices.Ibarrier()
    deadline = time.monotonic() + _timeout()
    while not barrier.Test():
        if time.monotonic() > deadline:
            abort(f"finished, but the other ranks have not within {_timeout():.0f} s")
        time.sleep(1e-3)
    for source in range(w.size):  # collect every notice, so none is left unmatched
        if source != w.rank and source not in _left:
            _notices.Recv(np.empty(1, dtype=np.int64), source=source, tag=_LEAVING)
    for request in sends:
        request.Wait()
