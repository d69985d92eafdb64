"""The CUDA convolution kernel against the fast backend's, on the simulator: the forward pass
and both gradients, 1-D and 2-D, on strided layouts."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch
from tests.backends import strided

from .cuda_support import CudaBackend, cuda_ops, on_cuda, on_device

CASES = [  # (input shape, weight shape): 2-D, 1-D, a kernel as large as the input
    ((2, 3, 5, 4), (2, 3, 2, 3)),
    ((1, 2, 3, 3), (3, 2, 3, 3)),
    ((2, 2, 7), (3, 2, 3)),
]


def test_the_cuda_backend_supplies_a_convolution_kernel():
    assert cuda_ops.CudaOps.conv_kernel is cuda_ops.tensor_conv


@pytest.mark.parametrize(("x_shape", "w_shape"), CASES)
def test_cuda_convolution_matches_the_fast_backend_forward_and_both_gradients(x_shape, w_shape):
    rng = np.random.default_rng(sum(x_shape))
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    d_out = rng.normal(size=(x_shape[0], w_shape[0], *x_shape[2:]))  # the upstream gradient
    conv = minitorch.conv2d if len(x_shape) == 4 else minitorch.conv1d
    results = []
    for backend in (minitorch.FastBackend, CudaBackend):
        image = strided(minitorch.FastBackend, x)  # not row-major
        weight = strided(minitorch.FastBackend, w)
        if backend is CudaBackend:
            image, weight = on_cuda(image), on_cuda(weight)
        image.requires_grad_(True)
        weight.requires_grad_(True)
        out = conv(image, weight)
        (out * minitorch.tensor(d_out, backend=backend)).sum().backward()
        if backend is CudaBackend:
            assert on_device(out) and on_device(image.grad) and on_device(weight.grad)
        results.append((out.to_numpy(), image.grad.to_numpy(), weight.grad.to_numpy()))
    for fast, gpu in zip(*results):
        np.testing.assert_allclose(gpu, fast, rtol=1e-10, atol=1e-12)


def test_cuda_convolution_gradients_against_central_differences():
    rng = np.random.default_rng(3)
    image = minitorch.tensor(rng.normal(size=(1, 2, 4, 3)), backend=CudaBackend)
    weight = minitorch.tensor(rng.normal(size=(2, 2, 2, 2)), backend=CudaBackend)
    minitorch.grad_check(minitorch.conv2d, image, weight)
