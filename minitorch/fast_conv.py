r"""The fast backend's convolution: one parallel numba kernel, `conv_kernel`, and the slot
`FastOps.conv_kernel` that feeds it (`convolve`).

The autodiff Functions and the math they compute live in `minitorch.conv`; this module keeps
the kernel, and the names the course imports from here (`Conv1dFun`, `Conv2dFun`, `conv1d`,
`conv2d`), which resolve to `minitorch.conv`'s.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import prange

from .fast_ops import Kernel

_COURSE_NAMES = ("Conv1dFun", "Conv2dFun", "conv1d", "conv2d")

__all__ = ["convolve", "conv_kernel", *_COURSE_NAMES]


def __getattr__(name: str) -> Any:
    # `conv` imports this module's kernel: its names resolve lazily, on first use
    if name in _COURSE_NAMES:
        from . import conv

        return getattr(conv, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---- Fast backend: one parallel numba kernel ---------------------------------------------------


def convolve(
    out: np.ndarray,
    out_shape: np.ndarray,
    out_strides: np.ndarray,
    a: np.ndarray,
    a_shape: np.ndarray,
    a_strides: np.ndarray,
    w: np.ndarray,
    w_shape: np.ndarray,
    w_strides: np.ndarray,
    reverse: bool,
) -> None:
    """The fast backend's convolution kernel (`FastOps.conv_kernel`): `conv_kernel` on
    operands given the layout its loops want. `out` is contiguous and holds zeros.

    The weights' layout picks the kernel's loop order (see `_conv`): with many output
    channels (the sentiment model's 100 filters) they are stored with the output channel
    last; otherwise input and weights get unit-stride rows.
    """
    if w_shape[0] >= CHANNELS_INNERMOST:
        # (O, C, KH, KW) stored as (C, KH, KW, O): a layout with stride 1 along O
        packed = np.ascontiguousarray(_view(w, w_shape, w_strides).transpose(1, 2, 3, 0))
        w = packed.reshape(-1)
        w_strides = (np.array(packed.strides) // packed.itemsize)[[3, 0, 1, 2]]
    else:
        a, a_strides = _rows(a, a_shape, a_strides)
        w, w_strides = _rows(w, w_shape, w_strides)
    conv_kernel(out, out_shape, out_strides, a, a_shape, a_strides, w, w_shape, w_strides, reverse)


def _view(storage: np.ndarray, shape: np.ndarray, strides: np.ndarray) -> np.ndarray:
    """`storage` read through `shape` and `strides` (a view)."""
    return np.lib.stride_tricks.as_strided(
        storage, tuple(shape.tolist()), tuple((strides * storage.itemsize).tolist())
    )


# From this many output channels the innermost loop runs over them: long enough to
# vectorise, and longer than the rows of short inputs (sentences of a few dozen words).
CHANNELS_INNERMOST = 16


def _rows(
    storage: np.ndarray, shape: np.ndarray, strides: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Storage and strides with unit stride along the last dimension (copied only when not)."""
    if strides[-1] == 1 or shape[-1] == 1:
        return storage, strides
    packed = np.ascontiguousarray(_view(storage, shape, strides))
    return packed.reshape(-1), np.array(packed.strides) // packed.itemsize


@numba.njit(inline="always", cache=True)
def _inside(shift: int, sign: int, count: int, size: int) -> tuple[int, int]:
    """The range of `t` in `[0, count)` for which `t + sign * shift` lies in `[0, size)`."""
    if sign > 0:
        return 0, min(count, size - shift)
    return shift, min(count, size + shift)


def _conv(
    out: np.ndarray,
    out_shape: np.ndarray,
    out_strides: np.ndarray,
    a: np.ndarray,
    a_shape: np.ndarray,
    a_strides: np.ndarray,
    w: np.ndarray,
    w_shape: np.ndarray,
    w_strides: np.ndarray,
    reverse: bool,
) -> None:
    r"""The source of `conv_kernel`, over raw storage:
    $out_{n,o,y,x} = \sum_{c,i,j} a_{n,c,y \pm i,x \pm j} \, w_{o,c,i,j}$ ($-$ if `reverse`).

    All operands are 4-D; `out` is contiguous and starts at 0; positions outside `a` read
    as 0. The innermost loop runs long and over contiguous memory, in one of three orders:

    * weights with unit stride along the output channel (many channels): parallel over
      output rows `(n, y)`; each input value is multiplied into all output channels at
      once, `acc[:] += a[c, y ± i, x ± j] * w[:, c, i, j]`;
    * a narrow kernel (forward, input gradient): parallel over input images and blocks of
      `OUT_BLOCK` output channels, which share one zero-padded copy of the image; each
      weight is multiplied into the whole image, `out[:, :] += w[c, i, j] * a[c, ± i:, ± j:]`;
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
    elif sign < 0 or w_shape[3] <= out_w:
        blocks = (out_ch + OUT_BLOCK - 1) // OUT_BLOCK
        for job in prange(batch * blocks):
            n, first = job // blocks, job % blocks * OUT_BLOCK
            last = min(out_ch, first + OUT_BLOCK)
            _padded_images(
                n, first, last, sign, sizes, out, out_strides, a, a_strides, w, w_strides
            )
    else:
        for job in prange(batch * out_ch):
            _one_image(job, sign, sizes, out, out_strides, a, a_strides, w, w_strides)


# Output channels per job of a narrow kernel: they share the copy of the input image (the
# copy, not the arithmetic, was most of a job's time with one channel per job).
OUT_BLOCK = 8

# The loop nests of `conv_kernel` live in functions of their own, so that LLVM
# optimises each one alone. `sizes` is (out_ch, out_h, out_w, in_ch, height, width, kh, kw).


@numba.njit(cache=True)
def _one_row(
    job: int,
    sign: int,
    sizes: tuple[int, ...],
    out: np.ndarray,
    out_strides: np.ndarray,
    a: np.ndarray,
    a_strides: np.ndarray,
    w: np.ndarray,
    w_strides: np.ndarray,
) -> None:
    """Output row `(n, y)`, output channels innermost (`w` has unit stride along them).

    Output positions go in pairs, `x` and `x + 1`: each row of weights read serves both
    (the weights outgrow the L1 cache; reading them was the loop's limit). Each position
    still sums its taps in the order a single position would.
    """
    out_ch, out_h, out_w, in_ch, height, width, kh, kw = sizes
    n = job // out_h
    y = job % out_h
    acc0 = np.empty(out_ch, out.dtype)  # position x, every channel
    acc1 = np.empty(out_ch, out.dtype)  # position x + 1
    for x in range(0, out_w, 2):
        pair = x + 1 < out_w
        acc0[:] = 0.0
        acc1[:] = 0.0
        for i in range(kh):
            yy = y + sign * i
            if yy < 0 or yy >= height:
                continue
            base = n * a_strides[0] + yy * a_strides[2]
            q = i * w_strides[2]
            lo0, hi0 = _taps_inside(x, sign, kw, width)
            lo1, hi1 = _taps_inside(x + 1, sign, kw, width) if pair else (kw, 0)
            first, last = max(lo0, lo1), min(hi0, hi1)  # the taps both positions take
            if last <= first:  # none in common: one position at a time
                first = last = hi0
            for j in range(lo0, min(first, hi0)):
                p = base + (x + sign * j) * a_strides[3]
                _taps(acc0, a, p, a_strides[1], w, q + j * w_strides[3], w_strides[1], in_ch)
            for j in range(lo1, min(first, hi1)):
                p = base + (x + 1 + sign * j) * a_strides[3]
                _taps(acc1, a, p, a_strides[1], w, q + j * w_strides[3], w_strides[1], in_ch)
            for j in range(first, last):
                p = base + (x + sign * j) * a_strides[3]
                _taps2(
                    acc0,
                    acc1,
                    a,
                    p,
                    p + a_strides[3],
                    a_strides[1],
                    w,
                    q + j * w_strides[3],
                    w_strides[1],
                    in_ch,
                )
            for j in range(max(last, lo0), hi0):
                p = base + (x + sign * j) * a_strides[3]
                _taps(acc0, a, p, a_strides[1], w, q + j * w_strides[3], w_strides[1], in_ch)
            for j in range(max(last, lo1), hi1):
                p = base + (x + 1 + sign * j) * a_strides[3]
                _taps(acc1, a, p, a_strides[1], w, q + j * w_strides[3], w_strides[1], in_ch)
        position = n * out_strides[0] + y * out_strides[2] + x * out_strides[3]
        for o in range(out_ch):
            out[position + o * out_strides[1]] = acc0[o]
        if pair:
            position += out_strides[3]
            for o in range(out_ch):
                out[position + o * out_strides[1]] = acc1[o]


@numba.njit(inline="always", cache=True)
def _taps_inside(x: int, sign: int, kw: int, width: int) -> tuple[int, int]:
    """The kernel columns j whose x ± j lies inside a row of `width`."""
    if sign < 0:
        return max(0, x - width + 1), min(kw, x + 1)
    return 0, min(kw, width - x)


@numba.njit(inline="always", cache=True)
def _taps(acc, a, p, a_step, w, s, w_step, in_ch):  # type: ignore[no-untyped-def]
    """`acc[:] += sum_c a[p + c a_step] * w[s + c w_step :][:len(acc)]`, four input
    channels per pass over `acc`."""
    out_ch = len(acc)
    c = 0
    while c + 4 <= in_ch:
        v0, v1 = a[p + c * a_step], a[p + (c + 1) * a_step]
        v2, v3 = a[p + (c + 2) * a_step], a[p + (c + 3) * a_step]
        t = s + c * w_step
        w0, w1 = w[t : t + out_ch], w[t + w_step : t + w_step + out_ch]
        t += 2 * w_step
        w2, w3 = w[t : t + out_ch], w[t + w_step : t + w_step + out_ch]
        for o in range(out_ch):
            acc[o] += v0 * w0[o] + v1 * w1[o] + v2 * w2[o] + v3 * w3[o]
        c += 4
    while c < in_ch:
        v = a[p + c * a_step]
        t = s + c * w_step
        w0 = w[t : t + out_ch]
        for o in range(out_ch):
            acc[o] += v * w0[o]
        c += 1


@numba.njit(inline="always", cache=True)
def _taps2(acc0, acc1, a, p0, p1, a_step, w, s, w_step, in_ch):  # type: ignore[no-untyped-def]
    """`_taps` for two positions (input at `p0` into `acc0`, at `p1` into `acc1`) sharing
    each load of the weights; each sum is the one `_taps` computes."""
    out_ch = len(acc0)
    c = 0
    while c + 4 <= in_ch:
        v0, v1 = a[p0 + c * a_step], a[p0 + (c + 1) * a_step]
        v2, v3 = a[p0 + (c + 2) * a_step], a[p0 + (c + 3) * a_step]
        u0, u1 = a[p1 + c * a_step], a[p1 + (c + 1) * a_step]
        u2, u3 = a[p1 + (c + 2) * a_step], a[p1 + (c + 3) * a_step]
        t = s + c * w_step
        w0, w1 = w[t : t + out_ch], w[t + w_step : t + w_step + out_ch]
        t += 2 * w_step
        w2, w3 = w[t : t + out_ch], w[t + w_step : t + w_step + out_ch]
        for o in range(out_ch):
            acc0[o] += v0 * w0[o] + v1 * w1[o] + v2 * w2[o] + v3 * w3[o]
            acc1[o] += u0 * w0[o] + u1 * w1[o] + u2 * w2[o] + u3 * w3[o]
        c += 4
    while c < in_ch:
        v, u = a[p0 + c * a_step], a[p1 + c * a_step]
        t = s + c * w_step
        w0 = w[t : t + out_ch]
        for o in range(out_ch):
            acc0[o] += v * w0[o]
            acc1[o] += u * w0[o]
        c += 1


# `reassoc` lets LLVM vectorise the dot products (summing in another order: results move
# by rounding only).
@numba.njit(cache=True, fastmath={"reassoc"})
def _one_image(
    job: int,
    sign: int,
    sizes: tuple[int, ...],
    out: np.ndarray,
    out_strides: np.ndarray,
    a: np.ndarray,
    a_strides: np.ndarray,
    w: np.ndarray,
    w_strides: np.ndarray,
) -> None:
    """Output image `(n, o)` of a wide kernel (wider than the output: the weight gradient,
    forward only): dot products of a row of `w` with a row of `a` (both unit-stride)."""
    out_ch, out_h, out_w, in_ch, height, width, kh, kw = sizes
    n = job // out_ch
    o = job % out_ch
    out_image = n * out_strides[0] + o * out_strides[1]
    # out[y, x] = sum over c, i of the dot product of a row of w and a row of a
    for y in range(out_h):
        x = 0
        while x < out_w:
            if x + 3 <= out_w:  # three neighbouring outputs share each load of `w`
                x = _three_dots(
                    x, y, n, o, sizes, out, out_image, out_strides, a, a_strides, w, w_strides
                )
                continue
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
            x += 1


# Taps (weights) applied per pass over the image: each pass loads and stores `acc` once for
# this many multiply-adds; eight broadcast weights, their eight shifted loads and `acc` fit
# the sixteen vector registers of AVX2.
TAPS_PER_PASS = 8


@numba.njit(cache=True, fastmath={"reassoc"})
def _padded_images(
    n: int,
    first: int,
    last: int,
    sign: int,
    sizes: tuple[int, ...],
    out: np.ndarray,
    out_strides: np.ndarray,
    a: np.ndarray,
    a_strides: np.ndarray,
    w: np.ndarray,
    w_strides: np.ndarray,
) -> None:
    """Output images `(n, first..last-1)` of a narrow kernel (forward, input gradient).

    The input images `(n, c)` are copied once, zero-padded, into `padded`, whose rows are
    `wide` long; then for each output channel every weight (c, i, j), a "tap", is one long
    contiguous loop over the whole image,
    acc[y * wide + x] += w[o, c, i, j] * padded[c, (y ± i) * wide + x ± j],
    instead of a short loop per row, and `TAPS_PER_PASS` taps share each pass over `acc`.
    Columns x >= out_w of `acc` collect wrapped-around values and are dropped; nothing wraps
    into a kept column, so a NaN reaches only the outputs whose windows read it. Reversed,
    the padding goes before the image (top and left).
    """
    out_ch, out_h, out_w, in_ch, height, width, kh, kw = sizes
    wide = out_w + kw - 1
    length = out_h * wide
    plane = (out_h + kh - 1) * wide + kw - 1  # one padded channel
    top = 0 if sign > 0 else kh - 1
    left = 0 if sign > 0 else kw - 1
    padded = np.zeros(in_ch * plane, out.dtype)
    cols = min(width, wide - left)
    for c in range(in_ch):
        # padded[c, r, s] = a[n, c, r - top, s - left]; what lies outside `a` stays 0
        a_image = n * a_strides[0] + c * a_strides[1]
        for r in range(max(0, top), min(out_h + kh - 1, height + top)):
            a_row = a_image + (r - top) * a_strides[2]
            row = padded[c * plane + r * wide + left : c * plane + r * wide + left + cols]
            if a_strides[3] == 1:
                row[:] = a[a_row : a_row + cols]
            else:
                for x in range(cols):
                    row[x] = a[a_row + x * a_strides[3]]
    # where each tap's shifted image starts in `padded`; along a kernel row, reversed or
    # not, the shift steps by -1 or +1 with j
    taps = in_ch * kh * kw
    starts = np.empty(taps, np.int64)
    for c in range(in_ch):
        for i in range(kh):
            for j in range(kw):
                t = (c * kh + i) * kw + j
                if sign > 0:
                    starts[t] = c * plane + i * wide + j
                else:
                    starts[t] = c * plane + (kh - 1 - i) * wide + kw - 1 - j
    weights = np.empty(taps, out.dtype)
    acc = np.empty(length, out.dtype)
    for o in range(first, last):
        for c in range(in_ch):
            for i in range(kh):
                w_row = o * w_strides[0] + c * w_strides[1] + i * w_strides[2]
                for j in range(kw):
                    weights[(c * kh + i) * kw + j] = w[w_row + j * w_strides[3]]
        acc[:] = 0.0
        _apply_taps(acc, padded, weights, starts, length)
        out_image = n * out_strides[0] + o * out_strides[1]
        for y in range(out_h):
            o_row = out_image + y * out_strides[2]
            for x in range(out_w):
                out[o_row + x * out_strides[3]] = acc[y * wide + x]


@numba.njit(inline="always", fastmath={"reassoc"})
def _apply_taps(
    acc: np.ndarray, padded: np.ndarray, weights: np.ndarray, starts: np.ndarray, length: int
) -> None:
    """acc[p] += sum over taps t of weights[t] * padded[starts[t] + p], for p < length:
    `TAPS_PER_PASS` taps per pass over `acc`, then threes, then ones."""
    taps = len(weights)
    t = 0
    while t + TAPS_PER_PASS <= taps:
        w0, w1, w2, w3 = weights[t], weights[t + 1], weights[t + 2], weights[t + 3]
        w4, w5, w6, w7 = weights[t + 4], weights[t + 5], weights[t + 6], weights[t + 7]
        s0 = padded[starts[t] : starts[t] + length]
        s1 = padded[starts[t + 1] : starts[t + 1] + length]
        s2 = padded[starts[t + 2] : starts[t + 2] + length]
        s3 = padded[starts[t + 3] : starts[t + 3] + length]
        s4 = padded[starts[t + 4] : starts[t + 4] + length]
        s5 = padded[starts[t + 5] : starts[t + 5] + length]
        s6 = padded[starts[t + 6] : starts[t + 6] + length]
        s7 = padded[starts[t + 7] : starts[t + 7] + length]
        for p in range(length):
            acc[p] += (w0 * s0[p] + w1 * s1[p] + w2 * s2[p] + w3 * s3[p]) + (
                w4 * s4[p] + w5 * s5[p] + w6 * s6[p] + w7 * s7[p]
            )
        t += TAPS_PER_PASS
    while t + 3 <= taps:
        w0, w1, w2 = weights[t], weights[t + 1], weights[t + 2]
        s0 = padded[starts[t] : starts[t] + length]
        s1 = padded[starts[t + 1] : starts[t + 1] + length]
        s2 = padded[starts[t + 2] : starts[t + 2] + length]
        for p in range(length):
            acc[p] += w0 * s0[p] + w1 * s1[p] + w2 * s2[p]
        t += 3
    while t < taps:
        w0 = weights[t]
        s0 = padded[starts[t] : starts[t] + length]
        for p in range(length):
            acc[p] += w0 * s0[p]
        t += 1


@numba.njit(inline="always", fastmath={"reassoc"})
def _three_dots(
    x: int,
    y: int,
    n: int,
    o: int,
    sizes: tuple[int, ...],
    out: np.ndarray,
    out_image: int,
    out_strides: np.ndarray,
    a: np.ndarray,
    a_strides: np.ndarray,
    w: np.ndarray,
    w_strides: np.ndarray,
) -> int:
    """Outputs (y, x), (y, x + 1), (y, x + 2) of the wide-kernel case, in one pass over the
    rows of `w`; returns x + 3. Each sum has only its own terms (a[.., x + k + j] inside the
    row), as one output at a time would."""
    _, _, _, in_ch, height, width, kh, kw = sizes
    acc0, acc1, acc2 = 0.0, 0.0, 0.0
    hi0, hi1, hi2 = min(kw, width - x), min(kw, width - x - 1), min(kw, width - x - 2)
    for c in range(in_ch):
        for i in range(min(kh, height - y)):
            a_row = n * a_strides[0] + c * a_strides[1] + (y + i) * a_strides[2] + x
            w_row = o * w_strides[0] + c * w_strides[1] + i * w_strides[2]
            a0 = a[a_row : a_row + hi0]
            a1 = a[a_row + 1 : a_row + 1 + hi1]
            a2 = a[a_row + 2 : a_row + 2 + hi2]
            ws = w[w_row : w_row + hi0]
            for j in range(hi2):
                wj = ws[j]
                acc0 += a0[j] * wj
                acc1 += a1[j] * wj
                acc2 += a2[j] * wj
            for j in range(hi2, hi1):
                acc0 += a0[j] * ws[j]
                acc1 += a1[j] * ws[j]
            for j in range(hi1, hi0):
                acc0 += a0[j] * ws[j]
    position = out_image + y * out_strides[2] + x
    out[position] = acc0
    out[position + out_strides[3]] = acc1
    out[position + 2 * out_strides[3]] = acc2
    return x + 3


def _conv_work(
    out: np.ndarray,
    out_shape: np.ndarray,
    out_strides: np.ndarray,
    a: np.ndarray,
    a_shape: np.ndarray,
    a_strides: np.ndarray,
    w: np.ndarray,
    w_shape: np.ndarray,
    *_: object,
) -> int:
    # multiply-adds, at about 1/4 of an elementwise op each: the rows are short (an image's
    # width), so they vectorise less well than matmul's; parallel from about 1M of them
    return out.size * int(a_shape[1] * w_shape[2] * w_shape[3]) // 4


conv_kernel = Kernel(_conv, _conv_work, cache=True)
