"""Tiny Shakespeare: a character-level GPT (nanoGPT's CPU "baby GPT") trained on the corpus
that ships with the package, evaluated over the whole validation split, sampled."""

from ..registry import AppField, Task
from .model import CHECKPOINT_SCHEMA, build_model
from .train import (
    ShakespeareConfig,
    ShakespeareEvalConfig,
    evaluate_shakespeare,
    train_shakespeare,
)

__all__ = ["TASK"]


def _pictures(result, out):  # noqa: ANN001 - the registry's signature
    from .pictures import training_pictures

    training_pictures(result, out)


TASK = Task(
    name="shakespeare",
    title="Tiny Shakespeare",
    help="a character-level GPT on Tiny Shakespeare",
    description="Train a character-level GPT (nanoGPT's CPU baby GPT: 4 blocks, 4 heads, 128 "
    "channels, context 64) on Tiny Shakespeare, which ships with the package, or on any UTF-8 "
    "text (--data FILE). Writes OUT/metrics.json (losses, a sample per evaluation), "
    "OUT/model.safetensors, curves.png and attention.png; then `minitorch generate "
    "--checkpoint OUT/model.safetensors --prompt TEXT` writes more.",
    config=ShakespeareConfig,
    train=train_shakespeare,
    build_model=build_model,
    schema=1,
    checkpoint_schema=CHECKPOINT_SCHEMA,
    pictures=_pictures,
    eval_config=ShakespeareEvalConfig,
    evaluate=evaluate_shakespeare,
    icon=":material/theater_comedy:",
    # a small model the page trains in a minute: it already writes names and line breaks
    app_fields=(
        AppField("iters", bounds=(10, 5_000), default=300),
        AppField("layers", bounds=(1, 8), default=2),
        AppField("heads", choices=(1, 2, 4), default=2),
        AppField("embed", choices=(16, 32, 64, 128), default=64),
        AppField("block", choices=(16, 32, 64), default=32),
        "backend",
    ),
    page="minitorch.app.views.shakespeare",
)
