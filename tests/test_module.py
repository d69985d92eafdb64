import pytest

import minitorch
from minitorch import Module, Parameter, Scalar


class ModuleA1(Module):
    def __init__(self) -> None:
        super().__init__()
        self.p1 = Parameter(5)
        self.non_param = 10
        self.a = ModuleA2()
        self.b = ModuleA3()


class ModuleA2(Module):
    def __init__(self) -> None:
        super().__init__()
        self.p2 = Parameter(10)


class ModuleA3(Module):
    def __init__(self) -> None:
        super().__init__()
        self.c = ModuleA4()


class ModuleA4(Module):
    def __init__(self) -> None:
        super().__init__()
        self.p3 = Parameter(15)


def test_registration_and_dotted_names() -> None:
    m = ModuleA1()
    named = dict(m.named_parameters())
    assert list(named) == ["p1", "a.p2", "b.c.p3"]
    assert named["b.c.p3"].value == 15
    assert m.non_param == 10
    assert len(m.parameters()) == 3
    assert [type(c).__name__ for c in m.modules()] == ["ModuleA2", "ModuleA3"]


def test_train_and_eval_reach_the_whole_tree() -> None:
    m = ModuleA1()
    m.eval()
    assert not m.training and not m.a.training and not m.b.c.training
    m.train()
    assert m.training and m.a.training and m.b.c.training


def test_add_parameter_returns_the_registered_parameter() -> None:
    m = Module()
    p = m.add_parameter("w", Scalar(2.0))
    assert m.w is p
    assert dict(m.named_parameters()) == {"w": p}
    assert p.value.is_leaf()


def test_unknown_attribute_raises_attribute_error() -> None:
    m = ModuleA1()
    with pytest.raises(AttributeError, match="nope"):
        m.nope  # noqa: B018
    assert not hasattr(m, "nope")


def test_plain_attributes_stay_plain() -> None:
    m = Module()
    m.sizes = [1, 2]
    m.count = 3
    assert m.parameters() == []
    assert m.sizes == [1, 2]


def test_parameter_makes_a_scalar_a_leaf_again_on_update() -> None:
    p = Parameter(Scalar(1.0), name="w")
    with minitorch.no_grad():
        new = p.value - 0.5
    assert new.is_constant()
    p.update(new)
    assert p.value.is_leaf() and p.value.name == "w"


def test_repr_shows_the_tree() -> None:
    text = repr(ModuleA1())
    assert "ModuleA1(" in text and "(a): ModuleA2()" in text and "(c): ModuleA4()" in text
