"""Week 5 reference kernels: update rules, learning-rate schedules, initialization, clipping.

Every update rule is a pure function ``(w, dw, *state, hyperparameters) -> (w_new,
*state_new)``: the optimizer's state (velocity, running averages) is passed in and returned
instead of hidden in an object, so one step can be checked on its own. Each follows
PyTorch's ``torch.optim`` formulas exactly (no weight decay, no dampening, not centered),
so starting from zero state and applying it step after step reproduces ``torch.optim``'s
trajectory to rounding error. The schedules match ``torch.optim.lr_scheduler``, the
initializations ``torch.nn.init`` and the clipping ``torch.nn.utils.clip_grad_norm_``.

Weight matrices use the course's layout ``(fan_in, fan_out)`` (``out = x @ w``), the
transpose of ``torch.nn.Linear.weight``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from answers.kernels.week04 import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_cross_entropy,
    tanh_backward,
    tanh_forward,
)


# --------------------------------------------------------------------------------------
# Update rules
# --------------------------------------------------------------------------------------
def sgd_step(w: np.ndarray, dw: np.ndarray, lr: float) -> np.ndarray:
    """Plain gradient descent: ``w - lr · dw``. Any shape."""
    return w - lr * dw


def momentum_step(w: np.ndarray, dw: np.ndarray, velocity: np.ndarray, lr: float,
                  momentum: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """SGD with (heavy-ball) momentum, PyTorch's form.

    ``v ← μ v + dw``, then ``w ← w - lr v``: the velocity is a decaying *sum of gradients*
    (not of steps), so changing ``lr`` mid-training rescales the whole step at once.
    Starting from ``v = 0`` equals PyTorch's first step, which sets ``v = dw``.

    Args:
        w: parameters, any shape.
        dw: gradient of the loss at ``w``, same shape.
        velocity: ``v`` from the previous step (zeros at the start), same shape.
        lr: learning rate.
        momentum: ``μ`` in [0, 1).

    Returns:
        ``(w_new, velocity_new)``.
    """
    velocity = momentum * velocity + dw
    return w - lr * velocity, velocity


def nesterov_step(w: np.ndarray, dw: np.ndarray, velocity: np.ndarray, lr: float,
                  momentum: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Nesterov momentum in PyTorch's form (``SGD(nesterov=True)``).

    ``v ← μ v + dw``, then ``w ← w - lr (dw + μ v)``: the step uses the gradient plus the
    *new* velocity once more, a look-ahead expressed at the current parameters (Sutskever
    et al., 2013, rewritten so no gradient is evaluated at a shifted point).

    Args and returns as in :func:`momentum_step`.
    """
    velocity = momentum * velocity + dw
    return w - lr * (dw + momentum * velocity), velocity


def rmsprop_step(w: np.ndarray, dw: np.ndarray, square_avg: np.ndarray, lr: float,
                 alpha: float = 0.99, eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """RMSProp, PyTorch's form: ``eps`` is added *outside* the square root.

    ``s ← α s + (1 - α) dw²``, then ``w ← w - lr · dw / (√s + eps)``: each coordinate's
    step is divided by the running root-mean-square of its gradients.

    Args:
        w, dw: parameters and gradient, same shape.
        square_avg: ``s`` from the previous step (zeros at the start).
        lr: learning rate.
        alpha: decay of the running average.
        eps: keeps the division finite where ``s`` is 0.

    Returns:
        ``(w_new, square_avg_new)``.
    """
    square_avg = alpha * square_avg + (1 - alpha) * dw * dw
    return w - lr * dw / (np.sqrt(square_avg) + eps), square_avg


def adam_step(w: np.ndarray, dw: np.ndarray, m: np.ndarray, v: np.ndarray, t: int,
              lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
              eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adam with bias correction (Kingma & Ba, 2015), PyTorch's form.

    ``m ← β₁ m + (1 - β₁) dw`` and ``v ← β₂ v + (1 - β₂) dw²`` are running averages started
    at 0, hence biased towards 0 early on; dividing by ``1 - βᵗ`` removes the bias:
    ``w ← w - lr · m̂ / (√v̂ + eps)`` with ``m̂ = m / (1 - β₁ᵗ)`` and ``v̂ = v / (1 - β₂ᵗ)``.

    Args:
        w, dw: parameters and gradient, same shape.
        m, v: first and second moment estimates from the previous step (zeros at the start).
        t: the number of this step, counted from 1.
        lr, beta1, beta2, eps: hyperparameters (PyTorch's defaults).

    Returns:
        ``(w_new, m_new, v_new)``.
    """
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw * dw
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


# --------------------------------------------------------------------------------------
# Learning-rate schedules: the learning rate after ``t`` calls of ``scheduler.step()``
# --------------------------------------------------------------------------------------
def step_lr(steps: np.ndarray, lr0: float, step_size: int, gamma: float = 0.1) -> np.ndarray:
    """``lr0 · γ^⌊t / step_size⌋``: divide by ``1/γ`` every ``step_size`` epochs (``StepLR``).

    Args:
        steps: integer array of epochs ``t >= 0``, any shape.
        lr0: the initial learning rate.
        step_size: epochs between two decays.
        gamma: decay factor.

    Returns:
        Float array of learning rates, ``steps``' shape.
    """
    return lr0 * gamma ** (np.asarray(steps) // step_size)


def exponential_lr(steps: np.ndarray, lr0: float, gamma: float) -> np.ndarray:
    """``lr0 · γᵗ``: decay by ``γ`` every epoch (``ExponentialLR``).

    Shapes as in :func:`step_lr`.
    """
    return lr0 * gamma ** np.asarray(steps, dtype=np.float64)


def cosine_lr(steps: np.ndarray, lr0: float, t_max: int, eta_min: float = 0.0) -> np.ndarray:
    """Cosine annealing from ``lr0`` to ``eta_min`` over ``t_max`` epochs (``CosineAnnealingLR``).

    ``eta_min + (lr0 - eta_min) · (1 + cos(π t / t_max)) / 2``: flat at the start, steepest
    half-way, flat again at the end. Past ``t_max`` the cosine rises again, as in PyTorch.

    Shapes as in :func:`step_lr`.
    """
    t = np.asarray(steps, dtype=np.float64)
    return eta_min + (lr0 - eta_min) * (1 + np.cos(np.pi * t / t_max)) / 2


# --------------------------------------------------------------------------------------
# Initialization: the scale that keeps activations (Xavier) or their ReLU halves (He) stable
# --------------------------------------------------------------------------------------
def xavier_uniform(u: np.ndarray) -> np.ndarray:
    """Glorot/Xavier uniform weights from uniform noise: ``U(-a, a)``, ``a = √(6 / (in + out))``.

    ``Var U(-a, a) = a² / 3 = 2 / (fan_in + fan_out)``: the compromise between keeping the
    forward activations' variance (``1/fan_in``) and the backward gradients' (``1/fan_out``).
    Same distribution as ``torch.nn.init.xavier_uniform_``.

    Args:
        u: ``(fan_in, fan_out)`` samples of ``U(0, 1)``.

    Returns:
        ``(fan_in, fan_out)`` weights ``a (2u - 1)``.
    """
    fan_in, fan_out = u.shape
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return bound * (2 * u - 1)


def he_normal(z: np.ndarray) -> np.ndarray:
    """He/Kaiming normal weights from standard normal noise: ``N(0, 2 / fan_in)``.

    A ReLU zeroes half of its inputs, halving the second moment; the factor 2 restores it,
    so the activations' scale stays constant through depth. Same distribution as
    ``torch.nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu")``.

    Args:
        z: ``(fan_in, fan_out)`` samples of ``N(0, 1)``.

    Returns:
        ``(fan_in, fan_out)`` weights ``z √(2 / fan_in)``.
    """
    return z * np.sqrt(2.0 / z.shape[0])


def xavier_uniform_init(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """A fresh ``(fan_in, fan_out)`` Xavier-uniform weight matrix."""
    return xavier_uniform(rng.random((fan_in, fan_out)))


def he_normal_init(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """A fresh ``(fan_in, fan_out)`` He-normal weight matrix."""
    return he_normal(rng.standard_normal((fan_in, fan_out)))


# --------------------------------------------------------------------------------------
# Gradient clipping
# --------------------------------------------------------------------------------------
def clip_grad_norm(*grads: np.ndarray, max_norm: float) -> tuple[np.ndarray, ...]:
    """Rescale all gradients together so their global L2 norm is at most ``max_norm``.

    The global norm treats every gradient as part of one long vector:
    ``‖g‖ = √(Σ_k ‖g_k‖²)``. When it exceeds ``max_norm`` every gradient is multiplied by
    the same factor ``max_norm / (‖g‖ + 1e-6)``, which keeps the update's *direction*;
    otherwise they are returned unchanged. Exactly ``torch.nn.utils.clip_grad_norm_``.

    Args:
        *grads: one or more gradient arrays, any shapes.
        max_norm: the largest allowed global norm.

    Returns:
        ``(*clipped_grads, total_norm)``: the gradients, in order, then their global norm
        *before* clipping (a float, useful to log exploding gradients).
    """
    total_norm = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    scale = min(1.0, max_norm / (total_norm + 1e-6))
    return *(g * scale for g in grads), total_norm



# --------------------------------------------------------------------------------------
# Critical points: the second-derivative test
# --------------------------------------------------------------------------------------
MINIMUM, MAXIMUM, SADDLE, INCONCLUSIVE = 0, 1, 2, 3


def classify_critical_point(hessians: np.ndarray, tol: float = 1e-8) -> np.ndarray:
    """Kind of each critical point from its Hessian: the second-derivative test.

    The kind is a property of the quadratic form ``q(v) = vᵀ H v``, which only the symmetric
    part ``(H + Hᵀ) / 2`` determines (an estimated Hessian — finite differences — is
    symmetric only approximately). With its eigenvalues ``λ``, an eigenvalue counts as zero
    when ``|λ| ≤ tol · max|λ|`` (relative, so that scaling ``f`` by any ``c > 0`` changes
    nothing; a zero Hessian has only zero eigenvalues):

    * ``SADDLE`` (2): some eigenvalue is clearly positive and another clearly negative — a
      descent direction exists, whatever the zero ones do;
    * ``MINIMUM`` (0) / ``MAXIMUM`` (1): all eigenvalues clearly positive / negative;
    * ``INCONCLUSIVE`` (3): some are zero and the rest share one sign (or none are left):
      higher derivatives decide (``x² + y⁴`` is a minimum, the monkey saddle is not).

    Args:
        hessians: ``(B, D, D)`` Hessians at ``B`` critical points.
        tol: relative tolerance for a zero eigenvalue.

    Returns:
        ``(B,)`` integer codes.
    """
    symmetric = 0.5 * (hessians + np.swapaxes(hessians, -1, -2))
    values = np.linalg.eigvalsh(symmetric)  # (B, D), ascending
    zero = np.abs(values) <= tol * np.max(np.abs(values), axis=-1, keepdims=True)
    positive = np.any((values > 0) & ~zero, axis=-1)
    negative = np.any((values < 0) & ~zero, axis=-1)
    degenerate = np.any(zero, axis=-1)
    kind = np.full(values.shape[0], INCONCLUSIVE)
    kind[positive & negative] = SADDLE
    kind[positive & ~negative & ~degenerate] = MINIMUM
    kind[negative & ~positive & ~degenerate] = MAXIMUM
    return kind


# --------------------------------------------------------------------------------------
# Deep MLPs for the vanishing/exploding-gradient experiment
# --------------------------------------------------------------------------------------
_ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}


def mlp_gradients(x: np.ndarray, y: np.ndarray, weights: Sequence[np.ndarray],
                  biases: Sequence[np.ndarray], activation: str = "relu"
                  ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """Loss and gradients of a deep MLP: ``(affine → activation) × (L-1) → affine → softmax CE``.

    Args:
        x: ``(N, D)`` inputs.
        y: ``(N,)`` integer labels.
        weights: ``L`` matrices, ``weights[l]`` of shape ``(d_l, d_{l+1})``.
        biases: ``L`` vectors, ``biases[l]`` of shape ``(d_{l+1},)``.
        activation: ``"relu"``, ``"sigmoid"`` or ``"tanh"``, after every layer but the last.

    Returns:
        ``(loss, dweights, dbiases)``, the gradients in the order of the layers.
    """
    forward, backward = _ACTIVATIONS[activation]
    caches = []
    h = x
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h, affine_cache = affine_forward(h, w, b)
        act_cache = None
        if layer < len(weights) - 1:
            h, act_cache = forward(h)
        caches.append((affine_cache, act_cache))
    loss, dh = softmax_cross_entropy(h, y)
    dweights, dbiases = [], []
    for affine_cache, act_cache in reversed(caches):
        if act_cache is not None:
            dh = backward(dh, act_cache)
        dh, dw, db = affine_backward(dh, affine_cache)
        dweights.append(dw)
        dbiases.append(db)
    return loss, dweights[::-1], dbiases[::-1]
