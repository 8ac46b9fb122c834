"""Week 8 reference kernels: patches, autoencoders, RBMs and greedy layer-wise pre-training.

Notation shared by the autoencoder and the RBM, so that either one can initialise a layer of
a deep network: data ``x (N, D)`` in [0, 1], weights ``W (D, H)``, hidden biases ``b_h (H,)``
and visible biases ``b_v (D,)``. The *encoder* of both is ``σ(x W + b_h)``.

* Autoencoder with tied weights: ``h = σ(x̃ W + b_h)``, reconstruction ``σ(h Wᵀ + b_v)``;
  ``x̃`` is ``x`` for a plain autoencoder, a corrupted copy for a denoising one, and the
  loss always compares the reconstruction with the *clean* ``x``.
* Bernoulli RBM: energy ``E(v, h) = -v·b_v - h·b_h - vᵀ W h``; trained by contrastive
  divergence (CD-k). Random numbers are passed in as arrays (``u < p`` means "sample 1"),
  so every graded function is deterministic.

The last part (not graded) trains these models and runs the pre-training experiment of
``bench/bench_week08.py``: greedy layer-wise pre-training, then supervised fine-tuning of
the whole stack with a softmax head, or a linear SVM on the learned features.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from tqdm.auto import tqdm

from answers.kernels.week02 import sigmoid
from answers.kernels.week04 import (
    affine_backward,
    affine_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_cross_entropy,
)


# --------------------------------------------------------------------------------------
# Sliding windows and image patches
# --------------------------------------------------------------------------------------
def sliding_windows(x: np.ndarray, window: int, stride: int = 1) -> np.ndarray:
    """Every window of ``window`` consecutive items of ``x``, starting every ``stride`` items.

    ``"ABCDE"`` with window 3 and stride 1 gives ``ABC, BCD, CDE``; with stride 2, ``ABC, CDE``.
    A window that would run past the end is dropped.

    Args:
        x: ``(L, ...)``: a sequence along axis 0 (any trailing shape, any dtype).
        window: items per window, ``>= 1``.
        stride: distance between the starts of consecutive windows, ``>= 1``.

    Returns:
        ``(n, window, ...)`` with ``n = (L - window) // stride + 1`` (0 if ``L < window``);
        a new array.
    """
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be >= 1, got {window} and {stride}")
    if len(x) < window:
        return np.empty((0, window) + x.shape[1:], dtype=x.dtype)
    views = sliding_window_view(x, window, axis=0)[::stride]  # (n, ..., window)
    return np.moveaxis(views, -1, 1).copy()


def extract_patches(images: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Square ``size × size`` patches of gray images, taken every ``stride`` pixels.

    Args:
        images: ``(N, H, W)``.
        size: patch side; stride: step between patch corners, in both directions.

    Returns:
        ``(N, n_h, n_w, size, size)`` with ``n_h = (H - size) // stride + 1`` and likewise
        ``n_w``; ``patches[n, i, j]`` is ``images[n, i*stride : i*stride+size,
        j*stride : j*stride+size]``.
    """
    views = sliding_window_view(images, (size, size), axis=(1, 2))  # (N, H-s+1, W-s+1, s, s)
    return views[:, ::stride, ::stride].copy()


# --------------------------------------------------------------------------------------
# Autoencoder and denoising autoencoder (tied weights, cross-entropy reconstruction)
# --------------------------------------------------------------------------------------
def _softplus(z: np.ndarray) -> np.ndarray:
    """``log(1 + e^z)`` without overflow."""
    return np.logaddexp(0.0, z)


def autoencoder_loss(x: np.ndarray, keep_mask: np.ndarray, W: np.ndarray, b_h: np.ndarray,
                     b_v: np.ndarray) -> float:
    """Reconstruction cross-entropy of a (denoising) autoencoder with tied weights.

    The encoder reads the corrupted input ``x̃ = x ⊙ keep_mask`` (masking noise; all ones
    for a plain autoencoder); the loss compares the reconstruction with the clean ``x``:
    ``L = 1/N Σ_n Σ_d [softplus(z) - x z]`` with ``z = σ(x̃ W + b_h) Wᵀ + b_v`` the
    reconstruction's logits (binary cross-entropy from logits, finite for any ``z``).

    Args:
        x: ``(N, D)`` clean data in [0, 1]; keep_mask: ``(N, D)`` of 0/1;
        W: ``(D, H)``; b_h: ``(H,)``; b_v: ``(D,)``.

    Returns:
        The loss: the mean over examples of the per-example sum over pixels.
    """
    h = sigmoid((x * keep_mask) @ W + b_h)
    z = h @ W.T + b_v
    return float(np.sum(_softplus(z) - x * z) / x.shape[0])


def autoencoder_gradients(x: np.ndarray, keep_mask: np.ndarray, W: np.ndarray, b_h: np.ndarray,
                          b_v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`autoencoder_loss`.

    With tied weights ``W`` is used twice, by the encoder and (transposed) by the decoder,
    so its gradient is the sum of both contributions.

    Returns:
        ``(dW (D, H), db_h (H,), db_v (D,))``.
    """
    corrupted = x * keep_mask
    h, h_cache = sigmoid_forward(corrupted @ W + b_h)
    dz = (sigmoid(h @ W.T + b_v) - x) / x.shape[0]  # d(softplus(z) - x z)/dz = σ(z) - x
    dh = dz @ W
    da = sigmoid_backward(dh, h_cache)
    dW = corrupted.T @ da + dz.T @ h  # encoder + decoder
    return dW, da.sum(axis=0), dz.sum(axis=0)


# --------------------------------------------------------------------------------------
# Bernoulli RBM and contrastive divergence
# --------------------------------------------------------------------------------------
def rbm_free_energy(v: np.ndarray, W: np.ndarray, b_h: np.ndarray, b_v: np.ndarray) -> np.ndarray:
    """Free energy ``F(v) = -v·b_v - Σ_j softplus(b_h,j + (v W)_j)`` of each visible vector.

    Summing the hidden units out of ``exp(-E(v, h))`` gives ``p(v) ∝ exp(-F(v))``: low free
    energy means probable. ``softplus`` is computed stably (``np.logaddexp``).

    Args:
        v: ``(N, D)``; W: ``(D, H)``; b_h: ``(H,)``; b_v: ``(D,)``.

    Returns:
        ``(N,)``.
    """
    return -v @ b_v - _softplus(v @ W + b_h).sum(axis=1)


def gibbs_chain(v0: np.ndarray, W: np.ndarray, b_h: np.ndarray, b_v: np.ndarray,
                u_h: np.ndarray, u_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """k steps of block Gibbs sampling ``v → h → v``, the negative phase of CD-k.

    Step ``t`` samples ``h = (u_h[t] < σ(v W + b_h))`` then ``v = (u_v[t] < σ(h Wᵀ + b_v))``
    (as 0.0/1.0 floats); ``k = len(u_h)``.

    Args:
        v0: ``(N, D)`` start of the chain (the data).
        W, b_h, b_v: the RBM.
        u_h: ``(k, N, H)`` and u_v: ``(k, N, D)`` uniform random numbers in [0, 1).

    Returns:
        ``(v_k (N, D), p_v (N, D))``: the final visible sample and the probabilities it was
        drawn from.
    """
    v, p_v = v0, None
    for uniform_h, uniform_v in zip(u_h, u_v, strict=True):
        h = (uniform_h < sigmoid(v @ W + b_h)).astype(np.float64)
        p_v = sigmoid(h @ W.T + b_v)
        v = (uniform_v < p_v).astype(np.float64)
    return v, p_v


def cd_gradients(v0: np.ndarray, vk: np.ndarray, W: np.ndarray, b_h: np.ndarray,
                 b_v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The contrastive-divergence gradient: descend it to train the RBM.

    The log-likelihood gradient is a data term minus a model term; CD replaces the model's
    samples by the end ``vk`` of a short Gibbs chain started at the data ``v0``. As a
    gradient to *descend*, it is the gradient of ``mean F(v0) - mean F(vk)`` with ``vk``
    held fixed, using ``∂F/∂W = -vᵀ p(h|v)``:

    ``dW = -(v0ᵀ p(h|v0) - vkᵀ p(h|vk)) / N``, ``db_h = -mean(p(h|v0) - p(h|vk))``,
    ``db_v = -mean(v0 - vk)``.

    Args:
        v0: ``(N, D)`` data; vk: ``(N, D)`` negative samples (or their probabilities).

    Returns:
        ``(dW (D, H), db_h (H,), db_v (D,))``.
    """
    n = v0.shape[0]
    p0, pk = sigmoid(v0 @ W + b_h), sigmoid(vk @ W + b_h)
    return -(v0.T @ p0 - vk.T @ pk) / n, -(p0 - pk).mean(axis=0), -(v0 - vk).mean(axis=0)


# --------------------------------------------------------------------------------------
# Gaussian–Bernoulli RBM (real-valued visible units of unit variance)
# --------------------------------------------------------------------------------------
def grbm_free_energy(v: np.ndarray, W: np.ndarray, b_h: np.ndarray,
                     b_v: np.ndarray) -> np.ndarray:
    """Free energy of a Gaussian–Bernoulli RBM with unit-variance visible units.

    The energy is ``E(v, h) = ½‖v - b_v‖² - h·b_h - vᵀ W h`` with real ``v`` and binary ``h``;
    summing ``h`` out as for the binary RBM leaves ``F(v) = ½‖v - b_v‖² - Σ_j softplus(b_h,j
    + (v W)_j)``: the visible term is a quadratic bowl (a Gaussian) instead of a line.
    ``softplus`` is stable for logits in the thousands (unstandardized inputs).

    Args:
        v: ``(N, D)`` real-valued; W: ``(D, H)``; b_h: ``(H,)``; b_v: ``(D,)``.

    Returns:
        ``(N,)``.
    """
    return 0.5 * ((v - b_v) ** 2).sum(axis=1) - _softplus(v @ W + b_h).sum(axis=1)


def grbm_cd1_gradients(v0: np.ndarray, W: np.ndarray, b_h: np.ndarray, b_v: np.ndarray,
                       u_h: np.ndarray, noise: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CD-1 gradient (to descend) of a Gaussian–Bernoulli RBM, with the chain's randomness given.

    One Gibbs step from the data: ``h0 = (u_h < σ(v0 W + b_h))`` (0.0/1.0), then the
    reconstruction ``v1 = b_v + h0 Wᵀ + noise`` (a sample of ``N(b_v + W h0, I)``; ``noise``
    holds the standard normals). The gradient is that of ``mean F(v0) - mean F(v1)`` with
    ``v1`` held fixed, i.e. the positive phase uses the hidden *probabilities* of the data.

    Args:
        v0: ``(N, D)`` data; W, b_h, b_v: the GRBM.
        u_h: ``(N, H)`` uniforms in [0, 1); noise: ``(N, D)`` standard normals.

    Returns:
        ``(dW (D, H), db_h (H,), db_v (D,))``.
    """
    n = v0.shape[0]
    p0 = sigmoid(v0 @ W + b_h)
    h0 = (u_h < p0).astype(v0.dtype)
    v1 = b_v + h0 @ W.T + noise
    p1 = sigmoid(v1 @ W + b_h)
    return (v1.T @ p1 - v0.T @ p0) / n, (p1 - p0).mean(axis=0), (v1 - v0).mean(axis=0)


# --------------------------------------------------------------------------------------
# KL divergence between diagonal Gaussians
# --------------------------------------------------------------------------------------
def kl_gaussians(mu_p: np.ndarray, logvar_p: np.ndarray, mu_q: np.ndarray,
                 logvar_q: np.ndarray) -> np.ndarray:
    """``KL(p ‖ q)`` between diagonal Gaussians given by means and log-variances.

    ``KL = ½ Σ_d [log σ_q² - log σ_p² + σ_p²/σ_q² + (μ_p - μ_q)²/σ_q² - 1]``. The variance
    ratio is computed as ``exp(logvar_p - logvar_q)`` and the mean term as the square of the
    difference measured in q's standard deviations: the variances alone overflow (or
    underflow) for log-variances beyond ±709, and a tiny difference squared underflows, while
    the ratios are ordinary.

    Args:
        mu_p, logvar_p, mu_q, logvar_q: ``(N, D)`` (broadcastable).

    Returns:
        ``(N,)``, ≥ 0, 0 iff p = q; not symmetric in p and q.
    """
    terms = (logvar_q - logvar_p + np.exp(logvar_p - logvar_q)
             + ((mu_p - mu_q) * np.exp(-0.5 * logvar_q)) ** 2 - 1.0)
    return 0.5 * terms.sum(axis=-1)


# --------------------------------------------------------------------------------------
# Training (not graded): one layer at a time
# --------------------------------------------------------------------------------------
@dataclass
class Layer:
    """What pre-training leaves behind for one layer: ``W (D, H)``, ``b_h (H,)``, ``b_v (D,)``."""

    W: np.ndarray
    b_h: np.ndarray
    b_v: np.ndarray

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Hidden probabilities ``σ(x W + b_h)``: the features passed to the next layer."""
        return sigmoid(x @ self.W + self.b_h)

    def decode(self, h: np.ndarray) -> np.ndarray:
        """Visible probabilities ``σ(h Wᵀ + b_v)``: the reconstruction."""
        return sigmoid(h @ self.W.T + self.b_v)


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """``(fan_in, fan_out)`` weights uniform in ``±sqrt(6 / (fan_in + fan_out))`` (Glorot, 2010)."""
    limit = np.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def init_layer(x: np.ndarray, W: np.ndarray) -> Layer:
    """A layer for data ``x`` with initial weights ``W``: zero ``b_h``, ``b_v = logit(mean)``.

    Starting the visible biases at the data's log-odds (Hinton's practical guide, §8) makes
    the first reconstructions the average image instead of gray.
    """
    mean = np.clip(x.mean(axis=0), 1e-3, 1 - 1e-3)
    return Layer(W, np.zeros(W.shape[1]), np.log(mean / (1 - mean)))


def _sgd_momentum(layer: Layer, grads: tuple[np.ndarray, ...], velocity: list[np.ndarray],
                  lr: float, momentum: float, weight_decay: float) -> None:
    """In-place momentum step on ``(W, b_h, b_v)``; weight decay on ``W`` only."""
    params = (layer.W, layer.b_h, layer.b_v)
    for index, (param, grad) in enumerate(zip(params, grads)):
        if index == 0:
            grad = grad + weight_decay * param
        velocity[index] = momentum * velocity[index] - lr * grad
        param += velocity[index]


def train_rbm(x: np.ndarray, hidden: int, epochs: int, rng: np.random.Generator, k: int = 1,
              lr: float = 0.05, batch_size: int = 100, weight_decay: float = 2e-4,
              x_valid: np.ndarray | None = None,
              progress: bool = True) -> tuple[Layer, dict[str, list[float]]]:
    """Train a Bernoulli RBM with CD-k and momentum (0.5, then 0.9 after the first epoch).

    The data ``x`` (values in [0, 1]) is used as the visible probabilities of the positive
    phase; the chain starts from a binary sample of it. Monitored once per epoch, on 1,000
    training examples: the mean squared error of the one-step mean-field reconstruction
    ``σ(σ(vW + b_h)Wᵀ + b_v)`` (cheap, only a rough guide) and, when ``x_valid`` is given, the
    mean free energy of training and held-out data — a widening gap means the RBM starts to
    overfit (Hinton's guide, §6).

    Returns:
        ``(layer, history)`` with ``history["reconstruction_error"]`` and, with ``x_valid``,
        ``history["train_free_energy"]`` and ``history["valid_free_energy"]``.
    """
    layer = init_layer(x, 0.01 * rng.normal(size=(x.shape[1], hidden)))  # small, as in the guide
    velocity = [np.zeros_like(p) for p in (layer.W, layer.b_h, layer.b_v)]
    history: dict[str, list[float]] = {"reconstruction_error": []}
    monitor = x[rng.choice(len(x), size=min(len(x), 1000), replace=False)]
    for epoch in tqdm(range(epochs), desc=f"RBM {x.shape[1]}→{hidden}", disable=not progress):
        momentum = 0.5 if epoch == 0 else 0.9
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            v0 = x[order[start:start + batch_size]]
            sample = (rng.random(v0.shape) < v0).astype(np.float64)
            n = len(v0)
            # The chain's last visible *probabilities* are a less noisy negative phase than
            # its binary sample (Hinton's guide, §3.3).
            _, p_vk = gibbs_chain(sample, layer.W, layer.b_h, layer.b_v,
                                  rng.random((k, n, hidden)), rng.random((k, n, x.shape[1])))
            grads = cd_gradients(v0, p_vk, layer.W, layer.b_h, layer.b_v)
            _sgd_momentum(layer, grads, velocity, lr, momentum, weight_decay)
        reconstruction = layer.decode(layer.encode(monitor))
        history["reconstruction_error"].append(float(np.mean((monitor - reconstruction) ** 2)))
        if x_valid is not None:
            history.setdefault("train_free_energy", []).append(
                float(rbm_free_energy(monitor, layer.W, layer.b_h, layer.b_v).mean()))
            history.setdefault("valid_free_energy", []).append(
                float(rbm_free_energy(x_valid, layer.W, layer.b_h, layer.b_v).mean()))
    return layer, history


def train_autoencoder(x: np.ndarray, hidden: int, epochs: int, rng: np.random.Generator,
                      corruption: float = 0.0, lr: float = 0.01, batch_size: int = 100,
                      x_valid: np.ndarray | None = None,
                      progress: bool = True) -> tuple[Layer, dict[str, list[float]]]:
    """Train a tied-weight (denoising) autoencoder with SGD and momentum 0.9.

    ``corruption`` is the share of inputs set to 0 (masking noise), drawn afresh for every
    batch; 0 gives a plain autoencoder. The history holds, per epoch, the reconstruction
    cross-entropy (nats per image) of clean inputs: on training data and, with ``x_valid``,
    on held-out data.
    """
    layer = init_layer(x, glorot_uniform(x.shape[1], hidden, rng))
    velocity = [np.zeros_like(p) for p in (layer.W, layer.b_h, layer.b_v)]
    history: dict[str, list[float]] = {"train_loss": []}
    monitor = x[rng.choice(len(x), size=min(len(x), 1000), replace=False)]
    for _ in tqdm(range(epochs), desc=f"autoencoder {x.shape[1]}→{hidden}", disable=not progress):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = x[order[start:start + batch_size]]
            keep = (rng.random(batch.shape) >= corruption).astype(np.float64)
            grads = autoencoder_gradients(batch, keep, layer.W, layer.b_h, layer.b_v)
            _sgd_momentum(layer, grads, velocity, lr, momentum=0.9, weight_decay=0.0)
        ones = np.ones_like(monitor)
        history["train_loss"].append(autoencoder_loss(monitor, ones, layer.W, layer.b_h, layer.b_v))
        if x_valid is not None:
            history.setdefault("valid_loss", []).append(autoencoder_loss(
                x_valid, np.ones_like(x_valid), layer.W, layer.b_h, layer.b_v))
    return layer, history


def pretrain_stack(x: np.ndarray, sizes: list[int], epochs: int, rng: np.random.Generator,
                   method: str = "rbm", progress: bool = True) -> list[Layer]:
    """Greedy layer-wise pre-training: each layer learns to model the previous layer's features.

    Layer 1 is trained on ``x``; layer ``l + 1`` on ``layer_l.encode(...)`` of the data,
    with the lower layers frozen. No label is used.

    Args:
        method: ``"rbm"`` (CD-1) or ``"dae"`` (denoising autoencoder, 25% masking noise).
    """
    layers, features = [], x
    for hidden in sizes:
        if method == "rbm":
            layer, _ = train_rbm(features, hidden, epochs, rng, progress=progress)
        elif method == "dae":
            layer, _ = train_autoencoder(features, hidden, epochs, rng, corruption=0.25,
                                         progress=progress)
        else:
            raise ValueError(f"method must be 'rbm' or 'dae', got {method!r}")
        layers.append(layer)
        features = layer.encode(features)
    return layers


# --------------------------------------------------------------------------------------
# Supervised fine-tuning: the stack plus a softmax head, trained end to end
# --------------------------------------------------------------------------------------
Params = list[tuple[np.ndarray, np.ndarray]]


def random_stack(n_inputs: int, sizes: list[int], rng: np.random.Generator) -> list[Layer]:
    """The baseline: the same layers with Glorot-uniform weights and zero biases."""
    layers, fan_in = [], n_inputs
    for hidden in sizes:
        layers.append(Layer(glorot_uniform(fan_in, hidden, rng), np.zeros(hidden), np.zeros(fan_in)))
        fan_in = hidden
    return layers


def network_from(layers: list[Layer], n_classes: int, rng: np.random.Generator) -> Params:
    """Encoders of ``layers`` (copied) plus a softmax head with small random weights."""
    params = [(layer.W.copy(), layer.b_h.copy()) for layer in layers]
    return params + [(0.01 * rng.normal(size=(layers[-1].W.shape[1], n_classes)),
                      np.zeros(n_classes))]


def network_loss_and_grads(params: Params, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    """Softmax cross-entropy of a sigmoid network and its gradients (Week 4's layers)."""
    caches, h = [], x
    for W, b in params[:-1]:
        a, affine_cache = affine_forward(h, W, b)
        h, sigmoid_cache = sigmoid_forward(a)
        caches.append((affine_cache, sigmoid_cache))
    logits, head_cache = affine_forward(h, *params[-1])
    loss, dlogits = softmax_cross_entropy(logits, y)
    dh, dW, db = affine_backward(dlogits, head_cache)
    grads = [(dW, db)]
    for affine_cache, sigmoid_cache in reversed(caches):
        dh, dW, db = affine_backward(sigmoid_backward(dh, sigmoid_cache), affine_cache)
        grads.append((dW, db))
    return loss, grads[::-1]


def network_predict(params: Params, x: np.ndarray) -> np.ndarray:
    """Predicted classes ``(N,)``."""
    h = x
    for W, b in params[:-1]:
        h = sigmoid(h @ W + b)
    W, b = params[-1]
    return np.argmax(h @ W + b, axis=1)


def fine_tune(params: Params, x: np.ndarray, y: np.ndarray, steps: int,
              rng: np.random.Generator, lr: float = 0.1, momentum: float = 0.9,
              batch_size: int = 100) -> Params:
    """Train every layer on the labelled data: ``steps`` minibatch updates, SGD with momentum.

    The same schedule for every initialisation and every number of labels, so that only
    the starting point differs. Updates ``params`` in place and returns it.
    """
    velocity = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    order, position = rng.permutation(len(x)), 0
    for _ in range(steps):
        if position >= len(x):
            order, position = rng.permutation(len(x)), 0
        batch = order[position:position + batch_size]
        position += batch_size
        _, grads = network_loss_and_grads(params, x[batch], y[batch])
        for index, ((W, b), (dW, db)) in enumerate(zip(params, grads)):
            vW, vb = velocity[index]
            vW *= momentum
            vW -= lr * dW
            vb *= momentum
            vb -= lr * db
            W += vW
            b += vb
    return params


def stack_features(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    """The top layer's hidden probabilities: the learned representation of ``x``."""
    for layer in layers:
        x = layer.encode(x)
    return x


def balanced_subset(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_class`` random examples of every class (sorted)."""
    chosen = [rng.choice(np.flatnonzero(y == label), size=per_class, replace=False)
              for label in np.unique(y)]
    return np.sort(np.concatenate(chosen))


def pretraining_experiment(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                           y_test: np.ndarray, label_counts: list[int], seeds: list[int],
                           sizes: list[int], pretrain_epochs: int, finetune_steps: int,
                           method: str = "rbm", progress: bool = True
                           ) -> dict[str, dict[str, list[float]]]:
    """Pre-trained vs randomly initialised network, with few labels; test accuracies.

    For every seed: pre-train a stack on all of ``x_train`` without labels; then, for every
    number of labels, draw a class-balanced labelled subset of ``x_train`` and train
    (same architecture, same schedule) from the pre-trained weights and from random ones.
    Also fits a linear SVM (scikit-learn ``LinearSVC``) on the frozen pre-trained features
    and, as its baseline, on the raw pixels.

    Returns:
        ``results[str(n_labels)][name]``: one test accuracy per seed, for ``name`` in
        ``"pretrained + fine-tuned"``, ``"random init"``, ``"SVM on pretrained features"``,
        ``"SVM on pixels"``.
    """
    from sklearn.svm import LinearSVC

    n_classes = int(y_train.max()) + 1
    results: dict[str, dict[str, list[float]]] = {str(n): {} for n in label_counts}

    def record(n_labels: int, name: str, predictions: np.ndarray) -> None:
        results[str(n_labels)].setdefault(name, []).append(float(np.mean(predictions == y_test)))

    for seed in seeds:
        rng = np.random.default_rng(seed)
        stack = pretrain_stack(x_train, sizes, pretrain_epochs, rng, method, progress)
        test_features = stack_features(stack, x_test)
        for n_labels in label_counts:
            labelled = balanced_subset(y_train, n_labels // n_classes, rng)
            x, y = x_train[labelled], y_train[labelled]
            starts = {"pretrained + fine-tuned": stack,
                      "random init": random_stack(x.shape[1], sizes, rng)}
            for name, layers in starts.items():
                params = fine_tune(network_from(layers, n_classes, rng), x, y, finetune_steps, rng)
                record(n_labels, name, network_predict(params, x_test))
            for name, train_features, test_inputs in [
                    ("SVM on pretrained features", stack_features(stack, x), test_features),
                    ("SVM on pixels", x, x_test)]:
                svm = LinearSVC(C=1.0, max_iter=20_000).fit(train_features, y)
                record(n_labels, name, svm.predict(test_inputs))
    return results


# --------------------------------------------------------------------------------------
# Cached training runs for the lecture notebook
# --------------------------------------------------------------------------------------
def cached_run(name: str, config: dict, train: Callable[[], dict[str, np.ndarray]],
               root: str | Path | None = None) -> dict[str, np.ndarray]:
    """Load ``<data cache>/checkpoints/week08-<name>-<hash of config>.npz`` or train and save it.

    ``train()`` returns arrays (weights, histories); the file name depends on ``config``, so
    changing a setting (or fast mode) trains afresh instead of loading a stale run.
    """
    from grader.data import data_dir

    digest = hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]
    path = data_dir(root) / "checkpoints" / f"week08-{name}-{digest}.npz"
    if path.exists():
        print(f"loaded checkpoint {path}, skipping training (delete it to retrain)")
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    arrays = train()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)  # atomic: an interrupted run never leaves a half-written checkpoint
    print(f"saved checkpoint {path}")
    return arrays
