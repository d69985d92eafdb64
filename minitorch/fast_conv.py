r"""Convolutions: `conv1d` / `Conv1dFun` and `conv2d` / `Conv2dFun`.

The forward pass, in two dimensions (one dimension is the same with height 1):

$out_{b,o,y,x} = \sum_{c,i,j} in_{b,c,y+i,x+j} \, w_{o,c,i,j}$, positions past the end read as 0,

so the output has the input's height and width. It is computed as one matrix product: the
input is *unfolded* into its windows, `cols[b, (c,i,j), (y,x)] = in[b, c, y+i, x+j]`, and
`out[b] = W @ cols[b]` with `W` the weights as an `(out_channels, in_channels*kh*kw)` matrix.

The backward passes are the same two steps:

* $\partial L/\partial in_{b,c,p,q} = \sum_{o,i,j} g_{b,o,p-i,q-j} \, w_{o,c,i,j}$: a convolution
  of the gradient with the weights, channels swapped, reading *backwards* (`reverse`): the
  gradient unfolded backwards, times the swapped weight matrix;
* $\partial L/\partial w_{o,c,i,j} = \sum_{b,y,x} g_{b,o,y,x} \, in_{b,c,y+i,x+j}$: the gradient
  times the input's windows, $\sum_b g_b \, cols_b^T$.

So the one piece that depends on the backend is `unfold`: a parallel numba kernel on the fast
backend; elsewhere, products with constant 0/1 "shift" matrices, which stay on the tensors'
own backend (no copy through the host). The matrix products are the backend's own.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from .autodiff import Context, no_grad
from .fast_ops import FastOps, Kernel
from .tensor import Tensor
from .tensor_functions import Function

__all__ = ["Conv1dFun", "Conv2dFun", "conv1d", "conv2d", "unfold", "unfold_kernel"]


class _Conv(Function):
    """Forward and backward shared by the 1-D and 2-D convolutions (see the module doc)."""

    spatial_dims = 0  # 1 or 2: set by the subclasses

    @classmethod
    def apply(cls, *inputs: Tensor, **params: object) -> Tensor:
        _check(cls.__name__, cls.spatial_dims, *inputs)
        return super().apply(*inputs, **params)

    @staticmethod
    def forward(ctx: Context, input: Tensor, weight: Tensor) -> Tensor:
        ctx.save_for_backward(input, weight)
        with no_grad():  # tensor operations inside: record nothing, Conv is the graph's node
            return _convolve(input, weight, reverse=False)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        input, weight = ctx.saved_values
        # A constant's gradient is dropped by chain_rule: skip its computation (the input
        # of a first layer usually is one), return a placeholder of the right shape.
        grad_input = (
            _convolve(grad_output, _swap(weight), reverse=True)
            if input.requires_grad()
            else input.zeros()
        )
        grad_weight = (
            _weight_gradient(input, grad_output, weight.shape)
            if weight.requires_grad()
            else weight.zeros()
        )
        return grad_input, grad_weight


class Conv1dFun(_Conv):
    r"""$out_{b,o,x} = \sum_{c,j} in_{b,c,x+j} \, w_{o,c,j}$: `(B, C, W)` with `(O, C, K)` gives
    `(B, O, W)`; positions past the end read as 0."""

    spatial_dims = 1


class Conv2dFun(_Conv):
    r"""$out_{b,o,y,x} = \sum_{c,i,j} in_{b,c,y+i,x+j} \, w_{o,c,i,j}$: `(B, C, H, W)` with
    `(O, C, KH, KW)` gives `(B, O, H, W)`; positions past the end read as 0."""

    spatial_dims = 2


def conv1d(input: Tensor, weight: Tensor) -> Tensor:
    """1-D convolution of `(batch, in_channels, width)` with `(out_channels, in_channels, k)`.

    Returns:
        `(batch, out_channels, width)` (see `Conv1dFun`).

    Raises:
        ValueError: naming both shapes, when the channels differ or the kernel is wider
            than the input.
    """
    return Conv1dFun.apply(input, weight)


def conv2d(input: Tensor, weight: Tensor) -> Tensor:
    """2-D convolution of `(batch, in_channels, h, w)` with `(out_channels, in_channels, kh, kw)`.

    Returns:
        `(batch, out_channels, h, w)` (see `Conv2dFun`).

    Raises:
        ValueError: naming both shapes, when the channels differ or the kernel is larger
            than the input.
    """
    return Conv2dFun.apply(input, weight)


def _check(name: str, spatial: int, input: Tensor, weight: Tensor) -> None:
    """Fail early, naming both shapes, on input the convolution cannot take."""
    shapes = f"input {input.shape} and weight {weight.shape}"
    if input.dims != spatial + 2 or weight.dims != spatial + 2:
        raise ValueError(f"{name} needs {spatial + 2}-D input and weight, got {shapes}")
    if input.shape[1] != weight.shape[1]:
        raise ValueError(
            f"{name}: the input has {input.shape[1]} channels but the weight expects "
            f"{weight.shape[1]} ({shapes})"
        )
    if any(k > n for k, n in zip(weight.shape[2:], input.shape[2:])):
        raise ValueError(f"{name}: the kernel is larger than the input ({shapes})")


def _swap(t: Tensor) -> Tensor:
    """Swap the first two dimensions (batch and channels, or out and in channels): a view."""
    return t.permute(1, 0, *range(2, t.dims))


def _convolve(input: Tensor, weight: Tensor, reverse: bool) -> Tensor:
    r"""$out_{n,o,..} = \sum_{c,k} in_{n,c,.. \pm k} \, w_{o,c,k}$, an output as large as the input.

    Args:
        input: `(N, C, W)` or `(N, C, H, W)`.
        weight: `(O, C, K)` or `(O, C, KH, KW)`.
        reverse: read the input at $y - i$ instead of $y + i$.

    Returns:
        `(N, O, W)` or `(N, O, H, W)`, on the input's backend.
    """
    n, _, *size = input.shape
    o = weight.shape[0]
    cols = unfold(input, weight.shape[2:], reverse)  # (N, C*K.., P)
    w = weight.contiguous().view(1, o, cols.shape[1])  # one matrix for the whole batch
    return (w @ cols).view(n, o, *size)


def _weight_gradient(input: Tensor, grad_output: Tensor, shape: tuple[int, ...]) -> Tensor:
    r"""$\partial L / \partial w = \sum_n g_n \, cols_n^T$, shaped like the weight (`shape`)."""
    n, o = grad_output.shape[:2]
    cols = unfold(input, shape[2:], reverse=False)  # (N, C*K.., P)
    g = grad_output.contiguous().view(n, o, cols.shape[2])  # (N, O, P)
    return (g @ cols.permute(0, 2, 1)).sum(0).view(*shape)  # (N, O, C*K..) summed over N


def unfold(input: Tensor, kernel: tuple[int, ...], reverse: bool = False) -> Tensor:
    """Every window of `input`, one per output position, as columns.

    `cols[n, (c, i, j), (y, x)] = input[n, c, y ± i, x ± j]` (`-` if `reverse`), 0 where that
    position lies outside the input. 1-D inputs are read as 2-D of height 1.

    Args:
        input: `(N, C, W)` or `(N, C, H, W)`.
        kernel: `(K,)` or `(KH, KW)`.
        reverse: read backwards from each position instead of forwards.

    Returns:
        A constant `(N, C * KH * KW, H * W)` tensor on the input's backend.
    """
    with no_grad():
        if input.dims == 3:  # (N, C, W) -> (N, C, 1, W)
            n, c, w = input.shape
            return unfold(input.contiguous().view(n, c, 1, w), (1, *kernel), reverse)
        if issubclass(input.backend.ops, FastOps):
            return _unfold_kernel(input, kernel, reverse)
        return _unfold_composed(input, kernel, reverse)


# ---- Fast backend: one parallel numba kernel ---------------------------------------------------


def _unfold_kernel(input: Tensor, kernel: tuple[int, ...], reverse: bool) -> Tensor:
    """`unfold` by `unfold_kernel`, into a fresh (zero) contiguous tensor."""
    n, c, height, width = input.shape
    kh, kw = kernel
    cols = input.zeros((n, c, kh, kw, height, width))
    if input._tensor.strides[-1] != 1 and width > 1:
        input = input.contiguous()  # the kernel copies whole rows: they must be contiguous
    unfold_kernel(cols._tensor._storage, cols._tensor._shape, *input.tuple(), reverse)
    return cols.view(n, c * kh * kw, height * width)


@numba.njit(inline="always", cache=True)
def _inside(shift: int, sign: int, count: int, size: int) -> tuple[int, int]:
    """The range of `t` in `[0, count)` for which `t + sign * shift` lies in `[0, size)`."""
    if sign > 0:
        return 0, min(count, size - shift)
    return shift, min(count, size + shift)


def _unfold(
    out: np.ndarray, out_shape: np.ndarray,
    a: np.ndarray, a_shape: np.ndarray, a_strides: np.ndarray,
    reverse: bool,
) -> None:
    r"""The source of `unfold_kernel`: `out[n, c, i, j, y, x] = a[n, c, y ± i, x ± j]`.

    `out` is contiguous and zero, shaped `(N, C, KH, KW, H, W)` for an `a` of `(N, C, H, W)`
    whose rows have unit stride (other strides are free). Positions outside `a` stay 0.
    Parallel over (n, c) pairs; each copies whole row segments (slices, which LLVM turns
    into vector moves), so no index is computed per element.
    """
    batch, channels, kh, kw, height, width = (
        out_shape[0], out_shape[1], out_shape[2], out_shape[3], out_shape[4], out_shape[5]
    )
    sign = -1 if reverse else 1
    for job in prange(batch * channels):
        a_image = (job // channels) * a_strides[0] + (job % channels) * a_strides[1]
        for i in range(kh):
            y_lo, y_hi = _inside(i, sign, height, height)
            for j in range(kw):
                x_lo, x_hi = _inside(j, sign, width, width)
                plane = ((job * kh + i) * kw + j) * height * width
                for y in range(y_lo, y_hi):
                    src = a_image + (y + sign * i) * a_strides[2] + sign * j
                    dst = plane + y * width
                    out[dst + x_lo : dst + x_hi] = a[src + x_lo : src + x_hi]


def _unfold_work(out: np.ndarray, *_: object) -> int:
    return out.size


unfold_kernel = Kernel(_unfold, _unfold_work, cache=True)


# ---- Every other backend: shift matrices ------------------------------------------------------


def _unfold_composed(input: Tensor, kernel: tuple[int, ...], reverse: bool) -> Tensor:
    """`unfold` from existing tensor operations, on the input's own backend: one product
    with a constant 0/1 "shift" matrix per spatial dimension."""
    n, c, height, width = input.shape
    kh, kw = kernel
    x = _unfold_last(input, width, kw, reverse)  # (N, C, H, W, KW)
    x = x.permute(0, 1, 3, 4, 2)  # (N, C, W, KW, H)
    x = _unfold_last(x, height, kh, reverse)  # (N, C, W, KW, H, KH)
    x = x.permute(0, 1, 5, 3, 4, 2).contiguous()  # (N, C, KH, KW, H, W)
    return x.view(n, c * kh * kw, height * width)


def _unfold_last(x: Tensor, size: int, k: int, reverse: bool) -> Tensor:
    """`(..., size) -> (..., size, k)`, entry `[.., t, j]` reading `[.., t ± j]` (0 outside)."""
    sign = -1 if reverse else 1
    shift = np.zeros((size, size, k))
    for t in range(size):
        for j in range(k):
            if 0 <= t + sign * j < size:
                shift[t + sign * j, t, j] = 1.0
    lead = x.shape[:-1]
    rows = x.contiguous().view(int(np.prod(lead)), size)
    unfolded = rows @ Tensor.make(shift.ravel(), (size, size * k), backend=x.backend)
    return unfolded.view(*lead, size, k)
