"""Digits benchmark: one epoch of the LeNet on the 4,500 embedded training digits, minitorch's
fast backend against PyTorch (CPU), both in `--dtype` (float32 by default), the same network
from the same initial weights.

Rounds alternate between the two in one process, so both see the same machine load. Ours is
`minitorch train mnist`'s own loop (`tasks.loop.fit`); PyTorch's is the same loop written
with torch: shuffle, then per batch zero_grad, forward, mean NLL, backward, step. Only the
training pass is timed (validation excluded, as in the epoch times the CLI reports). Prints
each side's median and spread in seconds per epoch and, last, `ratio ours/torch: R` (the
median over rounds of each round's ratio).

    python bench/mnist.py [--rounds 3] [--batch 16] [--lr 0.05] [--optimizer sgd] [--dtype float32]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _timing import add_dtype_option
from _twins import cast_parameters, report, set_threads, torch_param  # noqa: I001

from minitorch.backends import backend_named
from minitorch.tasks.common import seed_everything
from minitorch.tasks.loop import LoopState, Schedule, fit
from minitorch.tasks.mnist.model import LeNet
from minitorch.tasks.mnist.train import PIXELS, MnistConfig, _MnistLoop, load_training_data
from minitorch.tasks.optimizers import make_optimizer


def torch_twin(model: LeNet):  # type: ignore[no-untyped-def]
    """LeNet in PyTorch with `model`'s current weights; the convolutions read zeros past the
    right and bottom edges, as minitorch's do."""
    import torch
    import torch.nn.functional as F

    class Twin(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w1, self.b1 = (
                torch_param(model.conv1.weights),
                torch_param(model.conv1.bias, flat=True),
            )
            self.w2, self.b2 = (
                torch_param(model.conv2.weights),
                torch_param(model.conv2.bias, flat=True),
            )
            self.w3, self.b3 = (
                torch_param(model.linear1.weights, transpose=True),
                torch_param(model.linear1.bias),
            )
            self.w4, self.b4 = (
                torch_param(model.linear2.weights, transpose=True),
                torch_param(model.linear2.bias),
            )

        def forward(self, x):  # type: ignore[no-untyped-def]
            x = F.conv2d(F.pad(x, (0, 2, 0, 2)), self.w1, self.b1).relu()
            x = F.conv2d(F.pad(x, (0, 2, 0, 2)), self.w2, self.b2).relu()
            x = F.avg_pool2d(x, 4).reshape(len(x), 392)
            x = F.dropout(F.linear(x, self.w3, self.b3).relu(), 0.25, self.training)
            return F.log_softmax(F.linear(x, self.w4, self.b4), dim=1)

    return Twin()


def torch_epoch(twin, optimizer, x, y, batch: int, rng: np.random.Generator) -> float:  # type: ignore[no-untyped-def]
    import torch.nn.functional as F

    twin.train()
    start = time.perf_counter()
    for index in np.array_split(rng.permutation(len(x)), range(batch, len(x), batch)):
        optimizer.zero_grad()
        loss = F.nll_loss(twin(x[index]), y[index])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="epochs per side, alternating")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--optimizer", default="sgd", choices=("sgd", "momentum", "adam"))
    parser.add_argument("--pixels", default="unit", choices=("raw", "unit", "standard"))
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for both sides (default: each library's own)",
    )
    add_dtype_option(parser, default="float32")
    args = parser.parse_args()
    set_threads(args.threads)

    config = MnistConfig(
        epochs=1, batch=args.batch, lr=args.lr, optimizer=args.optimizer, pixels=args.pixels
    )
    train, val = load_training_data(config)
    backend = backend_named("fast")
    seed_everything(0)
    model = LeNet(backend)
    cast_parameters(model, args.dtype)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)

    # the task's own loop: it builds each batch in the model's dtype
    # warm up ours (numba compiles or loads its cache) on a few batches
    warm = _MnistLoop(
        config, model, backend, train.take(np.arange(4 * args.batch)), val.take(np.arange(8))
    )
    fit(warm, Schedule(epochs=1), LoopState.start(optimizer, 0))
    ours = _MnistLoop(config, model, backend, train, val)
    twin = torch_twin(model)  # the same weights from here on
    torch_opt = {
        "sgd": lambda p: torch.optim.SGD(p, lr=args.lr),
        "momentum": lambda p: torch.optim.SGD(p, lr=args.lr, momentum=0.9),
        "adam": lambda p: torch.optim.Adam(p, lr=args.lr),
    }[args.optimizer](twin.parameters())
    x = torch.from_numpy(PIXELS[args.pixels](train.images.astype(np.float64)).astype(args.dtype))
    x = x.reshape(-1, 1, 28, 28)
    y = torch.tensor(train.labels)

    mine, theirs = [], []
    for r in range(args.rounds):
        mine.append(fit(ours, Schedule(epochs=1), LoopState.start(optimizer, r)).curves.seconds[0])
        theirs.append(torch_epoch(twin, torch_opt, x, y, args.batch, np.random.default_rng(r)))
    import numba

    report(
        f"Digits: one epoch of {len(train)} digits, batch {args.batch}, "
        f"{args.optimizer} lr {args.lr}, "
        f"{args.pixels} pixels, {args.dtype} (numba threads {numba.get_num_threads()}, "
        f"torch threads {torch.get_num_threads()})",
        mine,
        theirs,
        args.dtype,
    )


if __name__ == "__main__":
    main()
