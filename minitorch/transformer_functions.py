r"""The differentiable functions a transformer needs beyond `nn`: embedding lookup, layer
normalisation, GELU, the causal softmax of attention, and cross-entropy on integer targets.

Each is one `Function` (forward and backward on one screen) rather than a composition of
tensor operations. The reason is speed: a composition records a graph node per elementary
step (a layer norm is about ten of them, each a full pass over its tensor, and each with a
backward), while these record one node whose backward is a few kernels. Forward runs under
`no_grad` and uses ordinary tensor arithmetic on the input's own backend, so every backend
(pure Python, numba, CUDA) runs them. On the fast backend the embedding's gather and
scatter-add, GELU, layer norm and the causal softmax each run as one fused numba kernel
instead (`fast_transformer`; elsewhere the embedding is a one-hot matrix product).

Integer inputs (token ids, targets) are numpy integer arrays or tensors holding whole
numbers, as `torch.long` tensors are in PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from . import fast_transformer
from .autodiff import Context, no_grad
from .fast_ops import flat_values, on_fast
from .tensor import Tensor
from .tensor_functions import Function

__all__ = [
    "CausalSoftmax",
    "CrossEntropy",
    "Gelu",
    "LayerNormFun",
    "Lookup",
    "causal_mask",
    "causal_softmax",
    "cross_entropy",
    "embedding",
    "gelu",
    "gelu_back",
    "gelu_value",
    "integer_ids",
    "layer_norm",
]


def integer_ids(ids: Any, size: int, what: str) -> np.ndarray:
    """`ids` (numpy array, nested lists, or a tensor of whole numbers) as an int64 array
    whose values all lie in `[0, size)`.

    Raises:
        ValueError: naming `what`, the first offending value and its position.
    """
    if isinstance(ids, Tensor):
        ids = ids.detach().to_numpy()
    array = np.asarray(ids)
    as_int = array.astype(np.int64)
    bad = (as_int != array) | (as_int < 0) | (as_int >= size)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{what}: value {array[where].item()!r} at index {where} is not a whole number in "
            f"[0, {size}) (shape {array.shape})"
        )
    return as_int


def _dtype(like: Tensor) -> np.dtype:
    """The float type of `like`'s storage (constants made for it match it)."""
    return np.dtype(like._tensor._storage.dtype)


def _like(values: np.ndarray, x: Tensor) -> Tensor:
    """A constant tensor of `x`'s shape and backend over the row-major `values`."""
    return Tensor.make(values, x.shape, backend=x.backend)


# ---- Embedding lookup ----------------------------------------------------------------------------


def _one_hot(ids: np.ndarray, size: int, like: Tensor) -> Tensor:
    """`(n, size)` constant with a 1.0 at `(i, ids[i])`, on `like`'s backend."""
    hot = np.zeros((ids.size, size), dtype=_dtype(like))
    hot[np.arange(ids.size), ids.ravel()] = 1.0
    return Tensor.make(hot.ravel(), hot.shape, backend=like.backend)


@numba.njit(cache=True)
def _gather(out: np.ndarray, weight: np.ndarray, w_strides: np.ndarray, ids: np.ndarray) -> None:
    """`out[i, :] = weight[ids[i], :]` (`out` row-major `(n, dim)`); serial: a copy of a few
    hundred thousand values is quicker than starting a parallel region."""
    dim = out.size // max(ids.size, 1)
    for i in range(ids.size):
        row = ids[i] * w_strides[0]
        for j in range(dim):
            out[i * dim + j] = weight[row + j * w_strides[1]]


@numba.njit(cache=True)
def _scatter_rows(
    grad: np.ndarray, dim: int, g: np.ndarray, g_strides: np.ndarray, ids: np.ndarray
) -> None:
    """`grad[ids[i], :] += g[i, :]` for every `i` (`grad` row-major `(vocab, dim)`, zeroed).

    Serial, like `_gather`: one pass over `g` (a batch of activations, O(100k) values)
    costs less than starting a parallel region, and two rows with the same id would
    otherwise race on the same row of `grad`.
    """
    for i in range(ids.size):
        row = ids[i] * dim
        src = i * g_strides[0]
        for j in range(dim):
            grad[row + j] += g[src + j * g_strides[1]]


class Lookup(Function):
    r"""$out_{i,:} = W_{ids_i,:}$: rows of the weight `(vocab, dim)` picked by integer ids.

    Backward is a scatter-add, $\partial L/\partial W_{v,:} = \sum_{i: ids_i = v} g_{i,:}$
    (an id used twice gets both rows of the gradient).
    """

    @staticmethod
    def forward(ctx: Context, weight: Tensor, ids: np.ndarray) -> Tensor:
        vocab, dim = weight.shape
        ctx.save_for_backward(ids, vocab, dim)
        if on_fast(weight):
            storage, _, strides = weight.tuple()
            out = np.empty(ids.size * dim, dtype=storage.dtype)
            _gather(out, storage, strides, ids.ravel())
            return Tensor.make(out, (ids.size, dim), backend=weight.backend)
        with no_grad():  # (n, vocab) @ (vocab, dim): one 1.0 per row picks a row of W
            return _one_hot(ids, vocab, weight) @ weight

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        ids, vocab, dim = ctx.saved_values
        if on_fast(grad_output):
            storage, _, strides = grad_output.tuple()
            grad = np.zeros(vocab * dim, dtype=storage.dtype)
            _scatter_rows(grad, dim, storage, strides, ids.ravel())
            return Tensor.make(grad, (vocab, dim), backend=grad_output.backend)
        hot = _one_hot(ids, vocab, grad_output)  # (n, vocab)
        return hot.permute(1, 0) @ grad_output  # (vocab, n) @ (n, dim)


def embedding(weight: Tensor, ids: Any) -> Tensor:
    """Rows of `weight` `(vocab, dim)` for each id: `ids` of shape `S` gives `(*S, dim)`.

    Raises:
        ValueError: for a weight that is not 2-D, or an id outside `[0, vocab)`.
    """
    if weight.dims != 2:
        raise ValueError(f"embedding needs a (vocab, dim) weight, got shape {weight.shape}")
    ids = integer_ids(ids, weight.shape[0], "embedding ids")
    out = Lookup.apply(weight, ids=ids)  # (n, dim)
    return out.view(*ids.shape, weight.shape[1])


# ---- Layer normalisation -------------------------------------------------------------------------


class LayerNormFun(Function):
    r"""$y = \hat x \cdot w$, $\hat x = (x - \mu) / \sqrt{\sigma^2 + \epsilon}$ over the last
    dimension, $w$ an optional `(n,)` scale (one node for both: the scale's product and its
    two gradients would be three more passes).

    $\mu$ and $\sigma^2$ are the mean and biased variance, as in PyTorch's `layer_norm`.
    Backward, with $\hat g = g w$: $\partial L/\partial x = (\hat g - \bar{\hat g} - \hat x\,
    \overline{\hat g \hat x}) / \sqrt{\sigma^2 + \epsilon}$, the bars being means over the last
    dimension, and $\partial L/\partial w = \sum g \hat x$ over all the other dimensions.
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor, weight: Tensor | None = None, eps: float = 1e-5) -> Tensor:
        n = x.shape[-1]
        if on_fast(x):
            values = flat_values(x)
            w = np.ones(n, values.dtype) if weight is None else flat_values(weight)
            y, x_hat = np.empty_like(values), np.empty_like(values)
            rstd = np.empty(values.size // n, values.dtype)
            fast_transformer.layer_norm_forward(y, x_hat, rstd, values, w, n, eps)
            ctx.save_for_backward(x_hat, rstd, w, weight is not None)
            return _like(y, x)
        with no_grad():
            centred = x - x.mean(-1)
            rstd = 1.0 / x.backend.sqrt_map((centred * centred).mean(-1) + eps)
            x_hat = centred * rstd
            out = x_hat if weight is None else x_hat * weight
        w = None if weight is None else weight.detach()  # detached: see tensor_functions.Exp
        ctx.save_for_backward(x_hat.detach(), rstd, w, weight is not None)
        return out

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        x_hat, rstd, weight, scaled = ctx.saved_values
        n = grad_output.shape[-1]
        if isinstance(rstd, np.ndarray):  # the fused forward's arrays
            g = flat_values(grad_output)
            grad = np.empty_like(g)
            fast_transformer.layer_norm_backward(grad, g, x_hat, rstd, weight, n)
            grad_x = _like(grad, grad_output)
            if not scaled:
                return grad_x
            grad_w = np.zeros(n, g.dtype)
            fast_transformer.column_dot(grad_w, g, x_hat, n)
            return grad_x, Tensor.make(grad_w, (n,), backend=grad_output.backend)
        g = grad_output if weight is None else grad_output * weight
        grad_x = rstd * (g - g.mean(-1) - x_hat * (g * x_hat).mean(-1))
        if not scaled:
            return grad_x
        rows = grad_output.size // n  # (..., n) -> (rows, n), summed over the rows
        grad_w = (grad_output * x_hat).contiguous().view(rows, n).sum(0).view(n)
        return grad_x, grad_w


def layer_norm(
    x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    r"""$y = \hat x \cdot w + b$ with $\hat x$ normalised over the last dimension (`LayerNormFun`).

    Args:
        x: any shape `(..., n)`.
        weight: `(n,)` scale, or None for 1.
        bias: `(n,)` shift, or None for 0.
        eps: added to the variance.
    """
    n = x.shape[-1]
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != (n,):
            raise ValueError(f"layer_norm: {name} of shape {p.shape} does not fit input {x.shape}")
    if weight is None:
        out = LayerNormFun.apply(x, eps=eps)
    else:
        out = LayerNormFun.apply(x, weight, eps=eps)
    if bias is not None:
        out = out + bias
    return out


# ---- GELU ----------------------------------------------------------------------------------------


def gelu_value(x: float) -> float:
    r"""$\mathrm{GELU}(x) = x \Phi(x) = \frac{x}{2}(1 + \mathrm{erf}(x/\sqrt 2))$."""
    return 0.5 * x * (1.0 + math.erf(x * 0.7071067811865476))


def gelu_back(x: float, d: float) -> float:
    r"""$d \cdot \mathrm{GELU}'(x) = d (\Phi(x) + x \varphi(x))$, $\varphi$ the normal density."""
    cdf = 0.5 * (1.0 + math.erf(x * 0.7071067811865476))
    pdf = math.exp(-0.5 * x * x) * 0.3989422804014327
    return d * (cdf + x * pdf)


_GELU_KERNELS: dict[type, tuple[Callable[..., Tensor], Callable[..., Tensor]]] = {}


def _gelu_kernels(x: Tensor) -> tuple[Callable[..., Tensor], Callable[..., Tensor]]:
    """The backend's map and zip kernels for `gelu_value` and `gelu_back`, built once."""
    ops = x.backend.ops
    if ops not in _GELU_KERNELS:
        _GELU_KERNELS[ops] = (ops.map(gelu_value), ops.zip(gelu_back))
    return _GELU_KERNELS[ops]


class Gelu(Function):
    r"""$f(x) = x \Phi(x)$, the exact (erf) GELU of PyTorch's `nn.GELU()`.

    A new primitive rather than a composition: there is no erf among the backends' kernels,
    and one map forward and one zip backward beat the dozen operations of the tanh form.
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        if on_fast(x):
            values = flat_values(x)
            out = np.empty_like(values)
            fast_transformer.gelu_forward(out, values, values.dtype == np.float32)
            return _like(out, x)
        return _gelu_kernels(x)[0](x)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        (x,) = ctx.saved_values
        if on_fast(x):
            values = flat_values(x)
            grad = np.empty_like(values)
            float32 = values.dtype == np.float32
            fast_transformer.gelu_backward(grad, values, flat_values(grad_output), float32)
            return _like(grad, x)
        return _gelu_kernels(x)[1](x, grad_output)


def gelu(x: Tensor) -> Tensor:
    r"""The Gaussian error linear unit $x \Phi(x)$, elementwise (see `Gelu`)."""
    return Gelu.apply(x)


# ---- Causal softmax ------------------------------------------------------------------------------


def causal_mask(size: int, like: Tensor) -> Tensor:
    """`(size, size)` constant: 0 where a query may look (keys at or before it), -inf after."""
    mask = np.triu(np.full((size, size), -math.inf, dtype=_dtype(like)), k=1)
    return Tensor.make(mask.ravel(), (size, size), backend=like.backend)


class CausalSoftmax(Function):
    r"""$y_{ij} = \mathrm{softmax}_j(s\, a_{ij} + m_{ij})$ over the last dimension.

    $m_{ij} = -\infty$ for keys $j$ after the query $i$ (so they get weight 0), $s$ a scale.

    One primitive for the scale, mask and stable softmax of attention (the row maximum is
    subtracted first). Backward: $\partial L/\partial a = s\, y \odot (g - \sum_j g_j y_j)$.
    """

    @staticmethod
    def forward(ctx: Context, a: Tensor, scale: float) -> Tensor:
        if on_fast(a):
            values = flat_values(a)
            y = np.empty_like(values)
            float32 = values.dtype == np.float32
            fast_transformer.causal_softmax_forward(y, values, a.shape[-1], scale, float32)
            out = _like(y, a)
            ctx.save_for_backward(out.detach(), scale)
            return out
        with no_grad():
            scores = a * scale + causal_mask(a.shape[-1], a)  # (..., T, T)
            e = (scores - a.backend.max_reduce(scores, a.dims - 1)).exp()
            y = e / e.sum(-1)
        ctx.save_for_backward(y.detach(), scale)
        return y

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        y, scale = ctx.saved_values
        if on_fast(y):
            values = flat_values(y)
            grad = np.empty_like(values)
            n = y.shape[-1]
            fast_transformer.causal_softmax_backward(
                grad, flat_values(grad_output), values, n, scale
            )
            return _like(grad, y)
        return (grad_output - (grad_output * y).sum(-1)) * y * scale


def causal_softmax(scores: Tensor, scale: float = 1.0) -> Tensor:
    """Attention weights from `scores` `(..., T, T)`: each query's softmax over the keys at or
    before it (see `CausalSoftmax`).

    Raises:
        ValueError: when the last two dimensions differ.
    """
    if scores.dims < 2 or scores.shape[-1] != scores.shape[-2]:
        raise ValueError(f"causal_softmax needs (..., T, T) scores, got shape {scores.shape}")
    return CausalSoftmax.apply(scores, scale=float(scale))


# ---- Cross-entropy ----------------------------------------------------------------------------


class CrossEntropy(Function):
    r"""$L = \frac{1}{N}\sum_i (\log \sum_v e^{x_{iv}} - x_{i,t_i})$, the mean cross-entropy.

    The mean negative log-likelihood of the targets $t$ under a softmax of the logits.
    Stable: the row maximum is subtracted before exponentiating (log-sum-exp). The target's
    logit is gathered as a product with the targets' one-hot rows. Backward:
    $\partial L/\partial x = (\mathrm{softmax}(x) - \mathrm{onehot}(t)) / N$.
    """

    @staticmethod
    def forward(ctx: Context, logits: Tensor, targets: np.ndarray) -> Tensor:
        n, vocab = logits.shape
        with no_grad():
            shifted = logits - logits.backend.max_reduce(logits, 1)  # (N, V), row max 0
            log_total = shifted.exp().sum(1).log()  # (N, 1)
            hot = _one_hot(targets, vocab, logits)  # (N, V)
            loss = (log_total - (shifted * hot).sum(1)).sum() / n  # (1,)
            probs = (shifted - log_total).exp()
        ctx.save_for_backward(probs, hot, n)
        return loss

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        probs, hot, n = ctx.saved_values
        return (probs - hot) * (grad_output / n)


def cross_entropy(logits: Tensor, targets: Any) -> Tensor:
    """The mean cross-entropy (nats) of integer `targets` `(N,)` under `logits` `(N, V)`.

    Like `torch.nn.functional.cross_entropy` with its default mean reduction, but the
    result has shape `(1,)`.

    Raises:
        ValueError: for logits that are not 2-D, a target count that differs from the rows,
            or a target outside `[0, V)`.
    """
    if logits.dims != 2:
        raise ValueError(f"cross_entropy needs (N, V) logits, got shape {logits.shape}")
    targets = integer_ids(targets, logits.shape[1], "cross_entropy targets").ravel()
    if targets.size != logits.shape[0]:
        raise ValueError(
            f"cross_entropy: {targets.size} targets for logits of shape {logits.shape}"
        )
    return CrossEntropy.apply(logits, targets=targets)
