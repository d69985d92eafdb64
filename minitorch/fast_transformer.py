r"""Fused numba kernels for the transformer's functions on the fast CPU backend: GELU, layer
normalisation, the causal softmax of attention, forward and backward each one pass.

`transformer_functions` writes each of these as a composition of tensor operations, which
every backend runs; on the fast backend it calls these kernels instead. The reason is
speed: the composed layer norm is about eight full passes over its tensor and as many
kernel calls (each with its Python glue), the causal softmax six, while each kernel here
reads its inputs once per row and writes its output once. At nanoGPT's sizes the composed
forms took a quarter of an iteration.

Every kernel takes flat row-major storage (callers pass contiguous tensors' storage) and
runs through `fast_ops.Kernel`, so small work stays serial and `threads.set_threads(1)`
holds. Semantics are the composed forms' (tests compare the two, and both with PyTorch).

In float32, erf and exp are polynomials evaluated in float64 (`erf_float32`,
`exp_float32`, each within float32's rounding) instead of calls to the C library: LLVM
vectorises a polynomial but not a call, and those calls made GELU's backward the slowest
elementwise operation of the model. float64 keeps the exact `math.erf` and `math.exp`.
Reductions along a row may be reassociated (`fastmath={"reassoc"}`: vector partial sums);
no other fast-math flag is set, so NaN and infinities behave as in IEEE arithmetic.
"""

from __future__ import annotations

import math

from numba import njit, prange

from .fast_ops import Kernel

__all__ = [
    "causal_softmax_backward",
    "causal_softmax_forward",
    "column_dot",
    "erf_float32",
    "exp_float32",
    "gelu_backward",
    "gelu_forward",
    "layer_norm_backward",
    "layer_norm_forward",
]

SQRT_HALF = 0.7071067811865476  # 1 / sqrt(2)
INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi), the normal density at 0


@njit(inline="always", cache=True)
def erf_float32(x: float) -> float:
    r"""$\mathrm{erf}(x)$ to float32 accuracy: $x P(x^2) / Q(x^2)$ on $[-4, 4]$, $\pm 1$ outside.

    The coefficients are Eigen's `generic_fast_erf_float` (also XLA's float32 erf); absolute
    error below 7e-8 over the whole line, and exactly $\pm 1$ from $|x| = 4$. Branch-free
    apart from the clamps (a NaN passes through them), so a loop over it vectorises.
    """
    x = 4.0 if x > 4.0 else (-4.0 if x < -4.0 else x)
    x2 = x * x
    p = -2.72614225801306e-10
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 - 2.10102402082508e-06
    p = p * x2 - 5.69250639462346e-05
    p = p * x2 - 7.34990630326855e-04
    p = p * x2 - 2.95459980854025e-03
    p = p * x2 - 1.60960333262415e-02
    q = -1.45660718464996e-05
    q = q * x2 - 2.13374055278905e-04
    q = q * x2 - 1.68282697438203e-03
    q = q * x2 - 7.37332916720468e-03
    q = q * x2 - 1.42647390514189e-02
    r = x * p / q
    # within [-1, 1], so that GELU of a large negative input is 0 (x (1 + erf) with
    # erf = -1 - 5e-8 would grow with x)
    return 1.0 if r > 1.0 else (-1.0 if r < -1.0 else r)


@njit(inline="always", cache=True)
def exp_float32(h: float) -> float:
    r"""$e^h$ for $h \le 0$ to float32 accuracy (relative error below 1e-8 down to
    $e^{-87}$, float32's smallest normal): $(e^{h/256})^{256}$, the inner power a Taylor
    polynomial (10 terms on $[-0.4, 0]$), then eight squarings. 0 below $-100$; a NaN stays NaN.
    """
    x = (h if h > -100.0 else -100.0) * 0.00390625  # h / 256, NaN -> -100/256 (fixed below)
    p = 2.755731922398589e-06  # 1/9!
    p = p * x + 2.48015873015873e-05
    p = p * x + 1.984126984126984e-04
    p = p * x + 1.388888888888889e-03
    p = p * x + 8.333333333333333e-03
    p = p * x + 4.1666666666666664e-02
    p = p * x + 0.16666666666666666
    p = p * x + 0.5
    p = p * x + 1.0
    p = p * x + 1.0
    for _ in range(8):
        p = p * p
    if h != h:
        return h
    return p if h >= -100.0 else 0.0


# ---- GELU ----------------------------------------------------------------------------------------


def _gelu_forward(out, x, fast):  # type: ignore[no-untyped-def]
    r"""$out_i = \frac{x_i}{2}(1 + \mathrm{erf}(x_i / \sqrt 2))$; `fast` picks `erf_float32`."""
    for i in prange(out.size):
        v = x[i]
        e = erf_float32(v * SQRT_HALF) if fast else math.erf(v * SQRT_HALF)
        out[i] = 0.5 * v * (1.0 + e)


def _gelu_backward(out, x, d, fast):  # type: ignore[no-untyped-def]
    r"""$out_i = d_i (\Phi(x_i) + x_i \varphi(x_i))$, the chain rule through GELU."""
    for i in prange(out.size):
        v = x[i]
        if fast:
            e, pdf = erf_float32(v * SQRT_HALF), exp_float32(-0.5 * v * v) * INV_SQRT_2PI
        else:
            e, pdf = math.erf(v * SQRT_HALF), math.exp(-0.5 * v * v) * INV_SQRT_2PI
        out[i] = d[i] * (0.5 * (1.0 + e) + v * pdf)


gelu_forward = Kernel(_gelu_forward, None, cache=True)
gelu_backward = Kernel(_gelu_backward, None, cache=True)


# ---- Layer normalisation -------------------------------------------------------------------------


def _layer_norm_forward(out, x_hat, rstd, x, w, n, eps):  # type: ignore[no-untyped-def]
    r"""Each row of `n` values: $\hat x = (x - \mu) \cdot rstd$, $out = \hat x \cdot w$, with
    $rstd = 1/\sqrt{\sigma^2 + \epsilon}$ (biased variance; two passes over the row, so no
    cancellation)."""
    for r in prange(rstd.size):
        row = x[r * n : (r + 1) * n]
        xh, o = x_hat[r * n : (r + 1) * n], out[r * n : (r + 1) * n]
        total = 0.0
        for j in range(n):
            total += row[j]
        mean = total / n
        square = 0.0
        for j in range(n):
            c = row[j] - mean
            square += c * c
        s = 1.0 / math.sqrt(square / n + eps)
        rstd[r] = s
        for j in range(n):
            h = (row[j] - mean) * s
            xh[j] = h
            o[j] = h * w[j]


def _layer_norm_backward(out, g, x_hat, rstd, w, n):  # type: ignore[no-untyped-def]
    r"""Each row, with $\hat g = g w$: $out = rstd\,(\hat g - \bar{\hat g} - \hat x\,
    \overline{\hat g \hat x})$, bars the row's means."""
    for r in prange(rstd.size):
        gr, xh = g[r * n : (r + 1) * n], x_hat[r * n : (r + 1) * n]
        o = out[r * n : (r + 1) * n]
        g_sum = 0.0
        gx_sum = 0.0
        for j in range(n):
            gw = gr[j] * w[j]
            g_sum += gw
            gx_sum += gw * xh[j]
        g_mean, gx_mean, s = g_sum / n, gx_sum / n, rstd[r]
        for j in range(n):
            o[j] = s * (gr[j] * w[j] - g_mean - xh[j] * gx_mean)


@njit(cache=True)
def column_dot(out, a, b, n):  # type: ignore[no-untyped-def]
    r"""$out_j \mathrel{+}= \sum_r a_{rj} b_{rj}$ over the rows of `n` values (serial: the
    inner loop runs along a row in vector lanes, and rows would race on `out`)."""
    for r in range(a.size // n):
        ar, br = a[r * n : (r + 1) * n], b[r * n : (r + 1) * n]
        for j in range(n):
            out[j] += ar[j] * br[j]


def _rows_work(out, *_):  # type: ignore[no-untyped-def]
    return out.size


REASSOC = {"reassoc"}  # sums along a row in vector lanes; NaN and inf stay IEEE
layer_norm_forward = Kernel(_layer_norm_forward, _rows_work, cache=True, fastmath=REASSOC)
layer_norm_backward = Kernel(_layer_norm_backward, _rows_work, cache=True, fastmath=REASSOC)


# ---- Causal softmax ------------------------------------------------------------------------------


def _causal_softmax_forward(out, a, n, scale, fast):  # type: ignore[no-untyped-def]
    r"""Rows of `n` scores, row `r` the query $i = r \bmod n$: $out_j = e^{v_j - m} / \sum_k
    e^{v_k - m}$ with $v_j = s\,a_j$ for keys $j \le i$, $-\infty$ after, $m = \max_j v_j$.

    Only the visible keys are exponentiated (about half the row); a hidden key counts only
    where $s\,a_j - \infty$ is NaN (a NaN or $+\infty$ score), which makes the row NaN as the
    composed form's mask addition does.
    """
    for r in prange(out.size // n):
        i = r % n
        row, o = a[r * n : (r + 1) * n], out[r * n : (r + 1) * n]
        top = -math.inf
        for j in range(i + 1):
            v = scale * row[j]
            if v > top or v != v:  # a NaN is the maximum, as in max_reduce
                top = v
        for j in range(i + 1, n):
            v = scale * row[j] - math.inf
            if v != v:
                top = v
        if fast:  # float32 (see exp_float32)
            for j in range(i + 1):
                o[j] = exp_float32(scale * row[j] - top)
        else:
            for j in range(i + 1):
                o[j] = math.exp(scale * row[j] - top)
        total = 0.0
        for j in range(i + 1):
            total += o[j]
        for j in range(i + 1):
            o[j] = o[j] / total
        hidden = (0.0 if top > -math.inf else math.nan) / total  # e^{-inf - m}, normalised
        for j in range(i + 1, n):
            o[j] = hidden


def _causal_softmax_backward(out, g, y, n, scale):  # type: ignore[no-untyped-def]
    r"""Each row: $out_j = s\, y_j (g_j - \sum_k g_k y_k)$ (zero where the mask hid the key,
    unless a NaN in `g` reaches it, as in the composed form)."""
    for r in prange(out.size // n):
        gr, yr, o = g[r * n : (r + 1) * n], y[r * n : (r + 1) * n], out[r * n : (r + 1) * n]
        dot = 0.0
        for j in range(n):
            dot += gr[j] * yr[j]
        for j in range(n):
            o[j] = scale * yr[j] * (gr[j] - dot)


def _softmax_work(out, *_):  # type: ignore[no-untyped-def]
    return 4 * out.size  # an exponential and four short passes per value: a parallel region pays


causal_softmax_forward = Kernel(
    _causal_softmax_forward, _softmax_work, cache=True, fastmath=REASSOC
)
causal_softmax_backward = Kernel(_causal_softmax_backward, None, cache=True, fastmath=REASSOC)
