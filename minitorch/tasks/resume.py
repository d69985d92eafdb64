"""A command-line run's folder: checked before work starts, a checkpoint after every epoch,
and `--resume` continuing from the last one.

After every evaluation the loop calls the hook `resume_or_start` returns, which writes two
files into `--out`, each atomically (a reader sees the old file or the whole new one):

- `model.safetensors`: the parameters and the options `minitorch eval` rebuilds the model from;
- `training.safetensors`: everything `--resume` needs: the parameters again (so the file
  stands alone), the optimizer's moments, and as JSON metadata the run's options, counters,
  curves and every random generator's state (`LoopState.state_dict`, and the generators the
  model's modules hold themselves).

`--resume` may change only `RESUMABLE` options: the others change the model or the data, and
a resumed run with the same options ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..files import strict_json
from .common import config_json, save_checkpoint
from .errors import DataError, MissingData, TaskError
from .loop import LoopState, load_snapshot, parameter_snapshot
from .options import flag

__all__ = [
    "MODEL_FILE",
    "TRAINING_FILE",
    "RESUMABLE",
    "Run",
    "prepare_out",
    "open_run",
    "resume_or_start",
]

MODEL_FILE = "model.safetensors"
TRAINING_FILE = "training.safetensors"
RESUMABLE = ("epochs", "iters", "lr", "backend")  # options `--resume` may change
_KEY = "minitorch.training"  # the training file's metadata entry (JSON)
_SCHEMA = 1


def prepare_out(out: Path) -> Path:
    """Create the folder `out` and check that a file can be written there, before any data is
    loaded: a run never fails at its end for want of a place to put what it made.

    Raises:
        TaskError: `out` is a file, or cannot be created or written to (the reason named).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise TaskError(f"--out {out} is a file, not a folder: name a folder for the results")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise TaskError(
            f"--out {out}: cannot write there ({err.strerror or err}); name a folder you can "
            "write to"
        ) from None
    return out


@dataclass
class Run:
    """Where a run keeps its checkpoints, and the saved record it continues (if resuming)."""

    out: Path
    task: str
    saved: dict[str, Any] | None = None  # the training file's JSON record, when resuming
    saved_at: str | None = None  # "epoch 3" (or "step 400"): the checkpoint in `out`, if any
    writes: bool = True  # False on every MPI rank but 0: they resume, rank 0 alone saves

    @property
    def training_file(self) -> Path:
        return self.out / TRAINING_FILE

    @property
    def model_file(self) -> Path:
        return self.out / MODEL_FILE


def _option(name: str, value: Any) -> str:
    shown = ",".join(map(str, value)) if isinstance(value, list) else value
    return f"{flag(name)} {shown}"


def open_run(task: str, config: Any, out: Path, resume: bool) -> Run:
    """The run in `out`: a new one, or with `resume` the one saved there, checked against
    `config` before anything slow starts.

    Raises:
        MissingData: `resume` and no training file in `out`.
        DataError: the training file cannot be read, or is another task's.
        TaskError: `config` changes an option that is not in `RESUMABLE`, or leaves no epoch
            to train.
    """
    if not resume:
        return Run(Path(out), task)
    from ..checkpoint import CheckpointError, json_metadata, read_metadata

    path = Path(out) / TRAINING_FILE
    if not path.is_file():
        raise MissingData(
            f"--resume: no run to continue in {out} (no {TRAINING_FILE}, which minitorch "
            f"train {task} --out {out} writes after each finished epoch)"
        )
    try:
        record = json_metadata(read_metadata(path), _KEY, path)
    except (OSError, CheckpointError) as err:
        raise DataError(f"--resume: cannot read {path}: {err}") from None
    saved = record.get("config")
    state = record.get("state")
    if record.get("task") != task or record.get("schema") != _SCHEMA:
        raise DataError(
            f"--resume: {path} holds a run of task {record.get('task')!r} (schema "
            f"{record.get('schema')!r}), not of {task!r} (schema {_SCHEMA})"
        )
    if not isinstance(saved, dict) or not isinstance(state, dict):
        raise DataError(f"--resume: {path} lacks the run's options or state")
    epoch = state.get("epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise DataError(f"--resume: {path} records epoch {epoch!r}, not a count of epochs")
    now = config_json(config)
    changed = [
        name
        for name in sorted(set(saved) | set(now))
        if name not in RESUMABLE and saved.get(name) != now.get(name)
    ]
    if changed:
        was = ", ".join(_option(name, saved.get(name)) for name in changed)
        raise TaskError(
            f"--resume: the run in {out} was trained with {was}; these change the model or "
            f"the data, so pass them as they were (only "
            f"{', '.join(flag(n) for n in RESUMABLE)} may change)"
        )
    epochs, iters, iteration = now.get("epochs"), now.get("iters"), state.get("iteration")
    if isinstance(epochs, int) and epoch >= epochs:
        raise TaskError(
            f"--resume: the run in {out} has finished {epoch} epochs already; pass "
            f"--epochs N with N > {epoch} to train on"
        )
    if isinstance(iters, int) and isinstance(iteration, int) and iteration >= iters:
        raise TaskError(
            f"--resume: the run in {out} has taken {iteration} steps already; pass "
            f"--iters N with N > {iteration} to train on"
        )
    at = _where(epoch, state.get("step_in_epoch"), state.get("iteration"))
    return Run(Path(out), task, record, at)


def resume_or_start(
    run: Run | None, config: Any, model: Any, state: LoopState, options: dict[str, Any]
) -> Callable[[LoopState], None] | None:
    """Put `model` and `state` back where `run` was saved (when resuming), and return the
    hook `fit` calls after every evaluation to save the run (None without a run).

    Args:
        run: from `open_run`, or None (the app, tests: no files).
        config: the run's options, saved for `--resume` to compare.
        model: the task's freshly built model.
        state: the loop's fresh state (its optimizer built on `model`'s parameters).
        options: what `minitorch eval` rebuilds the model from (`model.safetensors`' metadata).
    """
    if run is None:
        return None
    if run.saved is not None:
        _restore(run, model, state)
    saved_config = config_json(config)
    tensors = all(hasattr(p.value, "to_numpy") for p in model.parameters())

    def checkpoint(state: LoopState) -> None:
        if not run.writes:
            return
        if tensors:  # the scalar engine's Scalars have no eval checkpoint
            save_checkpoint(model, run.model_file, options)
        _save_training(run, saved_config, model, state)
        run.saved_at = _where(state.epoch, state.step_in_epoch, state.iteration)

    return checkpoint


def _where(epoch: int, step_in_epoch: Any, iteration: Any) -> str:
    """A checkpoint's place: after an epoch, or mid-epoch after a step (iteration schedule)."""
    return f"step {iteration}" if step_in_epoch else f"epoch {epoch}"


def _model_generators(model: Any) -> dict[str, Any]:
    """The random generators a model's modules hold themselves (a GPT's dropout draws from its
    own `random.Random`), each once, keyed by where the walk first finds it: the module's
    position in a depth-first walk and the attribute's name."""
    found: dict[str, Any] = {}
    seen: set[int] = set()
    stack, index = [model], 0
    while stack:
        module = stack.pop(0)
        for name, value in vars(module).items():
            if isinstance(value, (random.Random, np.random.Generator)) and id(value) not in seen:
                seen.add(id(value))
                found[f"{index}.{name}"] = value
        stack[:0] = list(module.modules())
        index += 1
    return found


def _generator_state(value: Any) -> Any:
    if isinstance(value, random.Random):
        version, keys, gauss = value.getstate()
        return [version, list(keys), gauss]
    return value.bit_generator.state


def _set_generator_state(value: Any, saved: Any) -> None:
    if isinstance(value, random.Random):
        version, keys, gauss = saved
        value.setstate((version, tuple(keys), gauss))
    else:
        value.bit_generator.state = saved


def _save_training(run: Run, config: dict[str, Any], model: Any, state: LoopState) -> None:
    from ..checkpoint import save_arrays

    arrays = {f"model.{name}": v for name, v in parameter_snapshot(model).items()}
    saved = state.state_dict()
    moments = []
    for i, entry in enumerate(saved.pop("optimizer")):
        kept = {}
        for key, value in entry.items():
            if isinstance(value, dict) and "values" in value:  # a moment's array
                name = f"optimizer.{i}.{key}"
                arrays[name] = np.asarray(value["values"], dtype=np.float64)  # exact for float32
                kept[key] = {**{k: v for k, v in value.items() if k != "values"}, "array": name}
            else:
                kept[key] = value
        moments.append(kept)
    record = {
        "task": run.task,
        "schema": _SCHEMA,
        "config": config,
        "state": {**saved, "optimizer": moments},
        "model_generators": {k: _generator_state(g) for k, g in _model_generators(model).items()},
    }
    text = json.dumps(strict_json(record), allow_nan=False, sort_keys=True)
    save_arrays(arrays, run.training_file, {_KEY: text})


def _restore(run: Run, model: Any, state: LoopState) -> None:
    """Load the saved parameters into `model` and the saved state into `state`."""
    from ..checkpoint import CheckpointError, read_arrays

    assert run.saved is not None
    path = run.training_file
    try:
        arrays, _ = read_arrays(path)
        saved = dict(run.saved["state"])
        snapshot = {k[len("model.") :]: v for k, v in arrays.items() if k.startswith("model.")}
        load_snapshot(model, snapshot)
        moments = []
        for entry in saved["optimizer"]:
            moments.append(
                {
                    key: {**v, "values": arrays[v["array"]]} if isinstance(v, dict) else v
                    for key, v in entry.items()
                }
            )
        saved["optimizer"] = moments
        state.load_state_dict(saved)
        generators = _model_generators(model)
        kept = run.saved.get("model_generators", {})
        if set(kept) != set(generators):
            raise ValueError(
                f"the model holds random generators {sorted(generators)}, the file {sorted(kept)}"
            )
        for key, generator in generators.items():
            _set_generator_state(generator, kept[key])
    except (OSError, CheckpointError, KeyError, TypeError, ValueError) as err:
        raise DataError(f"--resume: {path} does not fit this run's model: {err}") from None
