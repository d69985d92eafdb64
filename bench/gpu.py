"""GPU benchmark: the CUDA backend against PyTorch, in one run, on these workloads.

1. fp64 matmul 4096 x 4096 (TFLOP/s): ours through `@`, then each matmul blocking of
   `--tiles` through the kernel directly; PyTorch's (cuBLAS).
2. fp64 elementwise add of 64M elements (GB/s, counting two reads and one write), then the
   same into a preallocated output (the kernel alone, no allocation).
3. A tiny op, `a + b` on 100 elements: microseconds per call, Python included, as a user
   calls it (launches are asynchronous: a round of calls ends with one synchronize).
4. Reductions (GB/s of values read): `sum()` of 2^26 values, `sum(0)` and `sum(1)` of an
   8192 x 8192 matrix; and a permuted copy of that matrix (`.permute(1, 0).contiguous()`,
   GB/s of one read and one write).
5. One epoch of the fast-training benchmark, bench/tensor_training.py's workload and method
   (the course's run_fast_tensor.py: Split, 50 points, hidden 100, batches of 10, lr 0.05)
   with `--backend cuda`, against the same training in PyTorch on the GPU.

The last line, `ratio ours/torch: R`, is the matmul's (TFLOP/s ours over PyTorch's).

Each workload runs `--rounds` timed rounds after a warm-up (which compiles the kernels; an
epoch round's figure is the median of its epochs after the first); printed are the median
and the spread (min to max) over rounds, for ours and PyTorch's, and the ratio of medians.
Results are checked against numpy first.

    python bench/gpu.py [--rounds 7] [--tiles 4x4,8x8]   # on a machine with an NVIDIA GPU
    NUMBA_ENABLE_CUDASIM=1 python bench/gpu.py --smoke   # tiny sizes, on the simulator

Run from the repository root (`PYTHONPATH=.` if minitorch is not installed).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import minitorch
from minitorch import cuda_ops
from minitorch.cuda_ops import CudaBackend, MatMulTiles
from minitorch.train import TrainConfig

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import torch
except ImportError:  # PyTorch is optional: ours alone is still measured
    torch = None


@dataclass
class Sizes:
    matmul: int = 4096
    add: int = 64 * 2**20
    tiny: int = 100
    tiny_calls: int = 1000  # calls per timed round of the tiny op
    sum_all: int = 2**26  # values of the full sum()
    matrix: int = 8192  # side of the matrix of sum(0), sum(1) and the permuted copy
    points: int = 50
    hidden: int = 100
    batch: int = 10
    epochs: int = 11  # epochs per round (the first of each round is not timed)


SMOKE = Sizes(
    matmul=16,
    add=4096,
    tiny=100,
    tiny_calls=5,
    sum_all=5000,
    matrix=40,
    points=10,
    hidden=4,
    batch=5,
    epochs=3,
)
MATMUL_RATIO: list[float] = []  # ours over PyTorch's TFLOP/s, for the last line


def sync() -> None:
    """Wait for the GPU (ours and PyTorch's) to finish what was launched."""
    cuda_ops.cuda.synchronize()
    if has_torch_gpu():
        torch.cuda.synchronize()


def has_torch_gpu() -> bool:
    return torch is not None and torch.cuda.is_available()


def rounds_of(fn: Callable[[], Any], rounds: int, calls: int = 1) -> list[float]:
    """Seconds per call of `fn`, one figure per round of `calls` calls, after a warm-up."""
    fn()
    sync()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        times.append((time.perf_counter() - start) / calls)
    return times


def spread(values: list[float], scale: float, unit: str, higher_is_better: bool) -> str:
    """`median (min-max) unit` of `scale / value` (a rate) or `value * scale` (a time)."""
    shown = [scale / v for v in values] if higher_is_better else [v * scale for v in values]
    return f"{statistics.median(shown):9.4g} {unit} ({min(shown):.4g}-{max(shown):.4g})"


def report(
    name: str,
    ours: list[float],
    theirs: list[float] | None,
    scale: float,
    unit: str,
    higher_is_better: bool,
) -> float | None:
    """Print one workload's line; return ours/torch speed (None without PyTorch)."""
    line = f"  {name:28s} ours {spread(ours, scale, unit, higher_is_better)}"
    ratio = None
    if theirs:
        ratio = statistics.median(theirs) / statistics.median(ours)  # > 1: ours is faster
        line += f" | torch {spread(theirs, scale, unit, higher_is_better)}"
        line += f" | ours/torch speed {ratio:.2f}x"
    print(line)
    return ratio


def on_gpu(values: np.ndarray) -> minitorch.Tensor:
    return minitorch.tensor(values, backend=CudaBackend)


def torch_gpu(values: np.ndarray) -> Any:
    return torch.tensor(values, dtype=torch.float64, device="cuda") if has_torch_gpu() else None


# ---- 1. matmul ---------------------------------------------------------------------------------


def bench_matmul(n: int, rounds: int, tiles: list[MatMulTiles]) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    x, y = on_gpu(a), on_gpu(b)
    rows = min(n, 8)
    check = (x @ y).to_numpy()[:rows]
    np.testing.assert_allclose(check, a[:rows] @ b, rtol=1e-9, atol=1e-9 * n)
    flops = 2.0 * n**3 / 1e12
    ta, tb = torch_gpu(a), torch_gpu(b)
    theirs = rounds_of(lambda: ta @ tb, rounds) if ta is not None else None
    ratio = report(
        f"matmul {n}x{n} fp64 (@)", rounds_of(lambda: x @ y, rounds), theirs, flops, "TFLOP/s", True
    )
    if ratio is not None:
        MATMUL_RATIO.append(ratio)
    out = minitorch.zeros((1, n, n), CudaBackend)
    x3, y3 = x.view(1, n, n), y.view(1, n, n)
    for t in tiles:

        def kernel(t: MatMulTiles = t) -> None:
            cuda_ops.tensor_matrix_multiply(
                *out._tensor.tuple(), *x3._tensor.tuple(), *y3._tensor.tuple(), tiles=t
            )

        kernel()
        np.testing.assert_allclose(out.to_numpy()[0, :rows], a[:rows] @ b, rtol=1e-9, atol=1e-9 * n)
        label = f"  kernel {t.tm}x{t.tn}/thread, bk {t.bk}"
        report(label, rounds_of(kernel, rounds), None, flops, "TFLOP/s", True)


# ---- 2. add, 3. tiny op ------------------------------------------------------------------------


def bench_add(n: int, rounds: int, calls: int = 1, label: str = "") -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    x, y = on_gpu(a), on_gpu(b)
    np.testing.assert_array_equal((x + y).to_numpy(), a + b)
    ta, tb = torch_gpu(a), torch_gpu(b)
    ours = rounds_of(lambda: x + y, rounds, calls)
    theirs = rounds_of(lambda: ta + tb, rounds, calls) if ta is not None else None
    if calls == 1:
        report(label or f"add {n} fp64", ours, theirs, 3 * 8 * n / 1e9, "GB/s", True)
    else:
        report(label or f"tiny add ({n} values)", ours, theirs, 1e6, "us/call", False)


def bench_add_into(n: int, rounds: int) -> None:
    """`out = a + b` into a preallocated `out`: the zip kernel alone."""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    x, y, out = on_gpu(a), on_gpu(b), minitorch.zeros((n,), CudaBackend)
    add = cuda_ops.tensor_zip(minitorch.operators.add)

    def ours() -> None:
        add(*out._tensor.tuple(), *x._tensor.tuple(), *y._tensor.tuple())

    ours()
    np.testing.assert_array_equal(out.to_numpy(), a + b)
    ta, tb = torch_gpu(a), torch_gpu(b)
    theirs = None
    if ta is not None:
        t_out = torch.empty_like(ta)
        theirs = rounds_of(lambda: torch.add(ta, tb, out=t_out), rounds)
    report(f"add {n} fp64 into out", rounds_of(ours, rounds), theirs, 3 * 8 * n / 1e9, "GB/s", True)


# ---- 4. reductions and a permuted copy -----------------------------------------------------


def bench_reductions(sizes: Sizes, rounds: int) -> None:
    rng = np.random.default_rng(5)
    flat = rng.standard_normal(sizes.sum_all)
    x, t_flat = on_gpu(flat), torch_gpu(flat)
    np.testing.assert_allclose(x.sum().to_numpy(), [flat.sum()], rtol=1e-9)
    report(
        f"sum() of {sizes.sum_all}",
        rounds_of(lambda: x.sum(), rounds),
        rounds_of(lambda: t_flat.sum(), rounds) if t_flat is not None else None,
        8 * sizes.sum_all / 1e9,
        "GB/s",
        True,
    )
    n = sizes.matrix
    matrix = rng.standard_normal((n, n))
    m, t_m = on_gpu(matrix), torch_gpu(matrix)
    for dim in (0, 1):
        np.testing.assert_allclose(
            m.sum(dim).to_numpy().ravel(), matrix.sum(dim), rtol=1e-9, atol=1e-9 * n
        )
        report(
            f"sum({dim}) of {n}x{n}",
            rounds_of(lambda d=dim: m.sum(d), rounds),
            rounds_of(lambda d=dim: t_m.sum(d), rounds) if t_m is not None else None,
            8 * n * n / 1e9,
            "GB/s",
            True,
        )
    np.testing.assert_array_equal(m.permute(1, 0).contiguous().to_numpy(), matrix.T)
    report(
        f"permuted copy {n}x{n}",
        rounds_of(lambda: m.permute(1, 0).contiguous(), rounds),
        rounds_of(lambda: t_m.t().contiguous(), rounds) if t_m is not None else None,
        2 * 8 * n * n / 1e9,
        "GB/s",
        True,
    )


# ---- 5. one epoch of training ------------------------------------------------------------------


def bench_epoch(sizes: Sizes, rounds: int) -> None:
    """bench/tensor_training.py's workload and method, on the GPU: each round's median epoch."""
    training = _load_sibling("tensor_training")
    ours, theirs = [], []
    for round_ in range(rounds):
        config = TrainConfig(
            dataset="Split",
            backend="cuda",
            hidden=sizes.hidden,
            epochs=sizes.epochs,
            lr=0.05,
            points=sizes.points,
            batch=sizes.batch,
            seed=round_,
        )
        ours.append(statistics.median(training.minitorch_epochs(config)))
        if has_torch_gpu():
            theirs.append(statistics.median(training.torch_epochs(config, device="cuda")))
    report(f"epoch Split h{sizes.hidden} b{sizes.batch}", ours, theirs or None, 1e3, "ms", False)


def _load_sibling(name: str) -> Any:
    """Another script of this folder as a module (the folder is kept off the import path)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per workload")
    parser.add_argument(
        "--tiles",
        default="4x4,8x8",
        help="matmul blockings to time, outputs per thread: TMxTN[xBK],...",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (for the simulator)")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else Sizes()
    rounds = 2 if args.smoke else args.rounds
    tiles = [MatMulTiles(*parse_tiles(spec)) for spec in args.tiles.split(",")]
    if cuda_ops.SIMULATED:
        tiles = [cuda_ops.SIMULATOR_TILES]
    elif not cuda_ops.cuda.is_available():  # one line, not the driver's traceback
        raise SystemExit(f"bench/gpu.py: no GPU: {cuda_ops.HOW_TO_GET_A_GPU} (with --smoke)")

    device = (
        "numba's CUDA simulator" if cuda_ops.SIMULATED else cuda_ops.cuda.get_current_device().name
    )
    torch_note = (
        f"torch {torch.__version__}"
        if has_torch_gpu()
        else "torch: no CUDA build or GPU here, ours only"
    )
    print(f"{device}; {torch_note}; median (min-max) over {rounds} rounds")
    bench_matmul(sizes.matmul, rounds, tiles)
    bench_add(sizes.add, rounds)
    bench_add_into(sizes.add, rounds)
    bench_add(sizes.tiny, rounds, calls=sizes.tiny_calls)
    bench_reductions(sizes, rounds)
    bench_epoch(sizes, rounds)
    ratio = f"{MATMUL_RATIO[0]:.3f}" if MATMUL_RATIO else "n/a (no PyTorch on a GPU)"
    print(f"ratio ours/torch: {ratio}")


def parse_tiles(spec: str) -> tuple[int, ...]:
    """'8x8' -> (8, 8, 16, 16, 8); '4x4x16' -> (4, 4, 16, 16, 16): the shared tile of A and B
    stays at most 16 KiB."""
    parts = [int(p) for p in spec.split("x")]
    tm, tn = parts[0], parts[1]
    bk = parts[2] if len(parts) > 2 else (16 if tm * tn <= 16 else 8)
    return tm, tn, 16, 16, bk


if __name__ == "__main__":
    main()
