"""Week 1 alternatives (must pass) and mutants (must fail)."""

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
]
