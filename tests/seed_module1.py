# The code cells of the Module-1 docs fragment (shared/SEED-module1-docs.txt) that need no
# plotting, verbatim and in order, with the indentation the extraction lost put back. The
# imports are the ones the docs page makes in a hidden cell. The plotting cells run in the
# notebooks under docs/.
import math
from typing import Callable, Tuple

import minitorch
from minitorch import Context, Scalar, ScalarFunction


def f(x):
    return x * x + 1.0


def d_f(x):
    return 2 * x


def tangent_line(slope, x, y):
    def line(x_):
        return slope * (x_ - x) + y
    return line


def derivative(f: Callable[[float], float]) -> Callable[[float], float]:
    def f_prime(x: float) -> float:
        ...
    return f_prime


class TimesFive(ScalarFunction):
    @staticmethod
    def forward(ctx: Context, x: float) -> float:
        return x * 5


class Mul(ScalarFunction):
    @staticmethod
    def forward(ctx: Context, x: float, y: float) -> float:
        return x * y


x_1 = Scalar(10.0)
x_2 = Scalar(0.0)
x = Scalar(10.0)
z = TimesFive.apply(x)


def apply(cls, val: Scalar) -> Scalar:
    ...
    unwrapped = val.data
    new = cls.forward(unwapped)
    return Scalar(new)
    ...


x = Scalar(10.0)
y = Scalar(5.0)
z = TimesFive.apply(x)
out = TimesFive.apply(z)
out2 = x * y


def __mul__(self, b: Scalar) -> Scalar:
    return Mul.apply(self, b)


class TimesFive(ScalarFunction):
    @staticmethod
    def forward(ctx, x: float) -> float:
        return x * 5

    @staticmethod
    def backward(ctx, d: float) -> float:
        f_prime = 5
        return f_prime * d


class AddTimes2(ScalarFunction):
    @staticmethod
    def forward(ctx, x: float, y: float) -> float:
        return x + 2 * y

    @staticmethod
    def backward(ctx, d) -> Tuple[float, float]:
        return d, 2 * d


def backward(ctx, d_out):
    ...


class Square(ScalarFunction):
    @staticmethod
    def forward(ctx: Context, x: float) -> float:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Context, d_out: float) -> Tuple[float, float]:
        x = ctx.saved_values
        f_prime = 2 * x
        return f_prime * d_out


x = minitorch.Scalar(10)
x_2 = Square.apply(x)
print(repr(x_2.history))
