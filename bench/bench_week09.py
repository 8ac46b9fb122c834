"""Week 9: the NumPy LSTM (answers.kernels.week09) against torch.nn.LSTM on the CPU.

Same sizes, float64 for both, same number of threads for both (NumPy's BLAS is limited
with threadpoolctl, PyTorch with ``torch.set_num_threads``). The timed NumPy work is what a
training step with the course's pure functions costs: ``lstm_forward`` (for the outputs)
then ``lstm_backward`` (which runs its own forward pass before going back in time); the
PyTorch work is ``lstm(x)`` then ``out.backward(dh)``. Each figure is the minimum over
interleaved repeats, the timing least disturbed by other processes.

Run: ``python -m bench week09`` (``--fast`` for tiny sizes that only test the harness).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from bench import Row, interleaved_best
from grader.config import pick
from answers.kernels.week09 import lstm_backward, lstm_forward

TARGET_RATIO = 3.0



def _compare(n: int, steps: int, d: int, h: int, threads: int, repeats: int) -> Row:
    rng = np.random.default_rng(0)
    x, dh = rng.normal(size=(n, steps, d)), rng.normal(size=(n, steps, h))
    h0, c0 = np.zeros((n, h)), np.zeros((n, h))
    lstm = torch.nn.LSTM(d, h, batch_first=True, dtype=torch.float64)
    Wx = lstm.weight_ih_l0.detach().numpy().T.copy()
    Wh = lstm.weight_hh_l0.detach().numpy().T.copy()
    b = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().numpy()
    tx, tdh = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dh)

    def numpy_forward_backward():
        lstm_forward(x, h0, c0, Wx, Wh, b)
        return lstm_backward(dh, x, h0, c0, Wx, Wh, b)

    def torch_forward_backward():
        lstm.zero_grad()
        tx.grad = None
        out, _ = lstm(tx)
        out.backward(tdh)

    def torch_forward():
        with torch.no_grad():
            lstm(tx)

    torch_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    start = time.monotonic()
    try:
        with threadpool_limits(threads):
            times = interleaved_best({
                "numpy forward+backward": numpy_forward_backward,
                "numpy lstm_backward alone": lambda: lstm_backward(dh, x, h0, c0, Wx, Wh, b),
                "numpy forward": lambda: lstm_forward(x, h0, c0, Wx, Wh, b),
                "torch forward+backward": torch_forward_backward,
                "torch forward": torch_forward}, repeats)
    finally:
        torch.set_num_threads(torch_threads)
    ratio = times["numpy forward+backward"] / times["torch forward+backward"]
    ms = {name: round(seconds * 1e3, 3) for name, seconds in times.items()}
    return Row(
        benchmark=f"NumPy LSTM forward+backward time / torch.nn.LSTM, float64, N={n} T={steps} "
                  f"D={d} H={h}, {threads} thread{'s' * (threads > 1)}",
        value=ratio, unit="×", oracle="torch.nn.LSTM forward+backward (ms)",
        oracle_value=ms["torch forward+backward"], target=f"≤ {TARGET_RATIO:g}×",
        met=ratio <= TARGET_RATIO, seconds=time.monotonic() - start,
        notes=(f"NumPy {ms['numpy forward+backward']} ms (lstm_forward + lstm_backward, which "
               f"recomputes the forward pass; lstm_backward alone "
               f"{ms['numpy lstm_backward alone']} ms = "
               f"{times['numpy lstm_backward alone'] / times['torch forward+backward']:.2f}×); "
               f"forward only: NumPy {ms['numpy forward']} ms vs torch {ms['torch forward']} ms; "
               f"best of {repeats} interleaved repeats"),
        extra={"milliseconds": ms, "threads": threads, "repeats": repeats})


def lstm_speed() -> list[Row]:
    sizes = pick([(32, 50, 128, 128), (20, 35, 200, 200)], [(4, 5, 8, 8)])
    repeats = pick(15, 2)
    return [_compare(*size, threads=threads, repeats=repeats)
            for size in sizes for threads in (1, 2)]


BENCHMARKS = [lstm_speed]
