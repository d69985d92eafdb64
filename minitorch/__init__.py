"""minitorch: the MiniTorch system, a from-scratch deep learning library to learn from."""

from . import operators
from .autodiff import (
    Context,
    Variable,
    backpropagate,
    central_difference,
    is_grad_enabled,
    no_grad,
    topological_sort,
)
from .scalar import Scalar, ScalarHistory, derivative_check
from .scalar_functions import ScalarFunction
from . import scalar_functions
from .module import Module, Parameter
from .optim import SGD, Optimizer
from .datasets import Graph, datasets
from .testing import MathTest, MathTestVariable

__all__ = [
    "operators",
    "Context",
    "Variable",
    "backpropagate",
    "central_difference",
    "is_grad_enabled",
    "no_grad",
    "topological_sort",
    "Scalar",
    "ScalarHistory",
    "derivative_check",
    "ScalarFunction",
    "scalar_functions",
    "Module",
    "Parameter",
    "SGD",
    "Optimizer",
    "Graph",
    "datasets",
    "MathTest",
    "MathTestVariable",
]
