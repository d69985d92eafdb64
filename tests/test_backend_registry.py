"""The backend registry: one way from a name to a backend, and only what runs here offered."""

import pytest

import minitorch
from minitorch import cuda_ops
from minitorch.backends import BACKEND_NAMES, _runs_here


def test_names_give_the_backends():
    assert minitorch.backend_named("simple") is minitorch.SimpleBackend
    assert minitorch.backend_named("fast") is minitorch.FastBackend
    assert BACKEND_NAMES == ("fast", "simple", "cuda")


def test_an_unknown_name_lists_the_names():
    with pytest.raises(
        ValueError, match="unknown backend 'abacus'; choose one of fast, simple, cuda"
    ):
        minitorch.backend_named("abacus")


def test_cuda_without_a_gpu_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(cuda_ops.cuda, "is_available", lambda: False)
    with pytest.raises(minitorch.BackendUnavailable, match="NVIDIA GPU"):
        minitorch.backend_named("cuda")


def test_available_backends_are_those_that_run_here(monkeypatch):
    _runs_here.cache_clear()
    monkeypatch.setattr(cuda_ops.cuda, "is_available", lambda: False)
    try:
        assert minitorch.available_backends() == ("fast", "simple")
    finally:
        _runs_here.cache_clear()
    monkeypatch.setattr(cuda_ops.cuda, "is_available", lambda: True)
    try:
        assert minitorch.available_backends() == ("fast", "simple", "cuda")
    finally:
        _runs_here.cache_clear()
