"""Sentiment: SST-2 sentences (GLUE's TSV layout), GloVe vectors and the course's Kim CNN.

`from minitorch.tasks.sentiment.train import SentimentConfig, train_sentiment` trains it.
"""

__all__: list[str] = []
