"""Week 8: windows, autoencoders and RBMs against independent oracles."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import logsumexp

from answers.kernels import week08 as k
from grader.plots import image_mosaic
from tests.strategies import rbm_problem

T = torch.from_numpy


# Windows and patches: torch's unfold ----------------------------------------------------------
@pytest.mark.w08_sliding_windows
def test_sliding_windows_of_a_string():
    windows = k.sliding_windows(np.array(list("ABCDE")), 3, 1)
    assert ["".join(w) for w in windows] == ["ABC", "BCD", "CDE"]
    assert ["".join(w) for w in k.sliding_windows(np.array(list("ABCDE")), 3, 2)] == ["ABC", "CDE"]


@pytest.mark.w08_sliding_windows
@given(st.integers(0, 12), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2))
def test_sliding_windows_match_torch_unfold(length, window, stride, features):
    x = np.arange(length * max(features, 1), dtype=np.float64).reshape(
        (length, features) if features else (length,))
    got = k.sliding_windows(x, window, stride)
    if length < window:
        assert got.shape == (0, window) + x.shape[1:]
        return
    expected = T(x).unfold(0, window, stride)  # (n, ..., window)
    np.testing.assert_array_equal(got, torch.movedim(expected, -1, 1).numpy())


@pytest.mark.w08_extract_patches
@given(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9), st.integers(1, 4),
       st.integers(1, 4))
def test_extract_patches_match_torch_unfold(n, height, width, size, stride):
    if size > min(height, width):
        return
    images = np.random.default_rng(0).random((n, height, width))
    columns = torch.nn.functional.unfold(T(images)[:, None], size, stride=stride)  # (N, s*s, L)
    n_h, n_w = (height - size) // stride + 1, (width - size) // stride + 1
    expected = columns.reshape(n, size, size, n_h, n_w).permute(0, 3, 4, 1, 2).numpy()
    np.testing.assert_array_equal(k.extract_patches(images, size, stride), expected)


# Autoencoder: torch autograd with binary_cross_entropy_with_logits ------------------------------
def _torch_autoencoder_loss(x, keep, W, b_h, b_v):
    h = torch.sigmoid((x * keep) @ W + b_h)
    logits = h @ W.T + b_v
    return torch.nn.functional.binary_cross_entropy_with_logits(
        logits, x, reduction="sum") / x.shape[0]


@pytest.mark.w08_autoencoder_loss
@pytest.mark.w08_autoencoder_gradients
@given(st.integers(1, 5), st.integers(1, 7), st.integers(1, 5), st.floats(0.0, 1.0),
       st.sampled_from([0.3, 3.0, 40.0]), st.integers(0, 2**16))
def test_autoencoder_matches_torch_autograd(n, d, h, keep_share, scale, seed):
    rng = np.random.default_rng(seed)
    x, keep = rng.random((n, d)), (rng.random((n, d)) < keep_share).astype(float)
    W, b_h, b_v = scale * rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=d)
    params = [T(p.copy()).requires_grad_() for p in (W, b_h, b_v)]
    loss = _torch_autoencoder_loss(T(x), T(keep), *params)
    loss.backward()
    assert k.autoencoder_loss(x, keep, W, b_h, b_v) == pytest.approx(loss.item(), rel=1e-10)
    for got, p in zip(k.autoencoder_gradients(x, keep, W, b_h, b_v), params, strict=True):
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-9, atol=1e-10)


# RBM: free energy by enumerating hidden states; CD gradient by autograd of free energies ------
@pytest.mark.w08_rbm_free_energy
@given(rbm_problem())
def test_free_energy_matches_sum_over_hidden_states(problem):
    v, W, b_h, b_v = problem
    hidden = np.array(list(itertools.product([0.0, 1.0], repeat=W.shape[1])))  # (2^H, H)
    # F(v) = -log Σ_h exp(-E(v, h)),  E(v, h) = -v·b_v - h·b_h - vᵀ W h
    minus_energy = (v @ b_v)[:, None] + hidden @ b_h + (v @ W) @ hidden.T  # (N, 2^H)
    np.testing.assert_allclose(k.rbm_free_energy(v, W, b_h, b_v),
                               -logsumexp(minus_energy, axis=1), rtol=1e-10, atol=1e-9)


@pytest.mark.w08_rbm_free_energy
def test_free_energy_stays_finite_for_huge_weights():
    rng = np.random.default_rng(0)
    v = np.ones((2, 3))
    assert np.all(np.isfinite(k.rbm_free_energy(v, 1e4 * rng.normal(size=(3, 2)), np.zeros(2),
                                                np.zeros(3))))


def _torch_free_energy(v, W, b_h, b_v):
    # torch.logaddexp, not F.softplus: softplus turns linear above 20, an approximation
    # whose gradient (exactly 1) differs from σ(a) by up to 2e-9.
    a = v @ W + b_h
    return -v @ b_v - torch.logaddexp(torch.zeros_like(a), a).sum(dim=1)


@pytest.mark.w08_cd_gradients
@given(rbm_problem(), st.integers(0, 2**16))
def test_cd_gradients_are_the_free_energy_difference_gradient(problem, seed):
    v0, W, b_h, b_v = problem
    vk = (np.random.default_rng(seed).random(v0.shape) < 0.5).astype(float)
    params = [T(p.copy()).requires_grad_() for p in (W, b_h, b_v)]
    (_torch_free_energy(T(v0), *params).mean() - _torch_free_energy(T(vk), *params).mean()).backward()
    for got, p in zip(k.cd_gradients(v0, vk, W, b_h, b_v), params, strict=True):
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.w08_gibbs_chain
@given(rbm_problem(), st.integers(1, 4), st.integers(0, 2**16))
def test_gibbs_chain_matches_a_torch_chain(problem, steps, seed):
    v0, W, b_h, b_v = problem
    rng = np.random.default_rng(seed)
    u_h, u_v = rng.random((steps,) + (len(v0), W.shape[1])), rng.random((steps,) + v0.shape)
    v, tW = T(v0), T(W)
    for t in range(steps):
        h = (T(u_h[t]) < torch.sigmoid(v @ tW + T(b_h))).double()
        p_v = torch.sigmoid(h @ tW.T + T(b_v))
        v = (T(u_v[t]) < p_v).double()
    got_v, got_p = k.gibbs_chain(v0, W, b_h, b_v, u_h, u_v)
    np.testing.assert_array_equal(got_v, v.numpy())
    np.testing.assert_allclose(got_p, p_v.numpy(), rtol=1e-12)


@pytest.mark.w08_gibbs_chain
def test_gibbs_chain_samples_have_the_right_frequencies():
    # One step from a fixed v0: the visible sample's mean over many chains approaches
    # E[p(v | h)] with h ~ p(h | v0), computed exactly by enumerating the 2^H hidden states.
    rng = np.random.default_rng(0)
    d, h, chains = 3, 2, 200_000
    W, b_h, b_v = rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=d)
    v0 = np.array([[1.0, 0.0, 1.0]])
    p_h = 1 / (1 + np.exp(-(v0 @ W + b_h)))[0]
    exact = np.zeros(d)
    for hidden in itertools.product([0.0, 1.0], repeat=h):
        hidden = np.array(hidden)
        weight = np.prod(np.where(hidden == 1, p_h, 1 - p_h))
        exact += weight / (1 + np.exp(-(W @ hidden + b_v)))
    v, _ = k.gibbs_chain(np.repeat(v0, chains, axis=0), W, b_h, b_v,
                         rng.random((1, chains, h)), rng.random((1, chains, d)))
    np.testing.assert_allclose(v.mean(axis=0), exact, atol=4 / np.sqrt(chains))


# Training: the pieces learn something, quickly -------------------------------------------------
def _bars(rng, n=400, side=4):
    """Binary images with one horizontal or vertical bar: a classic toy for RBMs."""
    images = np.zeros((n, side, side))
    for image, (vertical, position) in zip(images, rng.integers(0, [2, side], size=(n, 2))):
        if vertical:
            image[:, position] = 1
        else:
            image[position] = 1
    return images.reshape(n, -1)


def test_rbm_training_reduces_reconstruction_error_and_monitors_free_energy():
    rng = np.random.default_rng(0)
    x = _bars(rng)
    _, history = k.train_rbm(x, 8, epochs=15, rng=rng, lr=0.1, batch_size=20,
                             x_valid=_bars(rng, 50), progress=False)
    assert history["reconstruction_error"][-1] < 0.5 * history["reconstruction_error"][0]
    assert len(history["train_free_energy"]) == len(history["valid_free_energy"]) == 15


def test_denoising_autoencoder_training_reduces_the_loss():
    rng = np.random.default_rng(0)
    x = _bars(rng)
    _, history = k.train_autoencoder(x, 8, epochs=10, rng=rng, corruption=0.25, lr=0.05,
                                     batch_size=20, x_valid=_bars(rng, 50), progress=False)
    assert history["train_loss"][-1] < 0.7 * history["train_loss"][0]
    assert len(history["valid_loss"]) == 10


@pytest.mark.parametrize("method", ["rbm", "dae"])
def test_pretraining_experiment_runs_end_to_end(method):
    rng = np.random.default_rng(0)
    x = _bars(rng, 300)
    y = (x.reshape(-1, 4, 4)[:, 0].sum(axis=1) == 1).astype(int)  # vertical bar or not
    results = k.pretraining_experiment(x[:200], y[:200], x[200:], y[200:], label_counts=[20],
                                       seeds=[0, 1], sizes=[6, 4], pretrain_epochs=2,
                                       finetune_steps=30, method=method, progress=False)
    assert set(results["20"]) == {"pretrained + fine-tuned", "random init",
                                  "SVM on pretrained features", "SVM on pixels"}
    assert all(len(accuracies) == 2 and all(0 <= a <= 1 for a in accuracies)
               for accuracies in results["20"].values())


def test_network_gradients_match_torch():
    rng = np.random.default_rng(0)
    layers = k.random_stack(5, [4, 3], rng)
    params = k.network_from(layers, 3, rng)
    x, y = rng.random((6, 5)), rng.integers(0, 3, size=6)
    _, grads = k.network_loss_and_grads(params, x, y)
    tensors = [(T(W.copy()).requires_grad_(), T(b.copy()).requires_grad_()) for W, b in params]
    h = T(x)
    for W, b in tensors[:-1]:
        h = torch.sigmoid(h @ W + b)
    torch.nn.functional.cross_entropy(h @ tensors[-1][0] + tensors[-1][1], T(y)).backward()
    for (dW, db), (W, b) in zip(grads, tensors, strict=True):
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cached_run_trains_once_then_loads(tmp_path, capsys):
    calls = []

    def train():
        calls.append(1)
        return {"W": np.arange(3.0)}

    first = k.cached_run("toy", {"a": 1}, train, root=tmp_path)
    second = k.cached_run("toy", {"a": 1}, train, root=tmp_path)
    k.cached_run("toy", {"a": 2}, train, root=tmp_path)  # another config trains again
    assert len(calls) == 2 and np.array_equal(first["W"], second["W"])
    assert "loaded checkpoint" in capsys.readouterr().out


def test_image_mosaic_tiles_every_filter_in_one_image():
    filters = np.random.default_rng(0).normal(size=(5, 3, 4))
    filters[2] = 7.0  # a constant tile must not divide by zero
    fig = image_mosaic(filters, ncols=2, pad=1)
    (ax,) = fig.axes
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (3 * 4 - 1, 2 * 5 - 1)  # 3 rows and 2 columns of 3×4 tiles
    assert np.all((mosaic >= 0) & (mosaic <= 1))
    with pytest.raises(ValueError):
        image_mosaic(np.zeros((0, 2, 2)))
