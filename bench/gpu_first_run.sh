#!/usr/bin/env bash
# The first run of the CUDA backend on a GPU (issue 19): everything into one log, each step
# time-boxed (415 s in all at most, about 7 minutes) so one stuck step cannot eat the rest.
#
#     bash bench/gpu_first_run.sh [LOG]     # from the repository root; LOG: gpu_first_run.log
#
# Needs a Python with minitorch's dependencies, numba-cuda with the CUDA 13 libraries
# (pip install -e ".[cuda,dev]") and, for the comparisons, a CUDA build of PyTorch;
# `PYTHON=...` picks the interpreter. compute-sanitizer comes from a CUDA toolkit, if any.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=${1:-gpu_first_run.log}
PY=${PYTHON:-python}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} NUMBA_ENABLE_CUDASIM=0
export NUMBA_CACHE_DIR=$(mktemp -d)  # this run's own kernel cache: nothing stale, nothing left
: >"$LOG"

step() {  # step SECONDS TITLE COMMAND...: run, time-boxed, into the log
    local limit=$1 title=$2
    shift 2
    echo "==== $title ($(date -u +%T), at most ${limit}s)" | tee -a "$LOG"
    local start=$SECONDS
    timeout "$limit" "$@" >>"$LOG" 2>&1
    local rc=$?
    echo "==== $title: exit $rc after $((SECONDS - start))s" | tee -a "$LOG"
}

step 20 "versions and cuda.detect()" "$PY" -c '
import sys, numpy, numba, numba_cuda
print(sys.version); print("numpy", numpy.__version__, "numba", numba.__version__,
      "numba-cuda", numba_cuda.__version__)
try:
    import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)
except ImportError:
    print("torch: not installed")
from numba import cuda
cuda.detect()'
nvidia-smi >>"$LOG" 2>&1 || echo "nvidia-smi: not found" >>"$LOG"

step 45 "registers, shared and local memory per kernel (sm_90)" "$PY" bench/gpu_limits.py

# Issue 19 item 1 in a process of its own: a reduce compiled while THREADS is 8, then a
# 256-thread-sized launch; the old kernel's 64-byte shared array overflowed here.
step 30 "reproduction: reduce shared memory after THREADS=8" "$PY" -c '
import numpy as np, minitorch
from minitorch import cuda_ops
cuda_ops.THREADS = 8
small = np.arange(30.0).reshape(2, 15)
assert np.allclose(minitorch.tensor(small, backend=cuda_ops.CudaBackend).sum(1).to_numpy().ravel(), small.sum(1))
cuda_ops.THREADS = 256
big = np.random.default_rng(0).normal(size=(3, 5000))
got = minitorch.tensor(big, backend=cuda_ops.CudaBackend).sum(1).to_numpy().ravel()
assert np.allclose(got, big.sum(1)), (got, big.sum(1))
print("reduce after THREADS=8 then 256: correct")'

step 135 "the CUDA tests on the device" "$PY" -m pytest -q -x -p no:cacheprovider \
    tests/test_cuda_ops.py tests/test_cuda_tensor.py tests/test_cuda_conv.py \
    tests/test_cuda_pool.py tests/test_cuda_compile.py

SANITIZER=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
if [ -n "$SANITIZER" ]; then
    for tool in memcheck racecheck synccheck; do
        step 25 "compute-sanitizer --tool $tool" "$SANITIZER" --tool "$tool" \
            --error-exitcode 9 "$PY" bench/gpu_sanitize.py
    done
else
    echo "==== compute-sanitizer: not found (no CUDA toolkit); skipped" | tee -a "$LOG"
fi

step 110 "bench/gpu.py --rounds 3" "$PY" bench/gpu.py --rounds 3
rm -rf "$NUMBA_CACHE_DIR"
echo "log: $LOG"
