"""Week 6 alternatives (must pass) and mutants (must fail)."""

from answers.variants import Variant

ALTERNATIVES = [
    Variant("w06_l2_penalty", "squared Frobenius norm via np.vdot", '''
def l2_penalty(w, reg):
    return 0.5 * reg * float(np.vdot(w, w)), reg * w
'''),
    Variant("w06_dropout_forward", "np.where on the kept units", '''
def dropout_forward(x, u, p, train=True):
    if not train:
        return x
    return np.where(u >= p, x / (1 - p), 0.0)
'''),
    Variant("w06_dropout_backward", "explicit mask then scale", '''
def dropout_backward(dout, u, p, train=True):
    if not train:
        return dout
    mask = (u >= p).astype(float) / (1 - p)
    return dout * mask
'''),
    Variant("w06_batchnorm_forward", "textbook steps with explicit sums", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1,
                      eps=1e-5):
    if train:
        n = x.shape[0]
        mu = x.sum(axis=0) / n
        centred = x - mu
        var = (centred ** 2).sum(axis=0) / n
        out = gamma * centred / np.sqrt(var + eps) + beta
        running_mean = momentum * mu + (1 - momentum) * running_mean
        running_var = momentum * (centred ** 2).sum(axis=0) / (n - 1) + (1 - momentum) * running_var
        return out, running_mean, running_var
    out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    return out, running_mean, running_var
'''),
    Variant("w06_batchnorm_backward", "staged computational graph (CS231n style)", '''
def batchnorm_backward(dout, x, gamma, eps=1e-5):
    n = x.shape[0]
    mu = x.mean(axis=0)
    xmu = x - mu
    var = (xmu ** 2).mean(axis=0)
    sqrtvar = np.sqrt(var + eps)
    ivar = 1 / sqrtvar
    xhat = xmu * ivar
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    divar = (dxhat * xmu).sum(axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -divar / sqrtvar ** 2
    dvar = 0.5 * dsqrtvar / sqrtvar
    dsq = np.ones_like(x) * dvar / n
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(axis=0)
    return dx1 + dmu / n, dgamma, dbeta
'''),
    Variant("w06_layernorm_forward", "transpose, batch-normalize the columns, transpose back", '''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    xt = x.T
    xhat = (xt - xt.mean(axis=0)) / np.sqrt(xt.var(axis=0) + eps)
    return xhat.T * gamma + beta
'''),
    Variant("w06_layernorm_backward", "via the Jacobian of each row", '''
def layernorm_backward(dout, x, gamma, eps=1e-5):
    n, d = x.shape
    mu = x.mean(axis=1, keepdims=True)
    sigma = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    xhat = (x - mu) / sigma
    dx = np.empty_like(x)
    for i in range(n):
        jac = (np.eye(d) - 1 / d - np.outer(xhat[i], xhat[i]) / d) / sigma[i]
        dx[i] = jac.T @ (dout[i] * gamma)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
'''),
    Variant("w06_maxout_forward", "one matrix product, then a reshape", '''
def maxout_forward(x, w, b):
    d, h, k = w.shape
    z = x @ w.reshape(d, h * k) + b.reshape(-1)
    return z.reshape(-1, h, k).max(axis=2)
'''),
    Variant("w06_maxout_backward", "one-hot mask of the winners and matrix products", '''
def maxout_backward(dout, x, w, b):
    d, h, k = w.shape
    z = (x @ w.reshape(d, h * k) + b.reshape(-1)).reshape(-1, h, k)
    onehot = np.eye(k)[z.argmax(axis=2)]          # (N, H, k)
    dz = (onehot * dout[:, :, None]).reshape(-1, h * k)
    dx = dz @ w.reshape(d, h * k).T
    dw = (x.T @ dz).reshape(d, h, k)
    return dx, dw, dz.sum(axis=0).reshape(h, k)
'''),
    Variant("w06_early_stopping", "scans for the first window of `patience` non-improvements", '''
def early_stopping(val_losses, patience, min_delta=0.0):
    losses = list(val_losses)
    best_epoch = 0
    for epoch in range(len(losses)):
        if epoch == 0 or losses[epoch] < losses[best_epoch] - min_delta:
            best_epoch = epoch
        elif epoch - best_epoch >= patience:
            return best_epoch, epoch
    return best_epoch, len(losses) - 1
'''),
    Variant("w06_spatial_batchnorm_forward", "statistics with axis=(0, 2, 3), no reshape", '''
def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True,
                              momentum=0.1, eps=1e-5):
    g, b = gamma[None, :, None, None], beta[None, :, None, None]
    if not train:
        xhat = (x - running_mean[None, :, None, None]) / np.sqrt(running_var[None, :, None, None] + eps)
        return g * xhat + b, running_mean.copy(), running_var.copy()
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mu = x.mean(axis=(0, 2, 3))
    var = ((x - mu[None, :, None, None]) ** 2).mean(axis=(0, 2, 3))
    xhat = (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    new_mean = (1 - momentum) * running_mean + momentum * mu
    new_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)
    return g * xhat + b, new_mean, new_var
'''),
    Variant("w06_spatial_batchnorm_backward", "the three paths summed over axes (0, 2, 3)", '''
def spatial_batchnorm_backward(dout, x, gamma, eps=1e-5):
    axes = (0, 2, 3)
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    inv = 1 / np.sqrt(var + eps)
    xhat = (x - mu) * inv
    dxhat = dout * gamma[None, :, None, None]
    dvar = (dxhat * (x - mu)).sum(axis=axes, keepdims=True) * -0.5 * inv ** 3
    dmu = -(dxhat * inv).sum(axis=axes, keepdims=True) - 2 * dvar * (x - mu).mean(axis=axes, keepdims=True)
    dx = dxhat * inv + dvar * 2 * (x - mu) / m + dmu / m
    return dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)
'''),
]

MUTANTS = [
    # l2_penalty
    Variant("w06_l2_penalty", "forgets the 1/2 (gradient 2·reg·w is inconsistent)", '''
def l2_penalty(w, reg):
    return reg * float(np.sum(w ** 2)), reg * w
'''),
    Variant("w06_l2_penalty", "gradient without reg", '''
def l2_penalty(w, reg):
    return 0.5 * reg * float(np.sum(w ** 2)), w
'''),
    Variant("w06_l2_penalty", "L1 penalty instead of L2", '''
def l2_penalty(w, reg):
    return reg * float(np.sum(np.abs(w))), reg * np.sign(w)
'''),
    Variant("w06_l2_penalty", "averages instead of summing the squares", '''
def l2_penalty(w, reg):
    return 0.5 * reg * float(np.mean(w ** 2)), reg * w / w.size
'''),
    # dropout_forward
    Variant("w06_dropout_forward", "dropout without rescaling", '''
def dropout_forward(x, u, p, train=True):
    if not train:
        return x
    return x * (u >= p)
'''),
    Variant("w06_dropout_forward", "classic (non-inverted) dropout: scales by 1 - p at eval", '''
def dropout_forward(x, u, p, train=True):
    if not train:
        return x * (1 - p)
    return x * (u >= p)
'''),
    Variant("w06_dropout_forward", "keeps the units with u < p (drops with probability 1 - p)", '''
def dropout_forward(x, u, p, train=True):
    if not train:
        return x
    return x * (u < p) / (1 - p)
'''),
    Variant("w06_dropout_forward", "also drops at evaluation", '''
def dropout_forward(x, u, p, train=True):
    return x * (u >= p) / (1 - p)
'''),
    Variant("w06_dropout_forward", "divides by p instead of 1 - p", '''
def dropout_forward(x, u, p, train=True):
    if not train:
        return x
    return x * (u >= p) / max(p, 1e-12)
'''),
    # dropout_backward
    Variant("w06_dropout_backward", "forgets the 1 / (1 - p) scale", '''
def dropout_backward(dout, u, p, train=True):
    if not train:
        return dout
    return dout * (u >= p)
'''),
    Variant("w06_dropout_backward", "masks by dout > 0 (a ReLU's backward)", '''
def dropout_backward(dout, u, p, train=True):
    if not train:
        return dout
    return dout * (dout > 0) / (1 - p)
'''),
    Variant("w06_dropout_backward", "applies the mask in eval mode too", '''
def dropout_backward(dout, u, p, train=True):
    return dout * (u >= p) / (1 - p)
'''),
    # batchnorm_forward
    Variant("w06_batchnorm_forward", "eval mode uses the batch statistics", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1,
                      eps=1e-5):
    mu, var = x.mean(axis=0), x.var(axis=0)
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    if not train:
        return out, running_mean, running_var
    n = x.shape[0]
    return (out, (1 - momentum) * running_mean + momentum * mu,
            (1 - momentum) * running_var + momentum * var * n / (n - 1))
'''),
    Variant("w06_batchnorm_forward", "biased variance in the running average", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1,
                      eps=1e-5):
    if not train:
        return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta, running_mean, running_var
    mu, var = x.mean(axis=0), x.var(axis=0)
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    return out, (1 - momentum) * running_mean + momentum * mu, (1 - momentum) * running_var + momentum * var
'''),
    Variant("w06_batchnorm_forward", "momentum weights the old statistics (Keras convention)", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1,
                      eps=1e-5):
    if not train:
        return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta, running_mean, running_var
    n = x.shape[0]
    mu, var = x.mean(axis=0), x.var(axis=0)
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    return (out, momentum * running_mean + (1 - momentum) * mu,
            momentum * running_var + (1 - momentum) * var * n / (n - 1))
'''),
    Variant("w06_batchnorm_forward", "eps added to the standard deviation, not the variance", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1,
                      eps=1e-5):
    if not train:
        return gamma * (x - running_mean) / (np.sqrt(running_var) + eps) + beta, running_mean, running_var
    n = x.shape[0]
    mu, var = x.mean(axis=0), x.var(axis=0)
    out = gamma * (x - mu) / (np.sqrt(var) + eps) + beta
    return (out, (1 - momentum) * running_mean + momentum * mu,
            (1 - momentum) * running_var + momentum * var * n / (n - 1))
'''),
    Variant("w06_batchnorm_forward", "normalizes with the unbiased variance", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1,
                      eps=1e-5):
    if not train:
        return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta, running_mean, running_var
    mu, var = x.mean(axis=0), x.var(axis=0, ddof=1)
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    return out, (1 - momentum) * running_mean + momentum * mu, (1 - momentum) * running_var + momentum * var
'''),
    # batchnorm_backward
    Variant("w06_batchnorm_backward", "treats mean and variance as constants", '''
def batchnorm_backward(dout, x, gamma, eps=1e-5):
    sigma = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / sigma
    return dout * gamma / sigma, (dout * xhat).sum(axis=0), dout.sum(axis=0)
'''),
    Variant("w06_batchnorm_backward", "forgets the variance's path (only subtracts the mean)", '''
def batchnorm_backward(dout, x, gamma, eps=1e-5):
    sigma = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / sigma
    dxhat = dout * gamma
    return (dxhat - dxhat.mean(axis=0)) / sigma, (dout * xhat).sum(axis=0), dout.sum(axis=0)
'''),
    Variant("w06_batchnorm_backward", "dgamma from x instead of x̂", '''
def batchnorm_backward(dout, x, gamma, eps=1e-5):
    sigma = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / sigma
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / sigma
    return dx, (dout * x).sum(axis=0), dout.sum(axis=0)
'''),
    Variant("w06_batchnorm_backward", "forgets γ in dx", '''
def batchnorm_backward(dout, x, gamma, eps=1e-5):
    sigma = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / sigma
    dx = (dout - dout.mean(axis=0) - xhat * (dout * xhat).mean(axis=0)) / sigma
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
'''),
    # layernorm_forward
    Variant("w06_layernorm_forward", "normalizes over the batch (that is batch norm)", '''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta
'''),
    Variant("w06_layernorm_forward", "unbiased variance", '''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, ddof=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta
'''),
    Variant("w06_layernorm_forward", "eps outside the square root", '''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=1, keepdims=True)
    return gamma * (x - mu) / (x.std(axis=1, keepdims=True) + eps) + beta
'''),
    Variant("w06_layernorm_forward", "statistics without keepdims (broadcast along features)", '''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu, var = x.mean(axis=1), x.var(axis=1)   # (N,): lines up with the features, not rows
    return gamma * (x - mu) / np.sqrt(var + eps) + beta
'''),
    # layernorm_backward
    Variant("w06_layernorm_backward", "means over the batch axis (batch norm's backward)", '''
def layernorm_backward(dout, x, gamma, eps=1e-5):
    sigma = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    xhat = (x - x.mean(axis=1, keepdims=True)) / sigma
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / sigma
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
'''),
    Variant("w06_layernorm_backward", "dgamma and dbeta summed over the features", '''
def layernorm_backward(dout, x, gamma, eps=1e-5):
    sigma = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    xhat = (x - x.mean(axis=1, keepdims=True)) / sigma
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=1, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=1, keepdims=True)) / sigma
    return dx, (dout * xhat).sum(axis=1), dout.sum(axis=1)
'''),
    Variant("w06_layernorm_backward", "treats the statistics as constants", '''
def layernorm_backward(dout, x, gamma, eps=1e-5):
    sigma = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    xhat = (x - x.mean(axis=1, keepdims=True)) / sigma
    return dout * gamma / sigma, (dout * xhat).sum(axis=0), dout.sum(axis=0)
'''),
    # maxout_forward
    Variant("w06_maxout_forward", "groups the pieces the wrong way (reshape to (N, k, H))", '''
def maxout_forward(x, w, b):
    d, h, k = w.shape
    z = x @ w.reshape(d, h * k) + b.reshape(-1)
    return z.reshape(-1, k, h).max(axis=1)
'''),
    Variant("w06_maxout_forward", "adds the largest bias after the maximum", '''
def maxout_forward(x, w, b):
    return np.einsum("nd,dhk->nhk", x, w).max(axis=2) + b.max(axis=1)
'''),
    Variant("w06_maxout_forward", "sums the pieces instead of taking the maximum", '''
def maxout_forward(x, w, b):
    return (np.einsum("nd,dhk->nhk", x, w) + b).sum(axis=2)
'''),
    # maxout_backward
    Variant("w06_maxout_backward", "sends dout to every piece", '''
def maxout_backward(dout, x, w, b):
    dz = np.repeat(dout[:, :, None], w.shape[2], axis=2)
    return np.einsum("nhk,dhk->nd", dz, w), np.einsum("nd,nhk->dhk", x, dz), dz.sum(axis=0)
'''),
    Variant("w06_maxout_backward", "routes the gradient to the smallest piece", '''
def maxout_backward(dout, x, w, b):
    z = np.einsum("nd,dhk->nhk", x, w) + b
    dz = np.zeros_like(z)
    np.put_along_axis(dz, z.argmin(axis=2)[..., None], dout[..., None], axis=2)
    return np.einsum("nhk,dhk->nd", dz, w), np.einsum("nd,nhk->dhk", x, dz), dz.sum(axis=0)
'''),
    Variant("w06_maxout_backward", "winner chosen without the bias", '''
def maxout_backward(dout, x, w, b):
    z = np.einsum("nd,dhk->nhk", x, w)
    dz = np.zeros_like(z)
    np.put_along_axis(dz, z.argmax(axis=2)[..., None], dout[..., None], axis=2)
    return np.einsum("nhk,dhk->nd", dz, w), np.einsum("nd,nhk->dhk", x, dz), dz.sum(axis=0)
'''),
    Variant("w06_maxout_backward", "db averaged over the batch", '''
def maxout_backward(dout, x, w, b):
    z = np.einsum("nd,dhk->nhk", x, w) + b
    dz = np.zeros_like(z)
    np.put_along_axis(dz, z.argmax(axis=2)[..., None], dout[..., None], axis=2)
    return np.einsum("nhk,dhk->nd", dz, w), np.einsum("nd,nhk->dhk", x, dz), dz.mean(axis=0)
'''),
    # early_stopping
    Variant("w06_early_stopping", "a tie counts as an improvement (<= instead of <)", '''
def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss <= best - min_delta:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''),
    Variant("w06_early_stopping", "off by one: waits patience + 1 epochs", '''
def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited > patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''),
    Variant("w06_early_stopping", "keeps the last epoch's weights, not the best", '''
def early_stopping(val_losses, patience, min_delta=0.0):
    best, waited = np.inf, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, waited = loss, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, epoch
    return len(val_losses) - 1, len(val_losses) - 1
'''),
    Variant("w06_early_stopping", "ignores min_delta", '''
def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''),
    Variant("w06_early_stopping", "never resets the counter after an improvement", '''
def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, best_epoch = loss, epoch
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''),
    # hidden-only mutants: the public cases cannot tell them from a correct function
    Variant("w06_batchnorm_forward", "variance as E[x²] - E[x]² (cancels at 1e6) [hidden only]", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1,
                      eps=1e-5):
    if not train:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        return out, running_mean.copy(), running_var.copy()
    n = x.shape[0]
    mu = x.mean(axis=0)
    var = (x * x).mean(axis=0) - mu * mu
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    return (out, (1 - momentum) * running_mean + momentum * mu,
            (1 - momentum) * running_var + momentum * var * n / (n - 1))
'''),
    Variant("w06_early_stopping", "min_delta relative to the best loss [hidden only]", '''
def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best * (1 - min_delta) if np.isfinite(best) else True:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''),
    Variant("w06_layernorm_forward", "variance as E[x²] - E[x]² (cancels at 1e6) [hidden only]", '''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = (x * x).mean(axis=-1, keepdims=True) - mu * mu
    return gamma * (x - mu) / np.sqrt(var + eps) + beta
'''),
    # spatial_batchnorm_forward
    Variant("w06_spatial_batchnorm_forward", "statistics over the batch only, per position", '''
def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True,
                              momentum=0.1, eps=1e-5):
    g, b = gamma[None, :, None, None], beta[None, :, None, None]
    if not train:
        xhat = (x - running_mean[None, :, None, None]) / np.sqrt(running_var[None, :, None, None] + eps)
        return g * xhat + b, running_mean.copy(), running_var.copy()
    mu, var = x.mean(axis=0), x.var(axis=0)
    m = x.shape[0] * x.shape[2] * x.shape[3]
    out = g * (x - mu) / np.sqrt(var + eps) + b
    return (out, (1 - momentum) * running_mean + momentum * x.mean(axis=(0, 2, 3)),
            (1 - momentum) * running_var + momentum * x.var(axis=(0, 2, 3)) * m / (m - 1))
'''),
    Variant("w06_spatial_batchnorm_forward", "reshapes (N, C, H, W) to (N·H·W, C) without transposing", '''
def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True,
                              momentum=0.1, eps=1e-5):
    n, c, h, w = x.shape
    rows = x.reshape(-1, c)
    if not train:
        out = gamma * (rows - running_mean) / np.sqrt(running_var + eps) + beta
        return out.reshape(x.shape), running_mean.copy(), running_var.copy()
    mu, var = rows.mean(axis=0), rows.var(axis=0)
    out = gamma * (rows - mu) / np.sqrt(var + eps) + beta
    m = rows.shape[0]
    return (out.reshape(x.shape), (1 - momentum) * running_mean + momentum * mu,
            (1 - momentum) * running_var + momentum * var * m / (m - 1))
'''),
    Variant("w06_spatial_batchnorm_forward", "running variance made unbiased with N - 1 (examples, not values)", '''
def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True,
                              momentum=0.1, eps=1e-5):
    g, b = gamma[None, :, None, None], beta[None, :, None, None]
    if not train:
        xhat = (x - running_mean[None, :, None, None]) / np.sqrt(running_var[None, :, None, None] + eps)
        return g * xhat + b, running_mean.copy(), running_var.copy()
    n = x.shape[0]
    mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    xhat = (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    return (g * xhat + b, (1 - momentum) * running_mean + momentum * mu,
            (1 - momentum) * running_var + momentum * var * n / max(n - 1, 1))
'''),
    Variant("w06_spatial_batchnorm_forward", "eval mode normalizes with the batch statistics", '''
def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True,
                              momentum=0.1, eps=1e-5):
    g, b = gamma[None, :, None, None], beta[None, :, None, None]
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    xhat = (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    if not train:
        return g * xhat + b, running_mean.copy(), running_var.copy()
    return (g * xhat + b, (1 - momentum) * running_mean + momentum * mu,
            (1 - momentum) * running_var + momentum * var * m / (m - 1))
'''),
    Variant("w06_spatial_batchnorm_forward", "variance as E[x²] - E[x]² (cancels at 1e6) [hidden only]", '''
def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True,
                              momentum=0.1, eps=1e-5):
    g, b = gamma[None, :, None, None], beta[None, :, None, None]
    if not train:
        xhat = (x - running_mean[None, :, None, None]) / np.sqrt(running_var[None, :, None, None] + eps)
        return g * xhat + b, running_mean.copy(), running_var.copy()
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mu = x.mean(axis=(0, 2, 3))
    var = (x * x).mean(axis=(0, 2, 3)) - mu * mu
    xhat = (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    return (g * xhat + b, (1 - momentum) * running_mean + momentum * mu,
            (1 - momentum) * running_var + momentum * var * m / (m - 1))
'''),
    # spatial_batchnorm_backward
    Variant("w06_spatial_batchnorm_backward", "treats the channel statistics as constants", '''
def spatial_batchnorm_backward(dout, x, gamma, eps=1e-5):
    axes = (0, 2, 3)
    mu = x.mean(axis=axes, keepdims=True)
    inv = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    xhat = (x - mu) * inv
    return dout * gamma[None, :, None, None] * inv, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)
'''),
    Variant("w06_spatial_batchnorm_backward", "statistics per position (means over the batch only)", '''
def spatial_batchnorm_backward(dout, x, gamma, eps=1e-5):
    mu = x.mean(axis=0, keepdims=True)
    inv = 1 / np.sqrt(x.var(axis=0, keepdims=True) + eps)
    xhat = (x - mu) * inv
    dxhat = dout * gamma[None, :, None, None]
    dx = (dxhat - dxhat.mean(axis=0, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=0, keepdims=True)) * inv
    return dx, (dout * xhat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
'''),
    Variant("w06_spatial_batchnorm_backward", "dgamma and dbeta summed over the batch only", '''
def spatial_batchnorm_backward(dout, x, gamma, eps=1e-5):
    axes = (0, 2, 3)
    mu = x.mean(axis=axes, keepdims=True)
    inv = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    xhat = (x - mu) * inv
    dxhat = dout * gamma[None, :, None, None]
    dx = (dxhat - dxhat.mean(axis=axes, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)) * inv
    return dx, (dout * xhat).sum(axis=0).mean(axis=(1, 2)), dout.sum(axis=0).mean(axis=(1, 2))
'''),
    Variant("w06_spatial_batchnorm_backward", "variance as E[x²] - E[x]² (cancels at 1e6) [hidden only]", '''
def spatial_batchnorm_backward(dout, x, gamma, eps=1e-5):
    axes = (0, 2, 3)
    mu = x.mean(axis=axes, keepdims=True)
    var = (x * x).mean(axis=axes, keepdims=True) - mu * mu
    inv = 1 / np.sqrt(var + eps)
    xhat = (x - mu) * inv
    dxhat = dout * gamma[None, :, None, None]
    dx = (dxhat - dxhat.mean(axis=axes, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)) * inv
    return dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)
'''),
    # Issue 19, item 3: the caller's activations centred in place.
    Variant("w06_layernorm_forward", "centres the caller's x in place", '''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    x -= x.mean(axis=-1, keepdims=True)
    return x / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + eps) * gamma + beta
'''),
]

# Hidden-only mutants aimed at the operator mutants that survived the hidden grade
# (bench/bench_mutants.py): each one passes the public cases.
MUTANTS += [
    Variant("w06_early_stopping", "counter compared with `is` (true only for the small ints "
            "CPython caches) [hidden only]", '''
def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited is patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''),
]
