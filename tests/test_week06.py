"""Week 6: regularization and normalization kernels against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from answers.kernels import week06 as k
from tests.strategies import normalization_inputs



def _autograd(function, dout, *arrays_):
    """Gradients of ``sum(function(*tensors) * dout)`` with respect to every array."""
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays_]
    out = function(*tensors)
    return out.detach().numpy(), [g.numpy() for g in
                                  torch.autograd.grad(out, tensors, torch.from_numpy(dout))]


# L2 weight decay --------------------------------------------------------------------------
@pytest.mark.w06_l2_penalty
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)),
              elements=st.floats(-100, 100)), st.floats(0, 10))
@settings(deadline=None)  # the first call imports torch.optim
def test_l2_penalty_matches_autograd_and_torch_weight_decay(w, reg):
    loss, dw = k.l2_penalty(w, reg)
    tw = torch.tensor(w, requires_grad=True)
    torch_loss = 0.5 * reg * (tw**2).sum()
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-12, atol=1e-12)
    # One SGD step with weight_decay=reg is a plain step on grad + dw.
    grad = np.cos(w)
    param = torch.nn.Parameter(torch.tensor(w))
    optimizer = torch.optim.SGD([param], lr=0.1, weight_decay=reg)
    param.grad = torch.tensor(grad)
    optimizer.step()
    np.testing.assert_allclose(param.detach().numpy(), w - 0.1 * (grad + dw), rtol=1e-12,
                               atol=1e-10)


# Dropout: torch draws its own mask; we recover it and feed it back as noise -------------
def _torch_dropout(x, p, seed):
    torch.manual_seed(seed)
    tx = torch.tensor(x, requires_grad=True)
    out = F.dropout(tx, p, training=True)
    kept = (out.detach().numpy() != 0) | (x == 0)
    u = np.where(kept, np.nextafter(1.0, 0.0), 0.0)  # u >= p exactly where torch kept
    return tx, out, u


@pytest.mark.w06_dropout_forward
@pytest.mark.w06_dropout_backward
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)),
              elements=st.floats(0.1, 10)), st.floats(0.01, 0.95), st.integers(0, 1000))
@settings(deadline=None)
def test_dropout_reproduces_torch_given_its_mask(x, p, seed):
    tx, out, u = _torch_dropout(x, p, seed)
    np.testing.assert_allclose(k.dropout_forward(x, u, p), out.detach().numpy(), rtol=1e-6)
    dout = np.random.default_rng(seed).normal(size=x.shape)
    (dx,) = torch.autograd.grad(out, tx, torch.from_numpy(dout))
    np.testing.assert_allclose(k.dropout_backward(dout, u, p), dx.numpy(), rtol=1e-6)


@pytest.mark.w06_dropout_forward
@pytest.mark.w06_dropout_backward
def test_dropout_eval_is_the_identity_like_torch():
    x = np.random.default_rng(0).normal(size=(4, 5))
    u = np.random.default_rng(1).random(size=x.shape)
    expected = F.dropout(torch.from_numpy(x), 0.5, training=False).numpy()
    np.testing.assert_array_equal(k.dropout_forward(x, u, 0.5, train=False), expected)
    np.testing.assert_array_equal(k.dropout_backward(x, u, 0.5, train=False), x)


@pytest.mark.w06_dropout_forward
def test_inverted_dropout_keeps_the_expected_activation():
    x = np.ones((200, 500))
    u = np.random.default_rng(0).random(size=x.shape)
    out = k.dropout_forward(x, u, 0.3)
    assert out.mean() == pytest.approx(1.0, abs=0.01)
    assert np.mean(out == 0) == pytest.approx(0.3, abs=0.01)


# Batch normalization against torch.nn.BatchNorm1d ------------------------------------------
@pytest.mark.w06_batchnorm_forward
@given(normalization_inputs(min_n=2), st.floats(0.01, 1.0), st.sampled_from([1e-5, 1e-3]))
@settings(deadline=None, max_examples=40)
def test_batchnorm_forward_matches_batchnorm1d_over_several_steps(data, momentum, eps):
    x, gamma, beta = data
    d = x.shape[1]
    bn = torch.nn.BatchNorm1d(d, eps=eps, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    running_mean, running_var = np.zeros(d), np.ones(d)
    for step in range(3):  # three training steps on shifted batches, then evaluation
        batch = x + step
        out, running_mean, running_var = k.batchnorm_forward(
            batch, gamma, beta, running_mean, running_var, True, momentum, eps)
        expected = bn.train()(torch.from_numpy(batch)).detach().numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(running_mean, bn.running_mean.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(running_var, bn.running_var.numpy(), rtol=1e-10, atol=1e-10)
    out, mean_after, var_after = k.batchnorm_forward(x, gamma, beta, running_mean, running_var,
                                                     False, momentum, eps)
    expected = bn.eval()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(mean_after, running_mean)
    np.testing.assert_array_equal(var_after, running_var)


@pytest.mark.w06_batchnorm_forward
def test_batchnorm_forward_does_not_modify_the_running_statistics_in_place():
    x = np.random.default_rng(0).normal(size=(5, 3))
    running_mean, running_var = np.zeros(3), np.ones(3)
    for train in (True, False):
        _, new_mean, new_var = k.batchnorm_forward(x, np.ones(3), np.zeros(3), running_mean,
                                                   running_var, train)
        assert new_mean is not running_mean and new_var is not running_var
    np.testing.assert_array_equal(running_mean, 0)
    np.testing.assert_array_equal(running_var, 1)


@pytest.mark.w06_batchnorm_backward
@given(normalization_inputs(min_n=2), st.sampled_from([1e-5, 1e-3]))
@settings(deadline=None)
def test_batchnorm_backward_matches_autograd(data, eps):
    x, gamma, beta = data
    dout = np.random.default_rng(0).normal(size=x.shape)
    _, (dx, dgamma, dbeta) = _autograd(
        lambda a, g, b: F.batch_norm(a, None, None, g, b, training=True, eps=eps),
        dout, x, gamma, beta)
    got = k.batchnorm_backward(dout, x, gamma, eps)
    scale = np.abs(dx).max() + 1
    np.testing.assert_allclose(got[0], dx, rtol=1e-6, atol=1e-9 * scale)
    np.testing.assert_allclose(got[1], dgamma, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(got[2], dbeta, rtol=1e-12, atol=1e-12)


# Layer normalization against torch.nn.functional.layer_norm --------------------------------
@pytest.mark.w06_spatial_batchnorm_forward
@pytest.mark.w06_spatial_batchnorm_backward
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5),
       st.sampled_from([0.0, 1e3, 1e6]), st.floats(0.01, 1.0), st.integers(0, 2**16))
@settings(deadline=None, max_examples=40)
def test_spatial_batchnorm_matches_batchnorm2d(n, c, h, w, offset, momentum, seed):
    if n * h * w < 2:
        return  # training needs two values per channel (the unbiased variance)
    rng = np.random.default_rng(seed)
    x = offset + rng.normal(size=(n, c, h, w)) * rng.uniform(0.5, 3, size=(1, c, 1, 1))
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    running_mean, running_var = rng.normal(size=c), rng.uniform(0.5, 2, size=c)
    bn = torch.nn.BatchNorm2d(c, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
        bn.running_mean.copy_(torch.from_numpy(running_mean))
        bn.running_var.copy_(torch.from_numpy(running_var))
    tx = torch.tensor(x, requires_grad=True)
    torch_out = bn.train()(tx)
    dout = rng.normal(size=x.shape)
    torch_out.backward(torch.from_numpy(dout))
    out, new_mean, new_var = k.spatial_batchnorm_forward(x, gamma, beta, running_mean,
                                                         running_var, momentum=momentum)
    scale = 1 + offset * 1e-15  # torch's own rounding at large offsets
    np.testing.assert_allclose(out, torch_out.detach().numpy(), rtol=1e-6 * scale,
                               atol=1e-8 * scale)
    np.testing.assert_allclose(new_mean, bn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(new_var, bn.running_var.numpy(), rtol=1e-8)
    dx, dgamma, dbeta = k.spatial_batchnorm_backward(dout, x, gamma)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6, atol=1e-8 * scale)
    np.testing.assert_allclose(dgamma, bn.weight.grad.numpy(), rtol=1e-6, atol=1e-8 * scale)
    np.testing.assert_allclose(dbeta, bn.bias.grad.numpy(), rtol=1e-10, atol=1e-10)
    # Evaluation mode: the running statistics, unchanged.
    eval_out, same_mean, same_var = k.spatial_batchnorm_forward(x, gamma, beta, new_mean,
                                                                new_var, train=False)
    np.testing.assert_allclose(eval_out, bn.eval()(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6 * scale, atol=1e-8 * scale)
    np.testing.assert_array_equal(same_mean, new_mean)
    np.testing.assert_array_equal(same_var, new_var)


@pytest.mark.w06_batchnorm_forward
@pytest.mark.w06_layernorm_forward
@pytest.mark.w06_spatial_batchnorm_forward
def test_normalization_survives_an_offset_of_1e6_where_the_naive_variance_cancels():
    rng = np.random.default_rng(0)
    x = 1e6 + rng.normal(size=(9, 4))
    exact = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    out, _, _ = k.batchnorm_forward(x, np.ones(4), np.zeros(4), np.zeros(4), np.ones(4))
    np.testing.assert_allclose(out, exact, rtol=1e-9, atol=1e-9)
    naive_var = (x * x).mean(axis=0) - x.mean(axis=0) ** 2  # what the hidden cases reject
    assert np.abs(naive_var - x.var(axis=0)).max() > 1e-6
    maps = np.moveaxis(x.reshape(1, 9, 4, 1), 2, 1)  # (1, 4, 9, 1): 4 channels of 9 values
    out_2d, _, _ = k.spatial_batchnorm_forward(maps, np.ones(4), np.zeros(4), np.zeros(4),
                                               np.ones(4))
    np.testing.assert_allclose(out_2d[0, :, :, 0].T, exact, rtol=1e-9, atol=1e-9)


@pytest.mark.w06_layernorm_forward
@pytest.mark.w06_layernorm_backward
@given(normalization_inputs(), st.sampled_from([1e-5, 1e-3]))
@settings(deadline=None)
def test_layernorm_matches_torch(data, eps):
    x, gamma, beta = data
    dout = np.random.default_rng(0).normal(size=x.shape)
    out, (dx, dgamma, dbeta) = _autograd(
        lambda a, g, b: F.layer_norm(a, (x.shape[1],), g, b, eps), dout, x, gamma, beta)
    np.testing.assert_allclose(k.layernorm_forward(x, gamma, beta, eps), out, rtol=1e-7,
                               atol=1e-8)
    got = k.layernorm_backward(dout, x, gamma, eps)
    scale = np.abs(dx).max() + 1
    np.testing.assert_allclose(got[0], dx, rtol=1e-6, atol=1e-9 * scale)
    np.testing.assert_allclose(got[1], dgamma, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(got[2], dbeta, rtol=1e-12, atol=1e-12)


# Maxout against autograd of the same maximum -----------------------------------------------
@pytest.mark.w06_maxout_forward
@pytest.mark.w06_maxout_backward
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4),
       st.integers(0, 2**16))
@settings(deadline=None)
def test_maxout_matches_autograd(n, d, h, pieces, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=(n, d)), rng.normal(size=(d, h, pieces)), rng.normal(size=(h, pieces))
    dout = rng.normal(size=(n, h))

    def torch_maxout(tx, tw, tb):
        z = (tx @ tw.reshape(d, h * pieces) + tb.reshape(-1)).reshape(n, h, pieces)
        return z.max(dim=2).values

    out, grads = _autograd(torch_maxout, dout, x, w, b)
    np.testing.assert_allclose(k.maxout_forward(x, w, b), out, rtol=1e-12, atol=1e-12)
    for mine, theirs in zip(k.maxout_backward(dout, x, w, b), grads, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.w06_maxout_forward
def test_maxout_with_a_zero_piece_is_relu():
    rng = np.random.default_rng(0)
    x, w1, b1 = rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    w = np.stack([w1, np.zeros_like(w1)], axis=2)
    b = np.stack([b1, np.zeros(3)], axis=1)
    np.testing.assert_allclose(k.maxout_forward(x, w, b), np.maximum(x @ w1 + b1, 0))


# Early stopping: properties from an independent formulation ----------------------------------
@pytest.mark.w06_early_stopping
@given(arrays(np.float64, st.integers(1, 25), elements=st.sampled_from([0.5, 0.6, 0.7, 0.8, 1.0])
              | st.floats(0, 2)), st.integers(1, 6))
@settings(deadline=None)
def test_early_stopping_agrees_with_the_argmin_formulation(losses, patience):
    best, stop = k.early_stopping(losses, patience)
    # Without min_delta: stop at the first epoch e that is `patience` epochs past the
    # (first) minimum of losses[:e+1]; the best epoch is that minimum.
    expected_stop = next((e for e in range(len(losses))
                          if e - int(np.argmin(losses[:e + 1])) >= patience), len(losses) - 1)
    assert stop == expected_stop
    assert best == int(np.argmin(losses[:stop + 1]))


@pytest.mark.w06_early_stopping
def test_early_stopping_min_delta_ignores_small_improvements():
    losses = np.array([1.0, 0.99, 0.98, 0.97, 0.5])
    assert k.early_stopping(losses, patience=3) == (4, 4)
    assert k.early_stopping(losses, patience=3, min_delta=0.05) == (0, 3)
