"""docs/module5-attention.ipynb: saved executed and error-free, and it runs (tiny sizes)."""

import importlib.util
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

DOCS = Path(__file__).resolve().parents[1] / "docs"
NOTEBOOK = DOCS / "module5-attention.ipynb"

_spec = importlib.util.spec_from_file_location("docs_render", DOCS / "render.py")
render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render)


def test_saved_attention_notebook_is_executed_and_error_free() -> None:
    cells = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    assert len(cells) >= 10
    for cell in cells:
        assert cell.execution_count is not None, f"unexecuted cell:\n{cell.source}"
        assert all(o.output_type != "error" for o in cell.outputs), cell.source
    shown = [o for c in cells for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(shown) >= 4  # two attention pictures by hand, the loss curves, the model's maps


def test_attention_notebook_runs() -> None:
    book = render.run_notebook(NOTEBOOK, timeout=600)  # raises naming the failing cell
    printed = "".join(
        o.get("text", "") for c in book.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "whole validation split:" in printed
