"""Layers (Linear, Conv1d, Conv2d) and the course's own model code, run as its scripts do."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

import minitorch
from tests.backends import CPU_BACKENDS, on
from tests.test_conv import conv_reference


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_linear_computes_x_w_plus_b_with_named_parameters(backend):
    layer = minitorch.Linear(3, 2, backend=backend, rng=random.Random(0))
    assert [name for name, _ in layer.named_parameters()] == ["weights", "bias"]
    assert layer.weights.value.shape == (3, 2) and layer.bias.value.shape == (2,)
    assert layer.weights.value.backend.ops is backend.ops
    x = np.random.default_rng(0).normal(size=(4, 3))
    expected = x @ layer.weights.value.to_numpy() + layer.bias.value.to_numpy()
    np.testing.assert_allclose(layer(on(backend, x)).to_numpy(), expected)
    assert repr(layer) == "Linear(in_size=3, out_size=2)"


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_conv_layers_add_one_bias_per_channel(backend):
    rng = np.random.default_rng(1)
    conv1 = minitorch.Conv1d(2, 3, 2, backend=backend, rng=random.Random(1))
    x = rng.normal(size=(2, 2, 5))
    w, b = conv1.weights.value.to_numpy(), conv1.bias.value.to_numpy()
    assert w.shape == (3, 2, 2) and b.shape == (3, 1)
    np.testing.assert_allclose(conv1(on(backend, x)).to_numpy(), conv_reference(x, w) + b)

    conv2 = minitorch.Conv2d(2, 3, 2, 3, backend=backend, rng=random.Random(1))
    x = rng.normal(size=(1, 2, 4, 5))
    w, b = conv2.weights.value.to_numpy(), conv2.bias.value.to_numpy()
    assert w.shape == (3, 2, 2, 3) and b.shape == (3, 1, 1)
    np.testing.assert_allclose(conv2(on(backend, x)).to_numpy(), conv_reference(x, w) + b)


@pytest.mark.parametrize(
    ("make", "fan_in"),
    [
        (lambda rng: minitorch.Linear(50, 40, rng=rng), 50),
        (lambda rng: minitorch.Conv1d(6, 40, 5, rng=rng), 30),
        (lambda rng: minitorch.Conv2d(4, 40, 3, 2, rng=rng), 24),
    ],
)
def test_layers_start_uniform_within_one_over_sqrt_fan_in(make, fan_in):
    bound = 1 / math.sqrt(fan_in)
    layer = make(random.Random(5))
    for p in layer.parameters():
        values = p.value.to_numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.8 * bound  # spread over the range, not bunched
        assert p.value.is_leaf()
    again = make(random.Random(5))
    for p, q in zip(layer.parameters(), again.parameters()):
        np.testing.assert_array_equal(p.value.to_numpy(), q.value.to_numpy())


def test_layers_reject_empty_sizes():
    with pytest.raises(ValueError, match=r"Linear needs positive sizes.*\(0, 3\)"):
        minitorch.Linear(0, 3)
    with pytest.raises(ValueError, match="Conv2d needs positive sizes"):
        minitorch.Conv2d(1, 4, 0, 3)


# ---- The course's model code, as written in its project scripts ---------------------------------
# `project/run_mnist_multiclass.py` and `project/run_sentiment.py` define their own layers
# from `minitorch.rand`, `minitorch.Parameter`, `conv1d`/`conv2d`, pooling, `max`, `dropout`,
# `logsoftmax` and `Module.mode`. The classes below follow those scripts line by line.


def course_classes(BACKEND):  # noqa: N803 - the scripts' global
    def RParam(*shape):  # noqa: N802
        r = 0.1 * (minitorch.rand(shape, backend=BACKEND) - 0.5)
        return minitorch.Parameter(r)

    class Linear(minitorch.Module):
        def __init__(self, in_size, out_size):
            super().__init__()
            self.weights = RParam(in_size, out_size)
            self.bias = RParam(out_size)
            self.out_size = out_size

        def forward(self, x):
            batch, in_size = x.shape
            return (x.view(batch, in_size) @ self.weights.value.view(in_size, self.out_size)).view(
                batch, self.out_size
            ) + self.bias.value

    class Conv1d(minitorch.Module):
        def __init__(self, in_channels, out_channels, kernel_width):
            super().__init__()
            self.weights = RParam(out_channels, in_channels, kernel_width)
            self.bias = RParam(1, out_channels, 1)

        def forward(self, input):
            return minitorch.conv1d(input, self.weights.value) + self.bias.value

    class Conv2d(minitorch.Module):
        def __init__(self, in_channels, out_channels, kh, kw):
            super().__init__()
            self.weights = RParam(out_channels, in_channels, kh, kw)
            self.bias = RParam(out_channels, 1, 1)

        def forward(self, input):
            return minitorch.conv2d(input, self.weights.value) + self.bias.value

    return Linear, Conv1d, Conv2d


def lenet(BACKEND, BATCH):  # noqa: N803
    Linear, _, Conv2d = course_classes(BACKEND)
    C = 10  # noqa: N806

    class Network(minitorch.Module):
        def __init__(self):
            super().__init__()
            self.mid = None
            self.out = None
            self.conv1 = Conv2d(1, 4, 3, 3)
            self.conv2 = Conv2d(4, 8, 3, 3)
            self.linear1 = Linear(392, 64)
            self.linear2 = Linear(64, C)

        def forward(self, x):
            self.mid = self.conv1.forward(x).relu()
            self.out = self.conv2.forward(self.mid).relu()
            h = minitorch.avgpool2d(self.out, (4, 4))
            h = h.view(BATCH, 392)
            h = self.linear1.forward(h).relu()
            h = minitorch.dropout(h, 0.25, self.mode == "eval")
            h = self.linear2.forward(h)
            return minitorch.logsoftmax(h, dim=1)

    return Network()


def kim_cnn(BACKEND, feature_map_size, filter_sizes=(3, 4, 5)):  # noqa: N803
    Linear, Conv1d, _ = course_classes(BACKEND)

    class CNNSentimentKim(minitorch.Module):
        def __init__(
            self, feature_map_size=100, embedding_size=50, filter_sizes=[3, 4, 5], dropout=0.25
        ):
            super().__init__()
            self.feature_map_size = feature_map_size
            self.conv1 = Conv1d(embedding_size, feature_map_size, filter_sizes[0])
            self.conv2 = Conv1d(embedding_size, feature_map_size, filter_sizes[1])
            self.conv3 = Conv1d(embedding_size, feature_map_size, filter_sizes[2])
            self.linear = Linear(feature_map_size, 1)
            self.dropout = dropout

        def forward(self, embeddings):
            x = embeddings.permute(0, 2, 1)
            x1 = self.conv1.forward(x).relu()
            x2 = self.conv2.forward(x).relu()
            x3 = self.conv3.forward(x).relu()
            x = minitorch.max(x1, 2) + minitorch.max(x2, 2) + minitorch.max(x3, 2)
            x = self.linear(x.view(x.shape[0], self.feature_map_size))
            x = minitorch.dropout(x, self.dropout, not self.training)
            return x.sigmoid().view(x.shape[0])

    return CNNSentimentKim(feature_map_size, 50, list(filter_sizes))


def _assert_step_moves_every_parameter(model, optim):
    before = [p.value.to_numpy() for p in model.parameters()]
    for p in model.parameters():
        assert p.value.grad is not None and p.value.grad.shape == p.value.shape, p.name
    optim.step()
    for p, old in zip(model.parameters(), before):
        assert p.value.is_leaf() and p.value.grad is None  # fresh: nothing leaks into the next step
        assert not np.array_equal(p.value.to_numpy(), old)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_course_lenet_trains_one_step(backend):
    BATCH, H, W, C = 2, 28, 28, 10  # noqa: N806 - the script's names (its BATCH is 16)
    random.seed(0)
    model = lenet(backend, BATCH)
    optim = minitorch.SGD(model.parameters(), 0.01)
    images = [[[random.random() * 255 for _ in range(W)] for _ in range(H)] for _ in range(BATCH)]
    labels = [[1.0 if j == i else 0.0 for j in range(C)] for i in range(BATCH)]
    model.train()
    y = minitorch.tensor(labels, backend=backend)
    x = minitorch.tensor(images, backend=backend)
    x.requires_grad_(True)
    y.requires_grad_(True)
    out = model.forward(x.view(BATCH, 1, H, W)).view(BATCH, C)
    assert model.mid.shape == (BATCH, 4, H, W) and model.out.shape == (BATCH, 8, H, W)
    np.testing.assert_allclose(out.exp().sum(1).to_numpy(), 1.0)
    prob = (out * y).sum(1)
    loss = -(prob / y.shape[0]).sum()
    assert loss.backend == backend
    loss.view(1).backward()
    assert x.grad.shape == (BATCH, 28, 28)
    _assert_step_moves_every_parameter(model, optim)

    model.eval()  # dropout off: the same input gives the same output
    first = model.forward(x.view(BATCH, 1, H, W)).to_numpy()
    np.testing.assert_array_equal(model.forward(x.view(BATCH, 1, H, W)).to_numpy(), first)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_course_kim_cnn_trains_one_step(backend):
    batch, words = 3, 7
    random.seed(1)
    model = kim_cnn(backend, feature_map_size=6)
    optim = minitorch.SGD(model.parameters(), 0.01)
    x = minitorch.rand((batch, words, 50), backend=backend)
    y = minitorch.tensor([1.0, 0.0, 1.0], backend=backend)
    x.requires_grad_(True)
    model.train()
    out = model.forward(x)
    assert out.shape == (batch,)
    prob = (out * y) + (out - 1.0) * (y - 1.0)
    loss = -(prob.log() / y.shape[0]).sum()
    loss.view(1).backward()
    assert x.grad.shape == (batch, words, 50)
    _assert_step_moves_every_parameter(model, optim)


def test_the_readme_layers_example_runs(tmp_path, monkeypatch):
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("\n## Layers\n", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md#layers", "exec"), {})
    assert minitorch.read_metadata(tmp_path / "model.safetensors") == {"classes": "10"}
