"""Week 9 alternatives (must pass) and mutants (must fail).

Each source is self-contained (only ``np`` is given), so sequence-level variants define the
step helpers they need.
"""

from answers.variants import Variant

_SIGMOID = '''
def _sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))
'''

_LSTM_STEP = _SIGMOID + '''
def _step(x, prev_h, prev_c, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    H = prev_h.shape[1]
    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2*H]), _sigmoid(a[:, 3*H:])
    g = np.tanh(a[:, 2*H:3*H])
    c = f * prev_c + i * g
    return o * np.tanh(c), c, (i, f, g, o)
'''

ALTERNATIVES = [
    Variant("w09_rnn_step_forward", "one product with stacked [x, h] and [Wx; Wh]", '''
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    return np.tanh(np.hstack([x, prev_h]) @ np.vstack([Wx, Wh]) + b)
'''),
    Variant("w09_rnn_step_backward", "tanh' as 1/cosh² of the pre-activation, einsum", '''
def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    da = dnext_h / np.cosh(a) ** 2
    return (np.einsum("nh,dh->nd", da, Wx), np.einsum("nh,kh->nk", da, Wh),
            np.einsum("nd,nh->dh", x, da), np.einsum("nk,nh->kh", prev_h, da),
            np.einsum("nh->h", da))
'''),
    Variant("w09_rnn_forward", "a loop of steps, states collected in a list", '''
def rnn_forward(x, h0, Wx, Wh, b):
    states, h = [], h0
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h)
    return np.stack(states, axis=1)
'''),
    Variant("w09_rnn_backward", "a loop of per-step backward passes, accumulating", '''
def rnn_backward(dh, x, h0, Wx, Wh, b):
    N, T, D = x.shape
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da = (dh[:, t] + dnext) * (1 - hs[t + 1] ** 2)
        dx[:, t] = da @ Wx.T
        dnext = da @ Wh.T
        dWx += x[:, t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
    return dx, dnext, dWx, dWh, db
'''),
    Variant("w09_rnn_truncated_backward", "one backward loop, gradient reset at boundaries", '''
def rnn_truncated_backward(dh, x, h0, Wx, Wh, b, window):
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    N, T, D = x.shape
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        if (t + 1) % window == 0:  # t is the last step of a window: nothing flows in
            dnext = np.zeros_like(h0)
        da = (dh[:, t] + dnext) * (1 - hs[t + 1] ** 2)
        dx[:, t] = da @ Wx.T
        dnext = da @ Wh.T
        dWx += x[:, t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
    return dx, dnext, dWx, dWh, db
'''),
    Variant("w09_lstm_step_forward", "one product per gate with sliced weights", _SIGMOID + '''
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    gate = lambda k: x @ Wx[:, k*H:(k+1)*H] + prev_h @ Wh[:, k*H:(k+1)*H] + b[k*H:(k+1)*H]
    i, f, g, o = _sigmoid(gate(0)), _sigmoid(gate(1)), np.tanh(gate(2)), _sigmoid(gate(3))
    c = f * prev_c + i * g
    return o * np.tanh(c), c
'''),
    Variant("w09_lstm_step_backward", "gate by gate, then concatenated", _LSTM_STEP + '''
def lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b):
    _, c, (i, f, g, o) = _step(x, prev_h, prev_c, Wx, Wh, b)
    do = dnext_h * np.tanh(c)
    dc = dnext_c + dnext_h * o * (1 - np.tanh(c) ** 2)
    di, df, dg = dc * g, dc * prev_c, dc * i
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)
'''),
    Variant("w09_lstm_forward", "a loop of steps, lists stacked", _LSTM_STEP + '''
def lstm_forward(x, h0, c0, Wx, Wh, b):
    hs, cs, h, c = [], [], h0, c0
    for t in range(x.shape[1]):
        h, c, _ = _step(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        cs.append(c)
    return np.stack(hs, axis=1), np.stack(cs, axis=1)
'''),
    Variant("w09_lstm_backward", "per-step backward through saved gates", _LSTM_STEP + '''
def lstm_backward(dh, x, h0, c0, Wx, Wh, b):
    T = x.shape[1]
    hs, cs, gates = [h0], [c0], []
    for t in range(T):
        h, c, gs = _step(x[:, t], hs[-1], cs[-1], Wx, Wh, b)
        hs.append(h); cs.append(c); gates.append(gs)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext_h, dnext_c = np.zeros_like(h0), np.zeros_like(c0)
    for t in range(T - 1, -1, -1):
        i, f, g, o = gates[t]
        dh_t = dh[:, t] + dnext_h
        tc = np.tanh(cs[t + 1])
        dc = dnext_c + dh_t * o * (1 - tc ** 2)
        da = np.hstack([dc * g * i * (1 - i), dc * cs[t] * f * (1 - f), dc * i * (1 - g * g),
                        dh_t * tc * o * (1 - o)])
        dx[:, t] = da @ Wx.T
        dnext_h, dnext_c = da @ Wh.T, dc * f
        dWx += x[:, t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
    return dx, dnext_h, dnext_c, dWx, dWh, db
'''),
    Variant("w09_temporal_affine_forward", "einsum over (n, t, d)", '''
def temporal_affine_forward(x, w, b):
    return np.einsum("ntd,dm->ntm", x, w) + b
'''),
    Variant("w09_temporal_affine_backward", "einsum sums over n and t", '''
def temporal_affine_backward(dout, x, w, b):
    return (np.einsum("ntm,dm->ntd", dout, w), np.einsum("ntd,ntm->dm", x, dout),
            dout.sum(axis=(0, 1)))
'''),
    Variant("w09_temporal_softmax_loss", "flattened, one-hot mask, explicit count", '''
def temporal_softmax_loss(scores, y, mask):
    N, T, V = scores.shape
    s = scores.reshape(N * T, V)
    yf, m = y.reshape(-1), mask.reshape(-1).astype(float)
    count = max(m.sum(), 1.0)
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    one_hot = np.eye(V)[yf]
    loss = -(m * (one_hot * log_p).sum(axis=1)).sum() / count
    grad = (np.exp(log_p) - one_hot) * m[:, None] / count
    return loss, grad.reshape(N, T, V)
'''),
]

MUTANTS = [
    # rnn_step_forward
    Variant("w09_rnn_step_forward", "ReLU instead of tanh", '''
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    return np.maximum(0, x @ Wx + prev_h @ Wh + b)
'''),
    Variant("w09_rnn_step_forward", "forgets the bias", '''
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    return np.tanh(x @ Wx + prev_h @ Wh)
'''),
    Variant("w09_rnn_step_forward", "multiplies by Wh transposed", '''
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    return np.tanh(x @ Wx + prev_h @ Wh.T + b)
'''),
    # rnn_step_backward
    Variant("w09_rnn_step_backward", "tanh' from the pre-activation: 1 - a² instead of 1 - tanh(a)²", '''
def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    da = dnext_h * (1 - a ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)
'''),
    Variant("w09_rnn_step_backward", "forgets the tanh derivative", '''
def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b):
    da = dnext_h
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)
'''),
    Variant("w09_rnn_step_backward", "averages db over the batch", '''
def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b):
    h = np.tanh(x @ Wx + prev_h @ Wh + b)
    da = dnext_h * (1 - h ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.mean(axis=0)
'''),
    Variant("w09_rnn_step_backward", "dWh from next_h instead of prev_h", '''
def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b):
    h = np.tanh(x @ Wx + prev_h @ Wh + b)
    da = dnext_h * (1 - h ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h.T @ da, da.sum(axis=0)
'''),
    # rnn_forward
    Variant("w09_rnn_forward", "starts from zeros instead of h0", '''
def rnn_forward(x, h0, Wx, Wh, b):
    states, h = [], np.zeros_like(h0)
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h)
    return np.stack(states, axis=1)
'''),
    Variant("w09_rnn_forward", "stores the state before the update (off by one)", '''
def rnn_forward(x, h0, Wx, Wh, b):
    states, h = [], h0
    for t in range(x.shape[1]):
        states.append(h)
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
    return np.stack(states, axis=1)
'''),
    Variant("w09_rnn_forward", "every step starts from h0 (no recurrence)", '''
def rnn_forward(x, h0, Wx, Wh, b):
    return np.tanh(x @ Wx + (h0 @ Wh)[:, None] + b)
'''),
    # rnn_backward
    Variant("w09_rnn_backward", "no gradient through time (each step on its own)", '''
def rnn_backward(dh, x, h0, Wx, Wh, b):
    T = x.shape[1]
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
    h, prev = np.stack(hs[1:], 1), np.stack(hs[:-1], 1)
    da = dh * (1 - h ** 2)
    flat = da.reshape(-1, da.shape[-1])
    return (da @ Wx.T, da[:, 0] @ Wh.T, x.reshape(-1, x.shape[-1]).T @ flat,
            prev.reshape(-1, prev.shape[-1]).T @ flat, flat.sum(0))
'''),
    Variant("w09_rnn_backward", "adds the gradient from step t+1 after the tanh derivative", '''
def rnn_backward(dh, x, h0, Wx, Wh, b):
    T = x.shape[1]
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da = dh[:, t] * (1 - hs[t + 1] ** 2) + dnext
        dx[:, t] = da @ Wx.T
        dnext = da @ Wh.T
        dWx += x[:, t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
    return dx, dnext, dWx, dWh, db
'''),
    Variant("w09_rnn_backward", "dWh pairs step t with h_t instead of h_{t-1}", '''
def rnn_backward(dh, x, h0, Wx, Wh, b):
    T = x.shape[1]
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da = (dh[:, t] + dnext) * (1 - hs[t + 1] ** 2)
        dx[:, t] = da @ Wx.T
        dnext = da @ Wh.T
        dWx += x[:, t].T @ da
        dWh += hs[t + 1].T @ da
        db += da.sum(axis=0)
    return dx, dnext, dWx, dWh, db
'''),
    # rnn_truncated_backward
    Variant("w09_rnn_truncated_backward", "ignores the window (full BPTT)", '''
def rnn_truncated_backward(dh, x, h0, Wx, Wh, b, window):
    T = x.shape[1]
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da = (dh[:, t] + dnext) * (1 - hs[t + 1] ** 2)
        dx[:, t] = da @ Wx.T
        dnext = da @ Wh.T
        dWx += x[:, t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
    return dx, dnext, dWx, dWh, db
'''),
    Variant("w09_rnn_truncated_backward", "restarts every window from h0", '''
def rnn_truncated_backward(dh, x, h0, Wx, Wh, b, window):
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh0 = None
    for s in range(0, T, window):
        hs = [h0]
        for t in range(s, min(s + window, T)):
            hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
        dnext = np.zeros_like(h0)
        for j, t in reversed(list(enumerate(range(s, min(s + window, T))))):
            da = (dh[:, t] + dnext) * (1 - hs[j + 1] ** 2)
            dx[:, t] = da @ Wx.T
            dnext = da @ Wh.T
            dWx += x[:, t].T @ da
            dWh += hs[j].T @ da
            db += da.sum(axis=0)
        dh0 = dnext if dh0 is None else dh0
    return dx, dh0, dWx, dWh, db
'''),
    Variant("w09_rnn_truncated_backward", "averages the windows' gradients instead of summing", '''
def rnn_truncated_backward(dh, x, h0, Wx, Wh, b, window):
    T = x.shape[1]
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        if (t + 1) % window == 0:
            dnext = np.zeros_like(h0)
        da = (dh[:, t] + dnext) * (1 - hs[t + 1] ** 2)
        dx[:, t] = da @ Wx.T
        dnext = da @ Wh.T
        dWx += x[:, t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
    windows = -(-T // window)
    return dx, dnext, dWx / windows, dWh / windows, db / windows
'''),
    Variant("w09_rnn_truncated_backward", "no check of the window: range() refuses 0 by "
            "itself, a negative window gives no window at all [hidden only]", '''
def rnn_truncated_backward(dh, x, h0, Wx, Wh, b, window):
    T = x.shape[1]
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh0 = None
    for start in range(0, T, window):
        dnext = np.zeros_like(h0)
        for t in range(min(start + window, T) - 1, start - 1, -1):
            da = (dh[:, t] + dnext) * (1 - hs[t + 1] ** 2)
            dx[:, t] = da @ Wx.T
            dnext = da @ Wh.T
            dWx += x[:, t].T @ da
            dWh += hs[t].T @ da
            db += da.sum(axis=0)
        if start == 0:
            dh0 = dnext
    return dx, dh0, dWx, dWh, db
'''),
    # lstm_step_forward
    Variant("w09_lstm_step_forward", "CS231n's gate order i, f, o, g", _SIGMOID + '''
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    H = prev_h.shape[1]
    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2*H]), _sigmoid(a[:, 2*H:3*H])
    g = np.tanh(a[:, 3*H:])
    c = f * prev_c + i * g
    return o * np.tanh(c), c
'''),
    Variant("w09_lstm_step_forward", "next_h = o * next_c (no tanh)", _SIGMOID + '''
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    H = prev_h.shape[1]
    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2*H]), _sigmoid(a[:, 3*H:])
    g = np.tanh(a[:, 2*H:3*H])
    c = f * prev_c + i * g
    return o * c, c
'''),
    Variant("w09_lstm_step_forward", "sigmoid on the candidate g too", _SIGMOID + '''
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    i, f, g, o = np.split(_sigmoid(x @ Wx + prev_h @ Wh + b), 4, axis=1)
    c = f * prev_c + i * g
    return o * np.tanh(c), c
'''),
    Variant("w09_lstm_step_forward", "no forget gate (prev_c + i * g)", _SIGMOID + '''
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    H = prev_h.shape[1]
    i, o = _sigmoid(a[:, :H]), _sigmoid(a[:, 3*H:])
    g = np.tanh(a[:, 2*H:3*H])
    c = prev_c + i * g
    return o * np.tanh(c), c
'''),
    # lstm_step_backward
    Variant("w09_lstm_step_backward", "ignores dnext_c", _LSTM_STEP + '''
def lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b):
    _, c, (i, f, g, o) = _step(x, prev_h, prev_c, Wx, Wh, b)
    dc = dnext_h * o * (1 - np.tanh(c) ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dc * i * (1 - g * g),
                    dnext_h * np.tanh(c) * o * (1 - o)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)
'''),
    Variant("w09_lstm_step_backward", "dprev_c = dc (forgets the forget gate)", _LSTM_STEP + '''
def lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b):
    _, c, (i, f, g, o) = _step(x, prev_h, prev_c, Wx, Wh, b)
    dc = dnext_c + dnext_h * o * (1 - np.tanh(c) ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dc * i * (1 - g * g),
                    dnext_h * np.tanh(c) * o * (1 - o)])
    return da @ Wx.T, da @ Wh.T, dc, x.T @ da, prev_h.T @ da, da.sum(axis=0)
'''),
    Variant("w09_lstm_step_backward", "gradient blocks stacked in the order i, f, o, g", _LSTM_STEP + '''
def lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b):
    _, c, (i, f, g, o) = _step(x, prev_h, prev_c, Wx, Wh, b)
    dc = dnext_c + dnext_h * o * (1 - np.tanh(c) ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                    dnext_h * np.tanh(c) * o * (1 - o), dc * i * (1 - g * g)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)
'''),
    Variant("w09_lstm_step_backward", "output gate gets dnext_h without tanh(next_c)", _LSTM_STEP + '''
def lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b):
    _, c, (i, f, g, o) = _step(x, prev_h, prev_c, Wx, Wh, b)
    dc = dnext_c + dnext_h * o * (1 - np.tanh(c) ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dc * i * (1 - g * g),
                    dnext_h * o * (1 - o)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)
'''),
    # lstm_forward
    Variant("w09_lstm_forward", "starts the cell from zeros instead of c0", _LSTM_STEP + '''
def lstm_forward(x, h0, c0, Wx, Wh, b):
    hs, cs, h, c = [], [], h0, np.zeros_like(c0)
    for t in range(x.shape[1]):
        h, c, _ = _step(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        cs.append(c)
    return np.stack(hs, axis=1), np.stack(cs, axis=1)
'''),
    Variant("w09_lstm_forward", "CS231n's gate order i, f, o, g", _SIGMOID + '''
def lstm_forward(x, h0, c0, Wx, Wh, b):
    hs, cs, h, c = [], [], h0, c0
    for t in range(x.shape[1]):
        i, f, o, g = np.split(x[:, t] @ Wx + h @ Wh + b, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs, axis=1), np.stack(cs, axis=1)
'''),
    Variant("w09_lstm_forward", "h uses the previous cell state", _SIGMOID + '''
def lstm_forward(x, h0, c0, Wx, Wh, b):
    hs, cs, h, c = [], [], h0, c0
    for t in range(x.shape[1]):
        i, f, g, o = np.split(x[:, t] @ Wx + h @ Wh + b, 4, axis=1)
        new_c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        c = new_c
        hs.append(h)
        cs.append(c)
    return np.stack(hs, axis=1), np.stack(cs, axis=1)
'''),
    # lstm_backward
    Variant("w09_lstm_backward", "carries only dh back in time, not dc", _LSTM_STEP + '''
def lstm_backward(dh, x, h0, c0, Wx, Wh, b):
    T = x.shape[1]
    hs, cs, gates = [h0], [c0], []
    for t in range(T):
        h, c, gs = _step(x[:, t], hs[-1], cs[-1], Wx, Wh, b)
        hs.append(h); cs.append(c); gates.append(gs)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext_h, dprev_c = np.zeros_like(h0), np.zeros_like(c0)
    for t in range(T - 1, -1, -1):
        i, f, g, o = gates[t]
        dh_t = dh[:, t] + dnext_h
        tc = np.tanh(cs[t + 1])
        dc = dh_t * o * (1 - tc ** 2)
        da = np.hstack([dc * g * i * (1 - i), dc * cs[t] * f * (1 - f), dc * i * (1 - g * g),
                        dh_t * tc * o * (1 - o)])
        dx[:, t] = da @ Wx.T
        dnext_h, dprev_c = da @ Wh.T, dc * f
        dWx += x[:, t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
    return dx, dnext_h, dprev_c, dWx, dWh, db
'''),
    Variant("w09_lstm_backward", "carries only dc back in time, not dh", _LSTM_STEP + '''
def lstm_backward(dh, x, h0, c0, Wx, Wh, b):
    T = x.shape[1]
    hs, cs, gates = [h0], [c0], []
    for t in range(T):
        h, c, gs = _step(x[:, t], hs[-1], cs[-1], Wx, Wh, b)
        hs.append(h); cs.append(c); gates.append(gs)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev_h, dnext_c = np.zeros_like(h0), np.zeros_like(c0)
    for t in range(T - 1, -1, -1):
        i, f, g, o = gates[t]
        dh_t = dh[:, t]
        tc = np.tanh(cs[t + 1])
        dc = dnext_c + dh_t * o * (1 - tc ** 2)
        da = np.hstack([dc * g * i * (1 - i), dc * cs[t] * f * (1 - f), dc * i * (1 - g * g),
                        dh_t * tc * o * (1 - o)])
        dx[:, t] = da @ Wx.T
        dprev_h, dnext_c = da @ Wh.T, dc * f
        dWx += x[:, t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
    return dx, dprev_h, dnext_c, dWx, dWh, db
'''),
    Variant("w09_lstm_backward", "dWh pairs step t with h_t instead of h_{t-1}", _LSTM_STEP + '''
def lstm_backward(dh, x, h0, c0, Wx, Wh, b):
    T = x.shape[1]
    hs, cs, gates = [h0], [c0], []
    for t in range(T):
        h, c, gs = _step(x[:, t], hs[-1], cs[-1], Wx, Wh, b)
        hs.append(h); cs.append(c); gates.append(gs)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext_h, dnext_c = np.zeros_like(h0), np.zeros_like(c0)
    for t in range(T - 1, -1, -1):
        i, f, g, o = gates[t]
        dh_t = dh[:, t] + dnext_h
        tc = np.tanh(cs[t + 1])
        dc = dnext_c + dh_t * o * (1 - tc ** 2)
        da = np.hstack([dc * g * i * (1 - i), dc * cs[t] * f * (1 - f), dc * i * (1 - g * g),
                        dh_t * tc * o * (1 - o)])
        dx[:, t] = da @ Wx.T
        dnext_h, dnext_c = da @ Wh.T, dc * f
        dWx += x[:, t].T @ da
        dWh += hs[t + 1].T @ da
        db += da.sum(axis=0)
    return dx, dnext_h, dnext_c, dWx, dWh, db
'''),
    # temporal_affine_forward
    Variant("w09_temporal_affine_forward", "forgets the bias", '''
def temporal_affine_forward(x, w, b):
    return x @ w
'''),
    Variant("w09_temporal_affine_forward", "reshapes through (T, N) order (scrambles the batch)", '''
def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    out = x.transpose(1, 0, 2).reshape(N * T, D) @ w + b
    return out.reshape(N, T, -1)
'''),
    Variant("w09_temporal_affine_forward", "applies the layer at the last step only", '''
def temporal_affine_forward(x, w, b):
    out = np.zeros(x.shape[:2] + (w.shape[1],))
    out[:, -1] = x[:, -1] @ w + b
    return out
'''),
    # temporal_affine_backward
    Variant("w09_temporal_affine_backward", "db summed over the batch only", '''
def temporal_affine_backward(dout, x, w, b):
    return dout @ w.T, np.einsum("ntd,ntm->dm", x, dout), dout.sum(axis=0)
'''),
    Variant("w09_temporal_affine_backward", "dw and db averaged over time", '''
def temporal_affine_backward(dout, x, w, b):
    T = x.shape[1]
    return dout @ w.T, np.einsum("ntd,ntm->dm", x, dout) / T, dout.sum(axis=(0, 1)) / T
'''),
    Variant("w09_temporal_affine_backward", "weight gradient from the last step only", '''
def temporal_affine_backward(dout, x, w, b):
    return dout @ w.T, x[:, -1].T @ dout[:, -1], dout.sum(axis=(0, 1))
'''),
    # temporal_softmax_loss
    Variant("w09_temporal_softmax_loss", "divides by every position, kept or not", '''
def temporal_softmax_loss(scores, y, mask):
    s = scores - scores.max(axis=-1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
    one_hot = np.eye(scores.shape[-1])[y]
    m = mask.astype(float)
    loss = -(m * (one_hot * log_p).sum(-1)).sum() / m.size
    return loss, (np.exp(log_p) - one_hot) * m[..., None] / m.size
'''),
    Variant("w09_temporal_softmax_loss", "sums over time, averages over N (CS231n's convention)", '''
def temporal_softmax_loss(scores, y, mask):
    N = scores.shape[0]
    s = scores - scores.max(axis=-1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
    one_hot = np.eye(scores.shape[-1])[y]
    m = mask.astype(float)
    loss = -(m * (one_hot * log_p).sum(-1)).sum() / N
    return loss, (np.exp(log_p) - one_hot) * m[..., None] / N
'''),
    Variant("w09_temporal_softmax_loss", "masks the loss but not the gradient", '''
def temporal_softmax_loss(scores, y, mask):
    s = scores - scores.max(axis=-1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
    one_hot = np.eye(scores.shape[-1])[y]
    m = mask.astype(float)
    count = max(m.sum(), 1)
    loss = -(m * (one_hot * log_p).sum(-1)).sum() / count
    return loss, (np.exp(log_p) - one_hot) / count
'''),
    Variant("w09_temporal_softmax_loss", "softmax without the max shift (overflows)", '''
def temporal_softmax_loss(scores, y, mask):
    p = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    one_hot = np.eye(scores.shape[-1])[y]
    m = mask.astype(float)
    count = max(m.sum(), 1)
    loss = -(m * np.log((one_hot * p).sum(-1))).sum() / count
    return loss, (p - one_hot) * m[..., None] / count
'''),
]
