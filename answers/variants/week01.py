"""Week 1 alternatives (must pass) and mutants (must fail).

A mutant whose label ends in ``[hidden only]`` passes the public cases and is caught only
by the hidden cases (``answers/hidden/week01.py``): ``tests/test_variants.py`` proves both.
"""

from answers.variants import Variant

ALTERNATIVES = [
    Variant("w01_softmax", "loop over rows, subtracting each row's max", '''
def softmax(x):
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty_like(flat, dtype=float)
    for i, row in enumerate(flat):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out.reshape(x.shape)
'''),
    Variant("w01_softmax", "via exp(log_softmax)", '''
def softmax(x):
    m = x.max(axis=-1, keepdims=True)
    log_z = m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True))
    return np.exp(x - log_z)
'''),
    Variant("w01_logsumexp", "np.moveaxis then loop over slices", '''
def logsumexp(x, axis=-1):
    moved = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    out = np.array([row.max() + np.log(np.sum(np.exp(row - row.max()))) for row in flat])
    return out.reshape(moved.shape[:-1])
'''),
    Variant("w01_log_softmax", "x - max - log(sum(exp(x - max)))", '''
def log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
'''),
    Variant("w01_cross_entropy", "one-hot mask instead of fancy indexing", '''
def cross_entropy(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    one_hot = np.eye(logits.shape[1])[y]
    return -(one_hot * log_probs).sum() / logits.shape[0]
'''),
    Variant("w01_log_softmax_backward", "explicit Jacobian per row (einsum)", '''
def log_softmax_backward(dout, x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    eye = np.eye(x.shape[-1])
    jacobian = eye - p[..., None, :]  # d y_j / d x_k = [j == k] - p_k
    return np.einsum("...j,...jk->...k", dout, jacobian)
'''),
    Variant("w01_log_softmax_backward", "via the exp of log_softmax", '''
def log_softmax_backward(dout, x):
    m = x.max(axis=-1, keepdims=True)
    log_p = x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))
    return dout - np.exp(log_p) * dout.sum(axis=-1, keepdims=True)
'''),
    Variant("w01_softplus", "np.logaddexp(0, x)", '''
def softplus(x):
    return np.logaddexp(0.0, x)
'''),
    Variant("w01_softplus", "two branches selected with a mask", '''
def softplus(x):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    pos = x > 0
    out[pos] = x[pos] + np.log1p(np.exp(-x[pos]))
    out[~pos] = np.log1p(np.exp(x[~pos]))
    return out
'''),
    Variant("w01_standardize", "explicit two-pass variance", '''
def standardize(x_train, x_test, eps=1e-8):
    mean = x_train.sum(axis=0) / x_train.shape[0]
    centred = x_train - mean
    std = np.sqrt((centred ** 2).mean(axis=0)) + eps
    return centred / std, (x_test - mean) / std
'''),
]

MUTANTS = [
    # softmax
    Variant("w01_softmax", "unstable: no max subtraction (overflows)", '''
def softmax(x):
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)
'''),
    Variant("w01_softmax", "wrong axis (normalizes columns)", '''
def softmax(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
'''),
    Variant("w01_softmax", "global max instead of per-row max (underflows)", '''
def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum(axis=-1, keepdims=True)
'''),
    Variant("w01_softmax", "forgets to normalize", '''
def softmax(x):
    return np.exp(x - x.max(axis=-1, keepdims=True))
'''),
    # logsumexp
    Variant("w01_logsumexp", "naive log(sum(exp)) (overflows)", '''
def logsumexp(x, axis=-1):
    return np.log(np.sum(np.exp(x), axis=axis))
'''),
    Variant("w01_logsumexp", "forgets to add the max back", '''
def logsumexp(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(x - m), axis=axis))
'''),
    Variant("w01_logsumexp", "ignores the axis argument", '''
def logsumexp(x, axis=-1):
    m = np.max(x, axis=-1, keepdims=True)
    return m[..., 0] + np.log(np.sum(np.exp(x - m), axis=-1))
'''),
    Variant("w01_logsumexp", "global max (underflows on mixed scales)", '''
def logsumexp(x, axis=-1):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m), axis=axis))
'''),
    # log_softmax
    Variant("w01_log_softmax", "log(softmax(x)) (−inf when a probability underflows)", '''
def log_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return np.log(e / e.sum(axis=-1, keepdims=True))
'''),
    Variant("w01_log_softmax", "subtracts the max but not the log-normalizer", '''
def log_softmax(x):
    return x - x.max(axis=-1, keepdims=True)
'''),
    Variant("w01_log_softmax", "normalizes over axis 0", '''
def log_softmax(x):
    m = x.max(axis=0, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=0, keepdims=True))
'''),
    # cross_entropy
    Variant("w01_cross_entropy", "sums instead of averaging over the batch", '''
def cross_entropy(logits, y):
    m = logits.max(axis=1, keepdims=True)
    log_probs = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(y)), y].sum()
'''),
    Variant("w01_cross_entropy", "off-by-one label index", '''
def cross_entropy(logits, y):
    m = logits.max(axis=1, keepdims=True)
    log_probs = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(y)), (y + 1) % logits.shape[1]].mean()
'''),
    Variant("w01_cross_entropy", "log of an unstable softmax", '''
def cross_entropy(logits, y):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(y)), y]).mean()
'''),
    Variant("w01_cross_entropy", "takes the mean over all classes (y[:, None] broadcast)", '''
def cross_entropy(logits, y):
    m = logits.max(axis=1, keepdims=True)
    log_probs = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    return -log_probs[:, y].mean()
'''),
    # log_softmax_backward
    Variant("w01_log_softmax_backward", "the diagonal of the Jacobian only (dout * (1 - p))", '''
def log_softmax_backward(dout, x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return dout * (1 - p)
'''),
    Variant("w01_log_softmax_backward", "the cross-entropy shortcut (assumes dout is one-hot)", '''
def log_softmax_backward(dout, x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return dout + p
'''),
    Variant("w01_log_softmax_backward", "the softmax backward instead (p * (dout - sum(dout * p)))", '''
def log_softmax_backward(dout, x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return p * (dout - (dout * p).sum(axis=-1, keepdims=True))
'''),
    Variant("w01_log_softmax_backward", "sums dout over the batch axis", '''
def log_softmax_backward(dout, x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return dout - p * dout.sum(axis=0, keepdims=True)
'''),
    Variant("w01_log_softmax_backward", "unshifted softmax (overflows on huge logits)", '''
def log_softmax_backward(dout, x):
    p = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    return dout - p * dout.sum(axis=-1, keepdims=True)
'''),
    # softplus
    Variant("w01_softplus", "naive log(1 + exp(x))", '''
def softplus(x):
    return np.log(1 + np.exp(x))
'''),
    Variant("w01_softplus", "shifted but log instead of log1p (tiny values become 0)", '''
def softplus(x):
    return np.maximum(x, 0) + np.log(1 + np.exp(-np.abs(x)))
'''),
    Variant("w01_softplus", "log1p(exp(x)) without a guard (overflows)", '''
def softplus(x):
    return np.log1p(np.exp(x))
'''),
    Variant("w01_softplus", "returns x above a threshold of 10", '''
def softplus(x):
    return np.where(x > 10, x, np.log1p(np.exp(np.minimum(x, 10))))
'''),
    Variant("w01_softplus", "shift without the absolute value", '''
def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-x))
'''),
    # hidden only: mistakes the public cases cannot see, caught by answers/hidden/week01.py
    Variant("w01_softmax", "loop into np.empty_like(x): integer logits give integer output [hidden only]", '''
def softmax(x):
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty_like(flat)
    for i, row in enumerate(flat):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out.reshape(x.shape)
'''),
    Variant("w01_logsumexp", "np.squeeze(m) without an axis drops every size-1 axis [hidden only]", '''
def logsumexp(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m) + np.log(np.sum(np.exp(x - m), axis=axis))
'''),
    Variant("w01_log_softmax", "written for 2-D batches ([:, None]) [hidden only]", '''
def log_softmax(x):
    flat = x.reshape(-1, x.shape[-1]) if x.ndim > 2 else x
    m = flat.max(axis=1)[:, None]
    out = flat - m - np.log(np.exp(flat - m).sum(axis=1))[:, None]
    return out.reshape(x.shape)
'''),
    Variant("w01_standardize", "eps only where the std is exactly 0", '''
def standardize(x_train, x_test, eps=1e-8):
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std == 0, eps, std)
    return (x_train - mean) / std, (x_test - mean) / std
'''),
    Variant("w01_standardize", "eps added to the variance instead of the std", '''
def standardize(x_train, x_test, eps=1e-8):
    mean = x_train.mean(axis=0)
    std = np.sqrt(x_train.var(axis=0) + eps)
    return (x_train - mean) / std, (x_test - mean) / std
'''),
    Variant("w01_cross_entropy", "clips probabilities at 1e-300 before the log", '''
def cross_entropy(logits, y):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return float(-np.log(np.maximum(p[np.arange(len(y)), y], 1e-300)).mean())
'''),
    # standardize
    Variant("w01_standardize", "fits the test set on its own statistics (leakage)", '''
def standardize(x_train, x_test, eps=1e-8):
    f = lambda x: (x - x.mean(axis=0)) / (x.std(axis=0) + eps)
    return f(x_train), f(x_test)
'''),
    Variant("w01_standardize", "no eps (constant feature → nan)", '''
def standardize(x_train, x_test, eps=1e-8):
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    return (x_train - mean) / std, (x_test - mean) / std
'''),
    Variant("w01_standardize", "statistics over the wrong axis (per example)", '''
def standardize(x_train, x_test, eps=1e-8):
    mean, std = x_train.mean(axis=1, keepdims=True), x_train.std(axis=1, keepdims=True) + eps
    return (x_train - mean) / std, (x_test - mean[: len(x_test)]) / std[: len(x_test)]
'''),
    Variant("w01_standardize", "variance as E[x²] - E[x]² (cancellation)", '''
def standardize(x_train, x_test, eps=1e-8):
    mean = x_train.mean(axis=0)
    std = np.sqrt(np.maximum((x_train ** 2).mean(axis=0) - mean ** 2, 0)) + eps
    return (x_train - mean) / std, (x_test - mean) / std
'''),
    # Issue 19, item 3: arguments changed in place (the caller's logits, the caller's data).
    Variant("w01_softmax", "shifts the caller's logits in place (x -= max)", '''
def softmax(x):
    x -= x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)
'''),
    Variant("w01_log_softmax", "shifts the caller's logits in place before the log-sum-exp", '''
def log_softmax(x):
    x -= x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))
'''),
    Variant("w01_standardize", "normalises the caller's training data in place", '''
def standardize(x_train, x_test, eps=1e-8):
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0) + eps
    x_train -= mean
    x_train /= std
    return x_train.copy(), (x_test - mean) / std
'''),
]
