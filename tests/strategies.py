"""Hypothesis strategies shared by the test modules."""

from hypothesis import strategies as st

small_floats = st.floats(min_value=-100, max_value=100, allow_nan=False, allow_infinity=False)
