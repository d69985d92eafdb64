"""Checkpoints: round trips, metadata, atomic writes, and refusals that change nothing."""

from __future__ import annotations

import os
import pickle
import random

import numpy as np
import pytest

import minitorch
from minitorch.models import ScalarMLP
from tests.backends import CPU_BACKENDS


class Net(minitorch.Module):
    def __init__(self, backend, hidden=5, seed=0):
        super().__init__()
        rng = random.Random(seed)
        self.conv = minitorch.Conv2d(1, 2, 3, 3, backend=backend, rng=rng)
        self.head = minitorch.Linear(8, hidden, backend=backend, rng=rng)


def _values(module):
    return {name: p.value.to_numpy() for name, p in module.named_parameters()}


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_save_then_load_restores_every_parameter_and_the_metadata(tmp_path, backend):
    path = tmp_path / "model.safetensors"
    saved = Net(backend, seed=1)
    minitorch.save(saved, path, metadata={"task": "digits", "hidden": "5"})
    fresh = Net(backend, seed=2)
    assert minitorch.load(fresh, path) == {"task": "digits", "hidden": "5"}
    assert minitorch.read_metadata(path) == {"task": "digits", "hidden": "5"}
    for (name, want), (_, got) in zip(_values(saved).items(), _values(fresh).items()):
        np.testing.assert_array_equal(got, want, err_msg=name)
    for p in fresh.parameters():
        assert p.value.is_leaf() and p.value.backend.ops is backend.ops


def test_scalar_parameters_round_trip(tmp_path):
    path = tmp_path / "scalar.safetensors"
    saved, fresh = ScalarMLP(3, seed=1), ScalarMLP(3, seed=2)
    minitorch.save(saved, path)
    assert minitorch.load(fresh, path) == {}
    assert [p.value.data for p in fresh.parameters()] == [
        p.value.data for p in saved.parameters()
    ]


def test_loading_another_architecture_names_the_parameter_and_changes_nothing(tmp_path):
    path = tmp_path / "model.safetensors"
    minitorch.save(Net(minitorch.SimpleBackend, hidden=5), path)
    other = Net(minitorch.SimpleBackend, hidden=6, seed=3)
    before = _values(other)
    values_before = [p.value for p in other.parameters()]
    with pytest.raises(
        minitorch.CheckpointError,
        match=r"parameter 'head.weights' has shape \(8, 5\) in the file but \(8, 6\) in Net",
    ):
        minitorch.load(other, path)
    # the conv parameters fit, but were not assigned either
    assert [p.value for p in other.parameters()] == values_before
    for name, values in _values(other).items():
        np.testing.assert_array_equal(values, before[name])


def test_loading_with_missing_or_extra_parameters_names_them(tmp_path):
    path = tmp_path / "linear.safetensors"
    minitorch.save(minitorch.Linear(8, 5), path)
    with pytest.raises(
        minitorch.CheckpointError,
        match=r"missing parameters \['conv.weights', 'conv.bias', 'head.weights', 'head.bias'\]"
        r", unexpected parameters \['bias', 'weights'\]",
    ):
        minitorch.load(Net(minitorch.SimpleBackend), path)


def test_a_failed_save_keeps_the_previous_checkpoint_and_leaves_no_temporary_file(
    tmp_path, monkeypatch
):
    path = tmp_path / "model.safetensors"
    model = Net(minitorch.SimpleBackend)
    minitorch.save(model, path, metadata={"epoch": "1"})
    original = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(minitorch.checkpoint, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        minitorch.save(model, path, metadata={"epoch": "2"})
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_save_rejects_metadata_that_is_not_strings(tmp_path):
    with pytest.raises(TypeError, match=r"strings to strings, got 'hidden': 64"):
        minitorch.save(minitorch.Linear(2, 2), tmp_path / "m.safetensors", {"hidden": 64})
    assert os.listdir(tmp_path) == []


def test_load_refuses_files_that_are_not_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        minitorch.load(minitorch.Linear(2, 2), tmp_path / "absent.safetensors")
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"weights": [1.0]}))
    with pytest.raises(minitorch.CheckpointError, match="is not a safetensors checkpoint"):
        minitorch.load(minitorch.Linear(2, 2), pickled)
