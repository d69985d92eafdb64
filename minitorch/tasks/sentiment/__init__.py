"""Sentiment: SST-2 sentences (GLUE's layout), GloVe vectors and the course's Kim CNN."""

from ..registry import AppField, Task
from .train import (
    CHECKPOINT_SCHEMA,
    SentimentConfig,
    SentimentEvalConfig,
    build_model,
    evaluate_sentiment,
    parameter_shapes,
    train_sentiment,
)

__all__ = ["TASK"]


def _pictures(result, out):  # noqa: ANN001 - the registry's signature
    from ..pictures import sentiment_training

    sentiment_training(result, out)


def _eval_pictures(evaluation, out):  # noqa: ANN001
    from ..pictures import confusion

    confusion(evaluation.predictions, "sentiment", evaluation.where, out)


TASK = Task(
    name="sentiment",
    title="SST-2 sentiment",
    help="the course's Kim CNN on SST-2 sentences",
    description="Train the course's 1-D CNN over GloVe vectors on SST-2 (GLUE's layout, from "
    "--data FOLDER); validates on dev.tsv. Writes OUT/metrics.json, OUT/model.safetensors and "
    "pictures.",
    config=SentimentConfig,
    train=train_sentiment,
    build_model=build_model,
    schema=1,
    checkpoint_schema=CHECKPOINT_SCHEMA,
    parameter_shapes=parameter_shapes,
    pictures=_pictures,
    eval_config=SentimentEvalConfig,
    evaluate=evaluate_sentiment,
    eval_pictures=_eval_pictures,
    icon=":material/sentiment_satisfied:",
    # the page's defaults learn something within a minute or two on two cores
    app_fields=(
        AppField("data", default="data/SST-2"),  # GLUE's own folder name, where the app runs
        AppField("epochs", bounds=(1, 20)),
        AppField("train_size", bounds=(1, 100_000), default=3000),
        AppField("feature_maps", choices=(5, 10, 25, 50, 100), default=25),
        AppField("optimizer", default="adam"),
        AppField("lr", choices=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5), default=0.005),
        "backend",
    ),
    page="minitorch.app.views.sentiment",
)
