"""Re-render the docs: execute the Module-1 notebooks in place and redraw docs/img/*.png.

Run from the repository root after changing `minitorch.viz` or a notebook:

    python docs/render.py            # both
    python docs/render.py --images   # only the README pictures
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
IMG = DOCS / "img"
NOTEBOOKS = sorted(DOCS.glob("module1-*.ipynb"))


def run_notebook(path: Path, timeout: int = 120):
    """Execute a notebook in a fresh kernel started in docs/, with this checkout importable.

    Returns:
        The executed notebook. Raises nbclient's CellExecutionError on any cell error.
    """
    import nbformat
    from nbclient import NotebookClient

    book = nbformat.read(path, as_version=4)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    # No per-cell timestamps: re-rendering an unchanged notebook leaves no diff.
    client = NotebookClient(book, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(DOCS)}})
    client.execute(env=env)
    return book


def render_notebooks() -> None:
    import nbformat

    for path in NOTEBOOKS:
        book = run_notebook(path)
        nbformat.write(book, path)
        print(f"executed {path.relative_to(ROOT)}")


def render_images() -> None:
    """The README's pictures, each from the real helper."""
    sys.path.insert(0, str(ROOT))
    import minitorch
    from minitorch.viz import (
        backprop,
        draw_boxes,
        draw_graph,
        plot_decision_boundary,
        plot_function,
        plot_function3D,
        plot_loss,
    )
    from minitorch.viz._mpl import figure_to_png

    IMG.mkdir(exist_ok=True)

    def f(x):
        return x * x + 1.0

    def line(x):
        return 4.0 * (x - 2.0) + 5.0

    # Plotly figures are saved through their matplotlib twin (kaleido would need Chrome).
    tangent = plot_function("f(x) = x*x + 1 and its tangent at x = 2", f, fn2=line)
    (IMG / "plot_function.png").write_bytes(figure_to_png(tangent.to_matplotlib(), dpi=110))
    surface = plot_function3D("f(x, y) = sin(x) + 2 cos(y)",
                              lambda x, y: math.sin(x) + 2 * math.cos(y))
    (IMG / "plot_function3D.png").write_bytes(figure_to_png(surface.to_matplotlib(), dpi=110))

    draw_boxes([("", ""), "", "", ""], [1, 2, 1], lr=True).save(IMG / "draw_boxes.png", dpi=110)
    draw_boxes(["$x$", "$g(x)$", "$f(g(x))$"], [1, 1]).save(IMG / "draw_boxes_compose.png",
                                                             dpi=110)
    backprop(6).save(IMG / "backprop.png", dpi=110)

    x = minitorch.Scalar(2.0, name="x")
    y = minitorch.Scalar(0.5, name="y")
    z = x * y
    h = z.log() + z.exp()
    h.backward()
    draw_graph(h).save(IMG / "draw_graph.png", dpi=110)

    # The training pictures come from the same run as `minitorch train` with its defaults.
    from minitorch.train import TrainConfig, train

    result = train(TrainConfig())
    name = result.config.dataset
    plot_loss(result.losses, title=f"{name}: training loss").savefig(IMG / "loss.png", dpi=100)
    plot_decision_boundary(result.model.predict, result.graph,
                           title=f"{name}: decision boundary").savefig(IMG / "boundary.png",
                                                                       dpi=100)
    for png in sorted(IMG.glob("*.png")):
        print(f"wrote {png.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", action="store_true", help="only redraw docs/img")
    args = parser.parse_args()
    render_images()
    if not args.images:
        render_notebooks()
