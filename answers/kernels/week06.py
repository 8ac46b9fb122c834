"""Week 6 reference kernels: regularization and normalization.

* L2 weight decay: a penalty ``reg/2 · ||w||²`` whose gradient ``reg · w`` shrinks weights.
* Inverted dropout: zero each unit with probability ``p`` while training and scale the
  survivors by ``1 / (1 - p)``, so evaluation needs no change at all.
* Batch normalization (statistics over the batch, running averages for evaluation), its
  spatial form for convolutional feature maps (statistics per channel over the batch and
  every position), and layer normalization (statistics over the features of each example).
* Maxout units: the maximum of ``k`` affine pieces.
* Early stopping: when to stop, from a validation curve.

Every function is pure: randomness (dropout's noise) and state (batch norm's running
statistics) are passed in and returned, so each call can be checked on fixed inputs.
"""

from __future__ import annotations

import numpy as np


# --------------------------------------------------------------------------------------
# L2 weight decay
# --------------------------------------------------------------------------------------
def l2_penalty(w: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """L2 penalty ``reg/2 · Σ w²`` and its gradient ``reg · w``.

    The ``1/2`` makes the gradient exactly ``reg · w``, which is what PyTorch's
    ``weight_decay=reg`` adds to each gradient. Penalize weights, not biases.

    Args:
        w: weights of any shape.
        reg: regularization strength ``λ >= 0``.

    Returns:
        ``(loss, dw)``: a float and an array shaped like ``w``.
    """
    return 0.5 * reg * float(np.sum(w * w)), reg * w


# --------------------------------------------------------------------------------------
# Inverted dropout
# --------------------------------------------------------------------------------------
def dropout_forward(x: np.ndarray, u: np.ndarray, p: float, train: bool = True) -> np.ndarray:
    """Inverted dropout.

    Training: unit ``i`` is kept when ``u[i] >= p`` (probability ``1 - p``) and scaled by
    ``1 / (1 - p)``, so that ``E[out] = x``; dropped units are 0. Evaluation: the identity
    (the scaling already happened during training, which is the point of *inverted*
    dropout).

    Args:
        x: activations, any shape.
        u: uniform noise in ``[0, 1)``, same shape as ``x`` (e.g. ``rng.random(x.shape)``);
            passing it in makes the mask reproducible and checkable.
        p: probability of *dropping* a unit, ``0 <= p < 1`` (PyTorch's convention).
        train: training (mask and scale) or evaluation (identity) mode.

    Returns:
        Same shape as ``x``.
    """
    if not train:
        return x.copy()
    return x * (u >= p) / (1 - p)


def dropout_backward(dout: np.ndarray, u: np.ndarray, p: float,
                     train: bool = True) -> np.ndarray:
    """Gradient of :func:`dropout_forward`: the same mask and scale applied to ``dout``.

    The forward pass is linear in ``x`` with a fixed mask, so its gradient is the mask
    itself (times ``1 / (1 - p)``); in evaluation mode it is the identity.

    Args:
        dout: upstream gradient, same shape as ``u``.
        u, p, train: as in the forward pass.
    """
    return dropout_forward(dout, u, p, train)


# --------------------------------------------------------------------------------------
# Batch normalization
# --------------------------------------------------------------------------------------
def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                      running_mean: np.ndarray, running_var: np.ndarray, train: bool = True,
                      momentum: float = 0.1, eps: float = 1e-5
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch normalization of ``(N, D)`` features, as ``torch.nn.BatchNorm1d``.

    Training: normalize each feature with the batch mean and the *biased* batch variance
    (``ddof=0``), then scale and shift: ``out = γ (x - μ_B) / sqrt(σ²_B + eps) + β``. The
    running statistics move towards the batch ones,
    ``running = (1 - momentum) · running + momentum · batch``, using the *unbiased*
    variance (``ddof=1``) for ``running_var``, exactly as PyTorch does.

    Evaluation: normalize with the running statistics (no dependence on the rest of the
    batch, so a single example gets a deterministic output); they are returned unchanged.

    Args:
        x: ``(N, D)``; ``N >= 2`` in training.
        gamma, beta: ``(D,)`` scale and shift.
        running_mean, running_var: ``(D,)`` running statistics (not modified in place).
        train: training or evaluation mode.
        momentum: weight of the current batch in the running averages.
        eps: added to the variance.

    Returns:
        ``(out (N, D), new_running_mean (D,), new_running_var (D,))``.
    """
    if not train:
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        return gamma * x_hat + beta, running_mean.copy(), running_var.copy()
    n = x.shape[0]
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    x_hat = (x - mean) / np.sqrt(var + eps)
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return gamma * x_hat + beta, new_mean, new_var


def _normalized_backward(dx_hat: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray,
                         axis: int) -> np.ndarray:
    """Gradient through ``x_hat = (x - mean) / std`` with statistics taken along ``axis``.

    ``mean`` and ``std`` depend on every entry they were computed from, so besides the
    direct path ``dx_hat / std`` the gradient loses its mean and its component along
    ``x_hat``: ``dx = (dx_hat - mean(dx_hat) - x_hat · mean(dx_hat · x_hat)) / std``.
    """
    mean_dx_hat = dx_hat.mean(axis=axis, keepdims=True)
    mean_projection = (dx_hat * x_hat).mean(axis=axis, keepdims=True)
    return (dx_hat - mean_dx_hat - x_hat * mean_projection) * inv_std


def batchnorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                       eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of training-mode :func:`batchnorm_forward` (batch statistics).

    Args:
        dout: ``(N, D)`` upstream gradient.
        x: ``(N, D)`` the forward pass's input.
        gamma: ``(D,)`` scale.
        eps: as in the forward pass.

    Returns:
        ``(dx (N, D), dgamma (D,), dbeta (D,))``.
    """
    inv_std = 1 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) * inv_std
    dx = _normalized_backward(dout * gamma, x_hat, inv_std, axis=0)
    return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)


# --------------------------------------------------------------------------------------
# Spatial batch normalization (convolutional feature maps)
# --------------------------------------------------------------------------------------
def _channels_last(x: np.ndarray) -> np.ndarray:
    """``(N, C, H, W) -> (N·H·W, C)``: one row per (example, position), one column per channel."""
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def _channels_first(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_channels_last` for an array of the original ``shape``."""
    n, c, h, w = shape
    return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)


def spatial_batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                              running_mean: np.ndarray, running_var: np.ndarray,
                              train: bool = True, momentum: float = 0.1, eps: float = 1e-5
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch normalization of ``(N, C, H, W)`` feature maps, as ``torch.nn.BatchNorm2d``.

    A convolution applies the same filter at every position, so every position of a channel
    is one more sample of the same feature: the statistics of channel ``c`` are taken over the
    batch *and* the positions (``N·H·W`` values), and ``γ_c``, ``β_c`` are shared by all of
    them. The variance is computed from centred values (two passes), so channels with a large
    common offset (1e6 ± 1) are normalized to full precision.

    Args:
        x: ``(N, C, H, W)``; ``N·H·W >= 2`` in training.
        gamma, beta: ``(C,)``.
        running_mean, running_var: ``(C,)`` (not modified in place).
        train, momentum, eps: as in :func:`batchnorm_forward` (the running variance is the
            unbiased one over the ``N·H·W`` values, as PyTorch's).

    Returns:
        ``(out (N, C, H, W), new_running_mean (C,), new_running_var (C,))``.
    """
    out, new_mean, new_var = batchnorm_forward(_channels_last(x), gamma, beta, running_mean,
                                               running_var, train, momentum, eps)
    return _channels_first(out, x.shape), new_mean, new_var


def spatial_batchnorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                               eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of training-mode :func:`spatial_batchnorm_forward`.

    Args:
        dout: ``(N, C, H, W)`` upstream gradient.
        x: ``(N, C, H, W)`` the forward pass's input.
        gamma: ``(C,)``.
        eps: as in the forward pass.

    Returns:
        ``(dx (N, C, H, W), dgamma (C,), dbeta (C,))``.
    """
    dx, dgamma, dbeta = batchnorm_backward(_channels_last(dout), _channels_last(x), gamma, eps)
    return _channels_first(dx, x.shape), dgamma, dbeta


# --------------------------------------------------------------------------------------
# Layer normalization
# --------------------------------------------------------------------------------------
def layernorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                      eps: float = 1e-5) -> np.ndarray:
    """Layer normalization over the last axis, as ``torch.nn.functional.layer_norm``.

    Each example is normalized with the mean and biased variance of *its own* features, so
    the result does not depend on the batch and training and evaluation are the same.

    Args:
        x: ``(N, D)``.
        gamma, beta: ``(D,)`` per-feature scale and shift.
        eps: added to the variance.

    Returns:
        ``(N, D)``.
    """
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def layernorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                       eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`layernorm_forward`: batch norm's algebra along the other axis.

    Args:
        dout: ``(N, D)`` upstream gradient.
        x: ``(N, D)`` the forward pass's input.
        gamma: ``(D,)``.
        eps: as in the forward pass.

    Returns:
        ``(dx (N, D), dgamma (D,), dbeta (D,))``.
    """
    inv_std = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=-1, keepdims=True)) * inv_std
    dx = _normalized_backward(dout * gamma, x_hat, inv_std, axis=-1)
    return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)


# --------------------------------------------------------------------------------------
# Maxout
# --------------------------------------------------------------------------------------
def _maxout_pieces(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The ``k`` affine pieces of every unit: ``(N, D) -> (N, H, k)``."""
    return np.einsum("nd,dhk->nhk", x, w) + b


def maxout_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Maxout layer: unit ``h`` outputs ``max_j (x · w[:, h, j] + b[h, j])``.

    A maxout unit learns its own convex, piecewise-linear activation; with ``k = 2`` and one
    piece fixed at 0 it is a ReLU.

    Args:
        x: ``(N, D)`` inputs.
        w: ``(D, H, k)`` weights of ``k`` pieces for each of ``H`` units.
        b: ``(H, k)`` biases.

    Returns:
        ``(N, H)``.
    """
    return _maxout_pieces(x, w, b).max(axis=-1)


def maxout_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`maxout_forward`: only each unit's winning piece gets ``dout``.

    Args:
        dout: ``(N, H)`` upstream gradient.
        x, w, b: the forward pass's inputs.

    Returns:
        ``(dx (N, D), dw (D, H, k), db (H, k))``.
    """
    pieces = _maxout_pieces(x, w, b)
    winner = pieces.argmax(axis=-1)[..., None]                     # (N, H, 1)
    dpieces = np.zeros_like(pieces)
    np.put_along_axis(dpieces, winner, dout[..., None], axis=-1)   # dout to the winners only
    dx = np.einsum("nhk,dhk->nd", dpieces, w)
    dw = np.einsum("nd,nhk->dhk", x, dpieces)
    return dx, dw, dpieces.sum(axis=0)


# --------------------------------------------------------------------------------------
# Early stopping
# --------------------------------------------------------------------------------------
def early_stopping(val_losses: np.ndarray, patience: int,
                   min_delta: float = 0.0) -> tuple[int, int]:
    """Replay early stopping on a validation-loss curve.

    An epoch *improves* when its loss is below the best so far by more than ``min_delta``.
    Training stops at the first epoch that ends ``patience`` consecutive epochs without
    improvement (or at the last epoch), and the weights of the best epoch are restored.

    Args:
        val_losses: ``(E,)`` validation loss after each epoch, epoch 0 first.
        patience: epochs without improvement tolerated, ``>= 1``.
        min_delta: smallest decrease that counts as an improvement.

    Returns:
        ``(best_epoch, stop_epoch)``, 0-based ints: the epoch whose weights are kept and the
        last epoch that was trained.
    """
    best, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(np.asarray(val_losses, dtype=float).tolist()):
        if loss < best - min_delta:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
