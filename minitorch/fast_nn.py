r"""A fused numba kernel for `nn`'s `max` on the fast CPU backend: its backward in one pass.

Composed of tensor operations (`nn.Max.backward`, which every backend runs), the backward
of a max is three full passes and as many kernel calls: which positions hold their slice's
maximum, how many per slice, and the gradient shared among them. The sentiment model takes
it three times a batch over (batch, 100, words) tensors. This kernel reads each slice twice
and writes it once. Semantics and rounding are the composed form's: the share is
$g \times (1 / \text{count})$ in the tensor's dtype, and a slice whose maximum is NaN has
no winner, so its gradient is $0 \times (g / 0)$, NaN.
"""

from __future__ import annotations

from numba import prange

from .fast_ops import Kernel

__all__ = ["max_backward"]


def _max_backward(grad, a, top, g, share, inner, n):  # type: ignore[no-untyped-def]
    """`grad[o, k, i] = [a[o, k, i] == top[o, i]] * g[o, i] / #winners` for row-major
    `(outer, n, inner)` storage (the reduced dimension in the middle). `share` (one value
    per slice, the tensors' dtype) keeps the share's arithmetic in that dtype."""
    for row in prange(top.size):
        base = row // inner * n * inner + row % inner
        best = top[row]
        count = 0
        if inner == 1:  # a contiguous slice: vector compares
            values, out = a[base : base + n], grad[base : base + n]
            for k in range(n):
                count += values[k] == best
            share[row] = count
            share[row] = g[row] * (1 / share[row])
            for k in range(n):
                out[k] = (values[k] == best) * share[row]  # 0 * inf: NaN, as composed
        else:
            for k in range(n):
                count += a[base + k * inner] == best
            share[row] = count
            share[row] = g[row] * (1 / share[row])
            for k in range(n):
                p = base + k * inner
                grad[p] = (a[p] == best) * share[row]


max_backward = Kernel(_max_backward, None, cache=True)
