"""Week 7: NumPy convolutions against torch CPU conv2d, and the reference LeNet-5 run.

* Convolution speed, float32 (the dtype LeNet trains in), LeNet-5's two convolution shapes,
  batch 64: the vectorized ``conv2d_forward`` + ``conv2d_backward`` (im2col) against
  ``torch.nn.functional.conv2d`` forward + ``autograd.grad`` for the input, the weights and
  the bias, and against the naive loops. Both libraries get the same number of threads
  (NumPy's BLAS through threadpoolctl, PyTorch through ``torch.set_num_threads``): 1, then
  2 (this machine's cores). Each figure is the minimum over interleaved repeats, the timing
  least disturbed by other processes; the naive loops take seconds and are timed once.
* LeNet-5 in NumPy on the full Fashion-MNIST (60,000 training images; test accuracy on the
  10,000 test images), float32, Adam with a cosine learning-rate decay, one thread. Oracle:
  the same network in PyTorch trained in the same run from the *same* initial weights, on
  the same batches in the same order, with ``torch.optim.Adam`` and the same learning
  rates. The NumPy run's weights are saved as the checkpoint the week-7 lecture loads.

Run: ``python -m bench week07`` (``--fast`` for tiny sizes that only test the harness).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from bench import Row, interleaved_best
from grader.config import fast_mode, pick
from grader.data import load_fashion_mnist, minibatches
from answers.kernels.week05 import cosine_lr
from answers.kernels.week07 import (
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_naive,
    lenet_checkpoint_path,
    lenet_predict,
    save_lenet,
    train_lenet,
)

THREADS = 2
#: LeNet training runs single-threaded: on this 2-core machine, shared with other jobs, a
#: second BLAS/OpenMP thread spins waiting for a core and made training slower, not faster.
LENET_THREADS = 1
#: (name, input shape, filters, kernel, pad): LeNet-5's two convolutions at batch 64.
LENET_CONVS = [("conv1", (64, 1, 28, 28), 6, 5, 2), ("conv2", (64, 6, 14, 14), 16, 5, 0)]
EPOCHS, BATCH_SIZE, LR, SEED = 12, 64, 2e-3, 0
TORCH_TARGET, NAIVE_TARGET = 2.0, 50.0
ACCURACY_TARGET, TIME_TARGET_S = 0.90, 600.0



def _conv_case(shape: tuple[int, ...], filters: int, kernel: int, pad: int):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(np.float32)
    w = (rng.normal(size=(filters, shape[1], kernel, kernel)) * 0.1).astype(np.float32)
    b = rng.normal(size=filters).astype(np.float32)
    out_side = shape[2] + 2 * pad - kernel + 1
    dout = rng.normal(size=(shape[0], filters, out_side, out_side)).astype(np.float32)
    return x, w, b, dout


def _time_layer(shape: tuple[int, ...], filters: int, kernel: int, pad: int,
                repeats: int) -> dict[str, float]:
    """Best seconds of NumPy im2col, torch and the naive loops, forward + backward."""
    x, w, b, dout = _conv_case(shape, filters, kernel, pad)
    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    tdout = torch.from_numpy(dout)

    def numpy_fast():
        conv2d_forward(x, w, b, pad=pad)
        return conv2d_backward(dout, x, w, b, pad=pad)

    def torch_conv():
        out = F.conv2d(tx, tw, tb, padding=pad)
        return torch.autograd.grad(out, (tx, tw, tb), tdout)

    def numpy_naive():
        conv2d_forward_naive(x, w, b, pad=pad)
        return conv2d_backward_naive(dout, x, w, b, pad=pad)

    # Same answer first: a fast wrong kernel would be no result.
    for mine, theirs in zip(numpy_fast(), torch_conv(), strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-3, atol=1e-3)
    best = interleaved_best({"numpy": numpy_fast, "torch": torch_conv}, repeats)
    return best | interleaved_best({"naive": numpy_naive}, 1)


def _conv_rows(threads: int, repeats: int) -> list[Row]:
    """Rows of one thread count: per layer vs torch and vs the loops, then both layers."""
    rows, totals = [], {"numpy": 0.0, "torch": 0.0, "naive": 0.0}
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            for name, shape, filters, kernel, pad in LENET_CONVS:
                shape = (pick(shape[0], 4), *shape[1:])
                start = time.monotonic()
                best = _time_layer(shape, filters, kernel, pad, repeats)
                seconds = time.monotonic() - start
                for key in totals:
                    totals[key] += best[key]
                label = (f"{name} {shape}→{filters}@{kernel}×{kernel} pad {pad}, "
                         f"{threads} thread(s)")
                ms = {key: round(value * 1e3, 3) for key, value in best.items()}
                rows.append(Row(
                    benchmark=f"conv2d fwd+bwd time, NumPy im2col / torch, float32, {label}",
                    value=best["numpy"] / best["torch"], unit="×",
                    oracle="torch.nn.functional.conv2d + autograd (CPU)", oracle_value=1.0,
                    target=f"≤ {TORCH_TARGET:g}×",
                    met=best["numpy"] <= TORCH_TARGET * best["torch"], seconds=seconds,
                    notes=f"{ms['numpy']} ms vs torch {ms['torch']} ms, best of {repeats} "
                          f"interleaved repeats",
                    extra={"ms": ms}))
                rows.append(Row(
                    benchmark=f"conv2d fwd+bwd speed-up, NumPy im2col over naive loops, "
                              f"float32, {label}",
                    value=best["naive"] / best["numpy"], unit="×",
                    oracle="naive loops (same file)", oracle_value=1.0,
                    target=f"≥ {NAIVE_TARGET:g}×",
                    met=best["naive"] >= NAIVE_TARGET * best["numpy"],
                    notes=f"naive {ms['naive']} ms (timed once) vs im2col {ms['numpy']} ms"))
    finally:
        torch.set_num_threads(torch_threads)
    rows.append(Row(
        benchmark=f"conv2d fwd+bwd time, both LeNet-5 convolutions, NumPy im2col / torch, "
                  f"float32, batch {pick(64, 4)}, {threads} thread(s)",
        value=totals["numpy"] / totals["torch"], unit="×", oracle="torch.nn.functional.conv2d",
        oracle_value=1.0, target=f"≤ {TORCH_TARGET:g}×",
        met=totals["numpy"] <= TORCH_TARGET * totals["torch"],
        notes=f"{totals['numpy'] * 1e3:.2f} ms vs torch {totals['torch'] * 1e3:.2f} ms; "
              f"naive {totals['naive'] * 1e3:.0f} ms ({totals['naive'] / totals['numpy']:.0f}× "
              f"slower than im2col)"))
    return rows


def conv_speed() -> list[Row]:
    """Vectorized conv2d forward+backward vs torch and vs the naive loops, per LeNet layer,
    with 1 and with 2 threads for both libraries."""
    repeats = pick(50, 3)
    return [row for threads in (1, THREADS) for row in _conv_rows(threads, repeats)]


def _standardized():
    data = load_fashion_mnist()
    mean, std = float(data.X_train.mean()), float(data.X_train.std())
    return ((data.X_train - mean) / std, data.y_train, (data.X_test - mean) / std, data.y_test,
            mean, std)


def _torch_lenet(params: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}


def _torch_logits(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    h = F.max_pool2d(F.relu(F.conv2d(x, p["conv1_w"], p["conv1_b"], padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p["conv2_w"], p["conv2_b"])), 2).flatten(1)
    h = F.relu(h @ p["fc1_w"] + p["fc1_b"])
    h = F.relu(h @ p["fc2_w"] + p["fc2_b"])
    return h @ p["fc3_w"] + p["fc3_b"]


def _train_torch_lenet(x_train, y_train, x_test, y_test, epochs: int) -> tuple[float, float]:
    """The oracle: the same recipe in PyTorch, from the same initial weights and batches."""
    from answers.kernels.week07 import lenet_init

    params = _torch_lenet(lenet_init(SEED, dtype=np.float32))
    optimizer = torch.optim.Adam(params.values(), lr=LR)
    steps_per_epoch = -(-len(x_train) // BATCH_SIZE)
    rates = cosine_lr(np.arange(epochs * steps_per_epoch), LR, epochs * steps_per_epoch)
    rng = np.random.default_rng(SEED)  # train_lenet draws its batch order the same way
    start, step = time.perf_counter(), 0
    for _ in range(epochs):
        for x, y in minibatches(x_train, y_train, BATCH_SIZE, seed=rng):
            for group in optimizer.param_groups:
                group["lr"] = float(rates[step])
            step += 1
            loss = F.cross_entropy(_torch_logits(params, torch.from_numpy(x)), torch.from_numpy(y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        logits = _torch_logits(params, torch.from_numpy(x_test))
    return float((logits.argmax(1).numpy() == y_test).mean()), seconds


def lenet_fashion_mnist() -> list[Row]:
    """Train the NumPy LeNet-5 on full Fashion-MNIST; the same recipe in PyTorch as oracle."""
    x_train, y_train, x_test, y_test, mean, std = _standardized()
    epochs = pick(EPOCHS, 1)
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(LENET_THREADS)
    try:
        with threadpool_limits(LENET_THREADS):
            start = time.perf_counter()
            params, history = train_lenet(x_train, y_train, x_test, y_test, epochs=epochs,
                                          batch_size=BATCH_SIZE, lr=LR, seed=SEED,
                                          progress=False)
            train_seconds = time.perf_counter() - start
            accuracy = float(np.mean(lenet_predict(params, x_test) == y_test))
            torch_accuracy, torch_seconds = _train_torch_lenet(x_train, y_train, x_test, y_test,
                                                               epochs)
    finally:
        torch.set_num_threads(torch_threads)
    if not fast_mode():
        path = save_lenet(lenet_checkpoint_path(), params, history, mean=mean, std=std,
                          test_accuracy=accuracy, seconds=train_seconds)
        print(f"saved checkpoint {path}")
    recipe = (f"{epochs} epochs, batch {BATCH_SIZE}, Adam lr {LR:g} with cosine decay, "
              f"He init, seed {SEED}, float32, {len(x_train):,} training images")
    per_epoch = ", ".join(f"{a:.4f}" for a in history["test_acc"])
    return [
        Row(benchmark="LeNet-5 in NumPy, Fashion-MNIST test accuracy", value=accuracy,
            unit="accuracy", oracle="same recipe in PyTorch (same init and batches)",
            oracle_value=torch_accuracy, target=f"≥ {ACCURACY_TARGET:.2f}",
            met=accuracy >= ACCURACY_TARGET, seconds=train_seconds,
            notes=f"{recipe}; test accuracy after each epoch (monitoring only, nothing is "
                  f"selected on it): {per_epoch}",
            extra={"history": history}),
        Row(benchmark="LeNet-5 in NumPy, Fashion-MNIST training time", value=train_seconds,
            unit="s", oracle="same recipe in PyTorch", oracle_value=torch_seconds,
            target=f"≤ {TIME_TARGET_S:.0f} s on this machine", met=train_seconds <= TIME_TARGET_S,
            seconds=train_seconds,
            notes=f"{recipe}; includes evaluating the test set after each epoch "
                  f"({train_seconds / epochs:.1f} s per epoch); {LENET_THREADS} thread for "
                  f"NumPy and for PyTorch"),
    ]


BENCHMARKS = [conv_speed, lenet_fashion_mnist]
