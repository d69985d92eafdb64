"""Compiling the fast backend's kernels ahead of a run, with progress, and knowing when to.

numba compiles each kernel on its first call: a first run on an empty cache spends about a
minute inside its first steps, silently, and reports that minute as part of epoch 1. A run
can instead name the kernels it uses, ask which of them are cold (neither in memory nor in
the on-disk cache of `kernel_cache`), say so, and compile them up front with a progress
callback, timing the compile apart from training:

    names = kernel_compile.MNIST_KERNELS  # or what `used_kernels()` listed last time
    if kernel_compile.cold_kernels(names):
        print("compiling the fast kernels once; later runs start at once")
    seconds = kernel_compile.compile_kernels(names, progress=bar_update)

A name is a fast-backend operation as `FastBackend` names it (`relu_map`, `add_zip`,
`max_reduce`, `matrix_multiply`) or `conv`; each has a serial variant, used for small
tensors, and a parallel one (`name/parallel`), used from `fast_ops.PARALLEL_WORK` elements.
A bare name means the serial variant, so a run compiles a parallel variant only when it
names it (or, lazily, when it first needs it). `used_kernels()` lists what a run has
actually used, so a task can record it and compile exactly that next time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from numba import typeof

from .fast_conv import conv_kernel
from .fast_ops import FastBackend, Kernel
from .tensor_data import TensorData

__all__ = [
    "MNIST_KERNELS",
    "Progress",
    "cold_kernels",
    "compile_kernels",
    "kernel_names",
    "used_kernels",
]

Progress = Callable[[int, int, str], None]
"""Called after each kernel as `progress(done, total, name)`."""

# What `minitorch train mnist` uses on the fast backend, as `used_kernels()` listed it after a
# run: the serial variant of each operation of its forward, backward and Adam passes, and the
# parallel variants that batches of images reach. Other runs: record their own `used_kernels()`.
MNIST_KERNELS = (
    "neg_map", "relu_map", "log_map", "exp_map", "id_map", "inv_map", "sqrt_map",
    "add_zip", "mul_zip", "relu_back_zip", "log_back_zip",
    "add_reduce", "max_reduce", "matrix_multiply", "conv",
    "relu_map/parallel", "add_zip/parallel", "conv/parallel",
)  # fmt: skip


def _kernels() -> dict[str, Kernel]:
    table = {"conv": conv_kernel}
    for name, value in vars(FastBackend).items():
        kernel = getattr(value, "kernel", None)
        if isinstance(kernel, Kernel):
            table[name] = kernel
    table["matrix_multiply"] = FastBackend.ops.matrix_multiply_kernel
    return table


def kernel_names() -> list[str]:
    """Every name `compile_kernels` accepts, serial variants first."""
    names = list(_kernels())
    return names + [f"{name}/parallel" for name in names]


def _variant(name: str) -> tuple[Kernel, Any]:
    """The Kernel a name refers to, and the numba dispatcher of its variant."""
    base, _, variant = name.partition("/")
    table = _kernels()
    if base not in table or variant not in ("", "parallel"):
        raise KeyError(f"no fast kernel named {name!r}; known: {', '.join(kernel_names())}")
    kernel = table[base]
    return kernel, kernel.parallel if variant else kernel.serial


def _signature(kernel: Kernel) -> tuple[Any, ...]:
    """The argument types a tensor operation calls `kernel` with (one specialisation)."""
    storage, shape, strides = TensorData(np.zeros(1), (1,)).tuple()
    triple = (typeof(storage), typeof(shape), typeof(strides))
    arity = kernel.py_func.__code__.co_argcount
    tensors, extra = divmod(arity, 3)
    extras = {"_reduce": (typeof(0),), "_conv": (typeof(True),)}
    tail = extras.get(kernel.py_func.__name__, ()) if extra else ()
    if len(tail) != extra:
        raise TypeError(f"cannot tell the argument types of kernel {kernel.py_func.__name__}")
    return triple * tensors + tail


def _needed(names: Iterable[str]) -> list[str]:
    """`names` checked and without repeats; without parallel variants when the kernels run on
    one thread (`threads.set_threads(1)`), as those would never be called."""
    unique = list(dict.fromkeys(names))
    for name in unique:  # every name checked before any compile
        _variant(name)
    return [n for n in unique if not (Kernel.serial_only and n.endswith("/parallel"))]


def _compiled(dispatcher: Any, signature: tuple[Any, ...]) -> bool:
    return any(tuple(sig) == signature for sig in dispatcher.signatures)


def cold_kernels(names: Iterable[str]) -> list[str]:
    """The named kernels that would compile now: in neither this process nor the disk cache.

    Checking loads what the disk cache holds (milliseconds per kernel), so a warm start then
    compiles nothing. Meant for deciding whether to tell the user that a compile is coming.

    Raises:
        KeyError: for a name that is no fast kernel (the message lists the known ones).
    """
    cold = []
    for name in _needed(names):
        kernel, dispatcher = _variant(name)
        signature = _signature(kernel)
        if _compiled(dispatcher, signature):
            continue
        cached = dispatcher._cache.load_overload(signature, dispatcher.targetctx)
        if cached is None:
            cold.append(name)
        else:  # what numba's own compile() does with a cache hit
            dispatcher._cache_hits[signature] += 1
            dispatcher.add_overload(cached)
    return cold


def compile_kernels(names: Iterable[str], progress: Progress | None = None) -> float:
    """Compile (or load from the disk cache) each named kernel; returns the seconds it took.

    Args:
        names: kernel names (see the module doc); repeats are compiled once, parallel
            variants not at all when the kernels run on one thread.
        progress: called after each kernel as `progress(done, total, name)`.

    Raises:
        KeyError: for a name that is no fast kernel (the message lists the known ones).
    """
    names = _needed(names)
    variants = [_variant(name) for name in names]
    start = time.perf_counter()
    for done, (name, (kernel, dispatcher)) in enumerate(zip(names, variants), 1):
        signature = _signature(kernel)
        if not _compiled(dispatcher, signature):
            dispatcher.compile(signature)
        if progress is not None:
            progress(done, len(names), name)
    return time.perf_counter() - start


def used_kernels() -> list[str]:
    """The kernel variants this process has compiled or loaded so far, as names."""
    used = []
    for name, kernel in _kernels().items():
        if kernel.serial.signatures:
            used.append(name)
        if kernel.parallel.signatures:
            used.append(f"{name}/parallel")
    return used
