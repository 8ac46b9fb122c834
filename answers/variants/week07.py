"""Week 7 alternatives (must pass) and mutants (must fail)."""

from answers.variants import Variant

_LP = '''
def _lp(x, p, pool, stride):
    from numpy.lib.stride_tricks import sliding_window_view
    w = sliding_window_view(np.abs(x), (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    m = w.max(axis=(4, 5))
    safe = np.where(m > 0, m, 1.0)[..., None, None]
    return m * ((w / safe) ** p).sum(axis=(4, 5)) ** (1 / p)


def _scatter(x, pool, stride, per_offset):
    """Adds per_offset(view of x holding one offset of every window) into dx."""
    Ho, Wo = (x.shape[2] - pool) // stride + 1, (x.shape[3] - pool) // stride + 1
    dx = np.zeros_like(x)
    for a in range(pool):
        for b in range(pool):
            sl = (slice(None), slice(None), slice(a, a + stride * Ho, stride),
                  slice(b, b + stride * Wo, stride))
            dx[sl] += per_offset(x[sl])
    return dx
'''

ALTERNATIVES = [
    Variant("w07_conv_output_size", "counts window start positions with range()", '''
def conv_output_size(size, kernel, stride=1, pad=0):
    starts = range(0, size + 2 * pad - kernel + 1, stride)
    if not starts:
        raise ValueError("the kernel does not fit")
    return len(starts)
'''),
    Variant("w07_conv_output_size", "refuses with its own ValueError subclass", '''
class KernelTooLarge(ValueError):
    pass


def conv_output_size(size, kernel, stride=1, pad=0):
    span = size + 2 * pad - kernel
    if span < 0:
        raise KernelTooLarge(f"kernel {kernel} > padded size {size + 2 * pad}")
    return span // stride + 1
'''),
    Variant("w07_receptive_field", "backwards from the output: r = s·r + (k - s)", '''
def receptive_field(kernel_sizes, strides):
    r = 1
    for k, s in zip(reversed(list(kernel_sizes)), reversed(list(strides))):
        r = s * r + (k - s)
    return int(r)
'''),
    Variant("w07_conv2d_forward_naive", "loops over output positions, all filters at once", '''
def conv2d_forward_naive(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - kh) // stride + 1
    Wo = (W + 2 * pad - kw) // stride + 1
    out = np.empty((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out
'''),
    Variant("w07_conv2d_backward_naive", "loops over output positions with einsum", '''
def conv2d_backward_naive(dout, x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows = slice(i * stride, i * stride + kh)
            cols = slice(j * stride, j * stride + kw)
            d = dout[:, :, i, j]
            dxp[:, :, rows, cols] += np.einsum("nf,fcpq->ncpq", d, w)
            dw += np.einsum("nf,ncpq->fcpq", d, xp[:, :, rows, cols])
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
'''),
    Variant("w07_im2col", "loops over the kernel offsets, filling rows", '''
def im2col(x, kh, kw, stride=1, pad=0):
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - kh) // stride + 1
    Wo = (W + 2 * pad - kw) // stride + 1
    cols = np.empty((N, C, kh, kw, Ho, Wo))
    for p in range(kh):
        for q in range(kw):
            cols[:, :, p, q] = xp[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride]
    return cols.reshape(N, C * kh * kw, Ho * Wo)
'''),
    Variant("w07_conv2d_forward", "einsum over a strided window view", '''
def conv2d_forward(x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    kh, kw = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwpq,fcpq->nfhw", windows, w) + b[:, None, None]
'''),
    Variant("w07_conv2d_backward", "einsum on windows; dx by scattering over kernel offsets", '''
def conv2d_backward(dout, x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    N, C, H, W = x.shape
    kh, kw = w.shape[2:]
    Ho, Wo = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    dw = np.einsum("nchwpq,nfhw->fcpq", windows, dout)
    dxp = np.zeros_like(xp)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride] += np.einsum(
                "nfhw,fc->nchw", dout, w[:, :, p, q])
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
'''),
    Variant("w07_maxpool_forward", "explicit loops over windows", '''
def maxpool_forward(x, pool=2, stride=2):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + pool,
                                j * stride:j * stride + pool].max(axis=(2, 3))
    return out
'''),
    Variant("w07_maxpool_backward", "loops over windows, np.argmax of the flattened window", '''
def maxpool_backward(dout, x, pool=2, stride=2):
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]
    return dx
'''),
    Variant("w07_lp_pool_forward", "loops over windows, np.linalg.norm of each rescaled window", '''
def lp_pool_forward(x, p, pool=2, stride=2):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    out = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    w = x[n, c, i*stride:i*stride + pool, j*stride:j*stride + pool].ravel()
                    m = np.abs(w).max()
                    if m > 0:
                        out[n, c, i, j] = m * np.linalg.norm(w / m, ord=p)
    return out
'''),
    Variant("w07_lp_pool_forward", "log-sum-exp of p·log|x| over a window view", '''
def lp_pool_forward(x, p, pool=2, stride=2):
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy.special import logsumexp
    w = sliding_window_view(np.abs(x), (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    with np.errstate(divide="ignore"):
        log_norm = logsumexp(p * np.log(w), axis=(4, 5)) / p
    return np.exp(log_norm)
'''),
    Variant("w07_lp_pool_backward", "loops over windows, the gradient of each window's norm", '''
def lp_pool_backward(dout, x, p, pool=2, stride=2):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    w = x[n, c, i*stride:i*stride + pool, j*stride:j*stride + pool]
                    m = np.abs(w).max()
                    if m == 0:
                        continue
                    r = np.abs(w) / m
                    norm_r = np.sum(r ** p) ** (1 / p)          # ||w||_p / m
                    g = np.sign(w) * (r / norm_r) ** (p - 1)
                    dx[n, c, i*stride:i*stride + pool, j*stride:j*stride + pool] += dout[n, c, i, j] * g
    return dx
'''),
]

MUTANTS = [
    # conv_output_size
    Variant("w07_conv_output_size", "forgets the + 1", '''
def conv_output_size(size, kernel, stride=1, pad=0):
    return (size + 2 * pad - kernel) // stride
'''),
    Variant("w07_conv_output_size", "pads only one side", '''
def conv_output_size(size, kernel, stride=1, pad=0):
    return (size + pad - kernel) // stride + 1
'''),
    Variant("w07_conv_output_size", "rounds up (keeps the partial window)", '''
def conv_output_size(size, kernel, stride=1, pad=0):
    return -(-(size + 2 * pad - kernel) // stride) + 1
'''),
    Variant("w07_conv_output_size", "divides the size, not the span of window starts", '''
def conv_output_size(size, kernel, stride=1, pad=0):
    return (size + 2 * pad) // stride - kernel + 1
'''),
    Variant("w07_conv_output_size", "never refuses: a kernel larger than the padded input "
            "gives 0 or a negative size", '''
def conv_output_size(size, kernel, stride=1, pad=0):
    return (size + 2 * pad - kernel) // stride + 1
'''),
    Variant("w07_conv_output_size", "refuses with assert (AssertionError, not ValueError)", '''
def conv_output_size(size, kernel, stride=1, pad=0):
    assert kernel <= size + 2 * pad, "the kernel does not fit"
    return (size + 2 * pad - kernel) // stride + 1
'''),
    # receptive_field
    Variant("w07_receptive_field", "adds the kernel sizes, ignoring strides", '''
def receptive_field(kernel_sizes, strides):
    return int(1 + sum(k - 1 for k in kernel_sizes))
'''),
    Variant("w07_receptive_field", "multiplies the jump before adding the layer", '''
def receptive_field(kernel_sizes, strides):
    r, jump = 1, 1
    for k, s in zip(kernel_sizes, strides):
        jump *= s
        r += (k - 1) * jump
    return int(r)
'''),
    Variant("w07_receptive_field", "sums k·s instead of compounding the strides", '''
def receptive_field(kernel_sizes, strides):
    return int(1 + sum((k - 1) * s for k, s in zip(kernel_sizes, strides)))
'''),
    # conv2d_forward_naive
    Variant("w07_conv2d_forward_naive", "flips the filter (true convolution)", '''
def conv2d_forward_naive(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - kh) // stride + 1
    Wo = (W + 2 * pad - kw) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]
    return out
'''),
    Variant("w07_conv2d_forward_naive", "window starts at i, ignoring the stride", '''
def conv2d_forward_naive(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - kh) // stride + 1
    Wo = (W + 2 * pad - kw) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, f, i, j] = np.sum(xp[n, :, i:i + kh, j:j + kw] * w[f]) + b[f]
    return out
'''),
    Variant("w07_conv2d_forward_naive", "swaps the filter's height and width (wrong transpose)", '''
def conv2d_forward_naive(x, w, b, stride=1, pad=0):
    w = w.transpose(0, 1, 3, 2)
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - kh) // stride + 1
    Wo = (W + 2 * pad - kw) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out
'''),
    Variant("w07_conv2d_forward_naive", "adds the bias once per input channel", '''
def conv2d_forward_naive(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - kh) // stride + 1
    Wo = (W + 2 * pad - kw) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    for c in range(C):
                        window = xp[n, c, i * stride:i * stride + kh, j * stride:j * stride + kw]
                        out[n, f, i, j] += np.sum(window * w[f, c]) + b[f]
    return out
'''),
    # conv2d_backward_naive
    Variant("w07_conv2d_backward_naive", "assigns (=) into dx instead of accumulating (+=)", '''
def conv2d_backward_naive(dout, x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    r, c = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
                    dxp[n, :, r, c] = w[f] * dout[n, f, i, j]
                    dw[f] += xp[n, :, r, c] * dout[n, f, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
'''),
    Variant("w07_conv2d_backward_naive", "dw from the unpadded input (forgets the cached padding)", '''
def conv2d_backward_naive(dout, x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    r, c = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
                    dxp[n, :, r, c] += w[f] * dout[n, f, i, j]
                    window = np.zeros((C, kh, kw))
                    part = x[n, :, r, c]
                    window[:, :part.shape[1], :part.shape[2]] = part
                    dw[f] += window * dout[n, f, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
'''),
    Variant("w07_conv2d_backward_naive", "db averaged instead of summed", '''
def conv2d_backward_naive(dout, x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    r, c = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
                    dxp[n, :, r, c] += w[f] * dout[n, f, i, j]
                    dw[f] += xp[n, :, r, c] * dout[n, f, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.mean(axis=(0, 2, 3))
'''),
    Variant("w07_conv2d_backward_naive", "dx from the flipped filter (convolution's adjoint twice)", '''
def conv2d_backward_naive(dout, x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    r, c = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
                    dxp[n, :, r, c] += w[f, :, ::-1, ::-1] * dout[n, f, i, j]
                    dw[f] += xp[n, :, r, c] * dout[n, f, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
'''),
    # im2col
    Variant("w07_im2col", "flattens windows in (p, q, c) order", '''
def im2col(x, kh, kw, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    N, C, Ho, Wo = win.shape[:4]
    return win.transpose(0, 4, 5, 1, 2, 3).reshape(N, C * kh * kw, Ho * Wo)
'''),
    Variant("w07_im2col", "reshapes without transposing (scrambles windows)", '''
def im2col(x, kh, kw, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    N, C, Ho, Wo = win.shape[:4]
    return win.reshape(N, C * kh * kw, Ho * Wo)
'''),
    Variant("w07_im2col", "ignores the stride", '''
def im2col(x, kh, kw, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))
    N, C, Ho, Wo = win.shape[:4]
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * kh * kw, Ho * Wo)
'''),
    Variant("w07_im2col", "transposes output rows and columns (i, j swapped)", '''
def im2col(x, kh, kw, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    N, C, Ho, Wo = win.shape[:4]
    return win.transpose(0, 1, 4, 5, 3, 2).reshape(N, C * kh * kw, Ho * Wo)
'''),
    # conv2d_forward
    Variant("w07_conv2d_forward", "reshapes the (N, F, P) product without regard to order", '''
def conv2d_forward(x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    F, C, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    N, _, Ho, Wo = win.shape[:4]
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * kh * kw, Ho * Wo)
    out = cols.transpose(0, 2, 1) @ w.reshape(F, -1).T + b   # (N, P, F)
    return out.reshape(N, F, Ho, Wo)
'''),
    Variant("w07_conv2d_forward", "uses w.reshape in (c, p, q) vs cols in (p, q, c) order", '''
def conv2d_forward(x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    F, C, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    N, _, Ho, Wo = win.shape[:4]
    cols = win.transpose(0, 4, 5, 1, 2, 3).reshape(N, C * kh * kw, Ho * Wo)
    return (w.reshape(F, -1) @ cols + b[:, None]).reshape(N, F, Ho, Wo)
'''),
    Variant("w07_conv2d_forward", "forgets the padding", '''
def conv2d_forward(x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    F, C, kh, kw = w.shape
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    N, _, Ho, Wo = win.shape[:4]
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * kh * kw, Ho * Wo)
    return (w.reshape(F, -1) @ cols + b[:, None]).reshape(N, F, Ho, Wo)
'''),
    Variant("w07_conv2d_forward", "adds b without b[:, None] (broadcasts along positions)", '''
def conv2d_forward(x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    F, C, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    N, _, Ho, Wo = win.shape[:4]
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * kh * kw, Ho * Wo)
    return (w.reshape(F, -1) @ cols + b).reshape(N, F, Ho, Wo)
'''),
    # conv2d_backward
    Variant("w07_conv2d_backward", "col2im assigns (=) instead of adding overlapping windows", '''
def conv2d_backward(dout, x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    Ho, Wo = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * kh * kw, Ho * Wo)
    d = dout.reshape(N, F, Ho * Wo)
    dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ d).reshape(N, C, kh, kw, Ho, Wo)
    dxp = np.zeros_like(xp)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride] = dcols[:, :, p, q]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, d.sum(axis=(0, 2))
'''),
    Variant("w07_conv2d_backward", "unpacks dcols in (p, q, c) order instead of (c, p, q)", '''
def conv2d_backward(dout, x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    Ho, Wo = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * kh * kw, Ho * Wo)
    d = dout.reshape(N, F, Ho * Wo)
    dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ d).reshape(N, kh, kw, C, Ho, Wo)
    dxp = np.zeros_like(xp)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride] += dcols[:, p, q]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, d.sum(axis=(0, 2))
'''),
    Variant("w07_conv2d_backward", "returns the padded dx (forgets to crop)", '''
def conv2d_backward(dout, x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    Ho, Wo = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * kh * kw, Ho * Wo)
    d = dout.reshape(N, F, Ho * Wo)
    dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ d).reshape(N, C, kh, kw, Ho, Wo)
    dxp = np.zeros_like(xp)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride] += dcols[:, :, p, q]
    return dxp, dw, d.sum(axis=(0, 2))
'''),
    Variant("w07_conv2d_backward", "dw from the first image only (forgets to sum over N)", '''
def conv2d_backward(dout, x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    Ho, Wo = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * kh * kw, Ho * Wo)
    d = dout.reshape(N, F, Ho * Wo)
    dw = (d[0] @ cols[0].T).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ d).reshape(N, C, kh, kw, Ho, Wo)
    dxp = np.zeros_like(xp)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride] += dcols[:, :, p, q]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, d.sum(axis=(0, 2))
'''),
    # maxpool_forward
    Variant("w07_maxpool_forward", "reshape trick that assumes stride == pool and even sizes", '''
def maxpool_forward(x, pool=2, stride=2):
    N, C, H, W = x.shape
    return x.reshape(N, C, H // pool, pool, W // pool, pool).max(axis=(3, 5))
'''),
    Variant("w07_maxpool_forward", "average pooling", '''
def maxpool_forward(x, pool=2, stride=2):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + pool,
                                j * stride:j * stride + pool].mean(axis=(2, 3))
    return out
'''),
    Variant("w07_maxpool_forward", "windows step by pool, ignoring the stride", '''
def maxpool_forward(x, pool=2, stride=2):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * pool:i * pool + pool,
                                j * pool:j * pool + pool].max(axis=(2, 3))
    return out
'''),
    # maxpool_backward
    Variant("w07_maxpool_backward", "mask x == max: every tied maximum gets the gradient", '''
def maxpool_backward(dout, x, pool=2, stride=2):
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            r, c = slice(i * stride, i * stride + pool), slice(j * stride, j * stride + pool)
            window = x[:, :, r, c]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, r, c] += mask * dout[:, :, i, j][:, :, None, None]
    return dx
'''),
    Variant("w07_maxpool_backward", "assigns (=) instead of adding for overlapping windows", '''
def maxpool_backward(dout, x, pool=2, stride=2):
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + p, j * stride + q] = dout[n, c, i, j]
    return dx
'''),
    Variant("w07_maxpool_backward", "unravels the argmax with rows and columns swapped", '''
def maxpool_backward(dout, x, pool=2, stride=2):
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool]
                    k = np.argmax(window)
                    p, q = k % pool, k // pool
                    dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]
    return dx
'''),
    Variant("w07_maxpool_backward", "spreads the gradient evenly (average pooling's)", '''
def maxpool_backward(dout, x, pool=2, stride=2):
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * stride:i * stride + pool, j * stride:j * stride + pool] += (
                dout[:, :, i, j][:, :, None, None] / pool**2)
    return dx
'''),
    # hidden-only mutant: the public ties are all-zero windows, where it picks the same pixel
    Variant("w07_maxpool_backward", "ties broken in column-major order (window.T) [hidden only]", '''
def maxpool_backward(dout, x, pool=2, stride=2):
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool]
                    q, p = np.unravel_index(np.argmax(window.T), window.T.shape)
                    dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]
    return dx
'''),
    # lp_pool_forward
    Variant("w07_lp_pool_forward", "no guard: the powers of |x| directly (overflow for large p)", '''
def lp_pool_forward(x, p, pool=2, stride=2):
    from numpy.lib.stride_tricks import sliding_window_view
    w = sliding_window_view(np.abs(x), (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    return (w ** p).sum(axis=(4, 5)) ** (1 / p)
'''),
    Variant("w07_lp_pool_forward", "rescales by the whole tensor's maximum, not each window's", '''
def lp_pool_forward(x, p, pool=2, stride=2):
    from numpy.lib.stride_tricks import sliding_window_view
    m = np.abs(x).max()
    m = m if m > 0 else 1.0
    w = sliding_window_view(np.abs(x) / m, (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    return m * (w ** p).sum(axis=(4, 5)) ** (1 / p)
'''),
    Variant("w07_lp_pool_forward", "rescales each window by its max but divides 0 by 0", '''
def lp_pool_forward(x, p, pool=2, stride=2):
    from numpy.lib.stride_tricks import sliding_window_view
    w = sliding_window_view(np.abs(x), (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    m = w.max(axis=(4, 5), keepdims=True)
    return m[..., 0, 0] * ((w / m) ** p).sum(axis=(4, 5)) ** (1 / p)
'''),
    Variant("w07_lp_pool_forward", "signed powers (x^p, not |x|^p)", '''
def lp_pool_forward(x, p, pool=2, stride=2):
    from numpy.lib.stride_tricks import sliding_window_view
    w = sliding_window_view(x, (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    m = np.abs(w).max(axis=(4, 5), keepdims=True)
    m = np.where(m > 0, m, 1.0)
    return m[..., 0, 0] * np.abs(((w / m) ** p).sum(axis=(4, 5))) ** (1 / p)
'''),
    Variant("w07_lp_pool_forward", "the mean over the window instead of the sum", '''
def lp_pool_forward(x, p, pool=2, stride=2):
    from numpy.lib.stride_tricks import sliding_window_view
    w = sliding_window_view(np.abs(x), (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    m = w.max(axis=(4, 5), keepdims=True)
    m = np.where(m > 0, m, 1.0)
    return m[..., 0, 0] * ((w / m) ** p).mean(axis=(4, 5)) ** (1 / p)
'''),
    Variant("w07_lp_pool_forward", "forgets the root (the p-th power of the norm)", '''
def lp_pool_forward(x, p, pool=2, stride=2):
    from numpy.lib.stride_tricks import sliding_window_view
    w = sliding_window_view(np.abs(x), (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    return (w ** p).sum(axis=(4, 5))
'''),
    # lp_pool_backward
    Variant("w07_lp_pool_backward", "forgets the sign of x (the derivative of |x|)", _LP + '''
def lp_pool_backward(dout, x, p, pool=2, stride=2):
    y = _lp(x, p, pool, stride)
    safe = np.where(y > 0, y, 1.0)
    return _scatter(x, pool, stride, lambda v: dout * (np.abs(v) / safe) ** (p - 1))
'''),
    Variant("w07_lp_pool_backward", "power p instead of p - 1", _LP + '''
def lp_pool_backward(dout, x, p, pool=2, stride=2):
    y = _lp(x, p, pool, stride)
    safe = np.where(y > 0, y, 1.0)
    return _scatter(x, pool, stride, lambda v: dout * np.sign(v) * (np.abs(v) / safe) ** p)
'''),
    Variant("w07_lp_pool_backward", "powers of |x| and of the norm separately (overflow for large p)", _LP + '''
def lp_pool_backward(dout, x, p, pool=2, stride=2):
    y = _lp(x, p, pool, stride)
    return _scatter(x, pool, stride,
                    lambda v: dout * np.sign(v) * np.abs(v) ** (p - 1) * y ** (1 - p))
'''),
    Variant("w07_lp_pool_backward", "a window of zeros divides 0 by 0", _LP + '''
def lp_pool_backward(dout, x, p, pool=2, stride=2):
    y = _lp(x, p, pool, stride)
    return _scatter(x, pool, stride, lambda v: dout * np.sign(v) * (np.abs(v) / y) ** (p - 1))
'''),
    Variant("w07_lp_pool_backward", "overlapping windows overwrite instead of adding", _LP + '''
def lp_pool_backward(dout, x, p, pool=2, stride=2):
    y = _lp(x, p, pool, stride)
    safe = np.where(y > 0, y, 1.0)
    Ho, Wo = y.shape[2:]
    dx = np.zeros_like(x)
    for a in range(pool):
        for b in range(pool):
            sl = (slice(None), slice(None), slice(a, a + stride * Ho, stride),
                  slice(b, b + stride * Wo, stride))
            dx[sl] = dout * np.sign(x[sl]) * (np.abs(x[sl]) / safe) ** (p - 1)
    return dx
'''),
    Variant("w07_lp_pool_backward", "all of the gradient to the window's maximum (max pooling's rule)", _LP + '''
def lp_pool_backward(dout, x, p, pool=2, stride=2):
    from numpy.lib.stride_tricks import sliding_window_view
    mx = sliding_window_view(np.abs(x), (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    mx = mx.max(axis=(4, 5))
    return _scatter(x, pool, stride, lambda v: dout * np.sign(v) * (np.abs(v) == mx))
'''),
]

# Hidden-only mutants aimed at the operator mutants that survived the hidden grade
# (bench/bench_mutants.py): each one passes the public cases.
MUTANTS += [
    Variant("w07_conv_output_size", "checks the fit on the unpadded size (raises where only "
            "the padding makes the kernel fit) [hidden only]", '''
def conv_output_size(size, kernel, stride=1, pad=0):
    if size < kernel:
        raise ValueError("the kernel does not fit")
    return (size + 2 * pad - kernel) // stride + 1
'''),
    Variant("w07_conv2d_backward", "padded gradient buffer of H + 2 + pad rows (right for pad "
            "2, too small from pad 3) [hidden only]", '''
def conv2d_backward(dout, x, w, b, stride=1, pad=0):
    from numpy.lib.stride_tricks import sliding_window_view
    N, C, H, W = x.shape
    kh, kw = w.shape[2:]
    Ho, Wo = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    dw = np.einsum("nchwpq,nfhw->fcpq", windows, dout)
    dxp = np.zeros((N, C, H + 2 + pad, W + 2 * pad))
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride] += np.einsum(
                "nfhw,fc->nchw", dout, w[:, :, p, q])
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
'''),
]
