"""Cold compile: seconds from an empty kernel cache to the end of a short MNIST run.

Each mode runs in a fresh process with its own empty `NUMBA_CACHE_DIR`:

* lazy: numba compiles each kernel at its first call, inside the run (what a first run did);
* ahead: `kernel_compile.compile_kernels(MNIST_KERNELS)` first, then the run;
* one-thread: `threads.set_threads(1)` and the serial kernels only, then the run (what a
  busy machine gets by default: no parallel variant is ever compiled).

Printed per mode: compile seconds (ahead-of-time part), run seconds, total, and the kernels
the run used (so `MNIST_KERNELS` can be checked against it).

    python bench/cold_compile.py                  # epochs 1 on 500 digits
    python bench/cold_compile.py --train-size 4500
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

CHILD = textwrap.dedent(
    """
    import json, sys, time
    start = time.perf_counter()
    from minitorch import kernel_compile, threads
    from minitorch.tasks.mnist.train import MnistConfig, train_mnist
    mode, train_size = sys.argv[1], int(sys.argv[2])
    names = kernel_compile.MNIST_KERNELS
    if mode == "one-thread":
        threads.set_threads(1)  # compile_kernels then skips the parallel variants
    cold = kernel_compile.cold_kernels(names) if mode != "lazy" else []
    compile_s = kernel_compile.compile_kernels(names) if mode != "lazy" else 0.0
    run = time.perf_counter()
    train_mnist(MnistConfig(epochs=1, train_size=train_size))
    end = time.perf_counter()
    print(json.dumps(dict(mode=mode, cold=len(cold), compile_s=compile_s, run_s=end - run,
                          total_s=end - start, used=kernel_compile.used_kernels())))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-size", type=int, default=500, help="training digits")
    parser.add_argument("--modes", default="lazy,ahead,one-thread", help="comma-separated")
    args = parser.parse_args()
    print(f"machine load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            done = subprocess.run(
                [sys.executable, "-c", CHILD, mode, str(args.train_size)],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{mode:>10}: compile {result['compile_s']:6.1f} s ({result['cold']} cold), "
            f"run {result['run_s']:6.1f} s, total {result['total_s']:6.1f} s"
        )
        print(f"{'':>12}used: {' '.join(result['used'])}")


if __name__ == "__main__":
    main()
