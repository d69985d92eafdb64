"""Every page of the app, run headless through Streamlit's AppTest: it renders without an
exception, and its main widgets drive the library (change a value, the output changes)."""

import builtins
import json
import math
import re

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

import minitorch  # noqa: E402
from minitorch.app import APP_PATH  # noqa: E402
from minitorch.app.views import pages  # noqa: E402
from tests.app_testing import metrics, ok, page  # noqa: E402
from tests.test_app_expr import HOSTILE, SENTINEL  # noqa: E402

TIMEOUT = 60


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


@pytest.mark.parametrize("entry", pages(), ids=lambda p: p.url)
def test_entry_script_renders_every_page_with_its_title(entry):
    at = ok(AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT).run())
    at.switch_page(str(entry.path.relative_to(APP_PATH.parent)))
    ok(at.run())
    assert at.title[0].value == entry.title
    assert not at.error


def test_operators_plot_the_chosen_operator_and_its_derivatives():
    at = page("operators")
    assert float(metrics(at)["sigmoid(x) at x = 1"]) == pytest.approx(0.731059, rel=1e-5)
    at.selectbox(key="op").select("exp").run()
    ok(at)
    shown = metrics(at)
    assert float(shown["exp(x) at x = 1"]) == pytest.approx(math.e, rel=1e-5)
    assert float(shown["autodiff (Scalar backward)"]) == pytest.approx(math.e, rel=1e-5)
    assert float(shown["central difference"]) == pytest.approx(math.e, rel=1e-5)
    function, derivative = charts(at)
    assert function["layout"]["title"]["text"] == "exp(x)"
    assert [t["name"] for t in derivative["data"]] == ["autodiff", "central_difference", "x = 1"]
    # the two derivative curves agree wherever both are defined
    auto, central = (t["y"] for t in derivative["data"][:2])
    assert all(math.isclose(a, c, rel_tol=1e-4, abs_tol=1e-4) for a, c in zip(auto, central))


def test_operators_both_plots_share_x_and_mark_the_chosen_x_and_show_both_derivatives():
    at = page("operators")
    at.slider(key="x0").set_value(2.0).run()
    function, derivative = charts(ok(at))
    assert function["layout"]["xaxis"]["range"] == derivative["layout"]["xaxis"]["range"] == [-5, 5]
    point = function["data"][-1]
    assert point["mode"] == "markers" and point["x"] == [2.0]
    assert point["y"][0] == pytest.approx(1 / (1 + math.exp(-2.0)))
    sigmoid_d = math.exp(-2.0) / (1 + math.exp(-2.0)) ** 2
    assert derivative["data"][-1]["y"][0] == pytest.approx(sigmoid_d, rel=1e-6)
    # the central difference is drawn on top of autodiff, narrower and dotted: both visible
    auto, central = (t["line"] for t in derivative["data"][:2])
    assert central["dash"] == "dot" and central["width"] < auto["width"]


def test_operators_second_argument_and_operator_without_scalar_twin():
    at = page("operators")
    at.selectbox(key="op").select("mul").run()
    at.slider(key="y").set_value(3.0).run()
    assert float(ok(at).metric[0].value) == pytest.approx(3.0)
    assert float(metrics(at)["autodiff (Scalar backward)"]) == pytest.approx(3.0)
    at.selectbox(key="op").select("max").run()
    assert "only the central difference" in ok(at).info[0].value


def test_modules_show_the_tree_and_react_to_settings():
    at = page("modules")
    tree = at.code[0].value
    assert re.search(r"layer1: \w*Linear\n", tree) and "weights  (2, 10)" in tree
    assert metrics(at)["numbers in them"] == str(2 * 10 + 10 + 10 * 10 + 10 + 10 + 1)
    at.slider(key="hidden").set_value(3).run()
    assert metrics(ok(at))["numbers in them"] == str(2 * 3 + 3 + 3 * 3 + 3 + 3 + 1)
    before = metrics(at)["P(class 1)"]
    at.slider(key="x1").set_value(0.9).run()
    assert metrics(ok(at))["P(class 1)"] != before
    at.selectbox(key="model").select_index(1).run()
    assert "layer1: ScalarLinear" in ok(at).code[0].value


def test_modules_show_the_task_networks_layers():
    at = page("modules")
    at.selectbox(key="model").select_index(2).run()
    tree = ok(at).code[0].value
    assert "conv1: Conv2d" in tree and "linear2: Linear" in tree
    assert "P(class 1)" not in metrics(at)
    at.selectbox(key="model").select_index(3).run()
    at.slider(key="hidden").set_value(7).run()
    assert "conv3: Conv1d" in ok(at).code[0].value
    assert metrics(at)["numbers in them"] == str(sum(7 * 50 * k + 7 for k in (3, 4, 5)) + 7 + 1)


def test_autodiff_values_derivatives_and_graph():
    at = page("autodiff")
    shown = metrics(at)
    assert float(shown["f(x, y)"]) == pytest.approx(math.e, rel=1e-5)  # log(1) + e^1
    assert float(shown["df/dx"]) == pytest.approx(0.5 * (1 + math.e), rel=1e-5)
    assert float(shown["df/dy"]) == pytest.approx(2.0 * (1 + math.e), rel=1e-5)
    assert len(at.image) == 2  # the graph after backward, and the step view
    at.text_input(key="expr").input("x * x * y").run()
    assert float(metrics(ok(at))["df/dx"]) == pytest.approx(2 * 2.0 * 0.5)
    at.number_input(key="x").set_value(3.0).run()
    assert float(metrics(ok(at))["f(x, y)"]) == pytest.approx(4.5)


def test_autodiff_steps_through_backpropagation():
    at = page("autodiff")
    assert "Start" in at.markdown[-1].value
    at.slider(key="step").set_value(1).run()
    assert "Step 1: visit **Add" in ok(at).markdown[-1].value
    last = at.slider(key="step").max
    at.slider(key="step").set_value(last).run()
    assert "is a leaf" in ok(at).markdown[-1].value


@pytest.mark.parametrize(
    "text, message", HOSTILE, ids=lambda v: repr(v)[:40] if isinstance(v, str) else None
)
def test_autodiff_refuses_hostile_expressions_on_the_page(text, message):
    calls = []
    setattr(builtins, SENTINEL, lambda *a: calls.append(a))
    try:
        at = page("autodiff")
        at.text_input(key="expr").input(text).run()
        ok(at)
        assert len(at.error) == 1
        assert at.error[0].value.startswith("Cannot use this expression")
        assert not at.metric  # nothing was computed
        assert calls == []
        # the app keeps running: a good expression works again in the same session
        at.text_input(key="expr").input("x + y").run()
        assert not ok(at).error and metrics(at)["f(x, y)"] == "2.5"
    finally:
        delattr(builtins, SENTINEL)


def test_autodiff_declines_to_draw_a_huge_graph():
    at = page("autodiff")
    at.text_input(key="expr").input("*".join(["x ** 8"] * 20)).run()
    assert "too many to draw" in ok(at).warning[0].value
    assert float(metrics(at)["f(x, y)"]) == pytest.approx(2.0**160, rel=1e-5)  # shown to 6 digits


def test_autodiff_reports_undefined_values():
    at = page("autodiff")
    at.text_input(key="expr").input("(x - 5).log()").run()
    # log's own input is -3, not the page's x (2): the message must not say "x = -3"
    message = ok(at).error[0].value
    assert message == "Cannot compute f(2, 0.5): log(-3.0) is undefined: log needs its input > 0"
    at.text_input(key="expr").input("1 / (x - 2)").run()
    assert ok(at).error[0].value == "Cannot compute f(2, 0.5): inv(0.0) is undefined"
    at.text_input(key="expr").input("3 + 4").run()
    assert "neither x nor y" in ok(at).error[0].value


def test_tensors_permute_view_and_storage_positions():
    at = page("tensors")
    assert metrics(at)["strides"] == "(12, 4, 1)"
    at.text_input(key="order").input("2, 0, 1").run()
    shown = metrics(ok(at))
    assert shown["shape"] == "(4, 2, 3)" and shown["strides"] == "(1, 12, 4)"
    assert shown["contiguous"] == "no"
    at.number_input(key="idx0:4").set_value(3).run()
    at.number_input(key="idx1:2").set_value(1).run()
    assert "storage[**15**] = **15**" in ok(at).markdown[2].value  # 3*1 + 1*12 + 0*4
    at.text_input(key="view").input("24").run()
    assert "contiguous" in ok(at).error[0].value
    at.checkbox(key="contiguous").check().run()
    assert metrics(ok(at))["shape"] == "(24,)" and not at.error


def test_tensors_broadcasting():
    at = page("tensors")
    assert "(2, 3, 4)" in at.success[0].value
    table = at.dataframe[-1].value
    assert len(table) == 24 and table.iloc[-1].tolist() == ["(1, 2, 3)", "(2, 0)", "(1, 0, 3)"]
    at.text_input(key="b").input("2, 4").run()
    assert "do not broadcast" in ok(at).error[0].value
    at.text_input(key="shape").input("2, x").run()
    assert any("whole numbers" in e.value for e in ok(at).error)


def test_training_runs_in_the_background_and_shows_the_result():
    at = page("training")
    assert "press **Train**" in at.info[0].value
    at.number_input(key="epochs").set_value(20).run()
    at.selectbox(key="dataset").select("Simple").run()
    at.button(key="train").click().run()
    job = at.session_state["job"]
    assert job.config.dataset == "Simple" and job.config.epochs == 20
    assert job.join(timeout=TIMEOUT)
    ok(at.run())
    assert "Done: 20 epochs" in at.success[0].value
    assert metrics(at)["correct"].endswith("/50")
    assert len(at.image) == 2  # loss curve and decision boundary


def test_the_training_page_shows_one_reports_figures():
    """The numbers, the loss curve's end and the boundary's title all come from the latest
    evaluation report (and its parameter snapshot), never from the live model."""
    at = page("training")
    at.number_input(key="epochs").set_value(12).run()
    at.selectbox(key="backend").select("simple").run()
    at.button(key="train").click().run()
    job = at.session_state["job"]
    assert job.join(timeout=TIMEOUT)
    ok(at.run())
    last = job.progress().last
    shown = metrics(at)
    assert shown["loss"] == f"{last.val_loss:.4f}"
    correct = round(last.val_accuracy * 50)
    assert shown["correct"] == f"{correct}/50"
    (key, figure) = at.session_state["boundary"]
    assert key == (id(job), 12)
    assert figure.axes[0].get_title() == f"epoch 12: {correct}/50 correct"


def test_training_offers_only_the_backends_that_run_here(monkeypatch):
    options = page("training").selectbox(key="backend").options
    assert options == [*minitorch.available_backends(), "scalar"]


def test_training_stops_when_asked():
    at = page("training")
    at.number_input(key="epochs").set_value(100_000).run()
    at.button(key="train").click().run()
    ok(at)
    at.button(key="stop").click().run()
    job = at.session_state["job"]
    assert job.join(timeout=TIMEOUT)
    view = job.progress()
    assert view.state == "stopped" and len(view.curves) < 100_000
    assert "Stopped after" in ok(at).warning[0].value


def test_backends_time_every_operation_on_every_backend():
    at = page("backends")
    at.select_slider(key="n").set_value(8).run()
    at.button(key="run").click().run()
    table = ok(at).dataframe[0].value
    assert set(table["backend"]) == set(at.multiselect(key="backends").value)
    assert len(table) == 4 * len(set(table["backend"]))
    assert table["same result"].all() and (table["ms"] > 0).all()
    assert "simple" in set(table["backend"])
    (chart,) = charts(at)
    assert chart["layout"]["yaxis"]["type"] == "log"  # fast bars stay visible beside slow ones
    assert {bar["name"] for bar in chart["data"]} == set(table["backend"])
    assert minitorch.SimpleBackend is not None
