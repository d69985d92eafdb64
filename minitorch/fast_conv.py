r"""Convolutions: `conv1d` / `Conv1dFun` and `conv2d` / `Conv2dFun`.

The forward pass, in two dimensions (one dimension is the same with height 1):

$out_{b,o,y,x} = \sum_{c,i,j} in_{b,c,y+i,x+j} \, w_{o,c,i,j}$, positions past the end read as 0,

so the output has the input's height and width. Its backward passes are convolutions too:

* $\partial L/\partial in_{b,c,p,q} = \sum_{o,i,j} g_{b,o,p-i,q-j} \, w_{o,c,i,j}$: the gradient
  convolved with the weights, channels swapped, reading *backwards* ("reversed");
* $\partial L/\partial w_{o,c,i,j} = \sum_{b,y,x} in_{b,c,y+i,x+j} \, g_{b,o,y,x}$: the input
  (batch and channels swapped) convolved with the gradient as its kernel, output size `kh x kw`.

So one routine, `_convolve(input, weight, out_size, reverse)`, serves all three. It has two
implementations: a parallel numba kernel for the fast backend, and, for every other backend,
a composition of existing tensor operations (shift matrices and one matrix product) that
stays on the tensors' own backend.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from .autodiff import Context, no_grad
from .fast_ops import FastOps, Kernel
from .tensor import Tensor
from .tensor_data import TensorData
from .tensor_functions import Function

__all__ = ["Conv1dFun", "Conv2dFun", "conv1d", "conv2d", "conv_kernel"]


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


def _convolve(
    input: Tensor, weight: Tensor, out_size: tuple[int, ...], reverse: bool
) -> Tensor:
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
        if input.dims == 3:
            out = _convolve(_unsqueeze(input), _unsqueeze(weight), (1, *out_size), reverse)
            return out.view(out.shape[0], out.shape[1], out.shape[3])
        if issubclass(input.backend.ops, FastOps):
            return _convolve_kernel(input, weight, out_size, reverse)
        return _convolve_composed(input, weight, out_size, reverse)


def _unsqueeze(t: Tensor) -> Tensor:
    """`(N, C, W) -> (N, C, 1, W)`: a view of the same storage, whatever its strides (the
    sentiment model convolves a permuted tensor, three times: no copy each time)."""
    data = t._tensor
    (n, c, w), (sn, sc, sw) = data.shape, data.strides
    return t._new(TensorData(data._storage, (n, c, 1, w), (sn, sc, 0, sw)))


# ---- Fast backend: one parallel numba kernel ---------------------------------------------------


def _convolve_kernel(
    input: Tensor, weight: Tensor, out_size: tuple[int, ...], reverse: bool
) -> Tensor:
    """`_convolve` by `conv_kernel`, into a fresh contiguous output.

    The weights' layout picks the kernel's loop order (see `conv_kernel`): with many output
    channels (the sentiment model's 100 filters) they are stored with the output channel
    last; otherwise input and weights get unit-stride rows.
    """
    out = input.zeros((input.shape[0], weight.shape[0], *out_size))
    if weight.shape[0] >= CHANNELS_INNERMOST:
        # (O, C, KH, KW) stored as (C, KH, KW, O): a view with stride 1 along O
        weight = weight.permute(1, 2, 3, 0).contiguous().permute(3, 0, 1, 2)
    else:
        input, weight = _rows(input), _rows(weight)
    conv_kernel(*out.tuple(), *input.tuple(), *weight.tuple(), reverse)
    return out


# From this many output channels the innermost loop runs over them: long enough to
# vectorise, and longer than the rows of short inputs (sentences of a few dozen words).
CHANNELS_INNERMOST = 16


def _rows(t: Tensor) -> Tensor:
    """`t` with unit stride along its last dimension (copied only when it has not)."""
    return t if t._tensor.strides[-1] == 1 or t.shape[-1] == 1 else t.contiguous()


@numba.njit(inline="always", cache=True)
def _inside(shift: int, sign: int, count: int, size: int) -> tuple[int, int]:
    """The range of `t` in `[0, count)` for which `t + sign * shift` lies in `[0, size)`."""
    if sign > 0:
        return 0, min(count, size - shift)
    return shift, min(count, size + shift)


def _conv(
    out: np.ndarray, out_shape: np.ndarray, out_strides: np.ndarray,
    a: np.ndarray, a_shape: np.ndarray, a_strides: np.ndarray,
    w: np.ndarray, w_shape: np.ndarray, w_strides: np.ndarray,
    reverse: bool,
) -> None:
    r"""The source of `conv_kernel`, over raw storage:
    $out_{n,o,y,x} = \sum_{c,i,j} a_{n,c,y \pm i,x \pm j} \, w_{o,c,i,j}$ ($-$ if `reverse`).

    All operands are 4-D; `out` is contiguous and starts at 0; positions outside `a` read
    as 0. The innermost loop runs long and over contiguous memory, in one of three orders:

    * weights with unit stride along the output channel (many channels): parallel over
      output rows `(n, y)`; each input value is multiplied into all output channels at
      once, `acc[:] += a[c, y ± i, x ± j] * w[:, c, i, j]`;
    * a narrow kernel (forward, input gradient; `a` with unit-stride rows): parallel over
      output images `(n, o)`; each weight is multiplied into whole rows,
      `out[y, :] += w[i, j] * a[y ± i, ± j:]`;
    * a wide kernel (the weight gradient, whose kernel is a whole image; forward only):
      parallel over `(n, o)`; dot products of a row of `w` with a row of `a`.

    Either way threads never write the same place.
    """
    batch, out_ch, out_h, out_w = out_shape[0], out_shape[1], out_shape[2], out_shape[3]
    sizes = (out_ch, out_h, out_w, a_shape[1], a_shape[2], a_shape[3], w_shape[2], w_shape[3])
    sign = -1 if reverse else 1
    if w_strides[0] == 1 and out_ch > 1:
        for job in prange(batch * out_h):
            _one_row(job, sign, sizes, out, out_strides, a, a_strides, w, w_strides)
    else:
        for job in prange(batch * out_ch):
            _one_image(job, sign, sizes, out, out_strides, a, a_strides, w, w_strides)


# The two loop nests of `conv_kernel` live in functions of their own, so that LLVM
# optimises each one alone. `sizes` is (out_ch, out_h, out_w, in_ch, height, width, kh, kw).


@numba.njit(cache=True)
def _one_row(
    job: int, sign: int, sizes: tuple[int, ...], out: np.ndarray, out_strides: np.ndarray,
    a: np.ndarray, a_strides: np.ndarray, w: np.ndarray, w_strides: np.ndarray,
) -> None:
    """Output row `(n, y)`, output channels innermost (`w` has unit stride along them)."""
    out_ch, out_h, out_w, in_ch, height, width, kh, kw = sizes
    n = job // out_h
    y = job % out_h
    acc = np.empty(out_ch)  # one output position, every channel
    for x in range(out_w):
        acc[:] = 0.0
        for c in range(in_ch):
            for i in range(kh):
                yy = y + sign * i
                if yy < 0 or yy >= height:
                    continue
                # kernel columns j whose x ± j lies inside the row
                if sign < 0:
                    j_lo, j_hi = max(0, x - width + 1), min(kw, x + 1)
                else:
                    j_lo, j_hi = 0, min(kw, width - x)
                for j in range(j_lo, j_hi):
                    v = a[n * a_strides[0] + c * a_strides[1] + yy * a_strides[2]
                          + (x + sign * j) * a_strides[3]]
                    start = c * w_strides[1] + i * w_strides[2] + j * w_strides[3]
                    w_slice = w[start : start + out_ch]
                    for o in range(out_ch):
                        acc[o] += v * w_slice[o]
        position = n * out_strides[0] + y * out_strides[2] + x * out_strides[3]
        for o in range(out_ch):
            out[position + o * out_strides[1]] = acc[o]


# `reassoc` lets LLVM vectorise the dot products (summing in another order: results move
# by rounding only).
@numba.njit(cache=True, fastmath={"reassoc"})
def _one_image(
    job: int, sign: int, sizes: tuple[int, ...], out: np.ndarray, out_strides: np.ndarray,
    a: np.ndarray, a_strides: np.ndarray, w: np.ndarray, w_strides: np.ndarray,
) -> None:
    """Output image `(n, o)`: whole rows innermost for a narrow kernel, else dot products
    of kernel rows (`a` has unit-stride rows; so has `w` for the dot products)."""
    out_ch, out_h, out_w, in_ch, height, width, kh, kw = sizes
    n = job // out_ch
    o = job % out_ch
    out_image = n * out_strides[0] + o * out_strides[1]
    if sign < 0 or kw <= out_w:
        # out[y, x_lo:x_hi] += w[i, j] * a[y ± i, x_lo ± j : x_hi ± j]
        for c in range(in_ch):
            a_image = n * a_strides[0] + c * a_strides[1]
            w_image = o * w_strides[0] + c * w_strides[1]
            for i in range(kh):
                y_lo, y_hi = _inside(i, sign, out_h, height)
                for j in range(kw):
                    x_lo, x_hi = _inside(j, sign, out_w, width)
                    wv = w[w_image + i * w_strides[2] + j * w_strides[3]]
                    for y in range(y_lo, y_hi):
                        o_row = out_image + y * out_strides[2]
                        a_row = a_image + (y + sign * i) * a_strides[2] + sign * j
                        out_slice = out[o_row + x_lo : o_row + x_hi]
                        a_slice = a[a_row + x_lo : a_row + x_hi]
                        for x in range(out_slice.shape[0]):
                            out_slice[x] += wv * a_slice[x]
        return
    # out[y, x] = sum over c, i of the dot product of a row of w and a row of a (forward
    # direction only: the reversed input gradient never has a wide kernel)
    for y in range(out_h):
        for x in range(out_w):
            j_hi = min(kw, width - x)
            acc = 0.0
            for c in range(in_ch):
                for i in range(min(kh, height - y)):
                    a_row = n * a_strides[0] + c * a_strides[1] + (y + i) * a_strides[2]
                    w_row = o * w_strides[0] + c * w_strides[1] + i * w_strides[2]
                    a_slice = a[a_row + x : a_row + x + j_hi]
                    w_slice = w[w_row : w_row + j_hi]
                    for j in range(j_hi):
                        acc += a_slice[j] * w_slice[j]
            out[out_image + y * out_strides[2] + x] = acc


def _conv_work(out: np.ndarray, out_shape: np.ndarray, out_strides: np.ndarray,
               a: np.ndarray, a_shape: np.ndarray, a_strides: np.ndarray,
               w: np.ndarray, w_shape: np.ndarray, *_: object) -> int:
    # multiply-adds, at about 1/4 of an elementwise op each: the rows are short (an image's
    # width), so they vectorise less well than matmul's; parallel from about 1M of them
    return out.size * int(a_shape[1] * w_shape[2] * w_shape[3]) // 4


conv_kernel = Kernel(_conv, _conv_work, cache=True)


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
    shift = np.zeros((size, out, k))
    for t in range(out):
        for j in range(k):
            if 0 <= t + sign * j < size:
                shift[t + sign * j, t, j] = 1.0
    lead = x.shape[:-1]
    rows = x.contiguous().view(int(np.prod(lead)), size)
    unfolded = rows @ Tensor.make(shift.ravel(), (size, out * k), backend=x.backend)
    return unfolded.view(*lead, out, k)
