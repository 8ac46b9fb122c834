"""Week 9 reference kernels: recurrent networks from scratch in NumPy.

Layout is batch-first: a sequence batch is ``(N, T, D)`` (examples, time steps, features).
Weights multiply from the right, as in the affine layers of earlier weeks:
``a = x @ Wx + h @ Wh + b``.

Every graded function is *pure*: a backward pass takes the forward pass's inputs (not a
cache object) and recomputes what it needs, so it can be checked on its own.

The LSTM packs its four gates side by side in ``Wx (D, 4H)``, ``Wh (H, 4H)`` and ``b (4H,)``
in PyTorch's order **i, f, g, o** (input, forget, cell candidate, output). A
``torch.nn.LSTM`` with the same weights has ``weight_ih_l0 = Wx.T``, ``weight_hh_l0 = Wh.T``
and ``bias_ih_l0 + bias_hh_l0 = b`` (PyTorch keeps two bias vectors; only their sum matters).
"""

from __future__ import annotations

import numpy as np

from answers.kernels.week02 import sigmoid
from answers.kernels.week04 import affine_backward, affine_forward, softmax_cross_entropy


# --------------------------------------------------------------------------------------
# Vanilla RNN: h_t = tanh(x_t Wx + h_{t-1} Wh + b)
# --------------------------------------------------------------------------------------
def rnn_step_forward(x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     b: np.ndarray) -> np.ndarray:
    """One time step of a tanh RNN.

    Args:
        x: ``(N, D)`` inputs at this step.
        prev_h: ``(N, H)`` hidden state of the previous step.
        Wx: ``(D, H)``; Wh: ``(H, H)``; b: ``(H,)``.

    Returns:
        next_h: ``(N, H)``.
    """
    return np.tanh(x @ Wx + prev_h @ Wh + b)


def rnn_step_backward(dnext_h: np.ndarray, x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray,
                      Wh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gradients of one RNN step, given the upstream gradient on its output ``next_h``.

    ``tanh'(a) = 1 - tanh(a)²``, so the step's output is all the backward pass needs.

    Returns:
        ``(dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,))``.
    """
    next_h = rnn_step_forward(x, prev_h, Wx, Wh, b)
    da = dnext_h * (1 - next_h**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                b: np.ndarray) -> np.ndarray:
    """Run a tanh RNN over a whole sequence.

    Args:
        x: ``(N, T, D)``; h0: ``(N, H)`` initial hidden state; Wx, Wh, b as in a step.

    Returns:
        h: ``(N, T, H)``, the hidden state after every step (``h[:, t]`` follows ``x[:, t]``).
    """
    n, steps, _ = x.shape
    h = np.empty((n, steps, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    x_proj = x @ Wx + b  # the input part of every step in one matrix product
    prev_h = h0
    for t in range(steps):
        prev_h = h[:, t] = np.tanh(x_proj[:, t] + prev_h @ Wh)
    return h


def rnn_backward(dh: np.ndarray, x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                 b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`rnn_forward`.

    ``dh[:, t]`` is the gradient of the loss on ``h[:, t]`` coming from *above* (the output
    layer) only. Walking back in time, each step also receives the gradient flowing from
    the next step through ``Wh``; the two are added.

    Returns:
        ``(dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,))``.
    """
    h = rnn_forward(x, h0, Wx, Wh, b)
    prev_h = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (N, T, H): h_{t-1} for every t
    da = np.empty_like(h)
    dnext = np.zeros_like(h0)  # gradient arriving from step t + 1
    for t in reversed(range(x.shape[1])):
        da[:, t] = (dh[:, t] + dnext) * (1 - h[:, t] ** 2)
        dnext = da[:, t] @ Wh.T
    # The weight gradients sum over time: one matrix product over all (example, step) pairs.
    flat = da.reshape(-1, da.shape[-1])
    dWx = x.reshape(-1, x.shape[-1]).T @ flat
    dWh = prev_h.reshape(-1, prev_h.shape[-1]).T @ flat
    return da @ Wx.T, dnext, dWx, dWh, flat.sum(axis=0)


def rnn_truncated_backward(dh: np.ndarray, x: np.ndarray, h0: np.ndarray, Wx: np.ndarray,
                           Wh: np.ndarray, b: np.ndarray,
                           window: int) -> tuple[np.ndarray, ...]:
    """Truncated BPTT: the state flows forward across windows, gradients do not flow back.

    The sequence is cut into consecutive windows of ``window`` steps (the last may be
    shorter). Each window starts from the final hidden state of the previous one, treated as
    a constant, so backpropagation stops at every window boundary. The weight gradients are
    summed over the windows. With ``window >= T`` this is :func:`rnn_backward`.

    Returns:
        ``(dx (N, T, D), dh0 (N, H), dWx, dWh, db)``; ``dh0`` comes from the first window
        only.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    dx = np.empty_like(x, dtype=np.result_type(x, dh))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    start_h, dh0 = h0, None
    for start in range(0, x.shape[1], window):
        part = slice(start, start + window)
        grads = rnn_backward(dh[:, part], x[:, part], start_h, Wx, Wh, b)
        dx[:, part] = grads[0]
        dh0 = grads[1] if dh0 is None else dh0
        dWx += grads[2]
        dWh += grads[3]
        db += grads[4]
        start_h = rnn_forward(x[:, part], start_h, Wx, Wh, b)[:, -1]
    return dx, dh0, dWx, dWh, db


# --------------------------------------------------------------------------------------
# LSTM, gates in PyTorch's order i, f, g, o
# --------------------------------------------------------------------------------------
def _lstm_gates(a: np.ndarray) -> tuple[np.ndarray, ...]:
    """Split pre-activations ``(..., 4H)`` into gates ``i, f, g, o`` (each ``(..., H)``)."""
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1)
    return sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)


def _lstm_gates_backward(dnext_h: np.ndarray, dnext_c: np.ndarray, gates: tuple[np.ndarray, ...],
                         prev_c: np.ndarray, next_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients on a step's pre-activations ``a (N, 4H)`` and on ``prev_c``.

    ``next_c = f ⊙ prev_c + i ⊙ g`` and ``next_h = o ⊙ tanh(next_c)``: the cell receives the
    gradient from ``next_h`` through ``tanh`` *plus* ``dnext_c``, which comes straight from
    the next step — the additive path that lets gradients survive many steps.
    """
    i, f, g, o = gates
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    da = np.concatenate([dc * g * i * (1 - i),            # through i = σ(a_i)
                         dc * prev_c * f * (1 - f),       # through f = σ(a_f)
                         dc * i * (1 - g**2),             # through g = tanh(a_g)
                         dnext_h * tanh_c * o * (1 - o)],  # through o = σ(a_o)
                        axis=-1)
    return da, dc * f


def lstm_step_forward(x: np.ndarray, prev_h: np.ndarray, prev_c: np.ndarray, Wx: np.ndarray,
                      Wh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step.

    Args:
        x: ``(N, D)``; prev_h, prev_c: ``(N, H)``; Wx: ``(D, 4H)``; Wh: ``(H, 4H)``;
        b: ``(4H,)``, gates in the order i, f, g, o.

    Returns:
        ``(next_h (N, H), next_c (N, H))``.
    """
    i, f, g, o = _lstm_gates(x @ Wx + prev_h @ Wh + b)
    next_c = f * prev_c + i * g
    return o * np.tanh(next_c), next_c


def lstm_step_backward(dnext_h: np.ndarray, dnext_c: np.ndarray, x: np.ndarray,
                       prev_h: np.ndarray, prev_c: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                       b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gradients of one LSTM step given the upstream gradients on ``next_h`` and ``next_c``.

    Returns:
        ``(dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,))``.
    """
    gates = _lstm_gates(x @ Wx + prev_h @ Wh + b)
    i, f, g, _ = gates
    next_c = f * prev_c + i * g
    da, dprev_c = _lstm_gates_backward(dnext_h, dnext_c, gates, prev_c, next_c)
    return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_forward(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                 b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run an LSTM over a whole sequence.

    Args:
        x: ``(N, T, D)``; h0, c0: ``(N, H)`` initial states; Wx, Wh, b as in a step.

    Returns:
        ``(h (N, T, H), c (N, T, H))``: hidden and cell state after every step.
    """
    n, steps, _ = x.shape
    hidden = h0.shape[1]
    dtype = np.result_type(x, h0, c0, Wx)
    h = np.empty((n, steps, hidden), dtype=dtype)
    c = np.empty((n, steps, hidden), dtype=dtype)
    x_proj = x @ Wx + b  # the input part of all four gates at every step, one product
    prev_h, prev_c = h0, c0
    for t in range(steps):
        i, f, g, o = _lstm_gates(x_proj[:, t] + prev_h @ Wh)
        prev_c = c[:, t] = f * prev_c + i * g
        prev_h = h[:, t] = o * np.tanh(prev_c)
    return h, c


def lstm_backward(dh: np.ndarray, x: np.ndarray, h0: np.ndarray, c0: np.ndarray, Wx: np.ndarray,
                  Wh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`lstm_forward` (forward pass included).

    ``dh[:, t]`` is the gradient on ``h[:, t]`` from above; nothing flows in on the final
    cell state. Once the states are known, the gates of *all* steps are recomputed with
    two matrix products (no loop); only the backward recursion itself is sequential.

    Returns:
        ``(dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,))``.
    """
    h, c = lstm_forward(x, h0, c0, Wx, Wh, b)
    prev_h = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (N, T, H)
    prev_c = np.concatenate([c0[:, None], c[:, :-1]], axis=1)
    gates = _lstm_gates(x @ Wx + prev_h @ Wh + b)  # each (N, T, H)
    da = np.empty(h.shape[:2] + (4 * h.shape[2],), dtype=h.dtype)
    dnext_h, dnext_c = np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(x.shape[1])):
        da[:, t], dnext_c = _lstm_gates_backward(dh[:, t] + dnext_h, dnext_c,
                                                 tuple(gate[:, t] for gate in gates),
                                                 prev_c[:, t], c[:, t])
        dnext_h = da[:, t] @ Wh.T
    flat = da.reshape(-1, da.shape[-1])
    dWx = x.reshape(-1, x.shape[-1]).T @ flat
    dWh = prev_h.reshape(-1, prev_h.shape[-1]).T @ flat
    return da @ Wx.T, dnext_h, dnext_c, dWx, dWh, flat.sum(axis=0)


# --------------------------------------------------------------------------------------
# Output layer and loss over time
# --------------------------------------------------------------------------------------
def temporal_affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The same affine layer applied at every time step: ``(N, T, D) -> (N, T, M)``.

    Folding time into the batch turns it into Week 4's affine layer on ``N·T`` rows.

    Args:
        x: ``(N, T, D)``; w: ``(D, M)``; b: ``(M,)``.
    """
    n, steps, features = x.shape
    out, _ = affine_forward(x.reshape(n * steps, features), w, b)
    return out.reshape(n, steps, -1)


def temporal_affine_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray,
                             b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`temporal_affine_forward`; ``w`` and ``b`` sum over ``N`` and ``T``.

    Returns:
        ``(dx (N, T, D), dw (D, M), db (M,))``.
    """
    n, steps, features = x.shape
    dx, dw, db = affine_backward(dout.reshape(n * steps, -1),
                                 (x.reshape(n * steps, features), w, b))
    return dx.reshape(x.shape), dw, db


def temporal_softmax_loss(scores: np.ndarray, y: np.ndarray,
                          mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over the time steps that ``mask`` keeps, and its gradient.

    Padding at the end of short sequences is masked out: it contributes neither to the loss
    nor to the count. The loss is the mean over kept positions (PyTorch's
    ``cross_entropy(..., ignore_index=...)``), so ``exp(loss)`` is the perplexity per
    token. With nothing kept, the loss and the gradient are 0.

    Args:
        scores: ``(N, T, V)`` logits; y: ``(N, T)`` integer targets in ``[0, V)``;
        mask: ``(N, T)`` booleans (or 0/1), True where the target counts.

    Returns:
        ``(loss, dscores (N, T, V))``.
    """
    keep = np.asarray(mask, dtype=bool)
    dscores = np.zeros_like(scores, dtype=np.float64)
    if not keep.any():
        return 0.0, dscores
    # The kept positions are an ordinary (K, V) batch for Week 4's loss layer.
    loss, dscores[keep] = softmax_cross_entropy(scores[keep], y[keep])
    return loss, dscores
