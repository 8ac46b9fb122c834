"""Week 10: the PyTorch ports against the NumPy weeks (same weights, same outputs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from grader.check import numerical_gradient_array
from answers.kernels import week04, week05, week07, week09
from answers.kernels import week10 as k
from tests.strategies import rnn_sizes



@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a busy machine waiting threads cost."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@torch.no_grad()
def _torch_lstm(Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> torch.nn.LSTM:
    """PyTorch's own LSTM holding Week 9's weights (it multiplies from the left; one bias)."""
    lstm = torch.nn.LSTM(Wx.shape[0], Wh.shape[0], batch_first=True).double()
    lstm.weight_ih_l0.copy_(torch.from_numpy(Wx.T))
    lstm.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
    lstm.bias_ih_l0.copy_(torch.from_numpy(b))
    lstm.bias_hh_l0.zero_()
    return lstm


def _t(*arrays):
    return tuple(torch.from_numpy(a) for a in arrays)


@pytest.mark.w10_linear_grads
@given(rnn_sizes())
@settings(deadline=None)  # a shared machine makes single examples slow
def test_linear_grads_match_week04_and_finite_differences(sizes):
    n, d, m, _, seed = sizes
    rng = np.random.default_rng(seed)
    x, w, b, dout = (rng.normal(size=s) for s in [(n, d), (d, m), (m,), (n, m)])
    out, dx, dw, db = (t.numpy() for t in k.linear_grads(*_t(x, w, b, dout)))
    np.testing.assert_allclose(out, week04.affine_forward(x, w, b)[0], rtol=1e-12)
    for got, expected in zip((dx, dw, db), week04.affine_backward(dout, (x, w, b))):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    numeric = numerical_gradient_array(lambda z: z @ w + b, x, dout)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.w10_training_step
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_training_step_matches_numpy_momentum(momentum):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(7, 3)), rng.integers(0, 4, size=7)
    w, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    losses, w_new, b_new = k.training_step(*_t(x, y, w, b), 0.5, momentum)
    vw, vb, expected_losses = np.zeros_like(w), np.zeros_like(b), []
    for _ in range(2):
        loss, dscores = week04.softmax_cross_entropy(x @ w + b, y)
        expected_losses.append(loss)
        w, vw = week05.momentum_step(w, x.T @ dscores, vw, 0.5, momentum)
        b, vb = week05.momentum_step(b, dscores.sum(axis=0), vb, 0.5, momentum)
    np.testing.assert_allclose(losses.numpy(), expected_losses, rtol=1e-12)
    np.testing.assert_allclose(w_new.numpy(), w, rtol=1e-12)
    np.testing.assert_allclose(b_new.numpy(), b, rtol=1e-12)


@pytest.mark.w10_lstm_cell
@given(rnn_sizes())
@settings(deadline=None)  # a shared machine makes single examples slow
def test_lstm_cell_matches_week09_and_torch_lstm_cell(sizes):
    n, d, h, _, seed = sizes
    rng = np.random.default_rng(seed)
    args = tuple(rng.normal(size=s) for s in
                 [(n, d), (n, h), (n, h), (d, 4 * h), (h, 4 * h), (4 * h,)])
    got_h, got_c = (t.numpy() for t in k.lstm_cell(*_t(*args)))
    want_h, want_c = week09.lstm_step_forward(*args)
    np.testing.assert_allclose(got_h, want_h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got_c, want_c, rtol=1e-12, atol=1e-14)
    x, prev_h, prev_c, Wx, Wh, b = _t(*args)
    cell = torch.nn.LSTMCell(d, h).double()
    with torch.no_grad():
        cell.weight_ih.copy_(Wx.T)
        cell.weight_hh.copy_(Wh.T)
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
        torch_h, torch_c = cell(x, (prev_h, prev_c))
    np.testing.assert_allclose(got_h, torch_h.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_c, torch_c.numpy(), rtol=1e-10, atol=1e-12)


# The ports: identical weights give identical outputs -----------------------------------
@pytest.mark.w10_lenet
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_lenet_ports_match_the_numpy_lenet(dtype, rtol):
    params = week07.lenet_init(seed=3, dtype=dtype)
    x = np.random.default_rng(0).random((5, 1, 28, 28)).astype(dtype)
    expected, _ = week07.lenet_forward(params, x)
    functional = k.lenet_logits(torch.from_numpy(x),
                                *(torch.from_numpy(params[name]) for name in week07.LENET_SHAPES))
    with torch.no_grad():
        module = k.lenet_from_numpy(params)(torch.from_numpy(x))
    scale = np.abs(expected).max()
    np.testing.assert_allclose(functional.numpy(), expected, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(module.numpy(), expected, rtol=rtol, atol=rtol * scale)


def test_lstm_port_matches_the_numpy_lstm_outputs_and_gradients():
    rng = np.random.default_rng(0)
    n, steps, d, h = 3, 6, 4, 5
    x, h0, c0 = rng.normal(size=(n, steps, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    Wx, Wh, b = rng.normal(size=(d, 4 * h)), rng.normal(size=(h, 4 * h)), rng.normal(size=4 * h)
    lstm = _torch_lstm(Wx, Wh, b)
    xt = torch.from_numpy(x).requires_grad_()
    out, _ = lstm(xt, (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    np.testing.assert_allclose(out.detach().numpy(), week09.lstm_forward(x, h0, c0, Wx, Wh, b)[0],
                               rtol=1e-10, atol=1e-12)
    dh = rng.normal(size=out.shape)
    out.backward(torch.from_numpy(dh))
    dx, _, _, dWx, _, _ = week09.lstm_backward(dh, x, h0, c0, Wx, Wh, b)
    np.testing.assert_allclose(xt.grad.numpy(), dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(lstm.weight_ih_l0.grad.numpy(), dWx.T, rtol=1e-9, atol=1e-12)


# A custom autograd function: a forward precise in every regime, a derived backward -------
@pytest.mark.w10_logcosh
def test_logcosh_matches_400_digit_arithmetic_and_torch_autograd():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 400  # cosh(1e-150) - 1 needs 300 digits
    values = [1e-150, -1e-8, 1e-4, 0.3, -0.999, 1.0, 1.5, -5.0, 19.9, 20.1, 300.0, -711.0, 1e4]
    x = torch.tensor(values, dtype=torch.float64)
    dout = torch.from_numpy(np.random.default_rng(0).normal(size=len(values)))
    y, dx = k.logcosh_forward_backward(x, dout)
    exact = [float(mpmath.log(mpmath.cosh(mpmath.mpf(v)))) for v in values]
    np.testing.assert_allclose(y.numpy(), exact, rtol=1e-14, atol=0)
    np.testing.assert_allclose(dx.numpy(), dout.numpy() * np.tanh(values), rtol=1e-14, atol=0)
    # where the textbook formula is fine, autograd of it gives the same gradient
    leaf = torch.linspace(-3, 3, 13, dtype=torch.float64, requires_grad=True)
    torch.log(torch.cosh(leaf)).backward(torch.ones(13, dtype=torch.float64))
    _, mine = k.logcosh_forward_backward(leaf.detach(), torch.ones(13, dtype=torch.float64))
    np.testing.assert_allclose(mine.numpy(), leaf.grad.numpy(), rtol=1e-13, atol=1e-15)
    probe = torch.randn(7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(k.LogCosh.apply, (probe,))


# The learner's own modules: an LSTM layer and a training loop ---------------------------
@pytest.mark.w10_lstm_layer
@given(rnn_sizes())
@settings(deadline=None)  # a shared machine makes single examples slow
def test_lstm_layer_matches_week09_and_torch_lstm(sizes):
    n, d, h, steps, seed = sizes
    rng = np.random.default_rng(seed)
    x, h0, c0 = rng.normal(size=(n, steps, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    Wx, Wh, b = (0.5 * rng.normal(size=s) for s in [(d, 4 * h), (h, 4 * h), (4 * h,)])
    out, h_last, c_last = (t.numpy() for t in k.lstm_layer(*_t(x, h0, c0, Wx, Wh, b)))
    np.testing.assert_allclose(out, week09.lstm_forward(x, h0, c0, Wx, Wh, b)[0],
                               rtol=1e-10, atol=1e-12)
    with torch.no_grad():
        expected, (torch_h, torch_c) = _torch_lstm(Wx, Wh, b)(
            torch.from_numpy(x), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_last, torch_h[0].numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c_last, torch_c[0].numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.w10_fit
@pytest.mark.parametrize("n, batch_size, momentum", [(12, 4, 0.9), (10, 4, 0.9), (7, 16, 0.0)])
def test_fit_matches_a_numpy_loop_with_week04_gradients(n, batch_size, momentum):
    rng = np.random.default_rng(n)
    d, hidden, c, lr, epochs = 3, 5, 3, 0.3, 3
    x, y = rng.normal(size=(n, d)), rng.integers(0, c, size=n)
    w1, b1 = rng.normal(size=(hidden, d)), rng.normal(size=hidden)
    w2, b2 = rng.normal(size=(c, hidden)), rng.normal(size=c)
    losses, *trained = k.fit_mlp(*_t(x, y, w1, b1, w2, b2), lr, momentum, batch_size, epochs)
    params = [w1.T.copy(), b1.copy(), w2.T.copy(), b2.copy()]  # Week 4's (in, out) layout
    velocity = [np.zeros_like(p) for p in params]
    expected = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, n, batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            loss, *grads = week04.two_layer_net(xb, yb, *params)
            total += loss * len(yb)
            for i, grad in enumerate(grads):
                params[i], velocity[i] = week05.momentum_step(params[i], grad, velocity[i], lr,
                                                              momentum)
        expected.append(total / n)
    np.testing.assert_allclose(losses.numpy(), expected, rtol=1e-10)
    for got, want in zip(trained, [params[0].T, params[1], params[2].T, params[3]]):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-12)


@pytest.mark.w10_fit
def test_fit_lowers_the_loss_on_every_public_case():
    from grader.check import load_fixture

    cases, outputs = load_fixture("w10_fit")
    for case, (losses, *_) in zip(cases, outputs):
        assert losses[-1] < losses[0], case.name
