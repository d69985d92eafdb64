"""Neural-network functions on tensors: pooling, max, softmax, dropout.

Almost everything here is a composition of existing tensor operations, so it differentiates
through the ordinary graph. The one new primitive is `Max` (a reduction with its own
backward), built on the backend's `max_reduce` kernel.

Ties in `max`: the gradient is shared equally among the positions that hold the maximum
(as `torch.amax` does). That is a valid subgradient, and at a tie of two it is exactly what a
central difference measures.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from . import fast_nn
from .autodiff import Context, is_grad_enabled, no_grad
from .fast_ops import flat_values, on_fast
from .tensor import Tensor
from .tensor_data import dim_index
from .tensor_functions import Function

__all__ = [
    "tile",
    "avgpool2d",
    "maxpool2d",
    "Max",
    "max",
    "argmax",
    "softmax",
    "logsoftmax",
    "dropout",
    "batch_offset",
    "numpy_generator",
]


def tile(input: Tensor, kernel: tuple[int, int]) -> tuple[Tensor, int, int]:
    """Cut each image into non-overlapping `kh x kw` tiles, one tile per output position.

    Args:
        input: shape `(batch, channel, height, width)`.
        kernel: `(kh, kw)`, which must divide `height` and `width`.

    Returns:
        `(tiled, new_height, new_width)`: `tiled` has shape
        `(batch, channel, new_height, new_width, kh * kw)`.

    Raises:
        ValueError: naming the sizes, when the input is not 4-D or the kernel does not
            divide them (no implicit cropping or padding: that would hide a shape mistake).
    """
    blocks = _blocks(input, kernel)  # (B, C, H/kh, kh, W/kw, kw)
    batch, channel, new_h, kh, new_w, kw = blocks.shape
    # -> (B, C, H/kh, W/kw, kh, kw) -> (B, C, H/kh, W/kw, kh*kw)
    tiled = blocks.permute(0, 1, 2, 4, 3, 5).contiguous()
    return tiled.view(batch, channel, new_h, new_w, kh * kw), new_h, new_w


def _blocks(input: Tensor, kernel: tuple[int, int]) -> Tensor:
    """`(B, C, H, W) -> (B, C, H/kh, kh, W/kw, kw)`, a view (see `tile` for the errors)."""
    if input.dims != 4:
        raise ValueError(f"tile needs a (batch, channel, height, width) input, got {input.shape}")
    batch, channel, height, width = input.shape
    kh, kw = _kernel(kernel)
    if height % kh or width % kw:
        raise ValueError(
            f"tile: kernel {kh}x{kw} does not divide the {height}x{width} image of input "
            f"shape {input.shape}"
        )
    return input.contiguous().view(batch, channel, height // kh, kh, width // kw, kw)


def _kernel(kernel: tuple[int, int]) -> tuple[int, int]:
    """A pooling kernel as two positive ints; anything else (2.5, 0, "2", three sizes) is a
    ValueError naming it, never truncated."""
    sizes = tuple(kernel) if isinstance(kernel, (tuple, list)) else ()
    if len(sizes) != 2 or not all(_positive_int(k) for k in sizes):
        raise ValueError(f"a pooling kernel is two positive integers (kh, kw), got {kernel!r}")
    return int(sizes[0]), int(sizes[1])


def _positive_int(k: object) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)) and k >= 1


def avgpool2d(input: Tensor, kernel: tuple[int, int]) -> Tensor:
    """Mean of each `kh x kw` tile: `(B, C, H, W) -> (B, C, H/kh, W/kw)` (errors as `tile`).

    Each mean is a sum over the tile's columns, then over its rows, times `1/(kh kw)`, read
    through a view of the input's blocks (no copy into tiles); the gradient spreads back
    over each tile as a broadcast.
    """
    blocks = _blocks(input, kernel)  # (B, C, H/kh, kh, W/kw, kw)
    batch, channel, new_h, kh, new_w, kw = blocks.shape
    sums = blocks.sum(5).sum(3)  # (B, C, H/kh, 1, W/kw, 1)
    return (sums * (1.0 / (kh * kw))).view(batch, channel, new_h, new_w)


def maxpool2d(input: Tensor, kernel: tuple[int, int]) -> Tensor:
    """Maximum of each `kh x kw` tile: `(B, C, H, W) -> (B, C, H/kh, W/kw)` (see `tile`)."""
    tiled, new_h, new_w = tile(input, kernel)
    return max(tiled, 4).view(input.shape[0], input.shape[1], new_h, new_w)


class Max(Function):
    r"""$f(a)_{..,0,..} = \max_i a_{..,i,..}$ along `dim`, which stays with size 1.

    Backward sends the gradient to the positions holding the maximum, shared equally among
    ties: $\partial f / \partial a_i = [a_i = f] / \#\{j : a_j = f\}$.
    """

    @staticmethod
    def forward(ctx: Context, a: Tensor, dim: int) -> Tensor:
        out = a.backend.max_reduce(a, dim)
        ctx.save_for_backward(a, out.detach(), dim)  # detached: see tensor_functions.Exp
        return out

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        a, out, dim = ctx.saved_values
        if on_fast(a) and grad_output.dtype == a.dtype and not is_grad_enabled():
            # one fused pass (`fast_nn`); a recorded backward (create_graph) composes
            values = flat_values(a)
            grad = np.empty_like(values)
            inner = int(np.prod(a.shape[dim + 1 :], dtype=np.int64))
            tops = flat_values(out)
            share = np.empty_like(tops)
            fast_nn.max_backward(
                grad, values, tops, flat_values(grad_output), share, inner, a.shape[dim]
            )
            return Tensor.make(grad, a.shape, backend=a.backend)
        winners = a == out  # 1.0 where a holds the maximum of its slice
        # share the (small, reduced-shape) gradient first: one full-size product, not two
        return winners * (grad_output / winners.sum(dim))


def max(input: Tensor, dim: int | None = None) -> Tensor:  # noqa: A001 - the course's name
    """The maximum along `dim` (kept with size 1), or of everything (shape `(1,)`).

    Differentiable; ties share the gradient equally (see `Max`).
    """
    if dim is None:
        return Max.apply(input.contiguous().view(input.size), dim=0)
    return Max.apply(input, dim=_dim(input, dim))


def argmax(input: Tensor, dim: int) -> Tensor:
    """A one-hot tensor of `input`'s shape: 1.0 at the first maximum along `dim`, else 0.0.

    "First" follows `torch.argmax`: among tied maxima the lowest index wins, so each slice
    holds exactly one 1.0; in a slice holding NaN the first NaN wins (its maximum is NaN).
    The result is a constant (argmax has no useful gradient).
    """
    dim = _dim(input, dim)
    with no_grad():
        # Where the maximum is NaN no value equals it; the NaNs (x != x) are the winners
        # there, and a slice without NaN has none: the two 0/1 terms never overlap.
        winners = (input == input.backend.max_reduce(input, dim)) + (1.0 - (input == input))  # noqa: PLR0124
        # Keep the first winner: it is where the running count of winners reaches 1.
        order = [d for d in range(input.dims) if d != dim] + [dim]
        moved = winners.permute(*order).contiguous()  # (..., n), dim moved last
        n = input.shape[dim]
        # upper[i, j] = 1 for i <= j: a running sum
        upper = np.triu(np.ones((n, n), input.dtype))
        running = moved.view(moved.size // n, n) @ Tensor.make(
            upper.ravel(), (n, n), backend=input.backend
        )
        first = moved * (running.view(*moved.shape) == 1.0)
        inverse = sorted(range(input.dims), key=order.__getitem__)
        return first.permute(*inverse).contiguous().detach()


def softmax(input: Tensor, dim: int) -> Tensor:
    r"""$\mathrm{softmax}(x)_i = e^{x_i - m} / \sum_j e^{x_j - m}$ along `dim`, $m = \max_j x_j$.

    Subtracting the maximum keeps `exp` finite for large inputs. It changes no value, so
    its gradient is zero and `m` is taken as a constant.
    """
    dim = _dim(input, dim)
    e = (input - input.backend.max_reduce(input, dim)).exp()
    return e / e.sum(dim)


def logsoftmax(input: Tensor, dim: int) -> Tensor:
    r"""$\log \mathrm{softmax}(x)_i = x_i - m - \log \sum_j e^{x_j - m}$ along `dim`.

    Stable for large inputs (the log-sum-exp trick, $m = \max_j x_j$ a constant as in
    `softmax`): never exponentiates more than 0.
    """
    dim = _dim(input, dim)
    shifted = input - input.backend.max_reduce(input, dim)
    return shifted - shifted.exp().sum(dim).log()


def dropout(
    input: Tensor, rate: float, ignore: bool = False, rng: random.Random | None = None
) -> Tensor:
    r"""Zero each value with probability `rate` and scale the rest by $1 / (1 - rate)$.

    The scaling ("inverted dropout", as PyTorch does) keeps each value's expectation, so
    evaluation needs no rescaling: pass `ignore=True` (the course's scripts pass
    `self.mode == "eval"`) and the input comes back unchanged. `rate=1` gives zeros.

    Dimension 0 counts samples (or, inside `batch_offset(first, count)`, the input holds
    `count` samples one after the other, as a `(B*T, C)` view of `(B, T, C)` does). A sample's
    mask depends only on one 64-bit draw from `rng` per call and on the sample's index in the
    batch (plus `batch_offset`), never on how many samples the call sees: a batch split across
    processes gets the masks it gets whole.

    Args:
        input: any tensor.
        rate: the probability of dropping a value, in [0, 1].
        ignore: return `input` as it is (evaluation mode).
        rng: where the mask's key comes from (default: Python's `random`, so `random.seed`
            repeats a run).

    Raises:
        ValueError: for a rate outside [0, 1].
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"dropout rate must lie in [0, 1], got {rate!r}")
    if ignore or rate == 0.0:
        return input
    if rate == 1.0:
        return input * 0.0
    key = (random if rng is None else rng).getrandbits(64)
    first, count = _first_sample.get()
    samples = input.shape[0] if count is None else count
    if samples and input.size % samples:
        raise ValueError(
            f"dropout: an input of shape {input.shape} does not split into the {samples} "
            f"samples batch_offset says it holds"
        )
    per_sample = input.size // samples if samples else 0  # (`max` is ours here)
    first = first * per_sample
    keep = _uniforms(key, first, input.size) >= rate
    scale = (keep / (1.0 - rate)).astype(input.dtype)
    mask = Tensor.make(scale, input.shape, backend=input.backend)
    return input * mask


# The first sample of the batches `dropout` sees (nonzero in a data-parallel shard), and how
# many samples each holds (None: its dimension 0).
_first_sample: ContextVar[tuple[int, int | None]] = ContextVar("first_sample", default=(0, None))


@contextmanager
def batch_offset(first: int, count: int | None = None) -> Iterator[None]:
    """Inside this block, dropout treats its input's sample 0 as sample `first` of the batch.

    A data-parallel process that computes samples `first..` of a global batch uses it, so
    that each sample gets the mask it would get in the whole batch on one process. With
    `count`, every input dropout sees holds `count` samples, each of `size / count` values
    (a language model's `(B*T, C)` activations, attention's `(B*H, T, T)` weights); without,
    its dimension 0 counts them.
    """
    if first < 0:
        raise ValueError(f"batch_offset needs a non-negative first sample, got {first!r}")
    if count is not None and count < 1:
        raise ValueError(f"batch_offset needs a positive count of samples, got {count!r}")
    token = _first_sample.set((int(first), None if count is None else int(count)))
    try:
        yield
    finally:
        _first_sample.reset(token)


def _uniforms(key: int, first: int, n: int) -> np.ndarray:
    """Values `first..first+n-1` of the SplitMix64 stream seeded by `key`, in [0, 1).

    A counter-based generator: value `i` is a hash of `key` and `i` alone, so any slice of
    the stream is drawn without drawing what comes before it (vectorised, uint64 arithmetic
    wraps modulo 2^64 as the algorithm wants).
    """
    i = np.arange(first + 1, first + n + 1, dtype=np.uint64)
    z = np.uint64(key) + i * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53  # the top 53 bits


def numpy_generator(rng: random.Random | None = None) -> np.random.Generator:
    """A numpy generator seeded by one draw from `rng` (default: Python's `random`).

    Randomness stays repeatable with `random.seed` (or a seeded `rng`), while the values
    themselves are drawn vectorised.
    """
    return np.random.default_rng((random if rng is None else rng).getrandbits(64))


def _dim(input: Tensor, dim: int) -> int:
    """`dim` as a non-negative dimension of `input` (negative counts from the end, as in
    PyTorch); a TypeError or IndexingError naming it otherwise (see `dim_index`)."""
    return dim_index(dim, input.shape)
