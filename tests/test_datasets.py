import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch
from minitorch.datasets import Graph

RULES = {
    "Simple": lambda a, b: a < 0.5,
    "Diag": lambda a, b: a + b < 0.5,
    "Split": lambda a, b: a < 0.2 or a > 0.8,
    "Xor": lambda a, b: (a < 0.5 and b > 0.5) or (a > 0.5 and b < 0.5),
    "Circle": lambda a, b: (a - 0.5) ** 2 + (b - 0.5) ** 2 > 0.1,
}


@given(st.integers(1, 60), st.integers(0, 10**6))
@pytest.mark.parametrize("name", sorted(RULES))
def test_points_are_labelled_by_the_rule(name: str, n: int, seed: int) -> None:
    g = minitorch.datasets[name](n, seed=seed)
    assert isinstance(g, Graph) and g.N == n == len(g.X) == len(g.y)
    for (a, b), label in zip(g.X, g.y):
        assert 0 <= a <= 1 and 0 <= b <= 1
        assert label == (1 if RULES[name](a, b) else 0)


@pytest.mark.parametrize("name", ["Simple", "Diag", "Split", "Xor", "Circle", "Spiral"])
def test_same_seed_same_points(name: str) -> None:
    ds = minitorch.datasets[name]
    assert ds(20, seed=3) == ds(20, seed=3)
    if name != "Spiral":
        assert ds(20, seed=3).X != ds(20, seed=4).X


@pytest.mark.parametrize("n", [1, 2, 7, 50, 51])
def test_spiral_has_n_points_in_two_balanced_classes(n: int) -> None:
    g = minitorch.datasets["Spiral"](n)
    assert len(g.X) == len(g.y) == g.N == n
    assert abs(g.y.count(0) - g.y.count(1)) <= 1
    assert all(0 <= a <= 1 and 0 <= b <= 1 for a, b in g.X)


def test_unknown_names_and_sizes_are_clear_errors() -> None:
    with pytest.raises(KeyError, match="unknown dataset 'Moons'.*Simple"):
        minitorch.datasets["Moons"]
    with pytest.raises(ValueError, match="N=0"):
        minitorch.datasets["Xor"](0)
    assert "Moons" not in minitorch.datasets
