"""Week 7 hidden cases: the mistakes the public cases of ``grader.checks.week07`` let through.

* Max pooling with ties between equal **non-zero** values: in the public cases every tie is a
  window of zeros, where the first maximum in row-major and in column-major order is the same
  pixel (the window's corner), so a wrong tie order passes them.
* Lp pooling whose windows differ in scale by orders of magnitude (a rescaling by the
  tensor's maximum instead of each window's underflows in the small windows; each channel
  has a window whose two largest magnitudes nearly tie, where p and p - 1 differ), values far
  below 1 with a large p (``0.01^200`` underflows to 0 without rescaling), and ``p = 1`` on a
  window that holds a single non-zero value.
* Convolutions whose stride is larger than the kernel (some pixels lie in no window: their
  gradient must be exactly 0), a single image with many channels, a 1-wide input, and a
  padding of 3 (7×7 filters: the padded size is right for pad ≤ 2 in more ways than one).
* Lp pooling with overlapping 3×3 windows at stride 1 and an odd number of output rows.
* Output sizes where the kernel is larger than the input and fits only thanks to the padding
  (the fit must be checked on the *padded* size), including a padding of 3.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week07 import _conv_args

#: (name, x shape, w shape, stride, pad)
_SHAPES = [
    ("stride 3 larger than the 2×2 kernel (pixels in no window)", (2, 2, 8, 7), (3, 2, 2, 2), 3, 0),
    ("one image, 8 channels, stride 2, pad 2", (1, 8, 6, 5), (2, 8, 3, 3), 2, 2),
    ("a 1-pixel-wide input, 3×1 filters, pad 0", (2, 3, 7, 1), (2, 3, 3, 1), 1, 0),
    ("7×7 filters, stride 2, pad 3 (a ResNet stem)", (1, 2, 9, 7), (2, 2, 7, 7), 2, 3),
]


def _out(side: int, k: int, stride: int, pad: int) -> int:
    return (side + 2 * pad - k) // stride + 1


def conv_output_size(rng: np.random.Generator) -> list[Case]:
    """Kernels larger than the input that fit only thanks to the padding, and kernels one
    or two past the padded size, which the contract refuses (``ValueError``)."""
    return [
        Case("input 3, kernel 5, pad 1 (the padding makes it fit: one position)", (3, 5),
             {"stride": 1, "pad": 1}),
        Case("input 2, kernel 3, pad 1", (2, 3), {"stride": 1, "pad": 1}),
        Case("input 2, kernel 8, pad 3 (exactly the padded size)", (2, 8),
             {"stride": 1, "pad": 3}),
        Case("input 4, kernel 7, stride 2, pad 3", (4, 7), {"stride": 2, "pad": 3}),
    ] + [  # one past the fit, with no padding and with padding (the check must add 2·pad)
        Case(f"input {size}, kernel {size + 2 * pad + extra}, stride {stride}, pad {pad}: "
             "does not fit", (size, size + 2 * pad + extra), {"stride": stride, "pad": pad},
             raises=ValueError, reason=f"the kernel ({size + 2 * pad + extra}) is larger than "
             f"the padded input ({size} + 2·{pad} = {size + 2 * pad})")
        for size, pad, extra, stride in ((int(rng.integers(1, 9)), 0, 1, 1),
                                          (int(rng.integers(1, 9)), int(rng.integers(1, 4)), 1,
                                           int(rng.integers(1, 3))),
                                          (int(rng.integers(1, 9)), int(rng.integers(3, 6)),
                                           int(rng.integers(1, 3)), 1))]


def im2col(rng: np.random.Generator) -> list[Case]:
    return [Case(name, (rng.normal(size=xs), ws[2], ws[3]), {"stride": s, "pad": p})
            for name, xs, ws, s, p in _SHAPES]


def conv_forward(rng: np.random.Generator) -> list[Case]:
    return [Case(name, _conv_args(rng, xs, ws), {"stride": s, "pad": p})
            for name, xs, ws, s, p in _SHAPES]


def conv_backward(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name, xs, ws, s, p in _SHAPES:
        x, w, b = _conv_args(rng, xs, ws)
        dout = rng.normal(size=(xs[0], ws[0], _out(xs[2], ws[2], s, p), _out(xs[3], ws[3], s, p)))
        cases.append(Case(name, (dout, x, w, b), {"stride": s, "pad": p}))
    return cases


def maxpool_backward(rng: np.random.Generator) -> list[Case]:
    """Inputs drawn from {0.5, 1, 2}: most windows hold several equal non-zero maxima.

    Where windows overlap, each channel also gets a 2 at the first pixel of a window that
    lies in the first row of its left neighbour, after values below 2 there: it is the first
    maximum of both windows, so both send it their gradient (placed, not left to the draw).
    """
    cases = []
    for name, shape, pool, stride in [
        ("ties between equal non-zero values, 2×2 windows, stride 2", (2, 2, 6, 6), 2, 2),
        ("ties between equal non-zero values, overlapping 3×3, stride 2, a maximum shared by "
         "two windows", (1, 3, 7, 7), 3, 2),
    ]:
        x = rng.choice([0.5, 1.0, 2.0], size=shape, p=[0.2, 0.3, 0.5])
        out_shape = shape[:2] + tuple((side - pool) // stride + 1 for side in shape[2:])
        if stride < pool:
            for n, c in np.ndindex(*shape[:2]):
                row = stride * int(rng.integers(out_shape[2]))
                left = stride * int(rng.integers(out_shape[3] - 1))
                x[n, c, row, left:left + stride] = rng.choice([0.5, 1.0], size=stride)
                x[n, c, row, left + stride] = 2.0
        cases.append(Case(name, (rng.normal(size=out_shape), x), {"pool": pool, "stride": stride}))
    return cases


def lp_pool(rng: np.random.Generator) -> list[Case]:
    """Windows of very different scales, tiny values with a large p, p = 1 on sparse windows."""
    from grader.checks.week07 import near_ties

    scales = 10.0 ** rng.integers(-3, 3, size=(2, 2, 3, 3))           # one scale per window
    x = near_ties(rng, rng.normal(size=(2, 2, 6, 6)) * np.kron(scales, np.ones((2, 2))), 2, 2)
    sparse = np.zeros((1, 2, 4, 4))
    sparse[0, :, ::2, 1::2] = rng.normal(size=(2, 2, 2))
    return [
        Case("windows whose scales differ from 1e-3 to 1e2, p = 300, in each channel a window "
             "with two nearly equal values", (x, 300.0),
             {"pool": 2, "stride": 2}),
        Case("values around 0.01 with p = 200 (the powers underflow)",
             (0.01 * rng.random((1, 3, 5, 5)), 200.0), {"pool": 2, "stride": 1}),
        Case("p = 1 on windows holding one non-zero value", (sparse, 1.0),
             {"pool": 2, "stride": 2}),
        Case("overlapping 3×3 windows, stride 1, 5×5 outputs, p = 3",
             (rng.normal(size=(1, 2, 7, 7)), 3.0), {"pool": 3, "stride": 1}),
    ]


def lp_pool_backward(rng: np.random.Generator) -> list[Case]:
    """The same inputs as :func:`lp_pool`, with an upstream gradient."""
    from grader.checks.week07 import _with_dout
    return _with_dout(lp_pool(rng), rng)
