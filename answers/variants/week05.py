"""Week 5 alternatives (must pass) and mutants (must fail)."""

from answers.variants import Variant

ALTERNATIVES = [
    Variant("w05_sgd_step", "copy, then update in place", '''
def sgd_step(w, dw, lr):
    w_new = np.array(w, dtype=float, copy=True)
    w_new -= lr * dw
    return w_new
'''),
    Variant("w05_momentum_step", "dw + momentum * velocity, np.subtract", '''
def momentum_step(w, dw, velocity, lr, momentum=0.9):
    velocity_new = dw + momentum * velocity
    return np.subtract(w, lr * velocity_new), velocity_new
'''),
    Variant("w05_nesterov_step", "expanded: (1 + μ) dw + μ² v", '''
def nesterov_step(w, dw, velocity, lr, momentum=0.9):
    step = (1 + momentum) * dw + momentum**2 * velocity
    return w - lr * step, momentum * velocity + dw
'''),
    Variant("w05_rmsprop_step", "running average written as s + (1 - α)(dw² - s)", '''
def rmsprop_step(w, dw, square_avg, lr, alpha=0.99, eps=1e-8):
    s = square_avg + (1 - alpha) * (dw**2 - square_avg)
    return w - lr * dw / (s**0.5 + eps), s
'''),
    Variant("w05_adam_step", "PyTorch's arrangement: step size lr / (1 - β₁ᵗ), √v / √(1 - β₂ᵗ)", '''
def adam_step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw * dw
    step_size = lr / (1 - beta1**t)
    denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
    return w - step_size * m / denom, m, v
'''),
    Variant("w05_step_lr", "np.floor of a float division", '''
def step_lr(steps, lr0, step_size, gamma=0.1):
    return lr0 * np.power(gamma, np.floor(np.asarray(steps) / step_size))
'''),
    Variant("w05_exponential_lr", "exp(t log γ)", '''
def exponential_lr(steps, lr0, gamma):
    return lr0 * np.exp(np.asarray(steps) * np.log(gamma))
'''),
    Variant("w05_cosine_lr", "cos² form: eta_min + (lr0 - eta_min) cos²(π t / 2 t_max)", '''
def cosine_lr(steps, lr0, t_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * np.cos(np.pi * np.asarray(steps) / (2 * t_max)) ** 2
'''),
    Variant("w05_xavier_uniform", "shift and scale: -a + 2a u", '''
def xavier_uniform(u):
    a = (6 / sum(u.shape)) ** 0.5
    return -a + 2 * a * u
'''),
    Variant("w05_he_normal", "divide by sqrt(fan_in / 2)", '''
def he_normal(z):
    return z / np.sqrt(z.shape[0] / 2)
'''),
    Variant("w05_clip_grad_norm", "norm of the concatenation, factor clamped with np.minimum", '''
def clip_grad_norm(*grads, max_norm):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    factor = np.minimum(max_norm / (total + 1e-6), 1.0)
    return (*(g * factor for g in grads), total)
'''),
    Variant("w05_classify_critical_point", "a loop with eigh and the spectral norm", '''
def classify_critical_point(hessians, tol=1e-8):
    kinds = []
    for H in hessians:
        S = (H + H.T) / 2
        values = np.linalg.eigh(S)[0]
        scale = np.linalg.norm(S, ord=2) if S.size else 0.0
        up = [v for v in values if v > tol * scale]
        down = [v for v in values if v < -tol * scale]
        flat = len(values) - len(up) - len(down)
        if up and down:
            kinds.append(2)
        elif flat:
            kinds.append(3)
        else:
            kinds.append(0 if up else 1)
    return np.array(kinds)
'''),
    Variant("w05_classify_critical_point", "normalize each Hessian first (zero Hessian kept)", '''
def classify_critical_point(hessians, tol=1e-8):
    S = 0.5 * (hessians + hessians.transpose(0, 2, 1))
    values = np.linalg.eigvalsh(S)
    top = np.abs(values).max(axis=1, keepdims=True)
    values = values / np.where(top > 0, top, 1.0)
    sign = np.where(np.abs(values) <= tol, 0, np.sign(values))
    pos, neg, zero = (sign > 0).any(1), (sign < 0).any(1), (sign == 0).any(1)
    return np.select([pos & neg, zero, pos], [2, 3, 0], default=1)
'''),
]

MUTANTS = [
    # sgd_step
    Variant("w05_sgd_step", "steps along the gradient (ascent)", '''
def sgd_step(w, dw, lr):
    return w + lr * dw
'''),
    Variant("w05_sgd_step", "forgets the learning rate", '''
def sgd_step(w, dw, lr):
    return w - dw
'''),
    Variant("w05_sgd_step", "returns the step, not the new parameters", '''
def sgd_step(w, dw, lr):
    return -lr * dw
'''),
    # momentum_step
    Variant("w05_momentum_step", "CS231n form v = μv - lr·dw, w + v (other convention)", '''
def momentum_step(w, dw, velocity, lr, momentum=0.9):
    velocity_new = momentum * velocity - lr * dw
    return w + velocity_new, velocity_new
'''),
    Variant("w05_momentum_step", "exponential average (1 - μ) dw (dampened)", '''
def momentum_step(w, dw, velocity, lr, momentum=0.9):
    velocity_new = momentum * velocity + (1 - momentum) * dw
    return w - lr * velocity_new, velocity_new
'''),
    Variant("w05_momentum_step", "steps with the old velocity", '''
def momentum_step(w, dw, velocity, lr, momentum=0.9):
    return w - lr * velocity, momentum * velocity + dw
'''),
    # nesterov_step
    Variant("w05_nesterov_step", "plain momentum (no look-ahead)", '''
def nesterov_step(w, dw, velocity, lr, momentum=0.9):
    velocity_new = momentum * velocity + dw
    return w - lr * velocity_new, velocity_new
'''),
    Variant("w05_nesterov_step", "look-ahead with the old velocity", '''
def nesterov_step(w, dw, velocity, lr, momentum=0.9):
    return w - lr * (dw + momentum * velocity), momentum * velocity + dw
'''),
    Variant("w05_nesterov_step", "steps with μ·v_new only, the gradient term forgotten", '''
def nesterov_step(w, dw, velocity, lr, momentum=0.9):
    velocity_new = momentum * velocity + dw
    return w - lr * momentum * velocity_new, velocity_new
'''),
    # rmsprop_step
    Variant("w05_rmsprop_step", "eps inside the square root", '''
def rmsprop_step(w, dw, square_avg, lr, alpha=0.99, eps=1e-8):
    s = alpha * square_avg + (1 - alpha) * dw**2
    return w - lr * dw / np.sqrt(s + eps), s
'''),
    Variant("w05_rmsprop_step", "alpha and 1 - alpha swapped", '''
def rmsprop_step(w, dw, square_avg, lr, alpha=0.99, eps=1e-8):
    s = (1 - alpha) * square_avg + alpha * dw**2
    return w - lr * dw / (np.sqrt(s) + eps), s
'''),
    Variant("w05_rmsprop_step", "divides by the old running average", '''
def rmsprop_step(w, dw, square_avg, lr, alpha=0.99, eps=1e-8):
    s = alpha * square_avg + (1 - alpha) * dw**2
    return w - lr * dw / (np.sqrt(square_avg) + eps), s
'''),
    Variant("w05_rmsprop_step", "no square root", '''
def rmsprop_step(w, dw, square_avg, lr, alpha=0.99, eps=1e-8):
    s = alpha * square_avg + (1 - alpha) * dw**2
    return w - lr * dw / (s + eps), s
'''),
    # adam_step
    Variant("w05_adam_step", "no bias correction", '''
def adam_step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    return w - lr * m / (np.sqrt(v) + eps), m, v
'''),
    Variant("w05_adam_step", "bias correction with t + 1 (steps counted from 0)", '''
def adam_step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    m_hat, v_hat = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
'''),
    Variant("w05_adam_step", "eps inside the square root", '''
def adam_step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / np.sqrt(v_hat + eps), m, v
'''),
    Variant("w05_adam_step", "returns the bias-corrected moments as the new state", '''
def adam_step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat
'''),
    Variant("w05_adam_step", "second moment corrected after the square root (√v / (1 - β₂ᵗ))", '''
def adam_step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    return w - lr * (m / (1 - beta1**t)) / (np.sqrt(v) / (1 - beta2**t) + eps), m, v
'''),
    # step_lr
    Variant("w05_step_lr", "continuous exponent t / step_size", '''
def step_lr(steps, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** (np.asarray(steps) / step_size)
'''),
    Variant("w05_step_lr", "off by one: decays at t = step_size - 1", '''
def step_lr(steps, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** ((np.asarray(steps) + 1) // step_size)
'''),
    Variant("w05_step_lr", "subtracts instead of multiplying: lr0 - γ·⌊t/s⌋", '''
def step_lr(steps, lr0, step_size, gamma=0.1):
    return lr0 - gamma * (np.asarray(steps) // step_size)
'''),
    # exponential_lr
    Variant("w05_exponential_lr", "γ^(t+1): already decayed at t = 0", '''
def exponential_lr(steps, lr0, gamma):
    return lr0 * gamma ** (np.asarray(steps) + 1.0)
'''),
    Variant("w05_exponential_lr", "exp(-γ t)", '''
def exponential_lr(steps, lr0, gamma):
    return lr0 * np.exp(-gamma * np.asarray(steps))
'''),
    Variant("w05_exponential_lr", "(1 - γ)^t", '''
def exponential_lr(steps, lr0, gamma):
    return lr0 * (1 - gamma) ** np.asarray(steps, dtype=float)
'''),
    # cosine_lr
    Variant("w05_cosine_lr", "forgets eta_min", '''
def cosine_lr(steps, lr0, t_max, eta_min=0.0):
    return lr0 * (1 + np.cos(np.pi * np.asarray(steps) / t_max)) / 2
'''),
    Variant("w05_cosine_lr", "quarter period: lr0 · cos(π t / 2 t_max)", '''
def cosine_lr(steps, lr0, t_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * np.cos(np.pi * np.asarray(steps) / (2 * t_max))
'''),
    Variant("w05_cosine_lr", "cosine without the (1 + ·)/2 (goes negative)", '''
def cosine_lr(steps, lr0, t_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * np.cos(np.pi * np.asarray(steps) / t_max)
'''),
    # xavier_uniform
    Variant("w05_xavier_uniform", "not centred: U(0, a) instead of U(-a, a)", '''
def xavier_uniform(u):
    return np.sqrt(6 / (u.shape[0] + u.shape[1])) * u
'''),
    Variant("w05_xavier_uniform", "the normal's std √(2/(in+out)) used as the uniform bound", '''
def xavier_uniform(u):
    return np.sqrt(2 / (u.shape[0] + u.shape[1])) * (2 * u - 1)
'''),
    Variant("w05_xavier_uniform", "fan_in only: √(6 / fan_in)", '''
def xavier_uniform(u):
    return np.sqrt(6 / u.shape[0]) * (2 * u - 1)
'''),
    # he_normal
    Variant("w05_he_normal", "LeCun scale √(1 / fan_in) (the ReLU's factor 2 forgotten)", '''
def he_normal(z):
    return z * np.sqrt(1 / z.shape[0])
'''),
    Variant("w05_he_normal", "fan_out instead of fan_in", '''
def he_normal(z):
    return z * np.sqrt(2 / z.shape[1])
'''),
    Variant("w05_he_normal", "variance 2 / fan_in used as the standard deviation", '''
def he_normal(z):
    return z * 2 / z.shape[0]
'''),
    # clip_grad_norm
    Variant("w05_clip_grad_norm", "clips each gradient by its own norm", '''
def clip_grad_norm(*grads, max_norm):
    total = np.sqrt(sum((g**2).sum() for g in grads))
    clipped = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]
    return (*clipped, total)
'''),
    Variant("w05_clip_grad_norm", "always rescales to max_norm (scales small gradients up)", '''
def clip_grad_norm(*grads, max_norm):
    total = np.sqrt(sum((g**2).sum() for g in grads))
    return (*(g * max_norm / (total + 1e-6) for g in grads), total)
'''),
    Variant("w05_clip_grad_norm", "returns the norm after clipping", '''
def clip_grad_norm(*grads, max_norm):
    total = np.sqrt(sum((g**2).sum() for g in grads))
    scale = min(1.0, max_norm / (total + 1e-6))
    return (*(g * scale for g in grads), total * scale)
'''),
    Variant("w05_clip_grad_norm", "clips values to [-max_norm, max_norm] instead of the norm", '''
def clip_grad_norm(*grads, max_norm):
    total = np.sqrt(sum((g**2).sum() for g in grads))
    return (*(np.clip(g, -max_norm, max_norm) for g in grads), total)
'''),
    Variant("w05_clip_grad_norm", "[hidden only] scales only when the norm exceeds max_norm", '''
def clip_grad_norm(*grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    if norm > max_norm:
        grads = [g * (max_norm / (norm + 1e-6)) for g in grads]
    return (*grads, norm)
'''),
    Variant("w05_classify_critical_point", "no tolerance: the sign of every eigenvalue", '''
def classify_critical_point(hessians, tol=1e-8):
    values = np.linalg.eigvalsh(0.5 * (hessians + hessians.transpose(0, 2, 1)))
    pos, neg, zero = (values > 0).any(1), (values < 0).any(1), (values == 0).any(1)
    return np.select([pos & neg, zero, pos], [2, 3, 0], default=1)
'''),
    Variant("w05_classify_critical_point", "strict threshold: an eigenvalue exactly at "
            "tol·max|λ| is not a zero [hidden only]", '''
def classify_critical_point(hessians, tol=1e-8):
    values = np.linalg.eigvalsh(0.5 * (hessians + hessians.transpose(0, 2, 1)))
    zero = np.abs(values) < tol * np.abs(values).max(axis=1, keepdims=True)
    pos, neg = ((values > 0) & ~zero).any(1), ((values < 0) & ~zero).any(1)
    return np.select([pos & neg, zero.any(1), pos, neg], [2, 3, 0, 1], default=3)
'''),
    Variant("w05_classify_critical_point", "absolute tolerance |λ| <= tol", '''
def classify_critical_point(hessians, tol=1e-8):
    values = np.linalg.eigvalsh(0.5 * (hessians + hessians.transpose(0, 2, 1)))
    zero = np.abs(values) <= tol
    pos, neg = ((values > 0) & ~zero).any(1), ((values < 0) & ~zero).any(1)
    return np.select([pos & neg, zero.any(1), pos], [2, 3, 0], default=1)
'''),
    Variant("w05_classify_critical_point", "any zero eigenvalue is inconclusive, even beside + and −", '''
def classify_critical_point(hessians, tol=1e-8):
    values = np.linalg.eigvalsh(0.5 * (hessians + hessians.transpose(0, 2, 1)))
    zero = np.abs(values) <= tol * np.abs(values).max(axis=1, keepdims=True)
    pos, neg = ((values > 0) & ~zero).any(1), ((values < 0) & ~zero).any(1)
    return np.select([zero.any(1), pos & neg, pos], [3, 2, 0], default=1)
'''),
    Variant("w05_classify_critical_point", "semidefinite counted as a minimum or maximum", '''
def classify_critical_point(hessians, tol=1e-8):
    values = np.linalg.eigvalsh(0.5 * (hessians + hessians.transpose(0, 2, 1)))
    zero = np.abs(values) <= tol * np.abs(values).max(axis=1, keepdims=True)
    pos, neg = ((values > 0) & ~zero).any(1), ((values < 0) & ~zero).any(1)
    return np.select([pos & neg, pos, neg], [2, 0, 1], default=3)
'''),
    Variant("w05_classify_critical_point", "[hidden only] eigvalsh of H as given (reads one triangle)", '''
def classify_critical_point(hessians, tol=1e-8):
    values = np.linalg.eigvalsh(hessians)
    zero = np.abs(values) <= tol * np.abs(values).max(axis=1, keepdims=True)
    pos, neg = ((values > 0) & ~zero).any(1), ((values < 0) & ~zero).any(1)
    return np.select([pos & neg, zero.any(1), pos], [2, 3, 0], default=1)
'''),
    Variant("w05_classify_critical_point", "[hidden only] tolerance relative to the whole batch", '''
def classify_critical_point(hessians, tol=1e-8):
    values = np.linalg.eigvalsh(0.5 * (hessians + hessians.transpose(0, 2, 1)))
    zero = np.abs(values) <= tol * np.abs(values).max()
    pos, neg = ((values > 0) & ~zero).any(1), ((values < 0) & ~zero).any(1)
    return np.select([pos & neg, zero.any(1), pos], [2, 3, 0], default=1)
'''),
    # Issue 19, item 3: the caller's weights overwritten (the contract returns new arrays).
    Variant("w05_sgd_step", "updates the caller's w in place and returns it", '''
def sgd_step(w, dw, lr):
    w -= lr * dw
    return w
'''),
]
