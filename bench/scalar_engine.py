"""Scalar engine benchmark: one training epoch of a 2-10-10-1 ReLU MLP over 50 points.

Each engine builds the same network from its own scalar type and runs the same epoch:
for every point a forward pass and the hinge loss `relu(1 - y * score)` (y = +-1), a
backward pass, then one SGD step. minitorch and micrograd (and PyTorch 0-dim float64
tensors when torch is installed) are interleaved round by round in one process, with the
cyclic garbage collector left on as users have it. Prints each engine's median epoch time
and the ratio minitorch / micrograd.

    python bench/scalar_engine.py [--rounds 15] [--points 50]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from typing import Any, Callable

import minitorch

Epoch = Callable[[], None]


def weights(seed: int, sizes: list[int]) -> list[tuple[list[list[float]], list[float]]]:
    """One shared initialisation, so every engine trains the same network."""
    rng = random.Random(seed)
    return [
        ([[rng.uniform(-1, 1) for _ in range(n_out)] for _ in range(n_in)],
         [rng.uniform(-1, 1) for _ in range(n_out)])
        for n_in, n_out in zip(sizes, sizes[1:])
    ]


def mlp_epoch(
    make: Callable[[float], Any], relu: Callable[[Any], Any], init: list, data: list,
    backward: Callable[[Any], None], update: Callable, lr: float,
    value: Callable[[Any], Any] = lambda p: p,
) -> Epoch:
    """An epoch function over any scalar type, given how to make, relu, backprop and update."""
    layers = [([[make(w) for w in row] for row in W], [make(b) for b in B]) for W, B in init]
    params = [p for W, B in layers for row in W for p in row] + [p for _, B in layers for p in B]

    def forward(x: list[Any]) -> Any:
        for k, (W, B) in enumerate(layers):
            out = []
            for j in range(len(B)):
                s = value(B[j])
                for i in range(len(x)):
                    s = s + x[i] * value(W[i][j])
                out.append(relu(s) if k < len(layers) - 1 else s)
            x = out
        return x[0]

    def epoch() -> None:
        # forward: the mean hinge loss over all points, one graph
        total = 0.0
        for (x1, x2), label in data:
            score = forward([x1, x2])
            total = relu(1.0 + (-label) * score) + total
        # backward, then one SGD step
        backward(total * (1.0 / len(data)))
        update(params, lr)

    return epoch


def minitorch_epoch(init: list, data: list, lr: float) -> Epoch:
    """Ours, trained the library's way: Parameters updated by `minitorch.SGD`."""
    params = []

    def make(v: float) -> minitorch.Parameter:
        params.append(minitorch.Parameter(minitorch.Scalar(v)))
        return params[-1]

    optim: list[minitorch.SGD] = []

    def update(_: list, lr: float) -> None:
        if not optim:
            optim.append(minitorch.SGD(params, lr))
        optim[0].step()
        optim[0].zero_grad()

    return mlp_epoch(make, lambda s: s.relu(), init, data,
                     lambda loss: loss.backward(), update, lr, value=lambda p: p.value)


def micrograd_epoch(init: list, data: list, lr: float) -> Epoch:
    from micrograd.engine import Value

    def update(params: list, lr: float) -> None:
        for p in params:
            p.data -= lr * p.grad
            p.grad = 0.0

    return mlp_epoch(Value, lambda s: s.relu(), init, data,
                     lambda loss: loss.backward(), update, lr)


def torch_epoch(init: list, data: list, lr: float) -> Epoch:
    import torch

    def make(v: float) -> Any:
        return torch.tensor(v, dtype=torch.float64, requires_grad=True)

    def update(params: list, lr: float) -> None:
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad
                    p.grad = None

    return mlp_epoch(make, torch.relu, init, data,
                     lambda loss: loss.backward(), update, lr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="epochs timed per engine")
    parser.add_argument("--points", type=int, default=50)
    args = parser.parse_args()

    graph = minitorch.datasets["Xor"](args.points, seed=0)
    data = [(x, 1.0 if y == 1 else -1.0) for x, y in zip(graph.X, graph.y)]
    init = weights(0, [2, 10, 10, 1])
    engines = {"minitorch": minitorch_epoch, "micrograd": micrograd_epoch}
    try:
        import torch

        # One thread: 0-dim ops gain nothing from more, and idle workers spinning on a
        # 2-core machine would steal time from the engines timed after them.
        torch.set_num_threads(1)
        engines["torch (0-dim float64)"] = torch_epoch
    except ImportError:
        pass
    epochs = {name: make(init, data, 0.05) for name, make in engines.items()}
    times: dict[str, list[float]] = {name: [] for name in epochs}
    for name, epoch in epochs.items():  # warm-up
        epoch()
    gc.collect()
    for _ in range(args.rounds):
        for name, epoch in epochs.items():
            # Each engine pays for the garbage its own epoch leaves (micrograd's reference
            # cycles wait for the collector), and leaves a clean heap for the next engine,
            # so that none is charged for another's garbage.
            t0 = time.perf_counter()
            epoch()
            gc.collect()
            times[name].append(time.perf_counter() - t0)

    medians = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"one epoch, 2-10-10-1 ReLU MLP, {args.points} points, median of {args.rounds}:")
    for name, m in medians.items():
        print(f"  {name:24s} {m * 1e3:9.2f} ms")
    print(f"ratio minitorch / micrograd: {medians['minitorch'] / medians['micrograd']:.3f}")


if __name__ == "__main__":
    main()
