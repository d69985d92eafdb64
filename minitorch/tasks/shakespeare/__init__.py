"""Tiny Shakespeare: a character-level GPT (`data.py`, `model.py`, `train.py`, `generate.py`)."""

__all__: list[str] = []
