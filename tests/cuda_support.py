"""What the CUDA tests share: the skip, moving test tensors to the GPU, and a transfer counter.

The tests run on numba's CUDA simulator (tests/conftest.py switches it on) or, with
NUMBA_ENABLE_CUDASIM=0, on a real GPU. Without numba-cuda, or with neither, they skip.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

cuda_ops = pytest.importorskip("minitorch.cuda_ops", reason="numba-cuda is not installed")
if not cuda_ops.cuda.is_available():
    pytest.skip(
        "no GPU, and NUMBA_ENABLE_CUDASIM is not 1 (tests/conftest.py sets it by default)",
        allow_module_level=True,
    )

from minitorch import Tensor  # noqa: E402

CudaBackend = cuda_ops.CudaBackend


def on_cuda(t: Tensor) -> Tensor:
    """`t`'s values in `t`'s own layout (strides included) on the CUDA backend."""
    data = t._tensor
    return Tensor.make(data._storage, data.shape, data.strides, backend=CudaBackend)


def on_device(t: Tensor) -> bool:
    """Whether the tensor's storage is a device array."""
    return bool(getattr(t._tensor._storage, "__cuda_ndarray__", False))


@dataclass
class Transfers:
    to_device: int = 0
    to_host: int = 0


@contextlib.contextmanager
def count_transfers() -> Iterator[Transfers]:
    """Count every host<->device copy made inside the block, however it is made.

    On a GPU: numba's two driver copy functions, which every copy goes through. On the
    simulator, which has no driver: each way a host value can reach a fake device array or
    leave it (to_device, copies, element reads and writes from the host, and numpy arrays
    handed to a kernel, which numba would copy over and back).
    """
    seen = Transfers()
    with pytest.MonkeyPatch.context() as patch:
        if cuda_ops.SIMULATED:
            _spy_on_simulator(patch, seen)
        else:
            _spy_on_driver(patch, seen)
        yield seen


def _spy_on_driver(patch: pytest.MonkeyPatch, seen: Transfers) -> None:
    from numba.cuda.cudadrv import driver

    def counted(name: str, attr: str) -> Any:
        original = getattr(driver, name)

        def spy(*args: Any, **kwargs: Any) -> Any:
            setattr(seen, attr, getattr(seen, attr) + 1)
            return original(*args, **kwargs)

        return spy

    patch.setattr(driver, "host_to_device", counted("host_to_device", "to_device"))
    patch.setattr(driver, "device_to_host", counted("device_to_host", "to_host"))


def _spy_on_simulator(patch: pytest.MonkeyPatch, seen: Transfers) -> None:
    import numpy as np
    from numba import cuda
    from numba.cuda.simulator import kernel
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

    def host_side() -> bool:  # kernels read device arrays too: those are not transfers
        return kernel._kernel_context is None

    to_device, copy_to_host = cuda.to_device, FakeCUDAArray.copy_to_host
    copy_to_device = FakeCUDAArray.copy_to_device
    getitem, setitem = FakeCUDAArray.__getitem__, FakeCUDAArray.__setitem__
    launch = kernel.FakeCUDAKernel.__call__

    def spy_to_device(*args: Any, **kwargs: Any) -> Any:
        seen.to_device += 1
        return to_device(*args, **kwargs)

    def spy_copy_to_host(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.to_host += 1
        return copy_to_host(self, *args, **kwargs)

    def spy_copy_to_device(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.to_device += 1
        return copy_to_device(self, *args, **kwargs)

    def spy_getitem(self: Any, index: Any) -> Any:
        value = getitem(self, index)
        if host_side() and not isinstance(value, FakeCUDAArray):  # a value, not a view
            seen.to_host += 1
        return value

    def spy_setitem(self: Any, index: Any, value: Any) -> Any:
        if host_side():
            seen.to_device += 1
        return setitem(self, index, value)

    def spy_launch(self: Any, *args: Any) -> Any:
        if not self._device and not kernel._kernel_context:
            host = sum(isinstance(a, np.ndarray) and a.ndim > 0 for a in args)
            seen.to_device += host
            seen.to_host += host
        return launch(self, *args)

    patch.setattr(cuda, "to_device", spy_to_device)
    patch.setattr(FakeCUDAArray, "copy_to_host", spy_copy_to_host)
    patch.setattr(FakeCUDAArray, "copy_to_device", spy_copy_to_device)
    patch.setattr(FakeCUDAArray, "__getitem__", spy_getitem)
    patch.setattr(FakeCUDAArray, "__setitem__", spy_setitem)
    patch.setattr(kernel.FakeCUDAKernel, "__call__", spy_launch)
