"""plot_function / plot_function3D: traces and data, gaps where a function is undefined."""

import math

import pytest

from minitorch.viz import FunctionFigure, plot_function, plot_function3D


def f(x):
    return x * x + 1.0


def d_f(x):
    return 2 * x


def tangent_line(slope, x, y):
    def line(x_):
        return slope * (x_ - x) + y

    return line


def test_seed_plots_run():
    plot_function("f'(x) = 2*cos(2x)", lambda x: 2 * math.cos(2 * x))
    plot_function3D("f'_x(x, y) = cos(x)", lambda x, y: math.cos(x))
    plot_function("f(x)", f)


def test_tangent_line_at_two_has_slope_four_and_touches_the_curve():
    fig = plot_function("f(x) vs f'(2)", f, fn2=tangent_line(d_f(2), 2, f(2)))
    curve, tangent = fig.data
    assert [t.type for t in fig.data] == ["scatter", "scatter"]
    points = dict(zip(tangent.x, tangent.y))
    assert points[3.0] - points[2.0] == pytest.approx(4.0)
    assert points[2.0] == pytest.approx(5.0) == dict(zip(curve.x, curve.y))[2.0]
    assert fig.layout.title.text == "f(x) vs f'(2)"


def test_default_range_spans_minus_five_to_five():
    fig = plot_function("f(x)", f)
    xs = list(fig.data[0].x)
    assert (xs[0], xs[-1]) == (-5.0, 5.0)
    assert len(fig.data) == 1


def test_arange_is_honoured():
    fig = plot_function("f", f, arange=[0, 1, 2])
    assert list(fig.data[0].x) == [0.0, 1.0, 2.0]
    assert list(fig.data[0].y) == [1.0, 2.0, 5.0]


def test_undefined_points_are_gaps_not_crashes():
    ys = list(plot_function("log", math.log, arange=[-1, 0, 1]).data[0].y)
    assert ys == [None, None, 0.0]
    ys = list(plot_function("1/x", lambda x: 1 / x, arange=[-1, 0, 1]).data[0].y)
    assert ys == [-1.0, None, 1.0]
    ys = list(plot_function("exp", lambda x: math.exp(x) * float("inf"), arange=[0]).data[0].y)
    assert ys == [None]
    ys = list(plot_function("sqrt", lambda x: x**0.5, arange=[-1, 4]).data[0].y)
    assert ys == [None, 2.0]  # Python gives a complex root of -1: no real value
    assert plot_function("log", math.log).data[0].connectgaps is False


def test_functions_of_scalars_plot_by_their_value():
    import minitorch

    fig = plot_function("relu", lambda x: minitorch.Scalar(x).relu(), arange=[-1, 2])
    assert list(fig.data[0].y) == [0.0, 2.0]


def test_surface_honours_arange_and_puts_y_on_rows():
    fig = plot_function3D("x - 10 y", lambda x, y: x - 10 * y, arange=[0, 1, 2])
    (surface,) = fig.data
    assert surface.type == "surface"
    z = [list(row) for row in surface.z]
    assert z[1][2] == 2 - 10 * 1
    assert len(z) == 3 and all(len(row) == 3 for row in z)


def test_surface_gaps():
    fig = plot_function3D("log xy", lambda x, y: math.log(x * y), arange=[-1, 1])
    assert [list(row) for row in fig.data[0].z] == [[0.0, None], [None, 0.0]]


def test_empty_arange_is_refused():
    with pytest.raises(ValueError, match="empty"):
        plot_function("f", f, arange=[])


def test_notebook_display_has_the_interactive_plot_and_a_static_picture():
    fig = plot_function("f", f, fn2=d_f)
    assert isinstance(fig, FunctionFigure)
    bundle = fig._repr_mimebundle_()
    assert bundle["application/vnd.plotly.v1+json"]["data"][1]["name"] == "d_f"
    assert bundle["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature
    assert "text/html" not in bundle  # no copy of plotly.js in saved notebooks


def test_static_rendering_keeps_lines_and_gaps():
    mpl = plot_function("log", math.log, arange=[-1, 1, 2]).to_matplotlib()
    (line,) = mpl.axes[0].get_lines()
    ys = list(line.get_ydata())
    assert math.isnan(ys[0]) and ys[1:] == [0.0, math.log(2)]
    surface = plot_function3D("s", lambda x, y: x * y, arange=[0, 1]).to_matplotlib()
    assert surface.axes[0].name == "3d"
