"""Week 7 reference kernels: convolution, max pooling, receptive fields, LeNet-5.

Layout everywhere is PyTorch's: images ``(N, C, H, W)``, filters ``(F, C, kh, kw)``. A
"convolution" is, as in every deep-learning library, a cross-correlation (the filter is not
flipped).

Two versions of the convolution: ``*_naive`` loops over every output position (the
definition, readable), and the vectorized pair that gathers every receptive field into one
matrix (*im2col*) so the whole layer is a single matrix product.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from tqdm.auto import tqdm

from grader.data import data_dir, minibatches
from answers.kernels.week04 import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    softmax_cross_entropy,
)
from answers.kernels.week05 import adam_step, cosine_lr, he_normal_init


# --------------------------------------------------------------------------------------
# Shapes and receptive fields
# --------------------------------------------------------------------------------------
def conv_output_size(size: int, kernel: int, stride: int = 1, pad: int = 0) -> int:
    """Output length of a convolution or pooling along one axis.

    ``floor((size + 2 pad - kernel) / stride) + 1``: positions where the window fits
    entirely inside the padded input; a partial window at the end is dropped.

    Raises:
        ValueError: the kernel is larger than the padded input.
    """
    if size + 2 * pad < kernel:
        raise ValueError(f"kernel {kernel} does not fit in size {size} with padding {pad}")
    return (size + 2 * pad - kernel) // stride + 1


def receptive_field(kernel_sizes: np.ndarray, strides: np.ndarray) -> int:
    """Receptive field (in input pixels, along one axis) of a unit in the last layer.

    Each layer ``l`` widens the field by ``(k_l - 1)`` times the *jump* ``j_l`` (distance in
    input pixels between neighbouring units of its input), and the jump multiplies by the
    layer's stride: ``r = 1 + Σ_l (k_l - 1) Π_{m<l} s_m``. Pooling layers count like
    convolutions.

    Args:
        kernel_sizes: ``(L,)`` kernel size of each layer, input side first.
        strides: ``(L,)`` stride of each layer.

    Returns:
        The receptive field, an int (1 for no layers).
    """
    field, jump = 1, 1
    for kernel, stride in zip(np.asarray(kernel_sizes).tolist(), np.asarray(strides).tolist(),
                              strict=True):
        field += (kernel - 1) * jump
        jump *= stride
    return int(field)


def _pad_hw(x: np.ndarray, pad: int) -> np.ndarray:
    """Zero-pad the two spatial axes of ``(N, C, H, W)``."""
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x


# --------------------------------------------------------------------------------------
# Convolution, naive: the definition as loops
# --------------------------------------------------------------------------------------
def conv2d_forward_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1,
                         pad: int = 0) -> np.ndarray:
    """2-D convolution (cross-correlation) by looping over every output position.

    ``out[n, f, i, j] = b[f] + Σ_{c, p, q} x_pad[n, c, i s + p, j s + q] · w[f, c, p, q]``.

    Args:
        x: ``(N, C, H, W)`` input.
        w: ``(F, C, kh, kw)`` filters.
        b: ``(F,)`` biases.
        stride: step between neighbouring windows.
        pad: zeros added on each side of both spatial axes.

    Returns:
        ``(N, F, Ho, Wo)`` with ``Ho = conv_output_size(H, kh, stride, pad)`` (same for W).
    """
    n_images, _, height, width = x.shape
    n_filters, _, kh, kw = w.shape
    out_h = conv_output_size(height, kh, stride, pad)
    out_w = conv_output_size(width, kw, stride, pad)
    x_pad = _pad_hw(x, pad)
    out = np.zeros((n_images, n_filters, out_h, out_w), dtype=np.result_type(x, w, b))
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(out_h):
                for j in range(out_w):
                    window = x_pad[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out


def conv2d_backward_naive(dout: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray,
                          stride: int = 1, pad: int = 0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d_forward_naive`, looping over the same positions.

    Each output ``out[n, f, i, j]`` used one window of ``x_pad`` and the whole filter
    ``w[f]``, so its upstream gradient flows back to exactly those: the window gets
    ``w[f] · dout`` and the filter gets ``window · dout`` (summed over every position where
    they met). Padding receives gradient too; it is cut off at the end.

    Args:
        dout: ``(N, F, Ho, Wo)`` upstream gradient.
        x, w, b, stride, pad: the forward pass's inputs.

    Returns:
        ``(dx (N, C, H, W), dw (F, C, kh, kw), db (F,))``.
    """
    n_images, _, height, width = x.shape
    n_filters, _, kh, kw = w.shape
    _, _, out_h, out_w = dout.shape
    x_pad = _pad_hw(x, pad)
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x, w, dout))
    dw = np.zeros_like(w, dtype=np.result_type(x, w, dout))
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(out_h):
                for j in range(out_w):
                    rows = slice(i * stride, i * stride + kh)
                    cols = slice(j * stride, j * stride + kw)
                    dx_pad[n, :, rows, cols] += w[f] * dout[n, f, i, j]
                    dw[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j]
    db = dout.sum(axis=(0, 2, 3))
    return dx_pad[:, :, pad:pad + height, pad:pad + width], dw, db


# --------------------------------------------------------------------------------------
# Convolution, vectorized: im2col + one matrix product
# --------------------------------------------------------------------------------------
def _windows(x_pad: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """Every ``kh × kw`` window of padded images, as a view: ``(N, C, Ho, Wo, kh, kw)``.

    No data is copied: the view reuses ``x_pad``'s memory with extra strides.
    """
    return sliding_window_view(x_pad, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Gather every receptive field of each image into the columns of a matrix.

    Column ``i · Wo + j`` of image ``n``'s matrix holds the window under output position
    ``(i, j)``, flattened in the order ``(c, p, q)`` — the order of ``w.reshape(F, -1)`` —
    so a convolution of image ``n`` becomes one product ``w.reshape(F, -1) @ cols[n]``.

    Args:
        x: ``(N, C, H, W)``.
        kh, kw: window height and width.
        stride, pad: as in the convolution.

    Returns:
        ``(N, C · kh · kw, Ho · Wo)``, a new array.
    """
    windows = _windows(_pad_hw(x, pad), kh, kw, stride)  # (N, C, Ho, Wo, kh, kw), a view
    n_images, channels, out_h, out_w = windows.shape[:4]
    # .copy() lays the windows out contiguously (and never aliases x, even for 1×1 kernels).
    return windows.transpose(0, 1, 4, 5, 2, 3).copy().reshape(n_images, channels * kh * kw,
                                                              out_h * out_w)


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1,
                   pad: int = 0) -> np.ndarray:
    """Vectorized 2-D convolution: :func:`im2col`, then one matrix product per image.

    Same contract as :func:`conv2d_forward_naive`: ``(N, C, H, W)``, ``(F, C, kh, kw)``,
    ``(F,)`` -> ``(N, F, Ho, Wo)``. The ``(F, C·kh·kw) @ (C·kh·kw, Ho·Wo)`` products run in
    optimized BLAS, which is why this is hundreds of times faster than the loops; their
    result is already laid out as ``(N, F, Ho, Wo)``.
    """
    n_images, _, height, width = x.shape
    n_filters, _, kh, kw = w.shape
    out_h = conv_output_size(height, kh, stride, pad)
    out_w = conv_output_size(width, kw, stride, pad)
    cols = im2col(x, kh, kw, stride, pad)                   # (N, C·kh·kw, Ho·Wo)
    out = w.reshape(n_filters, -1) @ cols + b[:, None]      # (N, F, Ho·Wo)
    return out.reshape(n_images, n_filters, out_h, out_w)


def col2im(cols: np.ndarray, x_shape: tuple[int, ...], kh: int, kw: int, stride: int = 1,
           pad: int = 0) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every column back onto the window it came from.

    Windows overlap when ``stride < kernel``, so a pixel collects the sum of the gradients
    of every window containing it. The loop runs over the ``kh · kw`` offsets inside a
    window (25 for a 5×5 filter); each step is one vectorized strided addition over all
    images, channels and output positions.

    Args:
        cols: ``(N, C · kh · kw, Ho · Wo)``, laid out as :func:`im2col` returns.
        x_shape: ``(N, C, H, W)`` of the unpadded input.
        kh, kw, stride, pad: as in :func:`im2col`.

    Returns:
        ``(N, C, H, W)``.
    """
    n_images, channels, height, width = x_shape
    out_h = conv_output_size(height, kh, stride, pad)
    out_w = conv_output_size(width, kw, stride, pad)
    blocks = cols.reshape(n_images, channels, kh, kw, out_h, out_w)
    x_pad = np.zeros((n_images, channels, height + 2 * pad, width + 2 * pad), dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            rows = slice(p, p + stride * out_h, stride)
            columns = slice(q, q + stride * out_w, stride)
            x_pad[:, :, rows, columns] += blocks[:, :, p, q]
    return x_pad[:, :, pad:pad + height, pad:pad + width]


def conv2d_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray,
                    stride: int = 1, pad: int = 0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorized gradients of :func:`conv2d_forward`.

    Per image the forward pass is the affine map ``out_n = W @ cols_n + b`` (``W =
    w.reshape(F, -1)``), so this is the affine layer's backward pass summed over images:
    ``dW = Σ_n dout_n @ cols_nᵀ``, ``dcols_n = Wᵀ @ dout_n``; then :func:`col2im` sends each
    column of ``dcols`` back to its window.

    Args:
        dout: ``(N, F, Ho, Wo)`` upstream gradient.
        x, w, b, stride, pad: the forward pass's inputs.

    Returns:
        ``(dx (N, C, H, W), dw (F, C, kh, kw), db (F,))``.
    """
    n_images, n_filters = dout.shape[:2]
    kh, kw = w.shape[2:]
    dout_cols = dout.reshape(n_images, n_filters, -1)               # (N, F, Ho·Wo)
    cols = im2col(x, kh, kw, stride, pad)                           # (N, C·kh·kw, Ho·Wo)
    dw = (dout_cols @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    db = dout_cols.sum(axis=(0, 2))
    dx = col2im(w.reshape(n_filters, -1).T @ dout_cols, x.shape, kh, kw, stride, pad)
    return dx, dw, db


# --------------------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------------------
def _window_offsets(x: np.ndarray, pool: int, stride: int):
    """For each offset ``(p, q)`` inside a window (row-major), the strided view of ``x``
    holding that entry of every window: ``(N, C, Ho, Wo)`` views, ``pool²`` of them."""
    out_h = conv_output_size(x.shape[2], pool, stride)
    out_w = conv_output_size(x.shape[3], pool, stride)
    for p in range(pool):
        for q in range(pool):
            yield x[:, :, p:p + stride * out_h:stride, q:q + stride * out_w:stride]


def maxpool_forward(x: np.ndarray, pool: int = 2, stride: int = 2) -> np.ndarray:
    """Max pooling over ``pool × pool`` windows, without padding.

    Vectorized over the ``pool²`` offsets inside a window: the running maximum of the
    strided views holding each offset of every window.

    Args:
        x: ``(N, C, H, W)``.
        pool: window side.
        stride: step between windows (``stride < pool`` makes windows overlap).

    Returns:
        ``(N, C, Ho, Wo)``, ``Ho = conv_output_size(H, pool, stride)``.
    """
    offsets = _window_offsets(x, pool, stride)
    out = next(offsets).copy()
    for view in offsets:
        np.maximum(out, view, out=out)
    return out


def maxpool_backward(dout: np.ndarray, x: np.ndarray, pool: int = 2,
                     stride: int = 2) -> np.ndarray:
    """Gradient of :func:`maxpool_forward`: each window's gradient goes to its maximum.

    Only the maximum of a window influenced its output, so it alone receives ``dout``; the
    other inputs get 0 from that window. On ties the *first* maximum (row-major) wins, as
    in PyTorch (think of a window of zeros after a ReLU). Overlapping windows may pick the
    same pixel, hence ``+=``.

    Args:
        dout: ``(N, C, Ho, Wo)`` upstream gradient.
        x: ``(N, C, H, W)`` the forward pass's input.
        pool, stride: as in the forward pass.

    Returns:
        ``dx``, ``(N, C, H, W)``.
    """
    out = maxpool_forward(x, pool, stride)
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    unclaimed = np.ones(out.shape, dtype=bool)     # windows whose maximum is not found yet
    for view, dx_view in zip(_window_offsets(x, pool, stride),
                             _window_offsets(dx, pool, stride), strict=True):
        winner = unclaimed & (view == out)
        dx_view += dout * winner
        unclaimed &= ~winner
    return dx


def lp_pool_forward(x: np.ndarray, p: float, pool: int = 2, stride: int = 2) -> np.ndarray:
    """Lp pooling: the p-norm ``(Σ_window |x|^p)^(1/p)`` of each ``pool × pool`` window.

    ``p = 1`` sums the absolute values (``pool²`` times average pooling on non-negative
    inputs), ``p → ∞`` tends to the maximum of ``|x|``. The powers overflow (``9^1000``)
    or underflow (``0.01^200``) long before the result does, so every window is first
    divided by its own largest ``|x|`` (``m``): ``m · (Σ (|x|/m)^p)^(1/p)``, each term in
    ``[0, 1]`` and the sum in ``[1, pool²]``. A window of zeros (after a ReLU) gives 0.
    Equal to ``torch.nn.functional.lp_pool2d(|x|, p, pool, stride)`` where that one is finite.

    Args:
        x: ``(N, C, H, W)``.
        p: the norm's order, ``p ≥ 1``.
        pool: window side; stride: step between windows.

    Returns:
        ``(N, C, Ho, Wo)``, ``Ho = conv_output_size(H, pool, stride)``.
    """
    a = np.abs(x)
    m = maxpool_forward(a, pool, stride)
    safe = np.where(m > 0, m, 1.0)                  # a window of zeros: every term is 0
    total = np.zeros_like(m)
    for view in _window_offsets(a, pool, stride):
        total += (view / safe) ** p
    return m * total ** (1.0 / p)


def lp_pool_backward(dout: np.ndarray, x: np.ndarray, p: float, pool: int = 2,
                     stride: int = 2) -> np.ndarray:
    """Gradient of :func:`lp_pool_forward`.

    ``∂‖w‖_p/∂w_i = sign(w_i) (|w_i| / ‖w‖_p)^(p-1)``: the base lies in [0, 1], so the power
    cannot overflow for any p; a window of zeros passes no gradient (0, not 0/0).
    Overlapping windows add their contributions.

    Args:
        dout: ``(N, C, Ho, Wo)``; x: ``(N, C, H, W)``; p, pool, stride: as in the forward.

    Returns:
        ``dx``, ``(N, C, H, W)``.
    """
    y = lp_pool_forward(x, p, pool, stride)
    safe = np.where(y > 0, y, 1.0)
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    for view, dx_view in zip(_window_offsets(x, pool, stride), _window_offsets(dx, pool, stride),
                             strict=True):
        dx_view += dout * np.sign(view) * (np.abs(view) / safe) ** (p - 1)
    return dx


# --------------------------------------------------------------------------------------
# LeNet-5 in NumPy
# --------------------------------------------------------------------------------------
#: Parameter shapes of LeNet-5 for 1×28×28 inputs (the first convolution pads by 2, so its
#: 28×28 maps play the role of LeCun's 32×32 input): conv 5×5 → pool → conv 5×5 → pool →
#: 400 → 120 → 84 → 10. Modern choices replace LeCun's tanh and average pooling: ReLU and
#: max pooling.
LENET_SHAPES: dict[str, tuple[int, ...]] = {
    "conv1_w": (6, 1, 5, 5), "conv1_b": (6,),
    "conv2_w": (16, 6, 5, 5), "conv2_b": (16,),
    "fc1_w": (16 * 5 * 5, 120), "fc1_b": (120,),
    "fc2_w": (120, 84), "fc2_b": (84,),
    "fc3_w": (84, 10), "fc3_b": (10,),
}


def lenet_init(seed: int = 0, dtype: np.dtype | type = np.float32) -> dict[str, np.ndarray]:
    """He-normal weights (fan-in = inputs of one unit) and zero biases for LeNet-5."""
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in LENET_SHAPES.items():
        if name.endswith("_b"):
            params[name] = np.zeros(shape, dtype=dtype)
        else:
            fan_in = int(np.prod(shape[1:])) if name.startswith("conv") else shape[0]
            fan_out = shape[0] if name.startswith("conv") else shape[1]
            weights = he_normal_init(fan_in, fan_out, rng)  # (fan_in, fan_out)
            params[name] = (weights.T.reshape(shape) if name.startswith("conv")
                            else weights).astype(dtype)
    return params


def lenet_forward(params: dict[str, np.ndarray], x: np.ndarray
                  ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Logits of LeNet-5 for ``(N, 1, 28, 28)`` images, and every activation by name.

    Returns:
        ``(logits (N, 10), activations)``: the input of every layer, for
        :func:`lenet_backward` and for plotting feature maps.
    """
    acts = {"x": x}
    acts["conv1"] = conv2d_forward(x, params["conv1_w"], params["conv1_b"], pad=2)  # 6×28×28
    acts["relu1"] = relu_forward(acts["conv1"])[0]
    acts["pool1"] = maxpool_forward(acts["relu1"])                                  # 6×14×14
    acts["conv2"] = conv2d_forward(acts["pool1"], params["conv2_w"], params["conv2_b"])
    acts["relu2"] = relu_forward(acts["conv2"])[0]                                  # 16×10×10
    acts["pool2"] = maxpool_forward(acts["relu2"])                                  # 16×5×5
    acts["fc1"] = affine_forward(acts["pool2"], params["fc1_w"], params["fc1_b"])[0]  # 120
    acts["relu3"] = relu_forward(acts["fc1"])[0]
    acts["fc2"] = affine_forward(acts["relu3"], params["fc2_w"], params["fc2_b"])[0]  # 84
    acts["relu4"] = relu_forward(acts["fc2"])[0]
    logits = affine_forward(acts["relu4"], params["fc3_w"], params["fc3_b"])[0]        # 10
    return logits, acts


def lenet_backward(dlogits: np.ndarray, params: dict[str, np.ndarray],
                   acts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of every parameter from ``dL/dlogits``, layer by layer in reverse."""
    grads = {}
    drelu4, grads["fc3_w"], grads["fc3_b"] = affine_backward(
        dlogits, (acts["relu4"], params["fc3_w"], params["fc3_b"]))
    drelu3, grads["fc2_w"], grads["fc2_b"] = affine_backward(
        relu_backward(drelu4, acts["fc2"]), (acts["relu3"], params["fc2_w"], params["fc2_b"]))
    dpool2, grads["fc1_w"], grads["fc1_b"] = affine_backward(
        relu_backward(drelu3, acts["fc1"]), (acts["pool2"], params["fc1_w"], params["fc1_b"]))
    dconv2 = relu_backward(maxpool_backward(dpool2, acts["relu2"]), acts["conv2"])
    dpool1, grads["conv2_w"], grads["conv2_b"] = conv2d_backward(
        dconv2, acts["pool1"], params["conv2_w"], params["conv2_b"])
    dconv1 = relu_backward(maxpool_backward(dpool1, acts["relu1"]), acts["conv1"])
    _, grads["conv1_w"], grads["conv1_b"] = conv2d_backward(
        dconv1, acts["x"], params["conv1_w"], params["conv1_b"], pad=2)
    return grads


def lenet_loss(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
               ) -> tuple[float, dict[str, np.ndarray]]:
    """Mean cross-entropy of LeNet-5 on a batch and the gradient of every parameter."""
    logits, acts = lenet_forward(params, x)
    loss, dlogits = softmax_cross_entropy(logits, y)
    return loss, lenet_backward(dlogits.astype(logits.dtype), params, acts)


def lenet_predict(params: dict[str, np.ndarray], x: np.ndarray,
                  batch_size: int = 1000) -> np.ndarray:
    """Predicted labels ``(N,)``, computed ``batch_size`` images at a time to bound memory."""
    return np.concatenate([lenet_forward(params, x[i:i + batch_size])[0].argmax(axis=1)
                           for i in range(0, len(x), batch_size)])


def train_lenet(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                y_test: np.ndarray, epochs: int = 12, batch_size: int = 64, lr: float = 2e-3,
                seed: int = 0, progress: bool = True
                ) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    """Train LeNet-5 with Adam and a cosine learning-rate decay.

    Args:
        x_train, y_train: ``(N, 1, 28, 28)`` standardized images and ``(N,)`` labels; the
            parameters take the images' dtype (float32 is twice as fast as float64).
        x_test, y_test: accuracy on them is reported after every epoch, for monitoring
            only: the schedule is fixed in advance and nothing is selected on it.
        epochs, batch_size, lr: the learning rate decays from ``lr`` to 0 over all steps.
        seed: initialization and batch order.
        progress: show a ``tqdm`` bar per epoch and a line after each.

    Returns:
        ``(params, history)``; ``history`` has per-epoch ``train_loss``, ``train_acc``,
        ``test_acc`` and the cumulative ``seconds``.
    """
    params = lenet_init(seed, dtype=x_train.dtype)
    moments = {name: (np.zeros_like(p), np.zeros_like(p)) for name, p in params.items()}
    steps_per_epoch = -(-len(x_train) // batch_size)
    rates = cosine_lr(np.arange(epochs * steps_per_epoch), lr, epochs * steps_per_epoch)
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "test_acc": [],
                                       "seconds": []}
    start, step = time.perf_counter(), 0
    for epoch in range(epochs):
        total_loss = total_correct = 0.0
        bar = tqdm(minibatches(x_train, y_train, batch_size, seed=rng), total=steps_per_epoch,
                   desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        for x, y in bar:
            logits, acts = lenet_forward(params, x)
            loss, dlogits = softmax_cross_entropy(logits, y)
            grads = lenet_backward(dlogits.astype(x.dtype), params, acts)
            step += 1
            for name, grad in grads.items():
                m, v = moments[name]
                params[name], m, v = adam_step(params[name], grad, m, v, step,
                                               lr=float(rates[step - 1]))
                moments[name] = (m, v)
            total_loss += loss * len(y)
            total_correct += float(np.sum(logits.argmax(axis=1) == y))
            bar.set_postfix(loss=f"{loss:.3f}")
        history["train_loss"].append(total_loss / len(x_train))
        history["train_acc"].append(total_correct / len(x_train))
        history["test_acc"].append(float(np.mean(lenet_predict(params, x_test) == y_test)))
        history["seconds"].append(time.perf_counter() - start)
        if progress:
            tqdm.write(f"epoch {epoch + 1}: train loss {history['train_loss'][-1]:.4f}, "
                       f"train acc {history['train_acc'][-1]:.4f}, "
                       f"test acc {history['test_acc'][-1]:.4f} "
                       f"({history['seconds'][-1]:.0f} s)")
    return params, history


def lenet_checkpoint_path(root: str | Path | None = None) -> Path:
    """Where the reference LeNet-5 run is cached: ``<data cache>/checkpoints/`` (never in git)."""
    return data_dir(root) / "checkpoints" / "lenet5-fashion-mnist.npz"


def save_lenet(path: str | Path, params: dict[str, np.ndarray], history: dict[str, list[float]],
               **info: float) -> Path:
    """Save parameters, training history and scalars (e.g. the input mean and std) as ``.npz``.

    No pickle: arrays plus one JSON string. Written to a temporary file first, so an
    interrupted save never leaves a half-written checkpoint.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **params, meta=np.array(json.dumps({"history": history, "info": info})))
    tmp.replace(path)
    return path


def load_lenet(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, list[float]], dict]:
    """Inverse of :func:`save_lenet`: ``(params, history, info)``."""
    with np.load(Path(path), allow_pickle=False) as data:
        params = {name: data[name] for name in LENET_SHAPES}
        meta = json.loads(str(data["meta"]))
    return params, meta["history"], meta["info"]
