"""Week 9: RNN/LSTM kernels against torch.nn with identical weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from answers.kernels import week09 as k
from tests.strategies import rnn_sizes

T = torch.from_numpy


def _params(rng, d, h, gates=1, scale=0.5):
    return (scale * rng.normal(size=(d, gates * h)), scale * rng.normal(size=(h, gates * h)),
            scale * rng.normal(size=gates * h))


def _load(module, Wx, Wh, b):
    """Copy NumPy weights into a torch RNN/LSTM (cell or layer): transposed, bias split."""
    suffix = "_l0" if isinstance(module, (torch.nn.RNN, torch.nn.LSTM)) else ""
    with torch.no_grad():
        getattr(module, f"weight_ih{suffix}").copy_(T(Wx.T))
        getattr(module, f"weight_hh{suffix}").copy_(T(Wh.T))
        getattr(module, f"bias_ih{suffix}").copy_(T(b) / 2)  # torch's two biases add up to b
        getattr(module, f"bias_hh{suffix}").copy_(T(b) / 2)
    return module


def _weight_grads(module):
    suffix = "_l0" if isinstance(module, (torch.nn.RNN, torch.nn.LSTM)) else ""
    grad = lambda name: getattr(module, f"{name}{suffix}").grad.numpy()
    assert np.allclose(grad("bias_ih"), grad("bias_hh"))
    return grad("weight_ih").T, grad("weight_hh").T, grad("bias_ih")


def _leaf(array):
    return T(array.copy()).requires_grad_()


def _close(got, want, tol=1e-10):
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


# Vanilla RNN ----------------------------------------------------------------------------
@pytest.mark.w09_rnn_step_forward
@pytest.mark.w09_rnn_step_backward
@given(rnn_sizes())
def test_rnn_step_matches_torch_rnn_cell(sizes):
    n, d, h, _, seed = sizes
    rng = np.random.default_rng(seed)
    x, prev_h, dnext = rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    Wx, Wh, b = _params(rng, d, h)
    cell = _load(torch.nn.RNNCell(d, h, dtype=torch.float64), Wx, Wh, b)
    tx, th = _leaf(x), _leaf(prev_h)
    out = cell(tx, th)
    (out * T(dnext)).sum().backward()
    _close([k.rnn_step_forward(x, prev_h, Wx, Wh, b)], [out.detach().numpy()])
    _close(k.rnn_step_backward(dnext, x, prev_h, Wx, Wh, b),
           [tx.grad.numpy(), th.grad.numpy(), *_weight_grads(cell)])


@pytest.mark.w09_rnn_forward
@pytest.mark.w09_rnn_backward
@given(rnn_sizes())
def test_rnn_sequence_matches_torch_rnn(sizes):
    n, d, h, steps, seed = sizes
    rng = np.random.default_rng(seed)
    x, h0, dh = rng.normal(size=(n, steps, d)), rng.normal(size=(n, h)), rng.normal(size=(n, steps, h))
    Wx, Wh, b = _params(rng, d, h)
    rnn = _load(torch.nn.RNN(d, h, batch_first=True, dtype=torch.float64), Wx, Wh, b)
    tx, th0 = _leaf(x), _leaf(h0)
    out, _ = rnn(tx, th0[None])
    (out * T(dh)).sum().backward()
    _close([k.rnn_forward(x, h0, Wx, Wh, b)], [out.detach().numpy()])
    _close(k.rnn_backward(dh, x, h0, Wx, Wh, b),
           [tx.grad.numpy(), th0.grad.numpy(), *_weight_grads(rnn)])


@pytest.mark.w09_rnn_truncated_backward
@given(rnn_sizes(), st.integers(1, 6))
def test_truncated_bptt_matches_torch_with_detached_windows(sizes, window):
    n, d, h, steps, seed = sizes
    rng = np.random.default_rng(seed)
    x, h0, dh = rng.normal(size=(n, steps, d)), rng.normal(size=(n, h)), rng.normal(size=(n, steps, h))
    Wx, Wh, b = _params(rng, d, h)
    rnn = _load(torch.nn.RNN(d, h, batch_first=True, dtype=torch.float64), Wx, Wh, b)
    tx, th0 = _leaf(x), _leaf(h0)
    state, outputs = th0[None], []
    for start in range(0, steps, window):
        out, state = rnn(tx[:, start:start + window], state)
        outputs.append(out)
        state = state.detach()  # the truncation: no gradient across the boundary
    (torch.cat(outputs, dim=1) * T(dh)).sum().backward()
    _close(k.rnn_truncated_backward(dh, x, h0, Wx, Wh, b, window),
           [tx.grad.numpy(), th0.grad.numpy(), *_weight_grads(rnn)])


@pytest.mark.w09_rnn_truncated_backward
def test_truncated_bptt_with_a_long_window_is_full_bptt():
    rng = np.random.default_rng(0)
    x, h0, dh = rng.normal(size=(2, 7, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 7, 4))
    Wx, Wh, b = _params(rng, 3, 4)
    _close(k.rnn_truncated_backward(dh, x, h0, Wx, Wh, b, 7), k.rnn_backward(dh, x, h0, Wx, Wh, b),
           tol=1e-13)


# LSTM -----------------------------------------------------------------------------------
@pytest.mark.w09_lstm_step_forward
@pytest.mark.w09_lstm_step_backward
@given(rnn_sizes())
def test_lstm_step_matches_torch_lstm_cell(sizes):
    n, d, h, _, seed = sizes
    rng = np.random.default_rng(seed)
    x, prev_h, prev_c = rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    dnext_h, dnext_c = rng.normal(size=(n, h)), rng.normal(size=(n, h))
    Wx, Wh, b = _params(rng, d, h, gates=4)
    cell = _load(torch.nn.LSTMCell(d, h, dtype=torch.float64), Wx, Wh, b)
    tx, th, tc = _leaf(x), _leaf(prev_h), _leaf(prev_c)
    next_h, next_c = cell(tx, (th, tc))
    ((next_h * T(dnext_h)).sum() + (next_c * T(dnext_c)).sum()).backward()
    _close(k.lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b),
           [next_h.detach().numpy(), next_c.detach().numpy()])
    _close(k.lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b),
           [tx.grad.numpy(), th.grad.numpy(), tc.grad.numpy(), *_weight_grads(cell)])


@pytest.mark.w09_lstm_forward
@pytest.mark.w09_lstm_backward
@given(rnn_sizes())
def test_lstm_sequence_matches_torch_lstm(sizes):
    n, d, h, steps, seed = sizes
    rng = np.random.default_rng(seed)
    x, dh = rng.normal(size=(n, steps, d)), rng.normal(size=(n, steps, h))
    h0, c0 = rng.normal(size=(n, h)), rng.normal(size=(n, h))
    Wx, Wh, b = _params(rng, d, h, gates=4)
    lstm = _load(torch.nn.LSTM(d, h, batch_first=True, dtype=torch.float64), Wx, Wh, b)
    tx, th0, tc0 = _leaf(x), _leaf(h0), _leaf(c0)
    out, (_, c_last) = lstm(tx, (th0[None], tc0[None]))
    (out * T(dh)).sum().backward()
    got_h, got_c = k.lstm_forward(x, h0, c0, Wx, Wh, b)
    _close([got_h, got_c[:, -1]], [out.detach().numpy(), c_last[0].detach().numpy()])
    _close(k.lstm_backward(dh, x, h0, c0, Wx, Wh, b),
           [tx.grad.numpy(), th0.grad.numpy(), tc0.grad.numpy(), *_weight_grads(lstm)])


@pytest.mark.w09_lstm_forward
def test_lstm_cell_states_match_torch_lstm_cell_step_by_step():
    rng = np.random.default_rng(1)
    x, h0, c0 = rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    Wx, Wh, b = _params(rng, 2, 4, gates=4)
    cell = _load(torch.nn.LSTMCell(2, 4, dtype=torch.float64), Wx, Wh, b)
    state, cells = (T(h0), T(c0)), []
    with torch.no_grad():
        for t in range(5):
            state = cell(T(x[:, t]), state)
            cells.append(state[1].numpy())
    _close([k.lstm_forward(x, h0, c0, Wx, Wh, b)[1]], [np.stack(cells, axis=1)])


# Output layer and loss -------------------------------------------------------------
@pytest.mark.w09_temporal_affine_forward
@pytest.mark.w09_temporal_affine_backward
@given(rnn_sizes())
def test_temporal_affine_matches_torch_linear(sizes):
    n, d, m, steps, seed = sizes
    rng = np.random.default_rng(seed)
    x, w, b, dout = (rng.normal(size=(n, steps, d)), rng.normal(size=(d, m)), rng.normal(size=m),
                     rng.normal(size=(n, steps, m)))
    tx, tw, tb = _leaf(x), _leaf(w), _leaf(b)
    out = torch.nn.functional.linear(tx, tw.T, tb)
    (out * T(dout)).sum().backward()
    _close([k.temporal_affine_forward(x, w, b)], [out.detach().numpy()])
    _close(k.temporal_affine_backward(dout, x, w, b), [tx.grad.numpy(), tw.grad.numpy(),
                                                       tb.grad.numpy()])


@pytest.mark.w09_temporal_softmax_loss
@given(rnn_sizes(), st.floats(0.05, 1.0))
def test_temporal_softmax_loss_matches_torch_ignore_index(sizes, keep_share):
    n, _, vocab, steps, seed = sizes
    rng = np.random.default_rng(seed)
    scores = 10 * rng.normal(size=(n, steps, vocab))
    y = rng.integers(0, vocab, size=(n, steps))
    mask = rng.random((n, steps)) < keep_share
    mask[0, 0] = True  # torch returns nan when every target is ignored
    tscores = _leaf(scores)
    target = T(np.where(mask, y, -100))
    loss = torch.nn.functional.cross_entropy(tscores.reshape(-1, vocab), target.reshape(-1),
                                             ignore_index=-100)
    loss.backward()
    got_loss, got_grad = k.temporal_softmax_loss(scores, y, mask)
    assert got_loss == pytest.approx(loss.item(), rel=1e-12)
    _close([got_grad], [tscores.grad.numpy()])


@pytest.mark.w09_temporal_softmax_loss
def test_temporal_softmax_loss_with_everything_masked_is_zero():
    loss, grad = k.temporal_softmax_loss(np.ones((2, 3, 4)), np.zeros((2, 3), int),
                                         np.zeros((2, 3), bool))
    assert loss == 0.0 and not grad.any()
