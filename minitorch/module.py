"""Module 0: a tree of modules holding parameters, as in `torch.nn.Module`."""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["Module", "Parameter"]


class Module:
    """A node of a model tree.

    Assigning a `Module` or a `Parameter` as an attribute registers it; any other value
    stays a plain attribute.

    Attributes:
        training: True in training mode (see `train()` / `eval()`).
    """

    _modules: dict[str, Module]
    _parameters: dict[str, Parameter]
    training: bool

    def __init__(self) -> None:
        self.__dict__["_modules"] = {}
        self.__dict__["_parameters"] = {}
        self.__dict__["training"] = True

    @property
    def mode(self) -> str:
        """`"train"` or `"eval"`, following `train()` / `eval()` (read-only)."""
        return "train" if self.__dict__["training"] else "eval"

    def modules(self) -> Sequence[Module]:
        """The direct child modules."""
        return list(self.__dict__["_modules"].values())

    def train(self) -> None:
        """Put this module and every descendant in training mode."""
        for m in self._walk():
            m.__dict__["training"] = True

    def eval(self) -> None:
        """Put this module and every descendant in evaluation mode."""
        for m in self._walk():
            m.__dict__["training"] = False

    def named_parameters(self) -> Sequence[tuple[str, Parameter]]:
        """All parameters of the tree with dotted names: own first, then each child's."""
        out: list[tuple[str, Parameter]] = []
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            prefix, m = stack.pop()
            out.extend((prefix + name, p) for name, p in m.__dict__["_parameters"].items())
            children = list(m.__dict__["_modules"].items())
            stack.extend((f"{prefix}{name}.", c) for name, c in reversed(children))
        return out

    def parameters(self) -> Sequence[Parameter]:
        """All parameters of the tree (the order of `named_parameters`)."""
        return [p for _, p in self.named_parameters()]

    def add_parameter(self, name: str, value: Any) -> Parameter:
        """Register `value` as a parameter called `name` and return the Parameter."""
        p = Parameter(value, name)
        self.__dict__["_parameters"][name] = p
        return p

    def _walk(self) -> list[Module]:
        """This module and all its descendants."""
        out, stack = [], [self]
        while stack:
            m = stack.pop()
            out.append(m)
            stack.extend(m.__dict__["_modules"].values())
        return out

    def __setattr__(self, key: str, val: Any) -> None:
        if isinstance(val, Parameter):
            self.__dict__["_parameters"][key] = val
        elif isinstance(val, Module):
            self.__dict__["_modules"][key] = val
        else:
            super().__setattr__(key, val)

    def __getattr__(self, key: str) -> Any:
        # Only called when ordinary lookup fails: registered parameters and modules.
        d = self.__dict__
        if "_parameters" in d and key in d["_parameters"]:
            return d["_parameters"][key]
        if "_modules" in d and key in d["_modules"]:
            return d["_modules"][key]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {key!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} defines no forward()")

    def __repr__(self) -> str:
        children = self.__dict__["_modules"]
        if not children:
            return f"{type(self).__name__}()"
        lines = [f"{type(self).__name__}("]
        for name, m in children.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)


class Parameter:
    """A value that an optimizer updates, held by a Module.

    A Tensor value gets `requires_grad_(True)`; a Scalar value becomes (or stays) a leaf.
    """

    def __init__(self, x: Any, name: str | None = None) -> None:
        self.name = name
        self.update(x)

    def update(self, x: Any) -> None:
        """Replace the value (made a leaf that collects a derivative)."""
        self.value = x
        if hasattr(x, "requires_grad_"):
            x.requires_grad_(True)
        if self.name is not None and hasattr(x, "name"):
            x.name = self.name

    def __repr__(self) -> str:
        return repr(self.value)

    def __str__(self) -> str:
        return str(self.value)
