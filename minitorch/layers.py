"""Layers with parameters: `Linear`, `Conv1d`, `Conv2d`, `Embedding`, `LayerNorm`.

Every layer starts from PyTorch's default initialisation: weights and bias uniform in
$[-1/\\sqrt{\\text{fan\\_in}}, 1/\\sqrt{\\text{fan\\_in}}]$, where fan_in is the number of inputs
that feed one output (`in_size`, or `in_channels` times the kernel's size). This keeps each
output's variance near its input's whatever the layer's width.
"""

from __future__ import annotations

import math
import random
from typing import Callable

from .fast_conv import conv1d, conv2d
from .module import Module
from .nn import numpy_generator
from .tensor import Tensor
from .tensor_data import DTypeLike, as_dtype, float64
from .tensor_ops import SimpleBackend, TensorBackend
from .transformer_functions import embedding, layer_norm

__all__ = ["Conv1d", "Conv2d", "Embedding", "LayerNorm", "Linear"]


class Linear(Module):
    r"""$y = x W + b$: `(batch, in_size) -> (batch, out_size)`.

    Parameters: `weights` of shape `(in_size, out_size)` and `bias` of shape `(out_size,)`.

    Args:
        in_size: inputs per example.
        out_size: outputs per example.
        backend: the kernels the parameters compute with.
        rng: where the initial values come from (default: Python's `random`, so
            `random.seed` repeats them).
        dtype: the parameters' dtype, `float64` or `float32`.
    """

    def __init__(
        self,
        in_size: int,
        out_size: int,
        backend: TensorBackend = SimpleBackend,
        rng: random.Random | None = None,
        dtype: DTypeLike = float64,
    ) -> None:
        super().__init__()
        self.in_size, self.out_size = in_size, out_size
        _init(self, (in_size, out_size), (out_size,), in_size, backend, rng, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.weights.value + self.bias.value  # (batch, in) @ (in, out) + (out,)

    def __repr__(self) -> str:
        return f"Linear(in_size={self.in_size}, out_size={self.out_size})"


class _ConvLayer(Module):
    """`conv(x, weights) + bias` with one bias per output channel; see Conv1d and Conv2d."""

    conv: Callable[[Tensor, Tensor], Tensor]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: tuple[int, ...],
        backend: TensorBackend,
        rng: random.Random | None,
        dtype: DTypeLike,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.kernel = in_channels, out_channels, kernel
        weights = (out_channels, in_channels, *kernel)
        bias = (out_channels,) + (1,) * len(kernel)  # broadcasts over every position
        _init(self, weights, bias, in_channels * math.prod(kernel), backend, rng, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return type(self).conv(x, self.weights.value) + self.bias.value

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(in_channels={self.in_channels}, "
            f"out_channels={self.out_channels}, kernel={self.kernel})"
        )


class Conv1d(_ConvLayer):
    r"""`conv1d(x, weights) + bias`: `(batch, in_channels, width) -> (batch, out_channels, width)`.

    Parameters: `weights` of shape `(out_channels, in_channels, kernel_width)` and `bias` of
    shape `(out_channels, 1)`, added at every position.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output (one filter each).
        kernel_width: the filter's width.
        backend: the kernels the parameters compute with.
        rng: where the initial values come from (default: Python's `random`).
        dtype: the parameters' dtype, `float64` or `float32`.
    """

    conv = staticmethod(conv1d)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_width: int,
        backend: TensorBackend = SimpleBackend,
        rng: random.Random | None = None,
        dtype: DTypeLike = float64,
    ) -> None:
        super().__init__(in_channels, out_channels, (kernel_width,), backend, rng, dtype)


class Conv2d(_ConvLayer):
    r"""`conv2d(x, weights) + bias`: `(batch, in_channels, h, w) -> (batch, out_channels, h, w)`.

    Parameters: `weights` of shape `(out_channels, in_channels, kh, kw)` and `bias` of shape
    `(out_channels, 1, 1)`, added at every position.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output (one filter each).
        kh: the filter's height.
        kw: the filter's width.
        backend: the kernels the parameters compute with.
        rng: where the initial values come from (default: Python's `random`).
        dtype: the parameters' dtype, `float64` or `float32`.
    """

    conv = staticmethod(conv2d)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kh: int,
        kw: int,
        backend: TensorBackend = SimpleBackend,
        rng: random.Random | None = None,
        dtype: DTypeLike = float64,
    ) -> None:
        super().__init__(in_channels, out_channels, (kh, kw), backend, rng, dtype)


def _init(
    layer: Module,
    weights: tuple[int, ...],
    bias: tuple[int, ...],
    fan_in: int,
    backend: TensorBackend,
    rng: random.Random | None,
    dtype: DTypeLike = float64,
) -> None:
    r"""Give `layer` parameters `weights` and `bias` of these shapes, uniform in
    $[-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}}]$."""
    if fan_in < 1 or any(n < 1 for n in weights + bias):
        raise ValueError(
            f"{type(layer).__name__} needs positive sizes, got weights {weights}, bias {bias}"
        )
    bound = 1.0 / math.sqrt(fan_in)
    generator = numpy_generator(rng)
    for name, shape in (("weights", weights), ("bias", bias)):
        values = generator.uniform(-bound, bound, math.prod(shape)).astype(as_dtype(dtype))
        layer.add_parameter(name, Tensor.make(values, shape, backend=backend))


class Embedding(Module):
    """A table of learned vectors, one per id: ids of shape `S` -> `(*S, embedding_dim)`.

    Parameter `weights` of shape `(num_embeddings, embedding_dim)`, standard normal at first
    (PyTorch's `nn.Embedding`). Lookup and its scatter-add backward: `embedding`.

    Args:
        num_embeddings: how many ids (ids lie in `[0, num_embeddings)`).
        embedding_dim: the length of each vector.
        backend: the kernels the parameters compute with.
        rng: where the initial values come from (default: Python's `random`).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        backend: TensorBackend = SimpleBackend,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        if num_embeddings < 1 or embedding_dim < 1:
            raise ValueError(
                f"Embedding needs positive sizes, got {num_embeddings} x {embedding_dim}"
            )
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        values = numpy_generator(rng).standard_normal(num_embeddings * embedding_dim)
        shape = (num_embeddings, embedding_dim)
        self.add_parameter("weights", Tensor.make(values, shape, backend=backend))

    def forward(self, ids: object) -> Tensor:
        return embedding(self.weights.value, ids)

    def __repr__(self) -> str:
        return (
            f"Embedding(num_embeddings={self.num_embeddings}, embedding_dim={self.embedding_dim})"
        )


class LayerNorm(Module):
    r"""$y = \hat x \cdot w + b$, $\hat x$ each row normalised to mean 0 and variance 1 over the
    last dimension (`layer_norm`); `(..., size) -> (..., size)`.

    Parameters: `weights` `(size,)`, ones at first, and `bias` `(size,)`, zeros at first
    (none when `bias=False`, as nanoGPT's models have).

    Args:
        size: the last dimension of the input.
        bias: whether to learn a shift.
        eps: added to the variance.
        backend: the kernels the parameters compute with.
    """

    def __init__(
        self,
        size: int,
        bias: bool = True,
        eps: float = 1e-5,
        backend: TensorBackend = SimpleBackend,
    ) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"LayerNorm needs a positive size, got {size}")
        self.size, self.eps = size, eps
        self.add_parameter("weights", Tensor.make([1.0] * size, (size,), backend=backend))
        if bias:
            self.add_parameter("bias", Tensor.make([0.0] * size, (size,), backend=backend))

    def forward(self, x: Tensor) -> Tensor:
        bias = self.bias.value if "bias" in self.__dict__["_parameters"] else None
        return layer_norm(x, self.weights.value, bias, self.eps)

    def __repr__(self) -> str:
        return f"LayerNorm(size={self.size})"
