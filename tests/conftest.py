"""Shared hypothesis settings: no deadline (a first numba call compiles), modest sizes.

The CUDA tests run on numba's CUDA simulator unless told otherwise: the switch must be set
before numba is first imported, so it is set here. On a GPU machine,
`NUMBA_ENABLE_CUDASIM=0 pytest tests/test_cuda_*.py` runs them on the GPU. The simulator
changes nothing for the CPU backends.
"""

import os

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

from hypothesis import settings  # noqa: E402 - after the simulator switch

settings.register_profile("minitorch", deadline=None, max_examples=60)
settings.register_profile("ci", deadline=None, max_examples=40, derandomize=True)
settings.load_profile("minitorch")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fast_kernel_threads_restored():
    """A command-line test picks threads from the load average (`--threads` unset); the next
    test in the same process must still get every core and the parallel kernels."""
    import numba

    from minitorch import fast_ops

    threads, serial_only = numba.get_num_threads(), fast_ops.Kernel.serial_only
    yield
    numba.set_num_threads(threads)
    fast_ops.Kernel.serial_only = serial_only


@pytest.fixture(autouse=True, scope="session")
def _simulator_has_warp_shuffles():
    """numba's simulator has no `shfl_*_sync`: emulate them (tests/cuda_simulator.py), so the
    CUDA kernels that shuffle run from their own source there."""
    import numba

    if numba.config.ENABLE_CUDASIM:
        from .cuda_simulator import install_warp_shuffles

        try:
            install_warp_shuffles()
        except ImportError:  # numba-cuda is not installed
            pass
    yield
