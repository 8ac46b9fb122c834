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


# Gaussian–Bernoulli RBM: exact free energy by enumeration, CD-1 by torch autograd ------------
def _real_problem(seed: int, n: int, d: int, h: int, scale: float):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)), scale * rng.normal(size=(d, h)), rng.normal(size=h),
            rng.normal(size=d))


@pytest.mark.w08_grbm_free_energy
@given(st.integers(0, 2**16), st.integers(1, 4), st.integers(1, 6), st.integers(1, 5),
       st.sampled_from([0.1, 1.0, 10.0]))
def test_grbm_free_energy_matches_sum_over_hidden_states(seed, n, d, h, scale):
    v, W, b_h, b_v = _real_problem(seed, n, d, h, scale)
    hidden = np.array(list(itertools.product([0.0, 1.0], repeat=h)))       # (2^H, H)
    # E(v, h) = ½‖v - b_v‖² - h·b_h - vᵀ W h, summed over every binary h
    energy = 0.5 * ((v - b_v) ** 2).sum(axis=1)[:, None] - hidden @ b_h - (v @ W) @ hidden.T
    np.testing.assert_allclose(k.grbm_free_energy(v, W, b_h, b_v),
                               -logsumexp(-energy, axis=1), rtol=1e-10, atol=1e-9)


@pytest.mark.w08_grbm_free_energy
def test_grbm_marginal_from_free_energy_integrates_like_the_joint():
    # One visible unit: ∫ e^(-F(v)) dv = Σ_h ∫ e^(-E(v, h)) dv = Σ_h √(2π) e^(-E_h) in closed
    # form (a Gaussian integral per hidden state), computed here by quadrature on the left.
    from scipy.integrate import quad
    _, W, b_h, b_v = _real_problem(4, 1, 1, 3, 1.0)
    z_quad = quad(lambda x: np.exp(-k.grbm_free_energy(np.array([[x]]), W, b_h, b_v)[0]),
                  -np.inf, np.inf, epsabs=0, epsrel=1e-11)[0]
    hidden = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    mean = b_v[0] + hidden @ W[0]                  # v | h ~ N(b_v + W h, 1)
    z_exact = np.sum(np.sqrt(2 * np.pi) * np.exp(0.5 * mean ** 2 - 0.5 * b_v[0] ** 2 + hidden @ b_h))
    np.testing.assert_allclose(z_quad, z_exact, rtol=1e-9)


@pytest.mark.w08_grbm_free_energy
def test_grbm_free_energy_exact_far_from_zero():
    rng = np.random.default_rng(1)
    b_v = 1e7 + rng.normal(size=4)
    delta = rng.normal(size=(2, 4))
    got = k.grbm_free_energy(b_v + delta, np.zeros((4, 2)), np.zeros(2), b_v)
    np.testing.assert_allclose(got, 0.5 * ((b_v + delta - b_v) ** 2).sum(axis=1) - 2 * np.log(2),
                               rtol=1e-12)
    assert np.all(np.isfinite(k.grbm_free_energy(255 * np.ones((2, 3)), 50 * rng.normal(size=(3, 2)),
                                                 np.zeros(2), np.zeros(3))))


@pytest.mark.w08_grbm_cd1_gradients
@given(st.integers(0, 2**16), st.integers(1, 5), st.integers(1, 6), st.integers(1, 5),
       st.sampled_from([0.1, 1.0, 5.0]))
def test_grbm_cd1_is_the_free_energy_difference_gradient(seed, n, d, h, scale):
    v0, W, b_h, b_v = _real_problem(seed, n, d, h, scale)
    rng = np.random.default_rng(seed + 1)
    u_h, noise = rng.random((n, h)), rng.normal(size=(n, d))
    # the chain in torch: h0 ~ Bernoulli(σ(v0 W + b_h)), v1 ~ N(b_v + W h0, I)
    h0 = (T(u_h) < torch.sigmoid(T(v0) @ T(W) + T(b_h))).double()
    v1 = T(b_v) + h0 @ T(W).T + T(noise)
    params = [T(p.copy()).requires_grad_() for p in (W, b_h, b_v)]

    def free_energy(v, W_, b_h_, b_v_):
        a = v @ W_ + b_h_
        return 0.5 * ((v - b_v_) ** 2).sum(dim=1) - torch.logaddexp(torch.zeros_like(a), a).sum(dim=1)

    (free_energy(T(v0), *params).mean() - free_energy(v1, *params).mean()).backward()
    for got, p in zip(k.grbm_cd1_gradients(v0, W, b_h, b_v, u_h, noise), params, strict=True):
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-9, atol=1e-12)


# KL between Gaussians: numerical integration (SciPy) and torch.distributions ------------------
@pytest.mark.w08_kl_gaussians
@pytest.mark.parametrize("seed", range(4))
def test_kl_gaussians_matches_numerical_integration(seed):
    from scipy.integrate import quad
    from scipy.stats import norm
    rng = np.random.default_rng(seed)
    mu_p, mu_q = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    lv_p, lv_q = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    expected = np.zeros(2)
    for i, j in itertools.product(range(2), range(3)):
        p = norm(mu_p[i, j], np.exp(0.5 * lv_p[i, j]))
        q = norm(mu_q[i, j], np.exp(0.5 * lv_q[i, j]))
        expected[i] += quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), -np.inf, np.inf,
                            epsabs=1e-13, epsrel=1e-11)[0]
    np.testing.assert_allclose(k.kl_gaussians(mu_p, lv_p, mu_q, lv_q), expected, rtol=1e-8,
                               atol=1e-10)


@pytest.mark.w08_kl_gaussians
def test_kl_gaussians_matches_torch_and_is_asymmetric():
    rng = np.random.default_rng(7)
    mu_p, mu_q, lv_p, lv_q = rng.normal(size=(4, 5, 2))
    p = torch.distributions.Normal(T(mu_p), T(np.exp(0.5 * lv_p)))
    q = torch.distributions.Normal(T(mu_q), T(np.exp(0.5 * lv_q)))
    np.testing.assert_allclose(k.kl_gaussians(mu_p, lv_p, mu_q, lv_q),
                               torch.distributions.kl_divergence(p, q).sum(-1).numpy(), rtol=1e-12)
    assert not np.allclose(k.kl_gaussians(mu_p, lv_p, mu_q, lv_q), k.kl_gaussians(mu_q, lv_q, mu_p, lv_p))
    np.testing.assert_array_equal(k.kl_gaussians(mu_p, lv_p, mu_p, lv_p), 0.0)


@pytest.mark.w08_kl_gaussians
def test_kl_gaussians_is_shift_and_scale_invariant_at_extreme_log_variances():
    # KL is invariant under x → a x + b: log-variances shifted by ±750 (variances 0 or inf in
    # float64) with means scaled alike give the KL of the ordinary pair.
    rng = np.random.default_rng(8)
    mu_p, mu_q, lv_p, lv_q = rng.normal(size=(4, 3, 2))
    ordinary = k.kl_gaussians(mu_p, lv_p, mu_q, lv_q)
    for shift in (-750.0, 750.0):
        scale = np.exp(0.5 * shift)
        with np.errstate(all="raise"):
            got = k.kl_gaussians(scale * mu_p, lv_p + shift, scale * mu_q, lv_q + shift)
        np.testing.assert_allclose(got, ordinary, rtol=1e-10)
