"""A pooling allocator for the CUDA backend: freed device memory is kept for the next tensor.

Every operation makes a new tensor. With numba's own memory manager each one costs a
`cuMemAlloc`, and its batched frees synchronise the whole device every few calls. Here a
block no longer referenced goes to a free list by size bucket, and the next allocation of
that bucket takes it back: no driver call, no synchronisation. The backend launches on one
stream, in order, so a block is reused only after every kernel that read it was queued
before the kernel that overwrites it.

`FreeList` is plain Python (tested anywhere); `PoolMemoryManager` is the numba EMM plugin
built on it, installed by `cuda_ops` before its first allocation on a GPU.
"""

from __future__ import annotations

import functools
import weakref
from collections import defaultdict
from typing import Any

__all__ = ["POOL_LIMIT", "FreeList", "bucket_size", "pool_memory_manager"]

POOL_LIMIT = 8 * 2**30  # bytes kept in free lists at most; beyond, blocks go back to the driver
SMALLEST = 512  # bytes: the smallest bucket (the driver aligns allocations to 512 anyway)


def bucket_size(size: int) -> int:
    """`size` rounded up to its bucket: a multiple of an eighth of the next power of two (so
    at most a fifth of a block is wasted), and no smaller than `SMALLEST` bytes."""
    if size <= SMALLEST:
        return SMALLEST
    step = 1 << max(0, (size - 1).bit_length() - 3)  # an eighth of the next power of two
    return -(-size // step) * step


class FreeList:
    """Blocks not in use, by bucket size; at most `limit` bytes of them."""

    def __init__(self, limit: int = POOL_LIMIT) -> None:
        self.limit = limit
        self.cached = 0  # bytes held in the free lists
        self._blocks: defaultdict[int, list[Any]] = defaultdict(list)

    def take(self, bucket: int) -> Any | None:
        """A free block of `bucket` bytes, or None."""
        blocks = self._blocks.get(bucket)
        if not blocks:
            return None
        self.cached -= bucket
        return blocks.pop()

    def put(self, bucket: int, block: Any) -> bool:
        """Keep `block` for reuse; False (the caller lets it go) past the limit."""
        if self.cached + bucket > self.limit:
            return False
        self._blocks[bucket].append(block)
        self.cached += bucket
        return True

    def clear(self) -> None:
        """Drop every free block (their owners free them)."""
        self._blocks.clear()
        self.cached = 0


@functools.cache
def pool_memory_manager() -> type:
    """The EMM plugin class (built on first use: it needs numba's real CUDA driver module)."""
    from numba.cuda.cudadrv.driver import CudaAPIError, MemoryPointer, NumbaCUDAMemoryManager

    class PoolMemoryManager(NumbaCUDAMemoryManager):
        """numba's manager, with freed blocks kept in a `FreeList` for reuse."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.pool = FreeList()

        def memalloc(self, size: int) -> Any:
            bucket = bucket_size(size)
            block = self.pool.take(bucket)
            if block is None:
                try:
                    block = super().memalloc(bucket)
                except CudaAPIError:  # out of memory: give the free blocks back, try again
                    self.pool.clear()
                    block = super().memalloc(bucket)
            pool = self.pool

            def give_back() -> None:
                pool.put(bucket, block)

            return MemoryPointer(
                weakref.proxy(self.context), block.handle, size, finalizer=give_back
            )

        def reset(self) -> None:
            self.pool.clear()
            super().reset()

    return PoolMemoryManager
