"""Checkpoints: round trips, metadata, atomic writes, and refusals that change nothing."""

from __future__ import annotations

import json
import os
import pickle
import random
import struct
import subprocess
import sys

import numpy as np
import pytest

import minitorch
from minitorch.checkpoint import MetadataField, json_metadata, validate_metadata
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
    assert [p.value.data for p in fresh.parameters()] == [p.value.data for p in saved.parameters()]


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


# ---- Files written elsewhere: every float type, hostile headers ---------------------------------


class Flat(minitorch.Module):
    """One parameter `w` of `n` values: the shape a test file is written in."""

    def __init__(self, n):
        super().__init__()
        self.w = self.add_parameter("w", minitorch.zeros((n,)))


def _write_raw(path, header, data=b""):
    """A safetensors file with exactly this header (a dict, or raw bytes) and data."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


EIGHT_BIT_FLOATS = [
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
]


@pytest.mark.parametrize("dtype", EIGHT_BIT_FLOATS)
def test_every_code_of_an_eight_bit_float_reads_as_pytorch_reads_it(tmp_path, dtype):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    if not hasattr(torch, dtype):
        pytest.skip(f"this torch has no {dtype}")
    codes = torch.arange(256, dtype=torch.uint8).view(getattr(torch, dtype))
    path = tmp_path / "f8.safetensors"
    safetensors_torch.save_file({"w": codes}, path)
    model = Flat(256)
    minitorch.load(model, path)
    np.testing.assert_array_equal(model.w.value.to_numpy(), codes.double().numpy())


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
def test_wider_floats_bfloat16_included_read_as_pytorch_reads_them(tmp_path, dtype):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    special = [0.0, -0.0, 1.0, -2.5, 1e-3, 3e38, float("inf"), float("-inf"), float("nan")]
    values = torch.tensor(special + list(np.linspace(-7, 7, 23)), dtype=torch.float64)
    stored = values.to(getattr(torch, dtype))
    path = tmp_path / "w.safetensors"
    safetensors_torch.save_file({"w": stored}, path, metadata={"from": "torch"})
    model = Flat(len(values))
    assert minitorch.load(model, path) == {"from": "torch"}
    got = model.w.value.to_numpy()
    np.testing.assert_array_equal(got, stored.double().numpy())
    assert np.signbit(got[1])  # -0.0 stays -0.0


@pytest.mark.parametrize(
    ("dtype", "size", "what"),
    [
        ("I32", 8, "not a floating-point type"),
        ("BOOL", 2, "not a floating-point type"),
        ("C64", 16, "not a floating-point type"),
        ("F4", 1, "a packed sub-byte float"),
    ],
)
def test_tensors_that_are_not_floats_are_refused_naming_parameter_and_type(
    tmp_path, dtype, size, what
):
    path = _write_raw(
        tmp_path / "odd.safetensors",
        {"w": {"dtype": dtype, "shape": [2], "data_offsets": [0, size]}},
        b"\x01" * size,
    )
    model = Flat(2)
    with pytest.raises(
        minitorch.CheckpointError, match=rf"parameter 'w' is stored as {dtype}, {what}"
    ):
        minitorch.load(model, path)
    assert not model.w.value.to_numpy().any()  # nothing assigned


def _one_weight(metadata):
    header = {"w": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}
    if metadata is not None:
        header["__metadata__"] = metadata
    return header


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            _one_weight({"hidden": 64}),
            r"metadata must map strings to strings, got 'hidden': 64 \(int\)",
        ),
        (_one_weight({"x": None}), r"strings to strings, got 'x': None"),
        (_one_weight(["a", "b"]), r"metadata must be a JSON object of strings, found list"),
        (b"{not json", r"not a safetensors checkpoint: header is not JSON"),
        (b"\xff\xfe{}", r"not a safetensors checkpoint: header is not JSON"),
        (b"[1, 2]", r"not a safetensors checkpoint: header is not an object"),
    ],
    ids=["int", "null", "list", "not-json", "not-utf8", "array"],
)
def test_metadata_that_is_not_json_strings_is_a_named_error(tmp_path, header, message):
    path = _write_raw(tmp_path / "m.safetensors", header, bytes(8))
    with pytest.raises(minitorch.CheckpointError, match=message):
        minitorch.read_metadata(path)
    with pytest.raises(minitorch.CheckpointError, match=message):
        minitorch.load(Flat(1), path)


def test_a_header_longer_than_the_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(struct.pack("<Q", 2**60) + b"{}")
    with pytest.raises(minitorch.CheckpointError, match=r"header claims 1152921504606846976 bytes"):
        minitorch.read_metadata(path)
    path.write_bytes(b"abc")
    with pytest.raises(minitorch.CheckpointError, match="3 bytes, no header"):
        minitorch.read_metadata(path)


# ---- Saving: permissions and temporary files ----------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_saved_file_gets_the_users_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        minitorch.save(minitorch.Linear(2, 2), tmp_path / "m.safetensors")
    finally:
        os.umask(old)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_save_interrupted_by_ctrl_c_removes_its_temporary_file(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(minitorch.checkpoint, "save_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        minitorch.save(minitorch.Linear(2, 2), tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []


def test_a_save_removes_temporaries_of_killed_writers_and_keeps_live_ones(tmp_path):
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        killed.kill()
        killed.wait()
        stale = tmp_path / f".m.safetensors.{killed.pid}.x1y2z3.tmp"
        working = tmp_path / f".m.safetensors.{live.pid}.a1b2c3.tmp"
        other = tmp_path / f".other.safetensors.{killed.pid}.q1w2e3.tmp"  # another file's
        for path in (stale, working, other):
            path.write_bytes(b"\0" * 1000)
        minitorch.save(minitorch.Linear(2, 2), tmp_path / "m.safetensors")
        assert sorted(os.listdir(tmp_path)) == sorted([working.name, other.name, "m.safetensors"])
    finally:
        live.kill()
        live.wait()


# ---- Metadata schemas (for the task registry) ---------------------------------------------------

SCHEMA = {
    "task": MetadataField(str, choices=("sentiment", "mnist")),
    "feature_maps": MetadataField(int, low=1, high=1024),
    "dropout": MetadataField(float, low=0.0, high=1.0),
    "filter_sizes": MetadataField(list, item=int, low=1, high=16, max_items=8),
    "lowercase": MetadataField(bool, required=False),
}
GOOD = {"task": "sentiment", "feature_maps": 100, "dropout": 0.25, "filter_sizes": [3, 4, 5]}


def test_metadata_that_fits_its_schema_comes_back_with_lists_as_tuples():
    got = validate_metadata({**GOOD, "dropout": 0, "lowercase": True}, SCHEMA)
    assert got == {**GOOD, "dropout": 0, "lowercase": True, "filter_sizes": (3, 4, 5)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"feature_maps": 3_000_000}, r"'feature_maps' = 3000000 is out of range \[1, 1024\]"),
        ({"feature_maps": 2.0}, r"'feature_maps' must be an integer, got 2.0"),
        ({"feature_maps": True}, r"'feature_maps' must be an integer, got True"),
        ({"feature_maps": "100"}, r"'feature_maps' must be an integer, got '100'"),
        ({"dropout": float("nan")}, r"'dropout' must be a finite number, got nan"),
        ({"dropout": 1.5}, r"'dropout' = 1.5 is out of range \[0.0, 1.0\]"),
        ({"task": "shell"}, r"'task' = 'shell' is not one of \['sentiment', 'mnist'\]"),
        ({"filter_sizes": []}, r"'filter_sizes' must hold 1 to 8 items, got 0"),
        ({"filter_sizes": [3, 99]}, r"'filter_sizes\[\]' = 99 is out of range"),
        ({"filter_sizes": "3,4"}, r"'filter_sizes' must be a list, got '3,4'"),
        ({"vectors": "/etc/passwd"}, r"missing none, unexpected \['vectors'\]"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_metadata_outside_its_schema_is_refused_naming_entry_and_value(change, message):
    with pytest.raises(minitorch.CheckpointError, match=rf"m\.safetensors: .*{message}"):
        validate_metadata({**GOOD, **change}, SCHEMA, where="m.safetensors")


def test_missing_entries_are_named():
    meta = {k: v for k, v in GOOD.items() if k != "dropout"}
    with pytest.raises(minitorch.CheckpointError, match=r"missing \['dropout'\], unexpected none"):
        validate_metadata(meta, SCHEMA)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        (None, "has no 'options' entry"),
        ("{not json", "'options' is not JSON"),
        ('{"dropout": NaN}', "'options' is not JSON .*NaN is not a JSON number"),
        ("[1, 2]", "'options' must be a JSON object, found list"),
    ],
)
def test_json_metadata_names_the_entry_that_is_not_a_json_object(tmp_path, stored, message):
    path = tmp_path / "m.safetensors"
    metadata = {} if stored is None else {"options": stored}
    minitorch.save(minitorch.Linear(1, 1), path, metadata=metadata)
    with pytest.raises(minitorch.CheckpointError, match=message):
        json_metadata(minitorch.read_metadata(path), "options", path)


def test_json_metadata_reads_a_json_object(tmp_path):
    path = tmp_path / "m.safetensors"
    minitorch.save(minitorch.Linear(1, 1), path, metadata={"options": json.dumps(GOOD)})
    assert json_metadata(minitorch.read_metadata(path), "options", path) == GOOD
