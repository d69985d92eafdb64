"""Differentiable tensor functions: each one's forward and backward on one screen.

`forward` computes with the tensor's backend kernels (`a.backend.exp_map(a)`), so it
records nothing. `backward` gets the gradient of the output and returns one gradient per
tensor input, shaped like the *output*: `Tensor.chain_rule` sums broadcast gradients back to
each input's shape in one place (`Tensor.expand`), so no function deals with broadcasting.
Backward is written in differentiable tensor operations: a first-order backward runs under
`no_grad`, so they record nothing, but `backward(create_graph=True)` records them, and the
gradient can be differentiated again. Where a backward formula has a fused kernel
(`inv_back_zip`, ...), it is wrapped as a Function of its own (`InvBack`, ...) whose backward is
differentiable in turn: one kernel on the first-order path, a graph when one is recorded.

Non-tensor parameters (a dimension, an order, a shape) are passed to `apply` by keyword.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .autodiff import Context, _grad_mode
from .tensor_data import DType, IndexingError, TensorData
from .tensor_ops import TensorBackend, copy_to_backend

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "EQ",
    "LT",
    "Add",
    "All",
    "Cast",
    "Copy",
    "Exp",
    "Function",
    "History",
    "Inv",
    "InvBack",
    "IsClose",
    "Log",
    "LogBack",
    "MatMul",
    "Mul",
    "Neg",
    "Permute",
    "ReLU",
    "ReLUBack",
    "Sigmoid",
    "SigmoidBack",
    "Sum",
    "ToBackend",
    "View",
]


@dataclass(slots=True)
class History:
    """How a tensor was made: the function, its context, and the input tensors.

    `History()` (no function) marks a leaf, a tensor that collects a gradient.
    """

    last_fn: type[Function] | None = None
    ctx: Context | None = None
    inputs: Sequence[Tensor] = ()


# The context of every call that records nothing: `save_for_backward` skips saving.
_CONSTANT = Context(no_grad=True)


class Function:
    """A differentiable tensor operation: subclasses define static `forward` and `backward`.

    `backward` returns one gradient per tensor input; it may return None for an input that
    is a constant (no history), whose gradient the engine drops anyway.
    """

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run `forward` on `inputs` and record the call when a derivative is needed.

        History is recorded only when grad mode is on and some input requires grad;
        otherwise the result is a constant and the context saves nothing.

        Args:
            *inputs: the tensor arguments (differentiable).
            **params: non-tensor arguments (a dim, an order, a shape), passed to forward.

        Returns:
            The output tensor.
        """
        if _grad_mode.enabled:  # is_grad_enabled(), without a call on the hottest path
            for t in inputs:
                if t.history is not None:  # t.requires_grad(), on the hottest path
                    ctx = Context(False)
                    out = cls.forward(ctx, *inputs, **params)
                    out.history = History(cls, ctx, inputs)
                    return out
        # A constant result (no_grad, a backward pass, constant inputs): the shared
        # context saves nothing, so no context is made per call.
        return cls.forward(_CONSTANT, *inputs, **params)

    @classmethod
    def backward_all(cls, ctx: Context, grad_output: Tensor) -> tuple[Tensor, ...]:
        """`backward` as a tuple, one gradient per tensor input."""
        grads = cls.backward(ctx, grad_output)
        return grads if isinstance(grads, tuple) else (grads,)

    @staticmethod
    def forward(ctx: Context, *inputs: Tensor, **params: Any) -> Tensor:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor | tuple[Tensor, ...]:
        raise NotImplementedError


class Neg(Function):
    r"""$f(a) = -a$"""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        return a.backend.neg_map(a)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        return -grad_output


class Inv(Function):
    r"""$f(a) = 1/a$"""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return a.backend.inv_map(a)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        (a,) = ctx.saved_values
        return InvBack.apply(a, grad_output)


class InvBack(Function):
    r"""$f(a, g) = -g / a^2$, `Inv`'s backward as one kernel (a primitive for speed)."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, g: Tensor) -> Tensor:
        ctx.save_for_backward(a, g)
        return a.backend.inv_back_zip(a, g)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        a, g = ctx.saved_values
        # d/da = 2 g / a^3 = -2 InvBack(a, g) / a;  d/dg = -1 / a^2
        return InvBack.apply(a, g * grad_output) * -2.0 / a, InvBack.apply(a, grad_output)


class Add(Function):
    r"""$f(a, b) = a + b$"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> Tensor:
        return a.backend.add_zip(a, b)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        return grad_output, grad_output


class Mul(Function):
    r"""$f(a, b) = a \times b$"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        return a.backend.mul_zip(a, b)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_values
        # A constant's gradient would be dropped (a label sign, a 1/n): not computed.
        return (
            grad_output * b if a.history is not None else None,
            grad_output * a if b.history is not None else None,
        )


class Sigmoid(Function):
    r"""$f(a) = \sigma(a) = 1 / (1 + e^{-a})$; backward uses $\sigma' = \sigma (1 - \sigma)$."""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return a.backend.sigmoid_map(a)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        (a,) = ctx.saved_values
        return SigmoidBack.apply(a, grad_output)


class SigmoidBack(Function):
    r"""$f(a, g) = g\,\sigma(a)(1 - \sigma(a))$, `Sigmoid`'s backward as one kernel (for
    speed: the composed form is four operations)."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, g: Tensor) -> Tensor:
        ctx.save_for_backward(a, g)
        return a.backend.sigmoid_back_zip(a, g)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        a, g = ctx.saved_values
        # d/da = g sigma''(a) = g sigma'(a) (1 - 2 sigma(a));  d/dg = sigma'(a)
        curvature = SigmoidBack.apply(a, g * grad_output) * (1.0 - 2.0 * Sigmoid.apply(a))
        return curvature, SigmoidBack.apply(a, grad_output)


class ReLU(Function):
    r"""$f(a) = \max(a, 0)$"""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return a.backend.relu_map(a)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        (a,) = ctx.saved_values
        return ReLUBack.apply(a, grad_output)


class ReLUBack(Function):
    r"""$f(a, g) = g$ where $a > 0$ else $0$, `ReLU`'s backward as one kernel (for speed)."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, g: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return a.backend.relu_back_zip(a, g)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        (a,) = ctx.saved_values
        # flat in a (almost everywhere); linear in g with the same mask
        return _no_gradient(grad_output), ReLUBack.apply(a, grad_output)


class Log(Function):
    r"""$f(a) = \log a$"""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return a.backend.log_map(a)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        (a,) = ctx.saved_values
        return LogBack.apply(a, grad_output)


class LogBack(Function):
    r"""$f(a, g) = g / a$, `Log`'s backward as one kernel (a primitive for speed)."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, g: Tensor) -> Tensor:
        ctx.save_for_backward(a, g)
        return a.backend.log_back_zip(a, g)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        a, g = ctx.saved_values
        # d/da = -g / a^2;  d/dg = 1 / a
        return InvBack.apply(a, g * grad_output), LogBack.apply(a, grad_output)


class Exp(Function):
    r"""$f(a) = e^a$; backward reuses the output, since $(e^a)' = e^a$."""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        out = a.backend.exp_map(a)
        # The output is about to get a history that holds this context: saving the output
        # itself would close a reference cycle (out -> history -> ctx -> out), freed only
        # by Python's cycle collector, so a training loop's graphs would pile up. A detached
        # tensor shares the same storage without the history (a recorded backward puts the
        # output back in its place: see `Tensor.chain_rule`).
        ctx.save_for_backward(out.detach())
        return out

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        (out,) = ctx.saved_values
        return grad_output * out


class Sum(Function):
    r"""$f(a)_{..,0,..} = \sum_i a_{..,i,..}$ along `dim`, which stays with size 1; with
    `dim=None`, of every value of a contiguous `a` (shape `(1,)`).

    Backward returns the gradient as it is: `expand` spreads it back along `dim` (or over
    all of `a`).
    """

    @staticmethod
    def forward(ctx: Context, a: Tensor, dim: int | None) -> Tensor:
        if dim is None:  # the storage read as one dimension (a view, no Function)
            a = a._new(TensorData(a._tensor._storage, (a.size,)))
            dim = 0
        return a.backend.add_reduce(a, dim)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        return grad_output


def _no_gradient(grad_output: Tensor) -> Tensor:
    """The zero gradient of a step function (comparisons are flat almost everywhere)."""
    return grad_output.zeros(grad_output.shape)


class All(Function):
    r"""$f(a) = \prod_i a_i$ along `dim`: 1.0 when every entry of a 0/1 tensor is 1."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, dim: int) -> Tensor:
        return a.backend.mul_reduce(a, dim)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        return _no_gradient(grad_output)


class _Comparison(Function):
    """A 0/1 comparison of two tensors: flat, so both gradients are zero."""

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        zero = _no_gradient(grad_output)
        return zero, zero


class LT(_Comparison):
    r"""$f(a, b) = 1$ if $a < b$ else $0$"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> Tensor:
        return a.backend.lt_zip(a, b)


class EQ(_Comparison):
    r"""$f(a, b) = 1$ if $a = b$ else $0$"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> Tensor:
        return a.backend.eq_zip(a, b)


class IsClose(_Comparison):
    r"""$f(a, b) = 1$ if $|a - b| < 10^{-2}$ else $0$"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> Tensor:
        return a.backend.is_close_zip(a, b)


class Permute(Function):
    """Reorder dimensions (`out` dimension `i` is input dimension `order[i]`); no data moves."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, order: tuple[int, ...]) -> Tensor:
        ctx.save_for_backward(order)
        return a._new(a._tensor.permute(*order))

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        (order,) = ctx.saved_values
        inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
        return Permute.apply(grad_output, order=inverse)


class View(Function):
    """The same contiguous storage read with another shape of the same size."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, shape: tuple[int, ...]) -> Tensor:
        if not a._tensor.is_contiguous():
            raise ValueError(
                f"view{shape} needs a contiguous tensor, but shape {a.shape} has strides "
                f"{a._tensor.strides}; call .contiguous() first"
            )
        size = 1
        for n in shape:
            size *= n
        if size != a.size:
            raise IndexingError(
                f"cannot view shape {a.shape} ({a.size} values) as {shape} ({size} values)"
            )
        ctx.save_for_backward(a.shape)
        return a._new(TensorData(a._tensor._storage, shape))

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        (shape,) = ctx.saved_values
        return View.apply(grad_output.contiguous(), shape=shape)


class Copy(Function):
    """A contiguous copy: $f(a) = a$ with fresh row-major storage."""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        return a.backend.id_map(a)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        return grad_output


class Cast(Function):
    """The same values in another dtype: $f(a) = a$, stored as `dtype`.

    Backward passes the gradient on as it is: `Tensor.expand` brings every gradient to its
    input's dtype, in one place.
    """

    @staticmethod
    def forward(ctx: Context, a: Tensor, dtype: DType) -> Tensor:
        out = a._new(TensorData(a.backend.ops.output_storage(a.size, dtype), a.shape))
        return a.backend.id_map(a, out)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        return grad_output


_SWAP_LAST = {2: (1, 0), 3: (0, 2, 1)}  # the orders `_transpose` uses (matmul operands)


def _transpose(a: Tensor) -> Tensor:
    """Swap the last two dimensions (a view)."""
    order = _SWAP_LAST.get(a.dims)
    if order is None:
        swapped = list(range(a.dims))
        swapped[-2], swapped[-1] = swapped[-1], swapped[-2]
        order = tuple(swapped)
    return Permute.apply(a, order=order)


def _swapped(a: Tensor) -> Tensor:
    """`a` with its last two dimensions swapped, as a constant view (`_transpose` without
    recording: for a backward pass that records nothing)."""
    data = a._tensor
    shape, strides = data.shape, data.strides
    return a._new(
        TensorData(
            data._storage,
            (*shape[:-2], shape[-1], shape[-2]),
            (*strides[:-2], strides[-1], strides[-2]),
        )
    )


class MatMul(Function):
    r"""$f(a, b) = a b$ (batched over a leading dimension when 3-D).

    Backward: $\partial L/\partial a = g\, b^T$ and $\partial L/\partial b = a^T g$.
    """

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        return a.backend.matrix_multiply(a, b)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_values
        # as in Mul: no product for a constant operand (a network's input batch)
        if not _grad_mode.enabled:  # a plain backward: the kernel on views, no Functions
            product = grad_output.backend.matrix_multiply
            return (
                product(grad_output, _swapped(b)) if a.history is not None else None,
                product(_swapped(a), grad_output) if b.history is not None else None,
            )
        return (
            grad_output @ _transpose(b) if a.history is not None else None,
            _transpose(a) @ grad_output if b.history is not None else None,
        )


class ToBackend(Function):
    r"""$f(a) = a$, its values moved to `backend`'s device (host or GPU), layout kept.

    The one place values cross devices: an operand from the other device meets its partner
    through it (`Tensor._ensure_tensor`), and the gradient goes back the same way.
    """

    @staticmethod
    def forward(ctx: Context, a: Tensor, backend: TensorBackend) -> Tensor:
        ctx.save_for_backward(a.backend)
        return copy_to_backend(a, backend)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor:
        (home,) = ctx.saved_values
        return ToBackend.apply(grad_output, backend=home)
