"""The CPU backends every layer test runs on."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch

CPU_BACKENDS = [
    pytest.param(minitorch.backend_named("simple"), id="simple"),
    pytest.param(minitorch.backend_named("fast"), id="fast"),
]


def on(backend: minitorch.TensorBackend, values: object) -> minitorch.Tensor:
    """A tensor of `values` (nested lists or a numpy array) on `backend`."""
    return minitorch.tensor(values, backend=backend)


def strided(backend: minitorch.TensorBackend, values: np.ndarray) -> minitorch.Tensor:
    """A tensor of `values` on `backend` stored with its dimensions reversed: the same
    logical values, but strides that are not row-major (for ndim > 1)."""
    order = tuple(reversed(range(values.ndim)))
    stored = minitorch.tensor(np.ascontiguousarray(values.transpose(order)), backend=backend)
    return stored.permute(*order)
