"""The Module-1 docs' code cells run verbatim and print what the docs show."""

import contextlib
import io
import runpy
from pathlib import Path

import pytest

SEED = Path(__file__).parent / "seed_module1.py"
DOCS_OUTPUT = (
    "ScalarHistory(last_fn=<class '__main__.Square'>, ctx=Context(no_grad=False, "
    "saved_values=(10.0,)), inputs=[Scalar(10.000000)])"
)


def test_seed_cells_run_and_print_the_documented_history() -> None:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ns = runpy.run_path(str(SEED), run_name="__main__")
    assert buf.getvalue().strip() == DOCS_OUTPUT
    assert ns["z"].data == 50.0 and ns["out"].data == 250.0 and ns["out2"].data == 50.0
    assert ns["f"](2) == 5.0 and ns["tangent_line"](ns["d_f"](2), 2, ns["f"](2))(3) == 9.0


def test_seed_functions_with_backward_differentiate() -> None:
    ns = runpy.run_path(str(SEED), run_name="__main__")
    Scalar = ns["Scalar"]
    x, y = Scalar(1.0), Scalar(2.0)
    ns["AddTimes2"].apply(x, y).backward()
    assert (x.derivative, y.derivative) == (1.0, 2.0)
    x = Scalar(3.0)
    ns["TimesFive"].apply(x).backward()
    assert x.derivative == 5.0


def test_seed_square_backward_fails_loudly_as_written() -> None:
    # The docs' Square.backward multiplies the whole saved tuple; calling it must fail
    # with an error, never pass a wrong number through silently.
    ns = runpy.run_path(str(SEED), run_name="__main__")
    with pytest.raises(TypeError):
        ns["x_2"].backward()
