"""Write docs/module5-attention.ipynb from the cells below, then execute it in place.

    python docs/make_module5.py

The notebook runs in CI (tests/test_gpt_notebook.py) at the tiny sizes written here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

DOCS = Path(__file__).resolve().parent
PATH = DOCS / "module5-attention.ipynb"

CELLS = [
    (
        "md",
        """# Module 5: attention, step by step

The course stops at convolutions. A language model like GPT replaces them with
**attention**: every position of a sequence looks at the positions before it and takes a
weighted average of what it finds there. This notebook builds one attention head from
MiniTorch's own tensor operations, checks it against the library's layer, and ends with a
tiny character-level GPT trained on Shakespeare for a few seconds.

Everything runs on the fast (numba) CPU backend.""",
    ),
    (
        "code",
        """import random

import numpy as np
from IPython.display import Image

import minitorch
from minitorch.attention import GPT, CausalSelfAttention
from minitorch.tasks.shakespeare.data import load_text
from minitorch.transformer_functions import causal_softmax, cross_entropy
from minitorch.viz._mpl import figure_to_png
from minitorch.viz.attention import plot_attention_maps, plot_loss_curves

backend = minitorch.FastBackend


def show(fig):
    return Image(figure_to_png(fig, dpi=100))""",
    ),
    (
        "md",
        """## Characters as ids

Tiny Shakespeare ships with the package: 1,115,394 characters, 65 distinct. The vocabulary
is the sorted set of characters; a character's id is its place in it.""",
    ),
    (
        "code",
        """text = load_text(None)
vocab = text.vocabulary
print(len(vocab), "characters:", repr(vocab.chars))
ids = vocab.encode("ROMEO:")
print(ids, "->", repr(vocab.decode(ids)))""",
    ),
    (
        "md",
        """## Embeddings

A model cannot compute with ids directly: an `Embedding` keeps one learned vector per id and
looks rows up (its backward adds the gradient of each position into its id's row).""",
    ),
    (
        "code",
        """table = minitorch.layers.Embedding(len(vocab), 8, backend=backend, rng=random.Random(0))
x = table(ids)  # (6 characters, 8 channels)
print(x.shape)""",
    ),
    (
        "md",
        """## One attention head, by hand

Each position makes a **query** (what it looks for), a **key** (what it offers) and a
**value** (what it passes on), three linear maps of its vector. The score of query $i$ for
key $j$ is $q_i \\cdot k_j / \\sqrt{d}$; a *causal* softmax over $j \\le i$ turns each row of
scores into weights (a position may not look at the future, which it will be asked to
predict). The output of position $i$ is the weighted sum of the values.""",
    ),
    (
        "code",
        """d = 8
gen = np.random.default_rng(1)
wq, wk, wv = (
    minitorch.tensor(gen.normal(0, 0.5, (8, d)).tolist(), backend=backend) for _ in range(3)
)

q, k, v = x @ wq, x @ wk, x @ wv  # (T, d) each
scores = q @ k.permute(1, 0)  # (T, T): scores[i, j] = q_i . k_j
weights = causal_softmax(scores, scale=1 / d**0.5)
out = weights @ v  # (T, d)
print(np.round(weights.to_numpy(), 3))""",
    ),
    (
        "md",
        """Every row sums to 1 and everything above the diagonal is 0. The same numbers from
plain numpy, to be sure:""",
    ),
    (
        "code",
        """s = scores.to_numpy() / d**0.5
s[np.triu_indices(6, 1)] = -np.inf
e = np.exp(s - s.max(1, keepdims=True))
print(np.abs(e / e.sum(1, keepdims=True) - weights.to_numpy()).max())""",
    ),
    (
        "code",
        """maps = [weights.to_numpy()[None]]  # one layer holding one head
show(plot_attention_maps(maps, "ROMEO:", "one head, random weights"))""",
    ),
    (
        "md",
        """## Many heads at once

`CausalSelfAttention` runs `H` heads of width `C/H` side by side. It folds the heads into
the batch dimension, `(B*T, C) -> (B*H, T, C/H)`, so the scores of every head of every
sequence are one batched matrix product, and so are the weighted values. Gradients flow
through all of it: one backward gives each weight matrix its gradient.""",
    ),
    (
        "code",
        """attn = CausalSelfAttention(8, heads=2, backend=backend, rng=random.Random(2))
attn.record = True
y = attn(x, length=6)  # x holds one sequence of 6 positions
y.sum().backward()
print(y.shape, attn.query.value.grad.shape)
show(plot_attention_maps([attn.attention.to_numpy()[0]], "ROMEO:", "two heads"))""",
    ),
    (
        "md",
        """## A tiny GPT

A GPT adds a learned position vector to each character's vector, then stacks **blocks**:
each block adds attention (after a layer norm) and then a small two-layer network with a
GELU (after another) to its input, the *residual stream*. A last layer norm, and the token
table itself (transposed) turns each position's vector into one score per character: the
logits of the next character. Training minimises the cross-entropy of the real next
characters.

Here a model with one block trains for 300 iterations (a few seconds). The task's default
(`minitorch train shakespeare`: 4 blocks, 4 heads, 128 channels, 2,000 iterations) reaches
about 1.9 nats per character.""",
    ),
    (
        "code",
        """from minitorch.tasks.shakespeare.train import ShakespeareConfig, train_shakespeare

config = ShakespeareConfig(
    iters=300, eval_every=100, block=32, batch=16, layers=1, heads=2, embed=32,
    lr=1e-2, min_lr=1e-3, warmup=20, sample_tokens=120,
)
result = train_shakespeare(config)
c = result.curves
for it, tr, va in zip(c.iteration, c.train_loss, c.val_loss):
    print(f"iteration {it}: train {tr:.3f} (mean since the last), val {va:.3f} (whole split)")
print(f"whole validation split: {result.val_loss:.3f} nats per character")""",
    ),
    (
        "code",
        """evals = list(zip(c.iteration, c.train_loss, c.val_loss))
show(plot_loss_curves(result.step_losses, evals, result.val_loss, "a 1-block GPT, 300 steps"))""",
    ),
    ("md", """What it writes after 300 iterations, the sample of its last evaluation:"""),
    ("code", """print(result.samples[-1].text)"""),
    ("md", """And where its heads look for a line of Romeo's:"""),
    (
        "code",
        """from minitorch.tasks.shakespeare.pictures import attention_for

prompt = "ROMEO:\\nBut soft"
show(plot_attention_maps(attention_for(result.model, vocab, prompt), prompt))""",
    ),
]


def build() -> nbformat.NotebookNode:
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, source in CELLS:
        maker = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        book.cells.append(maker(source))
    return book


def main() -> None:
    sys.path.insert(0, str(DOCS))
    from render import run_notebook

    nbformat.write(build(), PATH)
    nbformat.write(run_notebook(PATH, timeout=600), PATH)
    print(f"wrote and executed {PATH}")


if __name__ == "__main__":
    main()
