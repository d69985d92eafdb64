"""The course's Kim-style sentence classifier: a 1-D CNN over word vectors.

Three convolutions (widths 3, 4 and 5 by default, 100 maps each) slide over the sentence;
each map keeps its largest ReLU response over time; the three are summed, dropped out and
read by one linear unit whose sigmoid is P(positive).

The convolutions keep the length (windows that run past the end read zeros), and every
sentence arrives with at least one zero vector after it (`data.Vocabulary.embed`), so each
map's maximum always includes the all-padding window, ReLU(bias): however much padding a
batch adds, a sentence's answer is the same.
"""

from __future__ import annotations

from typing import Any, Sequence

from ...layers import Conv1d, Linear
from ...module import Module
from ...nn import dropout, max
from ...tensor import Tensor

__all__ = ["KimCNN"]


class KimCNN(Module):
    """Embedded sentences in, one logit each out.

    Args:
        backend: the tensor backend the parameters compute with.
        embedding_dim: the size of a word vector.
        feature_maps: maps per filter width.
        filter_sizes: the filter widths.
        dropout: the rate of the dropout before the linear layer (off in eval mode).
    """

    def __init__(
        self,
        backend: Any,
        embedding_dim: int = 50,
        feature_maps: int = 100,
        filter_sizes: Sequence[int] = (3, 4, 5),
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        self.filter_sizes = tuple(int(k) for k in filter_sizes)
        self.feature_maps = feature_maps
        self.rate = dropout
        for i, width in enumerate(self.filter_sizes, 1):
            setattr(self, f"conv{i}", Conv1d(embedding_dim, feature_maps, width, backend=backend))
        self.linear = Linear(feature_maps, 1, backend=backend)

    @staticmethod
    def parameter_shapes(
        embedding_dim: int, feature_maps: int, filter_sizes: Sequence[int]
    ) -> dict[str, tuple[int, ...]]:
        """The shape of each parameter of a network built with these options (none built)."""
        shapes: dict[str, tuple[int, ...]] = {}
        for i, width in enumerate(filter_sizes, 1):
            shapes[f"conv{i}.weights"] = (feature_maps, embedding_dim, int(width))
            shapes[f"conv{i}.bias"] = (feature_maps, 1)
        shapes["linear.weights"] = (feature_maps, 1)
        shapes["linear.bias"] = (1,)
        return shapes

    def logits(self, x: Tensor) -> Tensor:
        """`(batch, embedding_dim, length)` vectors -> `(batch,)` logits."""
        batch = x.shape[0]
        pooled = None
        for i in range(1, len(self.filter_sizes) + 1):
            conv = getattr(self, f"conv{i}")
            h = max(conv(x).relu(), 2)  # (B, D, L) -> (B, F, L) -> (B, F, 1)
            pooled = h if pooled is None else pooled + h
        h = pooled.contiguous().view(batch, self.feature_maps)  # (B, F)
        h = dropout(h, self.rate, ignore=self.mode == "eval")
        return self.linear(h).view(batch)  # (B, 1) -> (B,)

    def forward(self, x: Tensor) -> Tensor:
        """`(batch, embedding_dim, length)` vectors -> `(batch,)` P(positive)."""
        return self.logits(x).sigmoid()
