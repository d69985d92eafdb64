"""Sentiment benchmark: one epoch of the Kim CNN on a fixed slice of SST-2's training
sentences, minitorch's fast backend against PyTorch (CPU), both in `--dtype` (float32 by
default), the same network from the same initial weights, the same batches.

Rounds alternate between the two in one process, so both see the same machine load. Ours is
`minitorch train sentiment`'s own loop (`tasks.loop.fit`, embedding each batch as it goes);
PyTorch's is that loop as a PyTorch user writes it, with PyTorch's own pipeline: word ids
held as tensors, padded per batch with `pad_sequence`, embedded by a frozen `nn.Embedding`
inside the timed step (no numpy gather, no copy per batch). Only the training pass is timed.
Prints each side's median and spread in seconds per epoch and, last, `ratio ours/torch: R`
(the median over rounds of each round's ratio); multiply by 67,349 / --sentences for a
full-data epoch.

    python bench/sentiment.py --data FOLDER [--sentences 3200] [--rounds 3] [--batch 32]
        [--lr 0.05] [--dtype float32]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from _timing import add_dtype_option
from _twins import cast_parameters, report, set_threads, torch_param  # noqa: I001

from minitorch.backends import backend_named
from minitorch.tasks.common import seed_everything
from minitorch.tasks.loop import LoopState, Schedule, batch_indices, fit
from minitorch.tasks.optimizers import make_optimizer
from minitorch.tasks.sentiment.data import load_split, load_vectors
from minitorch.tasks.sentiment.model import KimCNN
from minitorch.tasks.sentiment.train import SentimentConfig, _SentimentLoop


def torch_twin(model: KimCNN):  # type: ignore[no-untyped-def]
    """The Kim CNN in PyTorch with `model`'s current weights; convolutions read zeros past the
    end, as minitorch's do."""
    import torch
    import torch.nn.functional as F

    class Twin(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            convs = [getattr(model, f"conv{i}") for i in range(1, len(model.filter_sizes) + 1)]
            self.ws = torch.nn.ParameterList([torch_param(c.weights) for c in convs])
            self.bs = torch.nn.ParameterList([torch_param(c.bias, flat=True) for c in convs])
            self.w, self.b = (
                torch_param(model.linear.weights, transpose=True),
                torch_param(model.linear.bias),
            )

        def forward(self, x):  # type: ignore[no-untyped-def]  # (B, D, L) -> (B,) logits
            h = sum(
                F.conv1d(F.pad(x, (0, w.shape[2] - 1)), w, b).relu().amax(dim=2)
                for w, b in zip(self.ws, self.bs)
            )
            return F.linear(F.dropout(h, 0.25, self.training), self.w, self.b).view(-1)

    return Twin()


def main() -> None:
    import torch
    import torch.nn.functional as F
    from torch.nn.utils.rnn import pad_sequence

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, required=True, help="folder with GLUE's SST-2 train.tsv and dev.tsv"
    )
    parser.add_argument(
        "--sentences", type=int, default=3200, help="the first N training sentences"
    )
    parser.add_argument("--rounds", type=int, default=3, help="epochs per side, alternating")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for both sides (default: each library's own)",
    )
    add_dtype_option(parser, default="float32")
    args = parser.parse_args()
    set_threads(args.threads)
    dtype = getattr(torch, args.dtype)

    config = SentimentConfig(
        data=args.data, train_size=args.sentences, val_size=32, batch=args.batch, lr=args.lr
    )
    train = load_split(args.data, "train").head(args.sentences)
    val = load_split(args.data, "dev").head(32)
    vocab = load_vectors({w for s in train.words + val.words for w in s})
    backend = backend_named("fast")
    seed_everything(0)
    model = KimCNN(backend, vocab.dim)
    cast_parameters(model, args.dtype)
    optimizer = make_optimizer("sgd", model.parameters(), args.lr)

    # the task's own loop: it builds each batch in the model's dtype
    # warm up ours (numba compiles or loads its cache) on a few batches
    warm = _SentimentLoop(config, model, backend, vocab, train.head(4 * args.batch), val)
    fit(warm, Schedule(epochs=1), LoopState.start(optimizer, 0))
    ours = _SentimentLoop(config, model, backend, vocab, train, val)
    twin = torch_twin(model)  # the same weights from here on
    torch_opt = torch.optim.SGD(twin.parameters(), lr=args.lr)
    y = torch.tensor(train.labels, dtype=dtype)
    # PyTorch's own pipeline: ids as tensors, a frozen embedding (row 0 is the zero vector
    # that pads, as in ours), sentences padded per batch to the longest plus one zero tail
    embedding = torch.nn.Embedding.from_pretrained(torch.from_numpy(vocab.vectors).to(dtype))
    ids = [torch.from_numpy(np.append(s, 0).astype(np.int64)) for s in ours.train_ids]
    widest = max(model.filter_sizes)

    def torch_epoch(rng: np.random.Generator) -> float:
        twin.train()
        start = time.perf_counter()
        for index in batch_indices(len(train), args.batch, rng):
            batch = pad_sequence([ids[i] for i in index], batch_first=True)  # (B, L)
            if batch.shape[1] < widest:
                batch = F.pad(batch, (0, widest - batch.shape[1]))
            x = embedding(batch).transpose(1, 2)  # (B, D, L)
            torch_opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(twin(x), y[index])
            loss.backward()
            torch_opt.step()
        return time.perf_counter() - start

    mine, theirs = [], []
    for r in range(args.rounds):
        mine.append(fit(ours, Schedule(epochs=1), LoopState.start(optimizer, r)).curves.seconds[0])
        theirs.append(torch_epoch(np.random.default_rng(r)))
    import numba

    report(
        f"Sentiment: one epoch of {len(train)} SST-2 sentences, batch {args.batch}, "
        f"sgd lr {args.lr} "
        f"{args.dtype} (numba threads {numba.get_num_threads()}, torch threads "
        f"{torch.get_num_threads()})",
        mine,
        theirs,
        args.dtype,
    )


if __name__ == "__main__":
    main()
