"""The fused kernels of `fast_transformer`: their float32 polynomials against the C library,
the fused functions in float32 against PyTorch, and IEEE cases against the composed forms
that the other backends run (the float64 checks against PyTorch and central differences,
strided inputs included, are in test_gpt_functions.py, which runs them on the fast backend)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch
from minitorch.fast_transformer import erf_float32, exp_float32
from minitorch.transformer_functions import causal_softmax, gelu, layer_norm

FAST = minitorch.backend_named("fast")
SIMPLE = minitorch.backend_named("simple")


def test_erf_float32_is_within_float32_rounding_everywhere() -> None:
    for x in np.linspace(-7.0, 7.0, 20001):
        assert abs(erf_float32(x) - math.erf(x)) < 1e-7, x
    assert erf_float32(math.inf) == 1.0 and erf_float32(-math.inf) == -1.0
    assert math.isnan(erf_float32(math.nan))


def test_exp_float32_has_float32_relative_accuracy_down_to_the_smallest_normal() -> None:
    for h in np.linspace(-87.0, 0.0, 20001):
        assert abs(exp_float32(h) / math.exp(h) - 1.0) < 1e-8, h
    assert exp_float32(0.0) == 1.0
    assert exp_float32(-150.0) == 0.0 and exp_float32(-math.inf) == 0.0
    assert math.isnan(exp_float32(math.nan))


def _float32(values: np.ndarray, backend: minitorch.TensorBackend = FAST) -> minitorch.Tensor:
    return minitorch.tensor(values.astype(np.float32), backend=backend, dtype="float32")


@pytest.mark.parametrize("fn", ["gelu", "layer_norm", "scaled_layer_norm", "causal_softmax"])
def test_fused_float32_functions_match_torch_in_float32(fn: str) -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 8, 8)) * 3
    g = rng.standard_normal((3, 8, 8))
    w = rng.standard_normal(8)
    mask = torch.triu(torch.ones(8, 8, dtype=torch.bool), diagonal=1)
    scale, t_scale = _float32(w).requires_grad_(), torch.tensor(w, dtype=torch.float32)
    t_scale.requires_grad_()
    ours_fn = {
        "gelu": gelu,
        "layer_norm": layer_norm,
        "scaled_layer_norm": lambda t: layer_norm(t, scale),
        "causal_softmax": causal_softmax,
    }[fn]
    torch_fn = {
        "gelu": F.gelu,
        "layer_norm": lambda t: F.layer_norm(t, (8,)),
        "scaled_layer_norm": lambda t: F.layer_norm(t, (8,), t_scale),
        "causal_softmax": lambda t: torch.softmax(t.masked_fill(mask, -math.inf), -1),
    }[fn]
    ours = _float32(x).requires_grad_()
    out = ours_fn(ours)
    assert out.dtype == np.float32
    (out * _float32(g)).sum().backward()
    theirs = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    t_out = torch_fn(theirs)
    (t_out * torch.tensor(g, dtype=torch.float32)).sum().backward()
    np.testing.assert_allclose(out.to_numpy(), t_out.detach().numpy(), atol=2e-6, rtol=1e-5)
    np.testing.assert_allclose(ours.grad.to_numpy(), theirs.grad.numpy(), atol=2e-5, rtol=1e-4)
    if fn == "scaled_layer_norm":
        np.testing.assert_allclose(scale.grad.to_numpy(), t_scale.grad.numpy(), rtol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_kernels_keep_the_composed_forms_ieee_results(dtype: str) -> None:
    inf, nan = math.inf, math.nan
    scores = np.array(
        [
            [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],  # finite
            [[0.0, nan, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],  # NaN under the mask
            [[inf, 0.0, 0.0], [0.0, 0.0, inf], [-inf, -inf, -inf]],  # inf seen and hidden
        ]
    )
    rows = np.array([[1.0, 2.0, 3.0], [nan, 0.0, 1.0], [inf, 0.0, 1.0], [5.0, 5.0, 5.0]])
    points = np.array([-inf, -40.0, -1.0, -0.0, 0.0, 1.0, 40.0, inf, nan])
    cases = [
        (lambda t: causal_softmax(t, 0.5), scores),
        (layer_norm, rows),
        (gelu, points),
    ]
    for fn, values in cases:
        got = []
        for backend in (FAST, SIMPLE):
            t = minitorch.tensor(values.astype(dtype), backend=backend, dtype=dtype)
            t.requires_grad_()
            out = fn(t)
            out.sum().backward()
            got.append((out.to_numpy(), t.grad.to_numpy()))
        (fast_out, fast_grad), (simple_out, simple_grad) = got
        tol = 1e-6 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(fast_out, simple_out, atol=tol, rtol=tol)
        np.testing.assert_allclose(fast_grad, simple_grad, atol=tol, rtol=tol)


def test_parallel_and_serial_variants_of_each_kernel_agree() -> None:
    """Work below the threshold runs serially, so the model's small sizes never reach some
    parallel variants: each is run directly here, on rows that stay independent."""
    from minitorch import fast_transformer as ft

    rng = np.random.default_rng(11)
    n, rows = 16, 40
    for dtype in (np.float32, np.float64):
        x, g = (rng.standard_normal(rows * n).astype(dtype) for _ in range(2))
        w = rng.standard_normal(n).astype(dtype)
        fast = dtype == np.float32
        cases = [
            (ft.gelu_forward, lambda: [np.empty_like(x), x, fast]),
            (ft.gelu_backward, lambda: [np.empty_like(x), x, g, fast]),
            (ft.causal_softmax_forward, lambda: [np.empty_like(x), x, n, 0.3, fast]),
            (ft.causal_softmax_backward, lambda: [np.empty_like(x), g, x, n, 0.3]),
            (
                ft.layer_norm_forward,
                lambda: [np.empty_like(x), np.empty_like(x), np.empty(rows, dtype), x, w, n, 1e-5],
            ),
            (ft.layer_norm_backward, lambda: [np.empty_like(x), g, x, np.abs(x[:rows]), w, n]),
        ]
        for kernel, make in cases:
            serial, parallel = make(), make()
            kernel.serial(*serial)
            kernel.parallel(*parallel)
            for a, b in zip(serial, parallel):
                if isinstance(a, np.ndarray):
                    np.testing.assert_array_equal(a, b, err_msg=kernel.py_func.__name__)
