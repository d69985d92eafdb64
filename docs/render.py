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
    from minitorch.viz import (backprop, draw_boxes, draw_graph, plot_decision_boundary,
                               plot_function, plot_function3D, plot_loss)
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

    losses, model_fn, graph = _train_xor()
    plot_loss(losses, title="Xor: training loss").savefig(IMG / "loss.png", dpi=100)
    plot_decision_boundary(model_fn, graph, title="Xor: decision boundary").savefig(
        IMG / "boundary.png", dpi=100)
    for png in sorted(IMG.glob("*.png")):
        print(f"wrote {png.relative_to(ROOT)}")


def _train_xor(epochs: int = 400, lr: float = 1.0, hidden: int = 10, seed: int = 1):
    """A tiny two-layer scalar network trained on Xor, enough for honest training pictures."""
    import random

    import minitorch

    rng = random.Random(seed)
    graph = minitorch.datasets["Xor"](60, seed=seed)

    def param():
        return minitorch.Scalar(rng.uniform(-1.0, 1.0))

    w1 = [[param(), param()] for _ in range(hidden)]
    b1 = [param() for _ in range(hidden)]
    w2 = [param() for _ in range(hidden)]
    b2 = param()
    params = [p for row in w1 for p in row] + b1 + w2 + [b2]

    def forward(x1, x2):
        h = [(w[0] * x1 + w[1] * x2 + b).relu() for w, b in zip(w1, b1)]
        return (sum((w * v for w, v in zip(w2, h)), b2)).sigmoid()

    losses = []
    for _ in range(epochs):
        total = 0.0
        for p in params:
            p.derivative = None
        loss = 0
        for (x1, x2), label in zip(graph.X, graph.y):
            prob = forward(x1, x2)
            # Negative log-likelihood of the true label.
            loss = loss - (prob if label == 1 else 1.0 - prob).log()
        (loss / len(graph.X)).backward()
        total = loss.data / len(graph.X)
        for p in params:
            p.data -= lr * (p.derivative or 0.0)
        losses.append(total)

    def model_fn(points):
        return [forward(a, b).data for a, b in points]

    return losses, model_fn, graph


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", action="store_true", help="only redraw docs/img")
    args = parser.parse_args()
    render_images()
    if not args.images:
        render_notebooks()
