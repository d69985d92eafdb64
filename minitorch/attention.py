r"""Attention layers and a GPT: causal multi-head self-attention, the pre-norm transformer
block, and a decoder-only language model (nanoGPT's `model.py`, without biases).

The residual stream is kept 2-D, `(batch * time, channels)`: every linear map is then one
matrix product, and so is its weight's gradient (`x^T g` over all positions at once, where a
3-D `(B, T, C)` input would make one product per sequence and a sum over them). Only attention
needs the sequences apart: heads are folded into the batch dimension,
`(B*T, C) -> (B*H, T, C/H)`, so that the scores and the weighted values of every head are one
batched matrix product each.

Initialisation is GPT-2's, as nanoGPT does it: every weight matrix and both embeddings
normal with standard deviation 0.02, the projections back into the residual stream with
0.02 / sqrt(2 * layers) (each block adds two of them to the stream), layer norms 1.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from .layers import Embedding, LayerNorm
from .module import Module
from .nn import dropout, numpy_generator
from .tensor import Tensor
from .tensor_ops import SimpleBackend, TensorBackend
from .transformer_functions import causal_softmax, gelu

__all__ = ["GPT", "MLP", "Block", "CausalSelfAttention"]

STD = 0.02  # GPT-2's initial standard deviation for weights


def _normal(
    module: Module,
    name: str,
    shape: tuple[int, ...],
    std: float,
    generator: np.random.Generator,
    backend: TensorBackend,
) -> None:
    """Give `module` a parameter `name` of `shape`, normal with mean 0 and deviation `std`."""
    values = generator.normal(0.0, std, math.prod(shape))
    module.add_parameter(name, Tensor.make(values, shape, backend=backend))


class CausalSelfAttention(Module):
    r"""Multi-head self-attention where each position sees itself and the positions before it.

    For each head $h$ with queries, keys and values $Q_h, K_h, V_h$ (`(T, D)`, $D = C/H$):
    $\mathrm{softmax}(Q_h K_h^T / \sqrt D + M) V_h$, $M$ the causal mask; the heads' outputs
    are concatenated and projected back to `C`. `(B*T, C) -> (B*T, C)` for sequences of
    length `T` (the `length` argument of `forward`).

    Parameters: `query`, `key`, `value`, `proj`, each `(C, C)` (inputs by outputs).

    Args:
        embed: channels `C`.
        heads: `H`, which must divide `C`.
        dropout: rate on the attention weights and on the output (training mode only).
        layers: the model's depth, which scales `proj`'s initial deviation.
        backend: the kernels the parameters compute with.
        rng: where the initial values and dropout masks come from.

    Attributes:
        record: when True, `forward` keeps the attention weights `(B, H, T, T)` in
            `attention` (for pictures).
    """

    def __init__(
        self,
        embed: int,
        heads: int,
        dropout: float = 0.0,
        layers: int = 1,
        backend: TensorBackend = SimpleBackend,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        if heads < 1 or embed % heads:
            raise ValueError(f"{heads} heads do not divide {embed} channels")
        self.embed, self.heads, self.rate, self.rng = embed, heads, dropout, rng
        self.record = False
        self.attention: Tensor | None = None
        generator = numpy_generator(rng)
        for name in ("query", "key", "value"):
            _normal(self, name, (embed, embed), STD, generator, backend)
        _normal(self, "proj", (embed, embed), STD / math.sqrt(2 * layers), generator, backend)

    def forward(self, x: Tensor, length: int) -> Tensor:
        rows, embed = x.shape
        if embed != self.embed or length < 1 or rows % length:
            raise ValueError(
                f"attention over {self.embed} channels cannot read input {x.shape} as "
                f"sequences of length {length}"
            )
        batch, heads, size = rows // length, self.heads, embed // self.heads

        def split(w: Tensor) -> Tensor:  # (B*T, C) @ (C, C) -> (B*H, T, D)
            y = (x @ w).view(batch, length, heads, size).permute(0, 2, 1, 3)
            return y.contiguous().view(batch * heads, length, size)

        q, k, v = split(self.query.value), split(self.key.value), split(self.value.value)
        # (B*H, T, D) @ (B*H, D, T) -> (B*H, T, T), masked and normalised over the keys
        att = causal_softmax(q @ k.permute(0, 2, 1), scale=1.0 / math.sqrt(size))
        if self.record:
            self.attention = att.detach().view(batch, heads, length, length)
        att = dropout(att, self.rate, ignore=not self.training, rng=self.rng)
        y = (att @ v).view(batch, heads, length, size).permute(0, 2, 1, 3)  # (B, T, H, D)
        y = y.contiguous().view(rows, embed) @ self.proj.value  # (B*T, C)
        return dropout(y, self.rate, ignore=not self.training, rng=self.rng)

    def __repr__(self) -> str:
        return f"CausalSelfAttention(embed={self.embed}, heads={self.heads})"


class MLP(Module):
    r"""$\mathrm{GELU}(x W_1) W_2$ with a hidden width of `4C`; `(N, C) -> (N, C)`.

    Parameters: `fc` `(C, 4C)` and `proj` `(4C, C)`.
    """

    def __init__(
        self,
        embed: int,
        dropout: float = 0.0,
        layers: int = 1,
        backend: TensorBackend = SimpleBackend,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        self.rate, self.rng = dropout, rng
        generator = numpy_generator(rng)
        _normal(self, "fc", (embed, 4 * embed), STD, generator, backend)
        _normal(self, "proj", (4 * embed, embed), STD / math.sqrt(2 * layers), generator, backend)

    def forward(self, x: Tensor) -> Tensor:
        y = gelu(x @ self.fc.value) @ self.proj.value
        return dropout(y, self.rate, ignore=not self.training, rng=self.rng)


class Block(Module):
    r"""A pre-norm transformer block: $x + \mathrm{attn}(\mathrm{ln}_1(x))$, then
    $x + \mathrm{mlp}(\mathrm{ln}_2(x))$; `(B*T, C) -> (B*T, C)` for sequences of length `T`."""

    def __init__(
        self,
        embed: int,
        heads: int,
        dropout: float = 0.0,
        layers: int = 1,
        backend: TensorBackend = SimpleBackend,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        self.ln1 = LayerNorm(embed, bias=False, backend=backend)
        self.attention = CausalSelfAttention(embed, heads, dropout, layers, backend, rng)
        self.ln2 = LayerNorm(embed, bias=False, backend=backend)
        self.mlp = MLP(embed, dropout, layers, backend, rng)

    def forward(self, x: Tensor, length: int) -> Tensor:
        x = x + self.attention(self.ln1(x), length)
        return x + self.mlp(self.ln2(x))


class GPT(Module):
    r"""A decoder-only transformer over a vocabulary of tokens: token ids `(B, T)` -> logits
    `(B, T, V)` for the token after each position.

    Token and position embeddings are added, pass through `layers` blocks and a final layer
    norm; the output head is the token embedding itself (tied: logits are $x W_{te}^T$), as
    in GPT-2 and nanoGPT.

    Args:
        vocab: `V`, the number of token ids.
        block: the longest context `T` (positions are learned for `0..block-1`).
        layers: transformer blocks.
        heads: attention heads per block.
        embed: channels `C`.
        dropout: rate after the embeddings and inside each block (training mode only).
        backend: the kernels the parameters compute with.
        rng: where the initial values and dropout masks come from.
    """

    def __init__(
        self,
        vocab: int,
        block: int,
        layers: int = 4,
        heads: int = 4,
        embed: int = 128,
        dropout: float = 0.0,
        backend: TensorBackend = SimpleBackend,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        if min(vocab, block, layers) < 1:
            raise ValueError(
                f"GPT needs positive sizes, got vocab={vocab}, block={block}, layers={layers}"
            )
        self.vocab, self.block, self.layers = vocab, block, layers
        self.heads, self.embed, self.rate, self.rng = heads, embed, dropout, rng
        self.backend = backend
        generator = numpy_generator(rng)
        self.tokens = Embedding(vocab, embed, backend)
        self.positions = Embedding(block, embed, backend)
        for table in (self.tokens, self.positions):
            table.weights.update(
                Tensor.make(
                    generator.normal(0.0, STD, table.weights.value.size),
                    table.weights.value.shape,
                    backend=backend,
                )
            )
        self.blocks = [Block(embed, heads, dropout, layers, backend, rng) for _ in range(layers)]
        for i, b in enumerate(self.blocks):
            setattr(self, f"block{i}", b)
        self.ln = LayerNorm(embed, bias=False, backend=backend)

    def forward(self, ids: Any) -> Tensor:
        ids = np.asarray(ids.to_numpy() if isinstance(ids, Tensor) else ids)
        if ids.ndim != 2 or not 1 <= ids.shape[1] <= self.block:
            raise ValueError(
                f"GPT takes token ids of shape (batch, time) with time at most {self.block}, "
                f"got shape {ids.shape}"
            )
        batch, length = ids.shape
        # (B, T, C) + (T, C): the positions broadcast over the batch; then (B*T, C)
        x = (self.tokens(ids) + self.positions(np.arange(length))).view(batch * length, self.embed)
        x = dropout(x, self.rate, ignore=not self.training, rng=self.rng)
        for b in self.blocks:
            x = b(x, length)
        # (B*T, C) @ (C, V): the head is the token table, transposed
        logits = self.ln(x) @ self.tokens.weights.value.permute(1, 0)
        return logits.view(batch, length, self.vocab)

    def record_attention(self, flag: bool = True) -> None:
        """Keep (or stop keeping) every block's attention weights (see `attention_maps`)."""
        for b in self.blocks:
            b.attention.record = flag
            b.attention.attention = None

    def attention_maps(self) -> list[np.ndarray]:
        """Each block's last attention weights `(B, H, T, T)`, once `record_attention()` is on."""
        maps = []
        for i, b in enumerate(self.blocks):
            if b.attention.attention is None:
                raise RuntimeError(f"block {i} kept no attention: call record_attention() first")
            maps.append(b.attention.attention.to_numpy())
        return maps

    def __repr__(self) -> str:
        return (
            f"GPT(vocab={self.vocab}, block={self.block}, layers={self.layers}, "
            f"heads={self.heads}, embed={self.embed})"
        )
