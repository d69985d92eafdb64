"""The GPT of `minitorch train shakespeare` against the same model in PyTorch.

Both start from the same weights (PyTorch's copied from ours), see the same batches of Tiny
Shakespeare and take AdamW steps with the task's recipe (cosine schedule, clipping); the
iterations of the two alternate, so that a slow spell of the machine hits both alike. It
prints seconds per iteration for each and, last, `ratio ours/torch: R` (medians).

    python bench/gpt.py                      # the default model, float64, 30 iterations each
    python bench/gpt.py --dtype float32      # where the library has float32
    python bench/gpt.py --iters 3 --layers 1 --embed 32 --block 16 --batch 2   # a smoke run

The twin (`torch_twin`) is also what tests/test_gpt_model.py checks our gradients against.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from typing import Any

import numpy as np

__all__ = ["copy_grads", "main", "torch_twin"]


def torch_twin(model: Any, dtype: Any = None) -> Any:
    """A PyTorch module computing what the minitorch `GPT` `model` computes, from a copy of
    its weights (our matrices are (in, out): torch's Linear keeps (out, in)).

    Its parameters are named like ours (`block0.attention.query`, ...) in `twin.named`.
    """
    import torch
    from torch import nn

    dtype = torch.float64 if dtype is None else dtype

    def param(value: Any, transpose: bool = False) -> Any:
        a = value.to_numpy()
        a = a.T if transpose else a
        return nn.Parameter(torch.tensor(np.ascontiguousarray(a), dtype=dtype))

    class Twin(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads, self.rate = model.heads, model.rate
            self.named: dict[str, Any] = {}
            for name, p in model.named_parameters():
                matrix = p.value.dims == 2 and not name.startswith(("tokens", "positions"))
                self.named[name] = param(p.value, transpose=matrix)
                self.register_parameter(name.replace(".", "_"), self.named[name])
            self.transposed = {
                n
                for n, p in model.named_parameters()
                if p.value.dims == 2 and not n.startswith(("tokens", "positions"))
            }

        def forward(self, ids: Any) -> Any:
            w = self.named
            batch, length = ids.shape
            x = w["tokens.weights"][ids] + w["positions.weights"][:length]
            x = nn.functional.dropout(x, self.rate, self.training)
            for i in range(model.layers):
                p = f"block{i}."
                h = nn.functional.layer_norm(x, (x.shape[-1],), w[p + "ln1.weights"])
                q, k, v = (
                    nn.functional.linear(h, w[p + "attention." + n])
                    .view(batch, length, self.heads, -1)
                    .transpose(1, 2)
                    for n in ("query", "key", "value")
                )
                y = nn.functional.scaled_dot_product_attention(
                    q, k, v, dropout_p=self.rate if self.training else 0.0, is_causal=True
                )
                y = y.transpose(1, 2).contiguous().view(batch, length, -1)
                x = x + nn.functional.dropout(
                    nn.functional.linear(y, w[p + "attention.proj"]), self.rate, self.training
                )
                h = nn.functional.layer_norm(x, (x.shape[-1],), w[p + "ln2.weights"])
                h = nn.functional.linear(
                    nn.functional.gelu(nn.functional.linear(h, w[p + "mlp.fc"])), w[p + "mlp.proj"]
                )
                x = x + nn.functional.dropout(h, self.rate, self.training)
            x = nn.functional.layer_norm(x, (x.shape[-1],), w["ln.weights"])
            return x @ w["tokens.weights"].T

    return Twin()


def copy_grads(twin: Any) -> dict[str, np.ndarray]:
    """The twin's gradients as numpy arrays in our layouts, by our parameter names."""
    out = {}
    for name, p in twin.named.items():
        g = p.grad.detach().double().numpy()
        out[name] = g.T if name in twin.transposed else g
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iters", type=int, default=30, help="timed iterations per side")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--embed", type=int, default=128)
    parser.add_argument("--block", type=int, default=64)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    parser.add_argument("--threads", type=int, default=None, help="threads for numba and torch")
    args = parser.parse_args()

    import torch

    import minitorch
    from minitorch.attention import GPT
    from minitorch.optim import AdamW, clip_grad_norm, cosine_lr
    from minitorch.tasks.shakespeare.data import load_text
    from minitorch.transformer_functions import cross_entropy

    if args.threads:
        import numba

        numba.set_num_threads(args.threads)
        torch.set_num_threads(args.threads)
    text = load_text(None)
    data = text.train
    rng = np.random.default_rng(0)

    def batch() -> tuple[np.ndarray, np.ndarray]:
        starts = rng.integers(0, len(data) - args.block - 1, args.batch)
        x = np.stack([data[s : s + args.block] for s in starts])
        y = np.stack([data[s + 1 : s + args.block + 1] for s in starts])
        return x, y

    ours = GPT(
        len(text.vocabulary),
        args.block,
        args.layers,
        args.heads,
        args.embed,
        backend=minitorch.FastBackend,
        rng=random.Random(0),
    )
    if args.dtype != "float64":  # the same float64 draws, rounded, on both sides
        from minitorch.tasks.common import cast_parameters, task_dtype

        ours = cast_parameters(ours, task_dtype(args.dtype))
    twin = torch_twin(ours, getattr(torch, args.dtype))
    opt = AdamW.for_model(ours, lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    decay = [
        p
        for n, p in twin.named.items()
        if n in twin.transposed or n.startswith(("tokens", "positions"))
    ]
    rest = [p for p in twin.named.values() if all(p is not q for q in decay)]
    t_opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
        lr=1e-3,
        betas=(0.9, 0.99),
    )

    def step_ours(it: int, x: np.ndarray, y: np.ndarray) -> float:
        opt.lr = cosine_lr(it, 1e-3, 1e-4, 100, 2000)
        loss = cross_entropy(ours(x).view(x.size, len(text.vocabulary)), y.ravel())
        opt.zero_grad()
        loss.backward()
        clip_grad_norm(ours.parameters(), 1.0)
        opt.step()
        return loss.item()

    def step_torch(it: int, x: np.ndarray, y: np.ndarray) -> float:
        for g in t_opt.param_groups:
            g["lr"] = cosine_lr(it, 1e-3, 1e-4, 100, 2000)
        logits = twin(torch.tensor(x))
        loss = torch.nn.functional.cross_entropy(logits.view(x.size, -1), torch.tensor(y.ravel()))
        t_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
        t_opt.step()
        return loss.item()

    times: dict[str, list[float]] = {"ours": [], "torch": []}
    for it in range(args.warmup + args.iters):
        x, y = batch()
        for name, step in (("ours", step_ours), ("torch", step_torch)):
            start = time.perf_counter()
            loss = step(it, x, y)
            if it >= args.warmup:
                times[name].append(time.perf_counter() - start)
            if it == args.warmup + args.iters - 1:
                print(f"{name}: loss {loss:.4f} after {it + 1} iterations")
    med_o, med_t = statistics.median(times["ours"]), statistics.median(times["torch"])
    # Each round's own ratio (the two sides of one round ran back to back): their spread
    # says how far a busy machine moved the figure.
    rounds = sorted(o / t for o, t in zip(times["ours"], times["torch"]))
    quartiles = statistics.quantiles(rounds, n=4) if len(rounds) > 1 else rounds * 3
    print(
        f"model: {args.layers} layers, {args.heads} heads, {args.embed} wide, context "
        f"{args.block}, batch {args.batch}, {args.dtype}, {args.iters} timed iterations"
    )
    print(f"ours : {1000 * med_o:8.1f} ms/iteration (median; min {1000 * min(times['ours']):.1f})")
    print(f"torch: {1000 * med_t:8.1f} ms/iteration (median; min {1000 * min(times['torch']):.1f})")
    print(
        f"per-round ratio: min {rounds[0]:.2f}, quartiles {quartiles[0]:.2f} / "
        f"{quartiles[1]:.2f} / {quartiles[2]:.2f}, max {rounds[-1]:.2f}"
    )
    print(f"ratio ours/torch: {med_o / med_t:.2f}")
    assert math.isfinite(med_o)


if __name__ == "__main__":
    main()
