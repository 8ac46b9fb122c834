"""Week 7: convolution and pooling kernels against PyTorch; LeNet-5."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from answers.kernels import week07 as k
from tests.strategies import conv_problems, pool_problems



def _torch_conv(x, w, b, stride, pad, dout):
    """Output and (dx, dw, db) of torch's conv2d with the same weights, via autograd."""
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
    grads = torch.autograd.grad(out, (tx, tw, tb), torch.from_numpy(dout))
    return out.detach().numpy(), [g.numpy() for g in grads]


def _dout_for(x, w, stride, pad, seed=0):
    out_h = (x.shape[2] + 2 * pad - w.shape[2]) // stride + 1
    out_w = (x.shape[3] + 2 * pad - w.shape[3]) // stride + 1
    return np.random.default_rng(seed).normal(size=(x.shape[0], w.shape[0], out_h, out_w))


# Oracles: torch.nn.functional, never the kernels themselves -------------------------------
@pytest.mark.w07_conv2d_forward
@pytest.mark.w07_conv2d_backward
@given(conv_problems())
@settings(max_examples=60, deadline=None)
def test_fast_conv_matches_torch(problem):
    x, w, b, stride, pad = problem
    dout = _dout_for(x, w, stride, pad)
    expected, (dx, dw, db) = _torch_conv(x, w, b, stride, pad, dout)
    np.testing.assert_allclose(k.conv2d_forward(x, w, b, stride, pad), expected,
                               rtol=1e-10, atol=1e-10)
    got = k.conv2d_backward(dout, x, w, b, stride, pad)
    for mine, theirs in zip(got, (dx, dw, db), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.w07_conv2d_forward_naive
@pytest.mark.w07_conv2d_backward_naive
@given(conv_problems(max_n=2, max_side=7))
@settings(max_examples=25, deadline=None)
def test_naive_conv_matches_torch(problem):
    x, w, b, stride, pad = problem
    dout = _dout_for(x, w, stride, pad)
    expected, (dx, dw, db) = _torch_conv(x, w, b, stride, pad, dout)
    np.testing.assert_allclose(k.conv2d_forward_naive(x, w, b, stride, pad), expected,
                               rtol=1e-10, atol=1e-10)
    got = k.conv2d_backward_naive(dout, x, w, b, stride, pad)
    for mine, theirs in zip(got, (dx, dw, db), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.w07_conv2d_forward
def test_float32_conv_stays_float32_and_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6, 14, 14)).astype(np.float32)
    w = rng.normal(size=(16, 6, 5, 5)).astype(np.float32)
    b = rng.normal(size=16).astype(np.float32)
    dout = _dout_for(x, w, 1, 0).astype(np.float32)
    out = k.conv2d_forward(x, w, b)
    grads = k.conv2d_backward(dout, x, w, b)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    expected, torch_grads = _torch_conv(x, w, b, 1, 0, dout)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    for mine, theirs in zip(grads, torch_grads, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-3, atol=1e-3)


@pytest.mark.w07_im2col
@given(conv_problems())
@settings(max_examples=60, deadline=None)
def test_im2col_matches_torch_unfold_and_col2im_is_fold(problem):
    x, w, _, stride, pad = problem
    kh, kw = w.shape[2:]
    cols = k.im2col(x, kh, kw, stride, pad)
    expected = F.unfold(torch.from_numpy(x), (kh, kw), padding=pad, stride=stride).numpy()
    np.testing.assert_array_equal(cols, expected)
    # col2im is the adjoint of im2col: torch's fold, cropped to the unpadded input.
    back = k.col2im(cols, x.shape, kh, kw, stride, pad)
    padded = (x.shape[2] + 2 * pad, x.shape[3] + 2 * pad)
    folded = F.fold(torch.from_numpy(cols), padded, (kh, kw), stride=stride).numpy()
    np.testing.assert_allclose(back, folded[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]],
                               rtol=1e-12, atol=1e-12)


@pytest.mark.w07_conv_output_size
@given(conv_problems(max_n=1, max_c=1, max_f=1))
@settings(max_examples=60, deadline=None)
def test_conv_output_size_matches_torch(problem):
    x, w, b, stride, pad = problem
    out = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                   stride=stride, padding=pad)
    assert k.conv_output_size(x.shape[2], w.shape[2], stride, pad) == out.shape[2]
    assert k.conv_output_size(x.shape[3], w.shape[3], stride, pad) == out.shape[3]


@pytest.mark.w07_conv_output_size
def test_conv_output_size_rejects_a_kernel_that_does_not_fit():
    with pytest.raises(ValueError):
        k.conv_output_size(3, 5, pad=0)


@pytest.mark.w07_maxpool_forward
@pytest.mark.w07_maxpool_backward
@given(pool_problems())
@settings(max_examples=80, deadline=None)
def test_maxpool_matches_torch_including_ties(problem):
    x, pool, stride, _ = problem
    tx = torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(tx, pool, stride)
    dout = np.random.default_rng(1).normal(size=tuple(out.shape))
    out.backward(torch.from_numpy(dout))
    np.testing.assert_array_equal(k.maxpool_forward(x, pool, stride), out.detach().numpy())
    np.testing.assert_allclose(k.maxpool_backward(dout, x, pool, stride), tx.grad.numpy(),
                               rtol=1e-12, atol=1e-12)



@pytest.mark.w07_lp_pool_forward
@given(pool_problems(), st.sampled_from([1.0, 1.5, 2.0, 3.0, 7.0, 20.0]))
@settings(max_examples=80, deadline=None)
def test_lp_pool_matches_torch_lp_pool2d(problem, p):
    x, pool, stride, _ = problem
    expected = F.lp_pool2d(torch.from_numpy(np.abs(x)), p, pool, stride).numpy()
    np.testing.assert_allclose(k.lp_pool_forward(x, p, pool, stride), expected,
                               rtol=1e-10, atol=1e-12)



@pytest.mark.w07_lp_pool_backward
@given(pool_problems(), st.sampled_from([1.5, 2.0, 3.0, 7.0, 20.0]))
@settings(max_examples=80, deadline=None)
def test_lp_pool_backward_matches_torch_autograd(problem, p):
    x, pool, stride, _ = problem
    x = x + 0.5 * np.sign(x) + (x == 0)          # no zeros: |x| is differentiable everywhere
    tx = torch.tensor(x, requires_grad=True)
    out = F.lp_pool2d(tx.abs(), p, pool, stride)
    dout = np.random.default_rng(2).normal(size=tuple(out.shape))
    out.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(k.lp_pool_backward(dout, x, p, pool, stride), tx.grad.numpy(),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.w07_lp_pool_backward
def test_lp_pool_backward_large_p_tends_to_max_pooling_and_zero_windows_pass_nothing():
    x = np.random.default_rng(4).random((2, 2, 6, 6)) + 0.1
    dout = np.random.default_rng(5).normal(size=(2, 2, 3, 3))
    tx = torch.tensor(x, requires_grad=True)
    F.max_pool2d(tx, 2, 2).backward(torch.from_numpy(dout))
    np.testing.assert_allclose(k.lp_pool_backward(dout, x, 5000.0, 2, 2), tx.grad.numpy(), atol=1e-6)
    x[:, :, :2, :2] = 0.0
    dx = k.lp_pool_backward(dout, x, 4.0, 2, 2)
    assert np.all(np.isfinite(dx)) and np.all(dx[:, :, :2, :2] == 0)


@pytest.mark.w07_lp_pool_forward
def test_lp_pool_limits_are_sum_and_max_pooling():
    x = np.random.default_rng(3).random((2, 3, 7, 6))
    sum_pool = 9 * F.avg_pool2d(torch.from_numpy(x), 3, 2).numpy()
    max_pool = F.max_pool2d(torch.from_numpy(x), 3, 2).numpy()
    np.testing.assert_allclose(k.lp_pool_forward(x, 1.0, 3, 2), sum_pool, rtol=1e-12)
    # ||w||_∞ ≤ ||w||_p ≤ n^(1/p) ||w||_∞: within a factor 9^(1/p) of max pooling
    for p in (50.0, 1e4):
        got = k.lp_pool_forward(x, p, 3, 2)
        assert np.all(got >= max_pool * (1 - 1e-12))
        assert np.all(got <= max_pool * 9 ** (1 / p) * (1 + 1e-12))


@pytest.mark.w07_lp_pool_forward
def test_lp_pool_large_p_is_finite_where_torch_overflows():
    x = np.full((1, 1, 2, 2), 10.0)
    x[0, 0, 0, 0] = 0.0
    with np.errstate(over="ignore"):
        assert not np.isfinite(F.lp_pool2d(torch.from_numpy(x), 400.0, 2).item())
    np.testing.assert_allclose(k.lp_pool_forward(x, 400.0, 2, 2), 10 * 3 ** (1 / 400), rtol=1e-12)
    assert k.lp_pool_forward(np.zeros((1, 1, 4, 4)), 5.0, 2, 2).tolist() == [[[[0.0, 0.0],
                                                                             [0.0, 0.0]]]]


def _empirical_receptive_field(kernels, strides) -> int:
    """Oracle: the input pixels that the gradient of one output unit reaches, in torch."""
    jumps = np.cumprod([1, *strides[:-1]])
    size = int(np.prod(strides)) * 4 + int(np.sum(np.array(kernels) * jumps)) + 4
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    h = x
    for kernel, stride in zip(kernels, strides, strict=True):
        h = F.conv2d(h, torch.ones(1, 1, kernel, kernel, dtype=torch.float64), stride=stride)
    h[0, 0, h.shape[2] // 2, h.shape[3] // 2].backward()
    rows = np.flatnonzero(x.grad[0, 0].abs().sum(axis=1).numpy())
    return int(rows[-1] - rows[0] + 1)


@pytest.mark.w07_receptive_field
@pytest.mark.parametrize("kernels, strides", [
    ([5], [1]), ([3, 3], [1, 1]), ([5, 2, 5, 2], [1, 2, 1, 2]), ([11, 3, 3], [4, 1, 1]),
    ([1, 1], [2, 1]), ([3, 3, 3, 3], [2, 2, 2, 2]), ([7, 3, 1, 5], [2, 1, 3, 1])])
def test_receptive_field_matches_the_gradient_footprint(kernels, strides):
    assert k.receptive_field(np.array(kernels), np.array(strides)) == \
        _empirical_receptive_field(kernels, strides)


# LeNet-5 ------------------------------------------------------------------------------------
def _torch_lenet_logits(p, x):
    h = F.max_pool2d(F.relu(F.conv2d(x, p["conv1_w"], p["conv1_b"], padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p["conv2_w"], p["conv2_b"])), 2).flatten(1)
    h = F.relu(h @ p["fc1_w"] + p["fc1_b"])
    h = F.relu(h @ p["fc2_w"] + p["fc2_b"])
    return h @ p["fc3_w"] + p["fc3_b"]


def test_lenet_parameter_count_matches_torch_lenet():
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.MaxPool2d(2), torch.nn.Conv2d(6, 16, 5),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(400, 120),
        torch.nn.Linear(120, 84), torch.nn.Linear(84, 10))
    params = k.lenet_init(0)
    assert sum(p.size for p in params.values()) == sum(p.numel() for p in model.parameters())
    assert {n: p.shape for n, p in params.items()} == k.LENET_SHAPES
    assert all(p.dtype == np.float32 for p in params.values())


def test_lenet_loss_and_gradients_match_torch_autograd():
    params = k.lenet_init(1, dtype=np.float64)
    for name in params:  # non-zero biases, so their gradients are tested too
        if name.endswith("_b"):
            params[name] += 0.1 * np.random.default_rng(2).normal(size=params[name].shape)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5, 1, 28, 28)), rng.integers(0, 10, size=5)
    loss, grads = k.lenet_loss(params, x, y)
    tp = {n: torch.tensor(v, requires_grad=True) for n, v in params.items()}
    torch_loss = F.cross_entropy(_torch_lenet_logits(tp, torch.from_numpy(x)), torch.from_numpy(y))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, tp[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_train_lenet_follows_torch_adam_step_by_step():
    """Two epochs of 3 batches in float64: the same trajectory as torch.optim.Adam."""
    from grader.data import minibatches
    from answers.kernels.week05 import cosine_lr

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 1, 28, 28)), rng.integers(0, 10, size=24)
    params, history = k.train_lenet(x, y, x[:8], y[:8], epochs=2, batch_size=8, lr=1e-3,
                                    seed=5, progress=False)
    assert set(history) == {"train_loss", "train_acc", "test_acc", "seconds"}
    assert all(len(v) == 2 for v in history.values())

    tp = {n: torch.tensor(v, requires_grad=True) for n, v in k.lenet_init(5, np.float64).items()}
    optimizer = torch.optim.Adam(tp.values(), lr=1e-3)
    rates = cosine_lr(np.arange(6), 1e-3, 6)
    order, step = np.random.default_rng(5), 0
    for _ in range(2):
        for xb, yb in minibatches(x, y, 8, seed=order):
            optimizer.param_groups[0]["lr"] = float(rates[step])
            step += 1
            logits = _torch_lenet_logits(tp, torch.from_numpy(xb))
            loss = F.cross_entropy(logits, torch.from_numpy(yb))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for name, value in params.items():
        np.testing.assert_allclose(value, tp[name].detach().numpy(), rtol=1e-7, atol=1e-9,
                                   err_msg=name)


def test_lenet_checkpoint_round_trip(tmp_path):
    params = k.lenet_init(0)
    history = {"test_acc": [0.5, 0.6]}
    path = k.save_lenet(tmp_path / "ckpt" / "lenet.npz", params, history, mean=0.28, std=0.35)
    loaded, loaded_history, info = k.load_lenet(path)
    assert loaded_history == history and info == {"mean": 0.28, "std": 0.35}
    for name, value in params.items():
        np.testing.assert_array_equal(loaded[name], value)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_lenet_checkpoint_lives_in_the_data_cache(tmp_path):
    expected = tmp_path / "checkpoints" / "lenet5-fashion-mnist.npz"
    assert k.lenet_checkpoint_path(tmp_path) == expected
