"""The real tasks (digits, sentiment) train in float32 by default, and a float32 step stays
float32 from the input builders through the loss, the gradients and the optimizer's update."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minitorch import backend_named, float32, float64
from minitorch.tasks.classic.train import ClassicConfig
from minitorch.tasks.common import course_init, model_dtype
from minitorch.tasks.mnist.data import Digits
from minitorch.tasks.mnist.train import (
    MnistConfig,
    MnistEvalConfig,
    _MnistLoop,
    build_model,
    model_options,
    predict,
    to_input,
)
from minitorch.tasks.optimizers import make_optimizer
from minitorch.tasks.sentiment.data import Sentences, Vocabulary
from minitorch.tasks.sentiment.train import (
    SentimentConfig,
    SentimentEvalConfig,
    _SentimentLoop,
    embed,
    score,
)
from minitorch.tasks.sentiment.train import build_model as build_kim
from minitorch.tasks.sentiment.train import model_options as kim_options
from minitorch.tensor_functions import Cast


def _default(config: type, name: str) -> Any:
    return next(f.default for f in fields(config) if f.name == name)


def test_real_tasks_default_to_float32_and_the_toy_task_to_float64() -> None:
    for config in (MnistConfig, MnistEvalConfig, SentimentConfig, SentimentEvalConfig):
        assert _default(config, "dtype") == "float32", config.__name__
    assert _default(ClassicConfig, "dtype") == "float64"


@contextmanager
def casts() -> Iterator[list[tuple[Any, Any]]]:
    """Record every dtype conversion (`Cast`) made inside the block: `(from, to)` pairs.
    Mixed dtypes promote through `Cast`, and gradients are cast back to their tensor's
    dtype through it, so a float64 op anywhere in a float32 step shows up here."""
    seen: list[tuple[Any, Any]] = []
    forward = Cast.forward

    def recording(ctx: Any, a: Any, dtype: Any) -> Any:
        seen.append((a.dtype, dtype))
        return forward(ctx, a, dtype)

    Cast.forward = staticmethod(recording)
    try:
        yield seen
    finally:
        Cast.forward = staticmethod(forward)


def graph_dtypes(out: Any) -> dict[str, set[Any]]:
    """The dtype of every tensor in `out`'s graph, constants included, by the function that
    made it (`leaf` for inputs and parameters)."""
    found: dict[str, set[Any]] = {}
    todo, seen = [out], {id(out)}
    while todo:
        t = todo.pop()
        h = t.history
        name = "leaf" if h is None or h.last_fn is None else h.last_fn.__name__
        found.setdefault(name, set()).add(t.dtype)
        for parent in () if h is None else h.inputs:
            if id(parent) not in seen:
                seen.add(id(parent))
                todo.append(parent)
    return found


def check_float32_step(loop: Any, batch: Any) -> None:
    """One training step of `loop` on `batch`: forward, backward and an Adam update, all in
    float32 (and the check itself sees what it claims to: the graph reaches the input)."""
    model = loop.model
    optimizer = make_optimizer("adam", model.parameters(), 0.01)
    with casts() as seen:
        loss, _ = loop.loss(batch)
        dtypes = graph_dtypes(loss)
        loss.backward()
        grads = {p.name: p.value.grad for p in model.parameters()}
        optimizer.step()
    assert batch.x.dtype == float32
    assert len(dtypes) > 5 and "leaf" in dtypes, dtypes  # the walk saw the whole graph
    assert {name: d for name, d in dtypes.items() if d != {float32}} == {}
    assert seen == [], f"float32 step converted dtypes: {seen}"
    for name, grad in grads.items():
        assert grad is not None and grad.dtype == float32, name
    for p in model.parameters():
        assert p.value.dtype == float32, p.name


@pytest.fixture
def digits() -> Digits:
    rng = np.random.default_rng(0)
    return Digits(rng.integers(0, 256, (8, 28, 28), dtype=np.uint8), np.arange(8) % 10)


@pytest.mark.parametrize("init", ["default", "course"])
@pytest.mark.parametrize("pixels", ["raw", "standard"])
def test_a_float32_digits_step_never_leaves_float32(digits, init, pixels) -> None:
    backend = backend_named("fast")
    config = MnistConfig(batch=8, init=init, pixels=pixels, dtype="float32")
    model = build_model(model_options(config), backend, float32)
    if init == "course":
        course_init(model, backend)  # draws in the parameters' dtype
    model.train()
    loop = _MnistLoop(config, model, backend, digits, digits)
    check_float32_step(loop, next(iter(loop.train_batches(np.random.default_rng(0)))))


def test_a_promoting_input_is_caught(digits) -> None:
    """The check above fails on what it is there to catch: a float64 input."""
    backend = backend_named("fast")
    config = MnistConfig(batch=8, dtype="float32")
    loop = _MnistLoop(config, build_model(model_options(config), backend), backend, digits, digits)
    batch = next(iter(loop.train_batches(np.random.default_rng(0))))
    batch.x = batch.x.double()
    with pytest.raises(AssertionError):
        check_float32_step(loop, batch)


def test_digits_predictions_and_inputs_take_the_models_dtype(digits) -> None:
    backend = backend_named("fast")
    options = model_options(MnistConfig(dtype="float32"))
    model = build_model(options, backend)  # the options' own dtype
    assert model_dtype(model) == float32
    assert to_input(digits.images, "unit", backend, float32).dtype == float32
    assert to_input(digits.images, "unit", backend).dtype == float64  # the course's default
    with casts() as seen:
        got = predict(model, digits, "standard", backend)
    assert seen == [] and got.log_probs.shape == (8, 10)
    # the same weights in float64 answer the same, to float32's precision
    double = build_model(options, backend, float64)
    for p, q in zip(double.parameters(), model.parameters()):
        p.update(q.value.double())
    want = predict(double, digits, "standard", backend).log_probs
    np.testing.assert_allclose(got.log_probs, want, rtol=1e-4, atol=1e-4)


@pytest.fixture
def sentences(tmp_path: Path) -> tuple[Vocabulary, Sentences]:
    rng = np.random.default_rng(1)
    words = ["good", "bad", "film", "dull"]
    vectors = np.zeros((len(words) + 1, 50))
    vectors[1:] = rng.normal(size=(len(words), 50))
    vocabulary = Vocabulary({w: i + 1 for i, w in enumerate(words)}, vectors, "test")
    said = [["good", "film"], ["dull", "bad", "film", "unknown"], ["bad"], ["good"]]
    return vocabulary, Sentences(said, np.array([1, 0, 0, 1]), [" ".join(s) for s in said])


@pytest.mark.parametrize("init", ["default", "course"])
def test_a_float32_sentiment_step_never_leaves_float32(sentences, init, tmp_path) -> None:
    backend = backend_named("fast")
    vocabulary, said = sentences
    config = SentimentConfig(data=tmp_path, batch=4, feature_maps=6, init=init)
    model = build_kim(kim_options(config, vocabulary), backend, float32)
    if init == "course":
        course_init(model, backend)
    model.train()
    loop = _SentimentLoop(config, model, backend, vocabulary, said, said)
    check_float32_step(loop, next(iter(loop.train_batches(np.random.default_rng(0)))))


def test_sentiment_scores_and_inputs_take_the_models_dtype(sentences, tmp_path) -> None:
    backend = backend_named("fast")
    vocabulary, said = sentences
    options = kim_options(SentimentConfig(data=tmp_path, feature_maps=6), vocabulary)
    model = build_kim(options, backend)
    assert model_dtype(model) == float32
    ids = [vocabulary.ids(s) for s in said.words]
    x = embed(vocabulary, ids, (3, 4, 5), backend, float32)
    assert x.dtype == float32 and x.shape == (4, 50, 5)  # (B, D, L)
    np.testing.assert_array_equal(x.to_numpy()[1, :, 0], vocabulary.vectors[4].astype(np.float32))
    with casts() as seen:
        got = score(model, vocabulary, said, (3, 4, 5), backend)
    assert seen == [] and got.probs.shape == (4,)


def test_a_float32_step_of_the_toy_task_never_leaves_float32() -> None:
    """`minitorch train --dtype float32`: the tensor classifier builds its points and label
    signs in its own dtype (they were float64, which promoted every step)."""
    from minitorch.tasks.classic.train import _ClassicLoop
    from minitorch.tasks.classic.train import build_model as build_classifier
    from minitorch.tasks.loop import Batch
    from minitorch.tensor_models import TensorMLP

    class Graph:
        N = 6
        X = [(0.1 * i, 0.9 - 0.1 * i) for i in range(6)]
        y = [i % 2 for i in range(6)]

    model = build_classifier({"hidden": 5, "seed": 0}, backend_named("fast"), float32)
    assert isinstance(model, TensorMLP)
    loop = _ClassicLoop(model, Graph(), 6)
    batch = Batch(Graph.X, np.asarray(Graph.y))
    with casts() as seen:
        loss, _ = loop.loss(batch)
        dtypes = graph_dtypes(loss)
        loss.backward()
    assert len(dtypes) > 5 and "leaf" in dtypes, dtypes
    assert {name: d for name, d in dtypes.items() if d != {float32}} == {}
    assert seen == [], f"float32 step converted dtypes: {seen}"
