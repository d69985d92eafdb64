"""The Backends page's timings: every backend computes the same numbers, and CUDA appears
only where there is a GPU (or, clearly labelled, numba's simulator)."""

import numpy as np
import pytest

import minitorch
from minitorch.app.timing import OPERATIONS, time_operation, timed_backends


def test_simple_and_fast_are_always_listed():
    found = timed_backends()
    assert found["simple"] is minitorch.SimpleBackend
    assert found["fast"] is minitorch.FastBackend


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_every_backend_gives_the_simple_backends_numbers(operation):
    found = timed_backends()
    reference = time_operation("simple", found["simple"], operation, 5, repeats=1)
    assert reference.seconds > 0 and reference.repeats == 1
    for name, backend in found.items():
        t = time_operation(name, backend, operation, 5, repeats=2)
        np.testing.assert_allclose(t.result, reference.result, rtol=1e-9, atol=1e-12, err_msg=name)


def test_cuda_is_labelled_as_simulated_under_the_simulator():
    from numba import config

    cuda = [name for name in timed_backends() if name.startswith("cuda")]
    if config.ENABLE_CUDASIM:
        assert cuda == ["cuda (simulator)"]
    else:
        assert cuda in ([], ["cuda"])


def test_the_time_budget_bounds_the_repeats():
    t = time_operation("simple", minitorch.SimpleBackend, "matmul", 8, repeats=1000, budget=0.0)
    assert t.repeats == 1
