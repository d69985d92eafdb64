"""The backend registry: every tensor backend by name, and which of them can run here.

`backend_named("fast")` is the one way the command line, the tasks, the app, the tests and
`bench/` turn a name into a `TensorBackend`. The CUDA backend loads only when asked for, and
a machine without a GPU (nor numba's simulator) gets `BackendUnavailable`, whose message says
how to get one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .fast_ops import FastBackend
from .tensor_ops import SimpleBackend, TensorBackend

__all__ = ["BACKEND_NAMES", "BackendUnavailable", "backend_named", "available_backends"]


class BackendUnavailable(RuntimeError):
    """A known backend that cannot run on this machine; the message says how to get it."""


def _cuda() -> TensorBackend:
    """The GPU backend; numba-cuda (an optional extra) loads only when asked for."""
    try:
        from .cuda_ops import cuda_backend

        return cuda_backend()
    except ImportError as err:  # numba-cuda missing, or no GPU (CudaUnavailableError)
        raise BackendUnavailable(str(err)) from None


# name -> how to get it (each may raise BackendUnavailable)
_FACTORIES: dict[str, Callable[[], TensorBackend]] = {
    "fast": lambda: FastBackend,  # numba kernels on all cores
    "simple": lambda: SimpleBackend,  # pure-Python kernels: slow, easy to read
    "cuda": _cuda,  # numba CUDA kernels on an NVIDIA GPU (or numba's simulator)
}

BACKEND_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def backend_named(name: str) -> TensorBackend:
    """The tensor backend called `name`.

    Raises:
        ValueError: `name` is no backend; the message lists the names.
        BackendUnavailable: the backend exists but cannot run on this machine.
    """
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")
    return factory()


@functools.cache
def _runs_here(name: str) -> bool:
    try:
        backend_named(name)
    except BackendUnavailable:
        return False
    return True


def available_backends() -> tuple[str, ...]:
    """The names of the backends that can run on this machine, in `BACKEND_NAMES` order."""
    return tuple(name for name in BACKEND_NAMES if _runs_here(name))
