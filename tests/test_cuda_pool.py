"""The CUDA backend's pooling allocator: its free list anywhere, its reuse on a GPU."""

from __future__ import annotations

import gc

import pytest

from minitorch.cuda_pool import SMALLEST, FreeList, bucket_size

from .cuda_support import cuda_ops


@pytest.mark.parametrize(
    ("size", "bucket"),
    [(1, SMALLEST), (512, 512), (513, 640), (1000, 1024), (1025, 1280), (3 * 2**20 + 1, 3670016)],
)
def test_sizes_round_up_to_a_bucket_wasting_at_most_a_fifth(size, bucket):
    assert bucket_size(size) == bucket
    assert size <= bucket and (bucket <= SMALLEST or bucket - size <= bucket / 5)


def test_a_free_list_hands_back_blocks_of_the_same_bucket_within_its_limit():
    pool = FreeList(limit=2048)
    assert pool.take(1024) is None
    assert pool.put(1024, "a") and pool.put(1024, "b") and pool.cached == 2048
    assert not pool.put(512, "c")  # past the limit: the caller frees it
    assert pool.take(512) is None
    assert pool.take(1024) == "b" and pool.cached == 1024
    pool.clear()
    assert pool.take(1024) is None and pool.cached == 0


@pytest.mark.skipif(cuda_ops.SIMULATED, reason="the simulator has no memory manager")
def test_on_a_gpu_freed_device_memory_is_reused_without_the_driver():
    from numba.cuda.cudadrv import driver

    first = cuda_ops._device_array(1000)
    pointer = first.device_ctypes_pointer.value
    del first
    gc.collect()
    calls = []
    alloc = driver.driver.cuMemAlloc
    driver.driver.cuMemAlloc = lambda *a: calls.append(a) or alloc(*a)
    try:
        again = cuda_ops._device_array(1000)
    finally:
        driver.driver.cuMemAlloc = alloc
    assert again.device_ctypes_pointer.value == pointer and not calls
