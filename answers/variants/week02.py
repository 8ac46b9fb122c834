"""Week 2 alternatives (must pass) and mutants (must fail)."""

from answers.variants import Variant

ALTERNATIVES = [
    Variant("w02_logistic_loss", "log-sigmoid from a sign-split formula", '''
def logistic_loss(w, b, X, y):
    s = X @ w + b
    # -log σ(s) = log(1 + e^{-s}), written so that exp only sees non-positive numbers
    neg_log_sig = np.maximum(-s, 0) + np.log1p(np.exp(-np.abs(s)))
    neg_log_one_minus = np.maximum(s, 0) + np.log1p(np.exp(-np.abs(s)))
    loss = np.mean(y * neg_log_sig + (1 - y) * neg_log_one_minus)
    p = np.exp(-neg_log_sig)
    ds = (p - y) / len(y)
    return loss, X.T @ ds, ds.sum()
'''),
    Variant("w02_softmax_loss_naive", "vectorized code is accepted too", '''
def softmax_loss_naive(W, b, X, y):
    s = X @ W + b
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    n = len(y)
    ds = np.exp(log_p)
    ds[np.arange(n), y] -= 1
    return -log_p[np.arange(n), y].mean(), X.T @ ds / n, ds.sum(axis=0) / n
'''),
    Variant("w02_softmax_loss_vectorized", "one-hot matrix instead of fancy indexing", '''
def softmax_loss_vectorized(W, b, X, y):
    n, c = X.shape[0], W.shape[1]
    s = X @ W + b
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    one_hot = np.eye(c)[y]
    log_z = np.log(np.exp(s).sum(axis=1))
    loss = np.sum(log_z - np.sum(one_hot * s, axis=1)) / n
    ds = (p - one_hot) / n
    return loss, X.T @ ds, ds.sum(axis=0)
'''),
    Variant("w02_svm_loss_vectorized", "loops over examples and classes", '''
def svm_loss_vectorized(W, b, X, y):
    n, c = X.shape[0], W.shape[1]
    loss, dW, db = 0.0, np.zeros(W.shape), np.zeros(c)
    for i in range(n):
        s = X[i] @ W + b
        for j in range(c):
            if j != y[i] and s[j] - s[y[i]] + 1 > 0:
                loss += s[j] - s[y[i]] + 1
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
                db[j] += 1
                db[y[i]] -= 1
    return loss / n, dW / n, db / n
'''),
    Variant("w02_svm_loss_vectorized", "mask of the correct class instead of zeroing it", '''
def svm_loss_vectorized(W, b, X, y):
    n = X.shape[0]
    s = X @ W + b
    correct = np.zeros(s.shape, dtype=bool)
    correct[np.arange(n), y] = True
    margins = np.where(correct, 0.0, np.maximum(0.0, s - s[correct][:, None] + 1))
    active = (margins > 0).astype(float)
    ds = active - correct * active.sum(axis=1, keepdims=True)
    return margins.sum() / n, X.T @ ds / n, ds.sum(axis=0) / n
'''),
    Variant("w02_l1_l2_penalty", "np.where for the subgradient", '''
def l1_l2_penalty(W, l1, l2):
    sign = np.where(W > 0, 1.0, np.where(W < 0, -1.0, 0.0))
    return l1 * np.abs(W).sum() + l2 * (W ** 2).sum() / 2, l1 * sign + l2 * W
'''),
]

MUTANTS = [
    # logistic_loss
    Variant("w02_logistic_loss", "log(sigmoid(s)) (−inf for large |s|)", '''
def logistic_loss(w, b, X, y):
    s = X @ w + b
    p = 1 / (1 + np.exp(-s))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    ds = (p - y) / len(y)
    return loss, X.T @ ds, ds.sum()
'''),
    Variant("w02_logistic_loss", "gradient with the wrong sign (y - σ)", '''
def logistic_loss(w, b, X, y):
    s = X @ w + b
    p = np.exp(-np.logaddexp(0, -s))
    ds = (y - p) / len(y)
    return np.mean(np.logaddexp(0, s) - y * s), X.T @ ds, ds.sum()
'''),
    Variant("w02_logistic_loss", "gradient not divided by N", '''
def logistic_loss(w, b, X, y):
    s = X @ w + b
    p = np.exp(-np.logaddexp(0, -s))
    ds = p - y
    return np.mean(np.logaddexp(0, s) - y * s), X.T @ ds, ds.sum()
'''),
    Variant("w02_logistic_loss", "summed instead of averaged loss", '''
def logistic_loss(w, b, X, y):
    s = X @ w + b
    p = np.exp(-np.logaddexp(0, -s))
    ds = (p - y) / len(y)
    return np.sum(np.logaddexp(0, s) - y * s), X.T @ ds, ds.sum()
'''),
    # softmax_loss_naive
    Variant("w02_softmax_loss_naive", "no max shift (overflows on huge scores)", '''
def softmax_loss_naive(W, b, X, y):
    n, c = X.shape[0], W.shape[1]
    loss, dW, db = 0.0, np.zeros(W.shape), np.zeros(c)
    for i in range(n):
        e = np.exp(X[i] @ W + b)
        p = e / e.sum()
        loss -= np.log(p[y[i]])
        for j in range(c):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
            db[j] += p[j] - (j == y[i])
    return loss / n, dW / n, db / n
'''),
    Variant("w02_softmax_loss_naive", "forgets the -1 at the correct class", '''
def softmax_loss_naive(W, b, X, y):
    n, c = X.shape[0], W.shape[1]
    loss, dW, db = 0.0, np.zeros(W.shape), np.zeros(c)
    for i in range(n):
        s = X[i] @ W + b
        s = s - s.max()
        p = np.exp(s) / np.exp(s).sum()
        loss -= np.log(p[y[i]])
        for j in range(c):
            dW[:, j] += p[j] * X[i]
            db[j] += p[j]
    return loss / n, dW / n, db / n
'''),
    Variant("w02_softmax_loss_naive", "gradients summed, loss averaged", '''
def softmax_loss_naive(W, b, X, y):
    n, c = X.shape[0], W.shape[1]
    loss, dW, db = 0.0, np.zeros(W.shape), np.zeros(c)
    for i in range(n):
        s = X[i] @ W + b
        s = s - s.max()
        p = np.exp(s) / np.exp(s).sum()
        loss -= np.log(p[y[i]])
        for j in range(c):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
            db[j] += p[j] - (j == y[i])
    return loss / n, dW, db
'''),
    # softmax_loss_vectorized
    Variant("w02_softmax_loss_vectorized", "global max shift (underflows on mixed scales)", '''
def softmax_loss_vectorized(W, b, X, y):
    n = X.shape[0]
    s = X @ W + b
    s = s - s.max()
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    p[np.arange(n), y] -= 1
    return loss, X.T @ p / n, p.sum(axis=0) / n
'''),
    Variant("w02_softmax_loss_vectorized", "subtracts 1 from every row's column y (p[:, y])", '''
def softmax_loss_vectorized(W, b, X, y):
    n = X.shape[0]
    s = X @ W + b
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    ds = np.exp(log_p)
    ds[:, y] -= 1
    return -log_p[np.arange(n), y].mean(), X.T @ ds / n, ds.sum(axis=0) / n
'''),
    Variant("w02_softmax_loss_vectorized", "log-probabilities averaged over every class", '''
def softmax_loss_vectorized(W, b, X, y):
    n = X.shape[0]
    s = X @ W + b
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    ds = np.exp(log_p)
    ds[np.arange(n), y] -= 1
    return -log_p[:, y].mean(), X.T @ ds / n, ds.sum(axis=0) / n
'''),
    Variant("w02_softmax_loss_vectorized", "bias gradient summed over classes, not examples", '''
def softmax_loss_vectorized(W, b, X, y):
    n = X.shape[0]
    s = X @ W + b
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    ds = np.exp(log_p)
    ds[np.arange(n), y] -= 1
    return -log_p[np.arange(n), y].mean(), X.T @ ds / n, ds.mean(axis=1)[: W.shape[1]]
'''),
    # svm_loss_vectorized
    Variant("w02_svm_loss_vectorized", "counts the correct class's own margin (+1 per example)", '''
def svm_loss_vectorized(W, b, X, y):
    n = X.shape[0]
    s = X @ W + b
    margins = np.maximum(0, s - s[np.arange(n), y][:, None] + 1)
    active = (margins > 0).astype(float)
    active[np.arange(n), y] = 0
    ds = active.copy()
    ds[np.arange(n), y] = -active.sum(axis=1)
    return margins.sum() / n, X.T @ ds / n, ds.sum(axis=0) / n
'''),
    Variant("w02_svm_loss_vectorized", "correct class gets -1 instead of -(number of active margins)", '''
def svm_loss_vectorized(W, b, X, y):
    n = X.shape[0]
    s = X @ W + b
    margins = np.maximum(0, s - s[np.arange(n), y][:, None] + 1)
    margins[np.arange(n), y] = 0
    ds = (margins > 0).astype(float)
    ds[np.arange(n), y] = -(ds.sum(axis=1) > 0)
    return margins.sum() / n, X.T @ ds / n, ds.sum(axis=0) / n
'''),
    Variant("w02_svm_loss_vectorized", "squared hinge", '''
def svm_loss_vectorized(W, b, X, y):
    n = X.shape[0]
    s = X @ W + b
    margins = np.maximum(0, s - s[np.arange(n), y][:, None] + 1)
    margins[np.arange(n), y] = 0
    ds = 2 * margins
    ds[np.arange(n), y] = -ds.sum(axis=1)
    return (margins ** 2).sum() / n, X.T @ ds / n, ds.sum(axis=0) / n
'''),
    Variant("w02_svm_loss_vectorized", "bias gradient left at zero", '''
def svm_loss_vectorized(W, b, X, y):
    n = X.shape[0]
    s = X @ W + b
    margins = np.maximum(0, s - s[np.arange(n), y][:, None] + 1)
    margins[np.arange(n), y] = 0
    ds = (margins > 0).astype(float)
    ds[np.arange(n), y] = -ds.sum(axis=1)
    return margins.sum() / n, X.T @ ds / n, np.zeros_like(b)
'''),
    Variant("w02_svm_loss_vectorized", "[hidden only] a margin of exactly 0 counted as active", '''
def svm_loss_vectorized(W, b, X, y):
    n = X.shape[0]
    rows = np.arange(n)
    s = X @ W + b
    margins = s - s[rows, y][:, None] + 1
    active = margins >= 0  # wrong side of the kink: the contract says inactive at exactly 0
    active[rows, y] = False
    ds = active.astype(float)
    ds[rows, y] = -ds.sum(axis=1)
    loss = np.sum(np.where(active, margins, 0.0)) / n
    return loss, X.T @ ds / n, ds.sum(axis=0) / n
'''),
    # l1_l2_penalty
    Variant("w02_l1_l2_penalty", "L2 term without the 1/2", '''
def l1_l2_penalty(W, l1, l2):
    return l1 * np.abs(W).sum() + l2 * (W ** 2).sum(), l1 * np.sign(W) + 2 * l2 * W
'''),
    Variant("w02_l1_l2_penalty", "L1 gradient without the sign", '''
def l1_l2_penalty(W, l1, l2):
    return l1 * np.abs(W).sum() + 0.5 * l2 * (W ** 2).sum(), l1 + l2 * W
'''),
    Variant("w02_l1_l2_penalty", "subgradient 1 at zero (W >= 0)", '''
def l1_l2_penalty(W, l1, l2):
    sign = np.where(W >= 0, 1.0, -1.0)
    return l1 * np.abs(W).sum() + 0.5 * l2 * (W ** 2).sum(), l1 * sign + l2 * W
'''),
    Variant("w02_l1_l2_penalty", "L1 penalty on the sum, not the absolute values", '''
def l1_l2_penalty(W, l1, l2):
    return l1 * abs(W.sum()) + 0.5 * l2 * (W ** 2).sum(), l1 * np.sign(W) + l2 * W
'''),
    Variant("w02_logistic_loss", "[hidden only] log(1 − σ(s)) guarded only where σ(s) rounds to exactly 1", '''
def logistic_loss(w, b, X, y):
    s = X @ w + b
    e = np.exp(-np.abs(s))
    p = np.where(s >= 0, 1 / (1 + e), e / (1 + e))
    with np.errstate(divide="ignore"):
        # guards: log σ(s) ≈ s once σ underflows, log(1 − σ(s)) ≈ −s once σ rounds to 1
        log_p = np.where(p > 0, np.log(np.maximum(p, 1e-300)), s)
        log_1mp = np.where(p < 1, np.log(np.maximum(1 - p, 1e-300)), -s)
    loss = -np.mean(y * log_p + (1 - y) * log_1mp)
    ds = (p - y) / len(y)
    return loss, X.T @ ds, ds.sum()
'''),
]
