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
from .tensor import Tensor, grad_check
from .tensor_create import rand, tensor, zeros
from .tensor_data import (
    IndexingError,
    TensorData,
    UserIndex,
    UserShape,
    UserStrides,
    broadcast_index,
    index_to_position,
    shape_broadcast,
    strides_from_shape,
    to_index,
)
from .tensor_ops import SimpleBackend, SimpleOps, TensorBackend, TensorOps

__all__ = [
    "operators",
    "Context",
    "Variable",
    "backpropagate",
    "central_difference",
    "is_grad_enabled",
    "no_grad",
    "topological_sort",
    "Tensor",
    "grad_check",
    "rand",
    "tensor",
    "zeros",
    "IndexingError",
    "TensorData",
    "UserIndex",
    "UserShape",
    "UserStrides",
    "broadcast_index",
    "index_to_position",
    "shape_broadcast",
    "strides_from_shape",
    "to_index",
    "SimpleBackend",
    "SimpleOps",
    "TensorBackend",
    "TensorOps",
]
