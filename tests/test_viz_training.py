"""plot_loss and plot_decision_boundary: the data they draw, and their errors."""

import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from minitorch.viz import plot_decision_boundary, plot_loss
from minitorch.viz.training import GRID

XOR = SimpleNamespace(N=4, X=[(0.1, 0.1), (0.9, 0.9), (0.1, 0.9), (0.9, 0.1)], y=[0, 0, 1, 1])


def xor_model(points):
    return [1.0 if (a < 0.5) != (b < 0.5) else 0.0 for a, b in points]


def test_loss_curve_draws_every_epoch(tmp_path):
    fig = plot_loss([3.0, 2.0, 1.5], title="Xor")
    assert isinstance(fig, Figure)
    (line,) = fig.axes[0].get_lines()
    assert list(line.get_xdata()) == [1, 2, 3]
    assert list(line.get_ydata()) == [3.0, 2.0, 1.5]
    assert fig.axes[0].get_title() == "Xor"
    fig.savefig(tmp_path / "loss.png", dpi=80)
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_non_finite_losses_are_gaps():
    (line,) = plot_loss([1.0, math.inf, 0.5]).axes[0].get_lines()
    assert np.isnan(line.get_ydata()[1])


def test_a_thinned_curve_keeps_its_epochs():
    (line,) = plot_loss([3.0, 2.0, 1.0], epochs=[1, 500, 1000]).axes[0].get_lines()
    assert list(line.get_xdata()) == [1, 500, 1000]
    with pytest.raises(ValueError, match="2 epochs for 3 values"):
        plot_loss([3.0, 2.0, 1.0], epochs=[1, 2])


def test_empty_loss_list_is_refused():
    with pytest.raises(ValueError, match="at least one loss"):
        plot_loss([])


def test_boundary_asks_the_model_once_for_the_whole_grid(tmp_path):
    calls = []

    def model(points):
        calls.append(len(points))
        return xor_model(points)

    fig = plot_decision_boundary(model, XOR, title="Xor")
    assert calls == [GRID * GRID]
    ax = fig.axes[0]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    drawn = sorted(tuple(p) for s in scatters for p in s.get_offsets())
    assert drawn == sorted(XOR.X)
    assert ax.get_title() == "Xor"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["y = 0", "y = 1"]
    fig.savefig(tmp_path / "boundary.png", dpi=80)


def test_boundary_without_a_change_of_class_still_draws():
    plot_decision_boundary(lambda pts: [0.2] * len(pts), XOR)


def test_model_returning_the_wrong_count_is_refused():
    with pytest.raises(ValueError, match=r"returned 3 values for 1600 points"):
        plot_decision_boundary(lambda pts: [0.5, 0.5, 0.5], XOR)


def test_importing_does_not_touch_pyplot_and_the_core_does_not_import_viz():
    code = (
        "import sys, minitorch\n"
        "assert 'minitorch.viz' not in sys.modules and 'plotly' not in sys.modules\n"
        "assert 'matplotlib' not in sys.modules\n"
        "import minitorch.viz\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_boundary_of_a_real_model_and_dataset(tmp_path):
    import minitorch
    from minitorch.models import ScalarMLP

    graph = minitorch.datasets["Xor"](20, seed=0)
    model = ScalarMLP(2, 0)  # what `minitorch train` hands over: model.predict and its graph
    fig = plot_decision_boundary(model.predict, graph, title="Xor")
    fig.savefig(tmp_path / "boundary.png", dpi=60)
    assert (tmp_path / "boundary.png").stat().st_size > 0
