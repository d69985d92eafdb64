"""minitorch: the MiniTorch system, a from-scratch deep learning library to learn from."""

from typing import Any

from . import operators
from .operators import prod  # the course's package exposes it at top level (its tests use it)
from .autodiff import (
    Context,
    Variable,
    backpropagate,
    central_difference,
    grad,
    is_grad_enabled,
    no_grad,
    topological_sort,
)
from .scalar import Scalar, ScalarHistory, derivative_check
from .scalar_functions import ScalarFunction
from . import scalar_functions
from .module import Module, Parameter
from .optim import SGD, Adam, Optimizer
from .datasets import Graph, datasets
from .testing import MathTest, MathTestVariable
from .tensor import Tensor, grad_check
from .tensor_create import ones, rand, tensor, zeros
from .tensor_data import (
    DType,
    IndexingError,
    TensorData,
    UserIndex,
    UserShape,
    UserStrides,
    broadcast_index,
    float32,
    float64,
    index_to_position,
    shape_broadcast,
    strides_from_shape,
    to_index,
)
from .tensor_ops import SimpleBackend, SimpleOps, TensorBackend, TensorOps
from .fast_ops import FastBackend, FastOps
from .backends import BackendUnavailable, available_backends, backend_named
from . import fast_ops
from . import nn
from .nn import argmax, avgpool2d, dropout, logsoftmax, max, maxpool2d, softmax, tile
from .conv import Conv1dFun, Conv2dFun, conv1d, conv2d
from .layers import Conv1d, Conv2d, Linear
from .checkpoint import CheckpointError, load, read_metadata, save

__all__ = [
    "operators",
    "prod",
    "Context",
    "Variable",
    "backpropagate",
    "central_difference",
    "grad",
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
    "Adam",
    "Optimizer",
    "Graph",
    "datasets",
    "MathTest",
    "MathTestVariable",
    "Tensor",
    "grad_check",
    "ones",
    "rand",
    "tensor",
    "zeros",
    "DType",
    "float32",
    "float64",
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
    "FastBackend",
    "BackendUnavailable",
    "available_backends",
    "backend_named",
    "FastOps",
    "fast_ops",
    "nn",
    "argmax",
    "avgpool2d",
    "dropout",
    "logsoftmax",
    "max",
    "maxpool2d",
    "softmax",
    "tile",
    "Conv1dFun",
    "Conv2dFun",
    "conv1d",
    "conv2d",
    "Conv1d",
    "Conv2d",
    "Linear",
    "CheckpointError",
    "load",
    "read_metadata",
    "save",
]

# The course's scripts call `numba.cuda.is_available()` after a bare `import numba`, which
# works only once numba's CUDA target has been imported; importing the CUDA backend does that
# (about 0.3 s). Where numba's CUDA target is missing, `minitorch.CudaOps` says what to install.
try:
    from . import cuda_ops as _cuda_ops  # noqa: F401
except ImportError:
    pass

# The CUDA names resolve through `cuda_ops`, whose import error names the extra to install
# (pip install "minitorch[cuda]").
_CUDA_NAMES = ("CudaOps", "CudaBackend")
_PRACTICE_NAMES = ("sum_practice", "mm_practice")  # the course's exercises, in cuda_practice


def __getattr__(name: str) -> Any:
    if name in _CUDA_NAMES:
        from . import cuda_ops

        return getattr(cuda_ops, name)
    if name in _PRACTICE_NAMES:
        from . import cuda_practice

        return getattr(cuda_practice, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
