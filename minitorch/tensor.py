"""The Tensor: strided data plus the history that lets it backpropagate.

A `Tensor` wraps a `TensorData` (storage, shape, strides), the backend whose kernels compute
with it, and a `History` (the `Function` call that made it). It follows the same variable
protocol as `Scalar`, so `backward()` runs the shared engine in `autodiff`.

History states: `None` is a constant (no gradient), `History()` a leaf (collects `.grad`),
anything else an intermediate result.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Iterable, Sequence, Union

import numpy as np

from .autodiff import Context, Named, backpropagate, is_grad_enabled, next_unique_id, no_grad
from .tensor_data import (
    DType,
    DTypeLike,
    Storage,
    TensorData,
    UserIndex,
    UserShape,
    UserStrides,
    dim_index,
    as_dtype,
    float32,
    float64,
    shape_broadcast,
)
from .tensor_functions import (
    EQ,
    LT,
    Add,
    All,
    Cast,
    Copy,
    Exp,
    History,
    Inv,
    IsClose,
    Log,
    MatMul,
    Mul,
    Neg,
    Permute,
    ReLU,
    Sigmoid,
    Sum,
    ToBackend,
    View,
)
from .tensor_ops import SimpleBackend, TensorBackend

__all__ = ["Tensor", "TensorLike", "grad_check"]

TensorLike = Union[float, int, "Tensor"]


class Tensor(Named):
    """A multidimensional array of floats in the computation graph.

    Args:
        v: the data (storage, shape, strides).
        back: its history; `None` (the default) makes a constant, `History()` a leaf.
        name: an optional label (defaults to the unique id).
        backend: the kernels to compute with (default `SimpleBackend`).
    """

    __slots__ = ("_tensor", "history", "grad", "unique_id", "_name", "backend", "__weakref__")

    def __init__(
        self,
        v: TensorData,
        back: History | None = None,
        name: str | None = None,
        backend: TensorBackend | None = None,
    ) -> None:
        self._tensor = v
        self.history = back
        self.grad: Tensor | None = None
        self.unique_id = next_unique_id()
        self._name = name
        self.backend = SimpleBackend if backend is None else backend

    # ---- Construction ---------------------------------------------------------------------

    @staticmethod
    def make(
        storage: Union[Storage, Sequence[float]],
        shape: UserShape,
        strides: UserStrides | None = None,
        backend: TensorBackend | None = None,
    ) -> Tensor:
        """A constant tensor over `storage` read with `shape` (and `strides`); its dtype is
        the storage's (float32 or float64; anything else becomes float64)."""
        if backend is not None and backend.device != "host":  # host values go over once, here
            storage = backend.ops.to_storage(storage)
        return Tensor(TensorData(storage, shape, strides), backend=backend)

    def _new(self, data: TensorData) -> Tensor:
        """A constant tensor over `data`, on this tensor's backend."""
        return Tensor(data, backend=self.backend)

    def _ensure_tensor(self, b: TensorLike) -> Tensor:
        """`b` as a tensor: numbers become constant tensors of shape (1,), in this tensor's
        dtype (as in PyTorch, a Python number does not promote `x * 2.0`), and a tensor on
        another device (host or GPU) moves to this one's (`ToBackend`: gradients go back)."""
        if isinstance(b, Tensor):
            if b.backend is self.backend or b.backend.device == self.backend.device:
                return b
            return ToBackend.apply(b, backend=self.backend)
        if isinstance(b, (int, float, np.integer, np.floating)):
            if self.backend.device == "host":  # the common case, without make's checks
                number = TensorData.row_major(np.array([b], self.dtype), (1,))
                return Tensor(number, backend=self.backend)
            return Tensor.make(np.array([b], self.dtype), (1,), backend=self.backend)
        raise TypeError(f"cannot combine a Tensor with {type(b).__name__} {b!r}")

    def zeros(self, shape: UserShape | None = None) -> Tensor:
        """A constant tensor of zeros (of this tensor's shape by default), same backend and
        dtype."""
        shape = self._tensor.shape if shape is None else tuple(shape)
        # the backend's own memory
        storage = self.backend.ops.zeros_storage(math.prod(shape), self.dtype)
        return Tensor(TensorData(storage, shape), backend=self.backend)

    def detach(self) -> Tensor:
        """A constant sharing this tensor's data, cut off from the graph."""
        return Tensor(self._tensor, backend=self.backend)

    # ---- Properties -----------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self._tensor.shape

    @property
    def size(self) -> int:
        return self._tensor.size

    @property
    def dtype(self) -> DType:
        """`minitorch.float64` (the default) or `minitorch.float32`."""
        return self._tensor._storage.dtype

    def to(self, dtype: DTypeLike) -> Tensor:
        """This tensor in `dtype` (itself if it has it already); differentiable, and the
        gradient comes back in this tensor's dtype.

        Raises:
            TypeError: for a dtype other than float32 and float64.
        """
        dtype = as_dtype(dtype)
        if dtype == self.dtype:
            return self
        return Cast.apply(self, dtype=dtype)

    def float(self) -> Tensor:
        """This tensor in float32 (see `to`)."""
        return self.to(float32)

    def double(self) -> Tensor:
        """This tensor in float64 (see `to`)."""
        return self.to(float64)

    @property
    def dims(self) -> int:
        return self._tensor.dims

    def tuple(self) -> tuple[Any, ...]:
        """`(storage, shape, strides)`: what the kernels take."""
        return self._tensor.tuple()

    # ---- Values ---------------------------------------------------------------------------

    def __getitem__(self, key: Union[int, UserIndex]) -> float:
        return self._tensor.get(key)

    def __setitem__(self, key: Union[int, UserIndex], val: float) -> None:
        self._tensor.set(key, val)

    def item(self) -> float:
        """The value of a single-element tensor."""
        if self.size != 1:
            raise ValueError(f"item() needs a single-element tensor, got shape {self.shape}")
        return self._tensor.get((0,) * self.dims)

    def __bool__(self) -> bool:
        return self.item() != 0.0

    def to_numpy(self) -> np.ndarray:
        """A new numpy array with this tensor's shape and values (any strides)."""
        data = self.contiguous()._tensor
        return self.backend.ops.to_host(data._storage[: data.size]).reshape(data.shape)

    def __repr__(self) -> str:
        data = self._tensor  # read from one host copy, not element by element from a device
        host = TensorData(self.backend.ops.to_host(data._storage), data.shape, data.strides)
        return f"tensor({host.to_string(indent=len('tensor('))})"

    def __hash__(self) -> int:
        return hash(self.unique_id)

    # ---- Arithmetic (few primitives, the rest composed) ------------------------------------

    def __add__(self, b: TensorLike) -> Tensor:
        return Add.apply(self, self._ensure_tensor(b))

    def __radd__(self, b: TensorLike) -> Tensor:
        return Add.apply(self._ensure_tensor(b), self)

    def __sub__(self, b: TensorLike) -> Tensor:
        return Add.apply(self, Neg.apply(self._ensure_tensor(b)))

    def __rsub__(self, b: TensorLike) -> Tensor:
        return Add.apply(self._ensure_tensor(b), Neg.apply(self))

    def __mul__(self, b: TensorLike) -> Tensor:
        return Mul.apply(self, self._ensure_tensor(b))

    def __rmul__(self, b: TensorLike) -> Tensor:
        return Mul.apply(self._ensure_tensor(b), self)

    def __truediv__(self, b: TensorLike) -> Tensor:
        return Mul.apply(self, Inv.apply(self._ensure_tensor(b)))

    def __rtruediv__(self, b: TensorLike) -> Tensor:
        return Mul.apply(self._ensure_tensor(b), Inv.apply(self))

    def __matmul__(self, b: Tensor) -> Tensor:
        return MatMul.apply(self, self._ensure_tensor(b))

    def __neg__(self) -> Tensor:
        return Neg.apply(self)

    def __lt__(self, b: TensorLike) -> Tensor:
        return LT.apply(self, self._ensure_tensor(b))

    def __gt__(self, b: TensorLike) -> Tensor:
        return LT.apply(self._ensure_tensor(b), self)

    def __eq__(self, b: TensorLike) -> Tensor:  # type: ignore[override]
        return EQ.apply(self, self._ensure_tensor(b))

    def is_close(self, b: TensorLike) -> Tensor:
        r"""1.0 where $|a - b| < 10^{-2}$, else 0.0."""
        return IsClose.apply(self, self._ensure_tensor(b))

    def sigmoid(self) -> Tensor:
        return Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return ReLU.apply(self)

    def log(self) -> Tensor:
        return Log.apply(self)

    def exp(self) -> Tensor:
        return Exp.apply(self)

    # ---- Reductions (the reduced dimension stays, with size 1) -----------------------------

    def _flat(self) -> Tensor:
        """All values as one dimension (shape `(size,)`)."""
        return self.contiguous().view(self.size)

    def sum(self, dim: int | None = None) -> Tensor:
        """Sum along `dim`, or of everything (shape `(1,)`)."""
        if dim is None:
            return Sum.apply(self.contiguous(), dim=None)
        return Sum.apply(self, dim=dim)

    def mean(self, dim: int | None = None) -> Tensor:
        """Mean along `dim`, or of everything: the sum divided by the count."""
        count = self.size if dim is None else self.shape[dim_index(dim, self.shape)]
        # times 1/count, as `/ count` computes it (Mul and Inv), with one operation fewer;
        # an empty mean is 0 * inf = nan, as in PyTorch
        return self.sum(dim) * (1.0 / count if count else math.inf)

    def all(self, dim: int | None = None) -> Tensor:
        """1.0 where every value (of a 0/1 tensor) along `dim`, or everywhere, is 1.0."""
        if dim is None:
            return All.apply(self._flat(), dim=0)
        return All.apply(self, dim=dim)

    # ---- Layout ---------------------------------------------------------------------------

    def permute(self, *order: Union[int, Sequence[int]]) -> Tensor:
        """Reorder the dimensions: result dimension `i` is this tensor's `order[i]`."""
        return Permute.apply(self, order=_ints(order))

    def view(self, *shape: Union[int, Sequence[int]]) -> Tensor:
        """The same (contiguous) values read with another shape of the same size."""
        return View.apply(self, shape=_ints(shape))

    def contiguous(self) -> Tensor:
        """This tensor if its layout is row-major already, else a row-major copy."""
        if self._tensor.is_contiguous():
            return self
        return Copy.apply(self)

    # ---- Autodiff -------------------------------------------------------------------------

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Make this tensor a leaf that collects `.grad` (True) or a constant (False).

        Either way it is cut off from the graph that made it.
        """
        if not flag:
            self.history = None
        elif not self.is_leaf():
            self.history = History()
        return self

    def requires_grad(self) -> bool:
        """Whether gradients flow to (or through) this tensor."""
        return self.history is not None

    def is_leaf(self) -> bool:
        return self.history is not None and self.history.last_fn is None

    def is_constant(self) -> bool:
        return self.history is None

    @property
    def parents(self) -> Iterable[Tensor]:
        if self.history is None:
            return ()
        return self.history.inputs

    def chain_rule(
        self, d_output: Tensor, create_graph: bool = False
    ) -> list[tuple[Tensor, Tensor]]:
        """Pair each non-constant input with its gradient, summed back to the input's shape.

        With `create_graph` the backward runs on the saved tensors as they are in the graph:
        a saved tensor detached from the output or from an input (saving the output itself
        would close a reference cycle) is that tensor again, so the gradient's dependence
        on it is recorded.
        """
        h = self.history
        assert h is not None and h.last_fn is not None and h.ctx is not None
        ctx = _reattached(h.ctx, h.inputs, self) if create_graph else h.ctx
        grads = h.last_fn.backward_all(ctx, d_output)
        if len(grads) != len(h.inputs):
            raise RuntimeError(
                f"{h.last_fn.__name__}.backward returned {len(grads)} gradients for "
                f"{len(h.inputs)} inputs"
            )
        return [
            (inp, inp.expand(inp._ensure_tensor(g)))
            for inp, g in zip(h.inputs, grads)
            if not inp.is_constant()
        ]

    def expand(self, other: Tensor) -> Tensor:
        """`other` (a gradient) brought to this tensor's shape, the one place broadcasting
        is undone.

        A gradient shaped like a broadcast of this tensor is summed over the broadcast
        dimensions; a smaller one (e.g. from a reduction) is first spread over the common
        shape. (One from the other device has been moved here by `_ensure_tensor`.) One of
        another dtype is cast to this one's: gradients have their tensor's dtype.
        """
        if other._tensor._storage.dtype != self._tensor._storage.dtype:
            other = Cast.apply(other, dtype=self.dtype)
        if other.shape == self.shape:
            return other
        if is_grad_enabled() and other.requires_grad():
            return self._expand_recorded(other)
        full = shape_broadcast(self.shape, other.shape)
        if other.shape != full:
            other = self.backend.id_map(other, self.zeros(full))
        if full == self.shape:
            return other
        extra = len(full) - self.dims
        for dim, n in enumerate(full):
            if dim < extra or (n != 1 and self.shape[dim - extra] == 1):
                other = self.backend.add_reduce(other, dim)
        # (1, .., 1, *self.shape) -> self.shape; the reduction's output is contiguous
        return Tensor.make(other._tensor._storage, self.shape, backend=self.backend)

    def _expand_recorded(self, other: Tensor) -> Tensor:
        """`expand` in differentiable operations, for a gradient whose history is recorded."""
        full = shape_broadcast(self.shape, other.shape)
        if other.shape != full:
            other = other + self.zeros(full)
        extra = len(full) - self.dims
        for dim, n in enumerate(full):
            if dim < extra or (n != 1 and self.shape[dim - extra] == 1):
                other = other.sum(dim)
        return other if other.shape == self.shape else other.view(*self.shape)

    def accumulate_derivative(self, x: Tensor) -> None:
        """Add `x` to `.grad` (leaves only), into fresh storage each time.

        Under grad mode (a backward with `create_graph`) the sum is recorded, so `.grad`
        keeps the gradient's history.
        """
        if not self.is_leaf():
            raise RuntimeError("only leaf tensors accumulate a gradient")
        if x.shape != self.shape:
            raise ValueError(f"gradient shape {x.shape} does not match tensor shape {self.shape}")
        if is_grad_enabled():
            self.grad = Copy.apply(x) if self.grad is None else self.grad + x
        elif self.grad is None:
            self.grad = self.backend.id_map(x)
        else:
            self.grad = self.backend.add_zip(self.grad, x)

    def initial_derivative(self, grad_output: TensorLike | None, create_graph: bool) -> Tensor:
        """`grad_output` brought to this tensor's shape (None: 1.0, single elements only)."""
        if grad_output is None:
            if self.size != 1:
                raise ValueError(
                    f"backward() on a tensor of shape {self.shape} needs a grad_output: "
                    "only single-element tensors default to 1.0"
                )
            grad_output = Tensor.make(np.ones(1, self.dtype), self.shape, backend=self.backend)
        grad = self._ensure_tensor(grad_output)
        if shape_broadcast(grad.shape, self.shape) != self.shape:
            raise ValueError(
                f"grad_output of shape {grad.shape} does not fit a tensor of shape {self.shape}"
            )
        if create_graph:
            return self.expand(grad)
        with no_grad():
            return self.expand(grad)

    def backward(self, grad_output: TensorLike | None = None, create_graph: bool = False) -> None:
        """Backpropagate from this tensor, filling `.grad` on the leaves behind it.

        Args:
            grad_output: d(something)/d(this tensor); defaults to 1.0 for a single-element
                tensor, and may be any shape that broadcasts to this one.
            create_graph: record the backward pass, so that each `.grad` has a history and
                can be differentiated again. As in PyTorch, a leaf's `.grad` then refers
                back to the leaf (a reference cycle, freed by the cycle collector): prefer
                `minitorch.grad(..., create_graph=True)`, which stores nothing.
        """
        if self.is_constant():
            raise RuntimeError(
                f"backward() on a tensor of shape {self.shape} that does not require grad"
            )
        backpropagate(self, self.initial_derivative(grad_output, create_graph), create_graph)

    def zero_grad_(self) -> None:
        """Forget the gradient."""
        self.grad = None


def _reattached(ctx: Context, inputs: Sequence[Tensor], output: Tensor) -> Context:
    """`ctx` with every saved tensor that is a detached view of an input or of the output
    (same `TensorData`, no history) replaced by that input or output."""
    source = {id(output._tensor): output}
    source.update((id(t._tensor), t) for t in inputs)  # an input wins a tie
    saved = tuple(
        source.get(id(v._tensor), v) if isinstance(v, Tensor) and v.history is None else v
        for v in ctx.saved_values
    )
    return Context(False, saved)


def _ints(args: Sequence[Any]) -> tuple[int, ...]:
    """`(2, 3)` or `((2, 3),)` as `(2, 3)`: dims may be given spread out or as one sequence."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


def grad_check(
    f: Callable[..., Tensor],
    *vals: Tensor,
    epsilon: float = 1e-6,
    tolerance: float = 1e-2,
    rng: random.Random | None = None,
) -> None:
    r"""Check `f`'s backward against central differences at a random position of each input.

    Backpropagates from `f(*vals).sum()` and compares each input's `.grad` at one random
    index with $\frac{F(x + \epsilon e_i) - F(x - \epsilon e_i)}{2\epsilon}$, $F$ = `f(..).sum()`.
    The check runs in float64 whatever the inputs' dtype (float32 inputs are checked
    through float64 copies; float32 parameters inside `f` then promote to float64 too):
    a difference over `epsilon` = 1e-6 means nothing in float32.

    Args:
        f: a function of tensors returning a tensor.
        *vals: the inputs (made leaves; their `.grad` is reset).
        epsilon: half-width of the difference.
        tolerance: relative and absolute tolerance.
        rng: where positions are drawn from (default: a fixed seed, so failures repeat).

    Raises:
        AssertionError: naming the function, argument, index and both values.
    """
    rng = random.Random(10) if rng is None else rng
    vals = tuple(x if x.dtype == float64 else x.detach().double() for x in vals)
    for x in vals:
        x.requires_grad_(True)
        x.zero_grad_()
    f(*vals).sum().backward()
    for arg, x in enumerate(vals):
        if x.grad is None:
            raise AssertionError(f"grad_check: argument {arg} of {_name(f)} got no gradient")
        if x.grad.shape != x.shape:
            raise AssertionError(
                f"grad_check: gradient shape {x.grad.shape} must match tensor shape {x.shape}"
            )
        index = tuple(rng.randrange(n) for n in x.shape)
        expected = _central_difference(f, vals, arg, index, epsilon)
        got = x.grad[index]
        if not abs(got - expected) <= tolerance + tolerance * abs(expected):
            raise AssertionError(
                f"grad_check failed for {_name(f)}: argument {arg} at index {index}: backward "
                f"gives {got!r}, central difference gives {expected!r}. Inputs: {vals!r}"
            )


def _central_difference(
    f: Callable[..., Tensor], vals: Sequence[Tensor], arg: int, index: UserIndex, epsilon: float
) -> float:
    """d sum(f(vals)) / d vals[arg][index], by central difference."""
    step = vals[arg].zeros()
    step[index] = epsilon
    with no_grad():
        up = f(*(v + step if i == arg else v for i, v in enumerate(vals))).sum().item()
        down = f(*(v - step if i == arg else v for i, v in enumerate(vals))).sum().item()
    return (up - down) / (2.0 * epsilon)


def _name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", repr(f))
