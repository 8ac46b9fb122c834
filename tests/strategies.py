"""Hypothesis strategies shared by the week tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


def logits(min_dims: int = 1, max_dims: int = 3, max_side: int = 6):
    """Float64 logits of 1 to 3 axes, values in [-1000, 1000] (overflow territory)."""
    return arrays(np.float64, array_shapes(min_dims=min_dims, max_dims=max_dims,
                                           min_side=1, max_side=max_side), elements=finite)


@st.composite
def logits_and_labels(draw, max_n: int = 8, max_c: int = 6):
    n = draw(st.integers(1, max_n))
    c = draw(st.integers(1, max_c))
    x = draw(arrays(np.float64, (n, c), elements=finite))
    y = draw(arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return x, y


@st.composite
def train_test(draw, max_n: int = 12, max_d: int = 4):
    d = draw(st.integers(1, max_d))
    small = st.floats(-1e3, 1e3, allow_nan=False)
    x_train = draw(arrays(np.float64, (draw(st.integers(2, max_n)), d), elements=small))
    x_test = draw(arrays(np.float64, (draw(st.integers(1, max_n)), d), elements=small))
    return x_train, x_test
