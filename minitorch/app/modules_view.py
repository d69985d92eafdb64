"""A model's module tree as text and rows, read through the public Module API."""

from __future__ import annotations

from typing import Any

from ..module import Module

__all__ = ["parameter_rows", "module_tree", "shape_of"]


def shape_of(value: Any) -> tuple[int, ...]:
    """A parameter's shape: a Tensor's `.shape`, `()` for a Scalar."""
    return tuple(getattr(value, "shape", ()))


def parameter_rows(model: Module) -> list[dict[str, Any]]:
    """One row per parameter: dotted name, the module that holds it, shape, size, value kind."""
    rows = []
    for name, p in model.named_parameters():
        shape = shape_of(p.value)
        size = 1
        for n in shape:
            size *= n
        rows.append(
            {
                "name": name,
                "module": name.rpartition(".")[0] or "(model)",
                "shape": str(shape),
                "numbers": size,
                "kind": type(p.value).__name__,
            }
        )
    return rows


def module_tree(model: Module, name: str = "model", per_module: int = 6) -> str:
    """The tree as indented text: each module with its type, its parameters with shapes.

    Module names come from the parameters' dotted names, and each one is looked up as an
    attribute, so the tree is what `named_parameters` and attribute access see. A module
    lists at most `per_module` parameters, then how many more it has.
    """
    children: dict[str, list[str]] = {"": []}
    params: dict[str, list[tuple[str, Any]]] = {"": []}
    for dotted, p in model.named_parameters():
        path, _, leaf = dotted.rpartition(".")
        parts = path.split(".") if path else []
        for depth in range(len(parts)):
            parent, child = ".".join(parts[:depth]), ".".join(parts[: depth + 1])
            if child not in children:
                children[child], params[child] = [], []
                children[parent].append(child)
        params[path].append((leaf, p))

    lines = [f"{name}: {type(model).__name__}"]

    def walk(path: str, indent: str) -> None:
        own = params[path]
        entries = [("param", leaf, p) for leaf, p in own[:per_module]]
        if len(own) > per_module:
            entries.append(("more", f"... {len(own) - per_module} more parameters", None))
        entries += [("module", child, None) for child in children[path]]
        for i, (kind, label, p) in enumerate(entries):
            last = i == len(entries) - 1
            branch, extend = ("└── ", "    ") if last else ("├── ", "│   ")
            if kind == "param":
                shape = shape_of(p.value)
                lines.append(f"{indent}{branch}{label}  {shape if shape else 'Scalar'}")
            elif kind == "more":
                lines.append(f"{indent}{branch}{label}")
            else:
                module = model
                for part in label.split("."):
                    module = getattr(module, part)
                lines.append(f"{indent}{branch}{label.rpartition('.')[2]}: {type(module).__name__}")
                walk(label, indent + extend)

    walk("", "")
    return "\n".join(lines)
