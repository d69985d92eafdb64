"""Shared hypothesis settings: no deadline (a first numba call compiles), modest sizes."""

from hypothesis import settings

settings.register_profile("minitorch", deadline=None, max_examples=60)
settings.register_profile("ci", deadline=None, max_examples=40, derandomize=True)
settings.load_profile("minitorch")
