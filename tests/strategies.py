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


@st.composite
def rnn_sizes(draw, max_n: int = 4, max_d: int = 5, max_h: int = 5, max_t: int = 6):
    """Week 9: ``(N, D, H, T, seed)`` for recurrent layers; sizes from 1 up."""
    return (draw(st.integers(1, max_n)), draw(st.integers(1, max_d)),
            draw(st.integers(1, max_h)), draw(st.integers(1, max_t)),
            draw(st.integers(0, 2**16)))


@st.composite
def dags(draw, max_nodes: int = 10):
    """Week 4: ``(n_nodes, edges (E, 2), local_grads (E,), root)`` of a random DAG.

    Edges go from lower to higher *hidden* rank, then node ids are shuffled, so id order is
    not topological; pairs may repeat (``x * x``) and the root may be any node.
    """
    n = draw(st.integers(1, max_nodes))
    pairs = [(i, j) for j in range(n) for i in range(j)]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=3 * n)) if pairs else []
    ids = np.array(draw(st.permutations(range(n))), dtype=np.int64)
    edges = ids[np.array(chosen, dtype=np.int64).reshape(-1, 2)]
    local = draw(arrays(np.float64, (len(chosen),), elements=st.floats(-3, 3)))
    return n, edges, local, draw(st.integers(0, n - 1))


@st.composite
def token_streams(draw, max_len: int = 60, max_batch: int = 8):
    """Week 11: ``(ids (N,), batch_size)`` with ``batch_size <= N``; N need not divide."""
    n = draw(st.integers(1, max_len))
    ids = draw(arrays(np.int64, (n,), elements=st.integers(0, 999)))
    return ids, draw(st.integers(1, min(n, max_batch)))


@st.composite
def lm_logits_and_targets(draw, max_steps: int = 5, max_batch: int = 4, max_vocab: int = 8):
    """Week 11: ``(logits (L, B, V), targets (L, B))`` with moderate logits."""
    steps, batch = draw(st.integers(1, max_steps)), draw(st.integers(1, max_batch))
    vocab = draw(st.integers(1, max_vocab))
    logits = draw(arrays(np.float64, (steps, batch, vocab), elements=st.floats(-50, 50)))
    targets = draw(arrays(np.int64, (steps, batch), elements=st.integers(0, vocab - 1)))
    return logits, targets


@st.composite
def conv_problems(draw, max_n: int = 3, max_c: int = 3, max_f: int = 3, max_side: int = 9):
    """Week 7: ``(x (N, C, H, W), w (F, C, kh, kw), b (F,), stride, pad)`` with a valid output.

    Non-square inputs and filters, strides that need not tile the input, padding up to
    ``kernel - 1``.
    """
    n, c, f = draw(st.integers(1, max_n)), draw(st.integers(1, max_c)), draw(st.integers(1, max_f))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    pad = draw(st.integers(0, max(kh, kw) - 1))
    h = draw(st.integers(max(1, kh - 2 * pad), max_side))
    w = draw(st.integers(max(1, kw - 2 * pad), max_side))
    stride = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, c, h, w)), rng.normal(size=(f, c, kh, kw)), rng.normal(size=f),
            stride, pad)


@st.composite
def pool_problems(draw, max_side: int = 9):
    """Week 7: ``(x (N, C, H, W), pool, stride, relu)``; ``relu`` zeroes most values (ties)."""
    pool, stride = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = draw(st.integers(pool, max_side)), draw(st.integers(pool, max_side))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    relu = draw(st.booleans())
    x = np.random.default_rng(draw(st.integers(0, 2**16))).normal(size=(n, c, h, w))
    return (np.maximum(x - 0.8, 0) if relu else x), pool, stride, relu


@st.composite
def normalization_inputs(draw, min_n: int = 1, max_n: int = 8, max_d: int = 6):
    """Week 6: ``(x (N, D), gamma (D,), beta (D,))``, features with different scales."""
    n, d = draw(st.integers(min_n, max_n)), draw(st.integers(1, max_d))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    offset = draw(st.sampled_from([0.0, 10.0, 1000.0]))
    x = offset + rng.normal(size=(n, d)) * rng.uniform(0.1, 5, size=d)
    return x, 1 + 0.5 * rng.normal(size=d), rng.normal(size=d)


@st.composite
def rbm_problem(draw, max_n: int = 4, max_d: int = 6, max_h: int = 4):
    """Week 8: ``(v, W, b_h, b_v)``: binary or [0, 1] visibles and an RBM, weights up to ±50."""
    n, d, h = draw(st.integers(1, max_n)), draw(st.integers(1, max_d)), draw(st.integers(1, max_h))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    scale = draw(st.sampled_from([0.1, 1.0, 10.0, 50.0]))
    v = rng.random((n, d))
    if draw(st.booleans()):
        v = (v < 0.5).astype(np.float64)
    return v, scale * rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=d)


# Week 2: linear classifiers --------------------------------------------------------------
moderate = st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False)


@st.composite
def linear_problem(draw, max_n: int = 8, max_d: int = 5, max_c: int = 5):
    """``(W (D, C), b (C,), X (N, D), y (N,))`` with C ≥ 2 classes and moderate values."""
    n, d, c = draw(st.integers(1, max_n)), draw(st.integers(1, max_d)), draw(st.integers(2, max_c))
    W = draw(arrays(np.float64, (d, c), elements=moderate))
    b = draw(arrays(np.float64, (c,), elements=moderate))
    X = draw(arrays(np.float64, (n, d), elements=moderate))
    y = draw(arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return W, b, X, y


@st.composite
def binary_problem(draw, max_n: int = 8, max_d: int = 5):
    """``(w (D,), b, X (N, D), y (N,))`` with labels in {0, 1}; scores up to a few thousand."""
    n, d = draw(st.integers(1, max_n)), draw(st.integers(1, max_d))
    w = draw(arrays(np.float64, (d,), elements=moderate))
    X = draw(arrays(np.float64, (n, d), elements=st.floats(-100, 100, allow_nan=False)))
    y = draw(arrays(np.int64, (n,), elements=st.integers(0, 1)))
    return w, draw(moderate), X, y


# Week 3: point sets ----------------------------------------------------------------------
@st.composite
def point_sets(draw, max_m: int = 6, max_n: int = 8, max_d: int = 5):
    """``(X_test (M, D), X_train (N, D))``; some test points may repeat training points."""
    d = draw(st.integers(1, max_d))
    X_train = draw(arrays(np.float64, (draw(st.integers(1, max_n)), d), elements=moderate))
    X_test = draw(arrays(np.float64, (draw(st.integers(1, max_m)), d), elements=moderate))
    if draw(st.booleans()):
        X_test = np.vstack([X_test, X_train[:2]])
    return X_test, X_train
