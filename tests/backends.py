"""The CPU backends every layer test runs on."""

from __future__ import annotations

import pytest

import minitorch

CPU_BACKENDS = [
    pytest.param(minitorch.SimpleBackend, id="simple"),
    pytest.param(minitorch.FastBackend, id="fast"),
]


def on(backend: minitorch.TensorBackend, values: object) -> minitorch.Tensor:
    """A tensor of `values` (nested lists or a numpy array) on `backend`."""
    return minitorch.tensor(values, backend=backend)
