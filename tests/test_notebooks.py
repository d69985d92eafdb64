"""The Module-1 guide: every notebook runs, and holds the course's code cells verbatim."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
NOTEBOOKS = sorted(DOCS.glob("module1-*.ipynb"))

_spec = importlib.util.spec_from_file_location("docs_render", DOCS / "render.py")
render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render)

# Every code cell of the Module-1 docs, in order (the seed lost indentation; restored here).
SEED_CELLS = [
    """plot_function("f'(x) = 2*cos(2x)", lambda x: 2 * math.cos(2 * x))""",
    """plot_function3D("f'_x(x, y) = cos(x)", lambda x, y: math.cos(x))""",
    """def f(x):\n    return x * x + 1.0\n\n\nplot_function("f(x)", f)""",
    """def d_f(x):\n    return 2 * x\n\n\ndef tangent_line(slope, x, y):\n"""
    """    def line(x_):\n        return slope * (x_ - x) + y\n\n    return line\n\n\n"""
    """plot_function("f(x) vs f'(2)", f, fn2=tangent_line(d_f(2), 2, f(2)))""",
    """def derivative(f: Callable[[float], float]) -> Callable[[float], float]:\n"""
    """    def f_prime(x: float) -> float:\n        ...\n\n    return f_prime""",
    """draw_boxes([("", ""), "", "", ""], [1, 2, 1], lr=True)""",
    """backprop(6)""",
    """draw_boxes(["$x_1$", "$f(x_1)$"], [1])""",
    """draw_boxes(["$x_2$", "$f(x_2)$"], [1])""",
    """draw_boxes([("$x$", "$y$"), "$f(x, y)$"], [1])""",
    """draw_boxes(["$x$", "$g(x)$", "$f(g(x))$"], [1, 1])""",
    """draw_boxes(["$x_1$", "$f(x_1)$"], [1])""",
    """class TimesFive(ScalarFunction):\n    @staticmethod\n"""
    """    def forward(ctx: Context, x: float) -> float:\n        return x * 5""",
    """draw_boxes([("$x$", "$y$"), "$f(x, y)$"], [1])""",
    """class Mul(ScalarFunction):\n    @staticmethod\n"""
    """    def forward(ctx: Context, x: float, y: float) -> float:\n        return x * y""",
    """x_1 = Scalar(10.0)\nx_2 = Scalar(0.0)""",
    """x = Scalar(10.0)\nz = TimesFive.apply(x)""",
    """def apply(cls, val: Scalar) -> Scalar:\n    ...\n    unwrapped = val.data\n"""
    """    new = cls.forward(unwapped)\n    return Scalar(new)\n    ...""",
    """draw_boxes(["$x$", "$g(x)$", "$f(g(x))$"], [1, 1])""",
    """x = Scalar(10.0)\ny = Scalar(5.0)\nz = TimesFive.apply(x)\nout = TimesFive.apply(z)\n"""
    """out2 = x * y""",
    """def __mul__(self, b: Scalar) -> Scalar:\n    return Mul.apply(self, b)""",
    """draw_boxes(["", "", ""], [1, 1], lr=False)""",
    """class TimesFive(ScalarFunction):\n    @staticmethod\n"""
    """    def forward(ctx, x: float) -> float:\n        return x * 5\n\n    @staticmethod\n"""
    """    def backward(ctx, d: float) -> float:\n        f_prime = 5\n"""
    """        return f_prime * d""",
    """draw_boxes([("", ""), ""], [1], lr=False)""",
    """class AddTimes2(ScalarFunction):\n    @staticmethod\n"""
    """    def forward(ctx, x: float, y: float) -> float:\n        return x + 2 * y\n\n"""
    """    @staticmethod\n    def backward(ctx, d) -> Tuple[float, float]:\n"""
    """        return d, 2 * d""",
    """def backward(ctx, d_out):\n    ...""",
    """class Square(ScalarFunction):\n    @staticmethod\n"""
    """    def forward(ctx: Context, x: float) -> float:\n        ctx.save_for_backward(x)\n"""
    """        return x * x\n\n    @staticmethod\n"""
    """    def backward(ctx: Context, d_out: float) -> Tuple[float, float]:\n"""
    """        x = ctx.saved_values\n        f_prime = 2 * x\n        return f_prime * d_out""",
    """x = minitorch.Scalar(10)\nx_2 = Square.apply(x)\nx_2.history""",
]


def code_cells():
    return [
        (path.name, cell)
        for path in NOTEBOOKS
        for cell in nbformat.read(path, as_version=4).cells
        if cell.cell_type == "code"
    ]


def test_the_guide_has_four_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "module1-1-derivatives.ipynb",
        "module1-2-scalars.ipynb",
        "module1-3-backpropagation.ipynb",
        "module1-4-higher-order.ipynb",
    ]


def test_every_seed_cell_appears_verbatim_and_in_order():
    sources = [cell.source.strip() for _, cell in code_cells()]
    position = 0
    for seed in SEED_CELLS:
        assert seed in sources[position:], f"missing, or out of order:\n{seed}"
        position = sources.index(seed, position) + 1


def test_saved_notebooks_are_executed_and_error_free():
    # What GitHub shows is the saved outputs: they must exist and hold no tracebacks.
    for name, cell in code_cells():
        assert cell.execution_count is not None, f"{name}: unexecuted cell\n{cell.source}"
        assert all(o.output_type != "error" for o in cell.outputs), f"{name}:\n{cell.source}"


def test_the_seed_history_cell_shows_the_recorded_call():
    (cell,) = [c for _, c in code_cells() if c.source.strip().endswith("x_2.history")]
    text = cell.outputs[0].data["text/plain"]
    assert text.startswith("ScalarHistory(last_fn=<class '__main__.Square'>")
    assert "saved_values=(10.0,)" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_errors(path):
    render.run_notebook(path)  # raises CellExecutionError naming the failing cell


def test_every_picture_the_readme_shows_exists():
    import re

    text = (DOCS.parent / "README.md").read_text()
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(pictures) >= 7
    for picture in pictures:
        path = DOCS.parent / picture
        assert path.is_file() and path.read_bytes()[:4] == b"\x89PNG", picture
