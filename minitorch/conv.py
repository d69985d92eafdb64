r"""Convolutions: `conv1d` / `Conv1dFun` and `conv2d` / `Conv2dFun`.

The forward pass, in two dimensions (one dimension is the same with height 1):

$out_{b,o,y,x} = \sum_{c,i,j} in_{b,c,y+i,x+j} \, w_{o,c,i,j}$, positions past the end read as 0,

so the output has the input's height and width. Its backward passes are convolutions too:

* $\partial L/\partial in_{b,c,p,q} = \sum_{o,i,j} g_{b,o,p-i,q-j} \, w_{o,c,i,j}$: the gradient
  convolved with the weights, channels swapped, reading *backwards* ("reversed");
* $\partial L/\partial w_{o,c,i,j} = \sum_{b,y,x} in_{b,c,y+i,x+j} \, g_{b,o,y,x}$: the input
  (batch and channels swapped) convolved with the gradient as its kernel, output size `kh x kw`.

So one routine, `_convolve(input, weight, out_size, reverse)`, serves all three. A backend may
supply a convolution kernel (`TensorOps.conv_kernel`: the fast backend's in `fast_conv`, the
GPU's in `cuda_ops`); for a backend without one, a composition of existing tensor operations
(shift matrices and one matrix product) computes it on the tensors' own backend.
"""

from __future__ import annotations

import numpy as np

from .autodiff import Context, no_grad
from .tensor import Tensor
from .tensor_data import TensorData
from .tensor_functions import Function

__all__ = ["Conv1dFun", "Conv2dFun", "conv1d", "conv2d"]


class _Conv(Function):
    """Forward and backward shared by the 1-D and 2-D convolutions (see the module doc)."""

    spatial_dims = 0  # 1 or 2: set by the subclasses

    @classmethod
    def apply(cls, *inputs: Tensor, **params: object) -> Tensor:
        _check(cls.__name__, cls.spatial_dims, *inputs)
        input, weight = inputs
        # a weight on the other device (host or GPU) moves to the input's, as for `a @ b`
        return super().apply(input, input._ensure_tensor(weight), **params)

    @staticmethod
    def forward(ctx: Context, input: Tensor, weight: Tensor) -> Tensor:
        ctx.save_for_backward(input, weight)
        return _convolve(input, weight, input.shape[2:], reverse=False)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        input, weight = ctx.saved_values
        return Convolve.gradients(input, weight, grad_output, reverse=False)


class Convolve(Function):
    r"""$out_{n,o,y,x} = \sum_{c,i,j} in_{n,c,y \pm i,x \pm j} \, w_{o,c,i,j}$ ($-$ if
    `reverse`) to an output of `out_size`: `_convolve` as a differentiable function.

    The gradients of a convolution are convolutions of this family, and so are theirs: the
    backward passes of `conv1d` / `conv2d` are recorded with it, so they can be
    differentiated again (`create_graph=True`).
    """

    @staticmethod
    def forward(
        ctx: Context, input: Tensor, weight: Tensor, out_size: tuple[int, ...], reverse: bool
    ) -> Tensor:
        ctx.save_for_backward(input, weight, reverse)
        return _convolve(input, weight, out_size, reverse)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        input, weight, reverse = ctx.saved_values
        return Convolve.gradients(input, weight, grad_output, reverse)

    @staticmethod
    def gradients(
        input: Tensor, weight: Tensor, grad_output: Tensor, reverse: bool
    ) -> tuple[Tensor, Tensor]:
        r"""The gradients of `_convolve(input, weight, .., reverse)` for `grad_output`.

        * input: $\sum_{o,i,j} g_{n,o,p \mp i,q \mp j} w_{o,c,i,j}$, the gradient convolved
          with the weights (channels swapped) in the other direction;
        * weight, forward: $\sum_{n,y,x} in_{n,c,y+i,x+j} \, g_{n,o,y,x}$, the input (batch
          and channels swapped) convolved with the gradient as its kernel;
        * weight, reversed: $\sum_{n,t,u} g_{n,o,i+t,j+u} \, in_{n,c,t,u}$ (with $t = y - i$),
          the gradient convolved with the input as its kernel.

        A constant's gradient is dropped by chain_rule: its convolution is skipped (the
        input of a first layer usually is one) for a placeholder of the right shape.
        """
        if input.requires_grad():
            grad_input = Convolve.apply(
                grad_output, _swap(weight), out_size=input.shape[2:], reverse=not reverse
            )
        else:
            grad_input = input.zeros()
        if not weight.requires_grad():
            grad_weight = weight.zeros()
        elif reverse:
            grad_weight = Convolve.apply(
                _swap(grad_output), _swap(input), out_size=weight.shape[2:], reverse=False
            )
        else:
            grad_weight = _swap(
                Convolve.apply(
                    _swap(input), _swap(grad_output), out_size=weight.shape[2:], reverse=False
                )
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


def _convolve(input: Tensor, weight: Tensor, out_size: tuple[int, ...], reverse: bool) -> Tensor:
    r"""$out_{n,o,y,x} = \sum_{c,i,j} in_{n,c,y \pm i,x \pm j} \, w_{o,c,i,j}$ ($-$ if `reverse`).

    Positions outside the input read as 0. 1-D operands are treated as 2-D of height 1.

    Args:
        input: `(N, C, W)` or `(N, C, H, W)`.
        weight: `(O, C, K)` or `(O, C, KH, KW)`.
        out_size: the output's `(W,)` or `(H, W)`.
        reverse: read the input at $y - i$ instead of $y + i$.

    Returns:
        A constant tensor of shape `(N, O, *out_size)` on the input's backend.
    """
    with no_grad():
        if input.dtype != weight.dtype:  # mixed dtypes compute in float64, as elsewhere
            input, weight = input.double(), weight.double()
        if input.dims == 3:
            out = _convolve(_unsqueeze(input), _unsqueeze(weight), (1, *out_size), reverse)
            return out.view(out.shape[0], out.shape[1], out.shape[3])
        kernel = input.backend.ops.conv_kernel
        if kernel is None:
            return _convolve_composed(input, weight, out_size, reverse)
        out = input.zeros((input.shape[0], weight.shape[0], *out_size))
        kernel(*out.tuple(), *input.tuple(), *weight.tuple(), reverse)
        return out


def _unsqueeze(t: Tensor) -> Tensor:
    """`(N, C, W) -> (N, C, 1, W)`: a view of the same storage, whatever its strides (the
    sentiment model convolves a permuted tensor, three times: no copy each time)."""
    data = t._tensor
    (n, c, w), (sn, sc, sw) = data.shape, data.strides
    return t._new(TensorData(data._storage, (n, c, 1, w), (sn, sc, 0, sw)))


# ---- Every other backend: shift matrices and a matrix product ----------------------------------


def _convolve_composed(
    input: Tensor, weight: Tensor, out_size: tuple[int, ...], reverse: bool
) -> Tensor:
    """`_convolve` from existing tensor operations, on the input's own backend.

    Unfolds the input into every (row, column) window with one constant 0/1 "shift" matrix
    per spatial dimension, then contracts windows with weights in one matrix product.
    """
    n, c, height, width = input.shape
    o, _, kh, kw = weight.shape
    out_h, out_w = out_size
    x = _unfold_last(input, width, out_w, kw, reverse)  # (N, C, H, out_w, KW)
    x = x.permute(0, 1, 3, 4, 2)  # (N, C, out_w, KW, H)
    x = _unfold_last(x, height, out_h, kh, reverse)  # (N, C, out_w, KW, out_h, KH)
    x = x.permute(0, 4, 2, 1, 5, 3).contiguous()  # (N, out_h, out_w, C, KH, KW)
    windows = x.view(n * out_h * out_w, c * kh * kw)
    kernels = weight.contiguous().view(o, c * kh * kw).permute(1, 0)  # (C*KH*KW, O)
    out = (windows @ kernels).view(n, out_h, out_w, o)
    return out.permute(0, 3, 1, 2).contiguous()  # (N, O, out_h, out_w)


def _unfold_last(x: Tensor, size: int, out: int, k: int, reverse: bool) -> Tensor:
    """`(..., size) -> (..., out, k)`, entry `[.., t, j]` reading `[.., t ± j]` (0 outside)."""
    sign = -1 if reverse else 1
    shift = np.zeros((size, out, k), x.dtype)
    for t in range(out):
        for j in range(k):
            if 0 <= t + sign * j < size:
                shift[t + sign * j, t, j] = 1.0
    lead = x.shape[:-1]
    rows = x.contiguous().view(int(np.prod(lead)), size)
    unfolded = rows @ Tensor.make(shift.ravel(), (size, out * k), backend=x.backend)
    return unfolded.view(*lead, out, k)
