"""Week 7 checks: output sizes, receptive fields, convolution, max and Lp pooling.

The cases cover what the lecture warns about: padding, strides that do not tile the input
(the last partial window is dropped), non-square inputs and filters, 1×1 convolutions,
a single image or channel, overlapping pooling windows (gradients add up) and ties inside
a pooling window (after a ReLU, whole windows are 0). The hidden generators
(:mod:`answers.hidden.week07`) add ties between equal *non-zero* values (where a tie order
that is not PyTorch's shows), strides larger than the kernel (pixels no window covers) and
wide channel counts. Hints name the idea a case tests, never the formula or the code.

Where a random case exposes a mistake, the property that does so is placed, not left to the
draw, so that a mistake's partial credit is the same under every seed: the random output
size always leaves a partial window, the random stack of layers always has compounding
strides, every ReLU case of the max-pooling gradient holds a window of zeros, and the Lp
gradient's p = 1000 case a near tie in each channel (:func:`near_ties`).
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week07"
HIDDEN = "answers.hidden.week07"
LECTURE = "course/week07-cnn.ipynb"

#: (name, x shape, w shape, stride, pad): every convolution exercise uses these shapes.
_CONV_SHAPES = [
    ("random 2×3×7×7, 4 filters 3×3, pad 1", (2, 3, 7, 7), (4, 3, 3, 3), 1, 1),
    ("non-square 2×2×6×9 input and 2×3 filters, no padding", (2, 2, 6, 9), (3, 2, 2, 3), 1, 0),
    ("stride 2 that does not tile 9×8 (last window dropped)", (2, 2, 9, 8), (2, 2, 3, 3), 2, 0),
    ("stride 2 with pad 1", (1, 3, 8, 8), (2, 3, 3, 3), 2, 1),
    ("1×1 convolution (mixes channels only)", (2, 4, 5, 5), (3, 4, 1, 1), 1, 0),
    ("one image, one channel, LeNet-style 5×5 filter with pad 2", (1, 1, 10, 10), (2, 1, 5, 5),
     1, 2),
    ("filter as large as the padded input (1×1 output)", (2, 2, 4, 4), (3, 2, 6, 6), 1, 1),
]


def _conv_args(rng: np.random.Generator, x_shape, w_shape) -> tuple[np.ndarray, ...]:
    return rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])


def _conv_forward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, _conv_args(rng, xs, ws), {"stride": stride, "pad": pad})
            for name, xs, ws, stride, pad in _CONV_SHAPES]


def _conv_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name, xs, ws, stride, pad in _CONV_SHAPES:
        x, w, b = _conv_args(rng, xs, ws)
        out_h = (xs[2] + 2 * pad - ws[2]) // stride + 1
        out_w = (xs[3] + 2 * pad - ws[3]) // stride + 1
        dout = rng.normal(size=(xs[0], ws[0], out_h, out_w))
        cases.append(Case(name, (dout, x, w, b), {"stride": stride, "pad": pad}))
    return cases


def _im2col_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, (rng.normal(size=xs), ws[2], ws[3]), {"stride": stride, "pad": pad})
            for name, xs, ws, stride, pad in _CONV_SHAPES]


def _conv_output_size_cases(rng: np.random.Generator) -> list[Case]:
    # size = 1 (mod 3): stride 3 leaves a partial window (rounding up shows), and one pad
    # less changes the count (padding one side only shows); other sizes hide one of the two
    size = 3 * int(rng.integers(7, 13)) + 1
    return [
        Case("LeNet conv1: 28, kernel 5, pad 2 ('same')", (28, 5), {"stride": 1, "pad": 2}),
        Case("LeNet conv2: 14, kernel 5, no padding", (14, 5), {"stride": 1, "pad": 0}),
        Case("2×2 pooling with stride 2 on 28", (28, 2), {"stride": 2, "pad": 0}),
        Case("stride that does not tile: 10, kernel 3, stride 2", (10, 3), {"stride": 2, "pad": 0}),
        Case("AlexNet conv1: 227, kernel 11, stride 4", (227, 11), {"stride": 4, "pad": 0}),
        Case("stride 2 with padding: 8, kernel 3, pad 1", (8, 3), {"stride": 2, "pad": 1}),
        Case("kernel equals the input: 5, kernel 5", (5, 5), {"stride": 1, "pad": 0}),
        Case(f"random size {size}, kernel 4, stride 3, pad 2 (a partial window at the end)",
             (size, 4), {"stride": 3, "pad": 2}),
        Case("kernel 6 on 5, no padding: does not fit", (5, 6), {"stride": 1, "pad": 0},
             raises=ValueError, reason="the kernel (6) is larger than the padded input (5)"),
        Case("kernel 6 on 3 with pad 1: does not fit", (3, 6), {"stride": 1, "pad": 1},
             raises=ValueError,
             reason="the kernel (6) is larger than the padded input (3 + 2·1 = 5)"),
    ]


def _random_stack(rng: np.random.Generator, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Kernels 1–5 and strides 1–2 of ``depth >= 3`` layers, drawn around a placed skeleton.

    The first layer has stride 2 (kernel 2–3), a later layer below the top has stride 2 too
    (kernel 2–5), and a layer above that one has stride 1 (kernel 2–5). So under every draw
    a stride widens the layers above it, and two strides compound: ignoring the strides,
    applying a layer's stride to itself, or adding the strides up instead of multiplying
    them always changes the field (on a stack drawn freely the sums can agree by chance).
    """
    kernels, strides = rng.integers(1, 6, size=depth), rng.integers(1, 3, size=depth)
    second = int(rng.integers(1, depth - 1))
    above = int(rng.integers(second + 1, depth))
    kernels[0], strides[0] = rng.integers(2, 4), 2
    kernels[second], strides[second] = rng.integers(2, 6), 2
    kernels[above], strides[above] = rng.integers(2, 6), 1
    return kernels, strides


def _receptive_field_cases(rng: np.random.Generator) -> list[Case]:
    depth = int(rng.integers(3, 6))
    return [
        Case("one 5×5 convolution", (np.array([5]), np.array([1]))),
        Case("two stacked 3×3 convolutions (= one 5×5)", (np.array([3, 3]), np.array([1, 1]))),
        Case("LeNet-5: conv 5, pool 2/2, conv 5, pool 2/2",
             (np.array([5, 2, 5, 2]), np.array([1, 2, 1, 2]))),
        Case("strided first layer (stride 4, kernel 11) then 3×3",
             (np.array([11, 3, 3]), np.array([4, 1, 1]))),
        Case(f"random stack of {depth} layers, two of them strided (strides compound)",
             _random_stack(rng, depth)),
        Case("1×1 convolutions only (field stays 1)", (np.array([1, 1, 1]), np.array([1, 2, 1]))),
    ]


#: (name, x shape, pool, stride, relu): relu=True zeroes the negatives, creating ties.
_POOL_SHAPES = [
    ("2×2 windows, stride 2, on 2×3×6×6", (2, 3, 6, 6), 2, 2, False),
    ("odd size 7×5: the last row and column are dropped", (2, 2, 7, 5), 2, 2, False),
    ("overlapping 3×3 windows with stride 2", (2, 2, 7, 7), 3, 2, False),
    ("heavily overlapping 2×2 windows with stride 1", (1, 2, 5, 6), 2, 1, False),
    ("after a ReLU: windows full of zeros (ties)", (2, 3, 6, 6), 2, 2, True),
    ("ties in overlapping windows (3×3, stride 1, after a ReLU)", (1, 2, 6, 6), 3, 1, True),
]


def _pool_input(rng: np.random.Generator, shape, relu: bool) -> np.ndarray:
    x = rng.normal(size=shape)
    return np.maximum(x - 0.8, 0) if relu else x  # shifted so that most windows are all 0


def _maxpool_forward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, (_pool_input(rng, shape, relu),), {"pool": pool, "stride": stride})
            for name, shape, pool, stride, relu in _POOL_SHAPES]


def _zero_window(rng: np.random.Generator, x: np.ndarray, pool: int, stride: int) -> None:
    """Zero one pooling window of ``x`` (chosen at random), in place: after a ReLU most
    windows are all 0, but a draw may leave none, and then no case holds a tie."""
    n, c = (int(rng.integers(side)) for side in x.shape[:2])
    i, j = (stride * int(rng.integers((side - pool) // stride + 1)) for side in x.shape[2:])
    x[n, c, i:i + pool, j:j + pool] = 0.0


def _maxpool_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name, shape, pool, stride, relu in _POOL_SHAPES:
        x = _pool_input(rng, shape, relu)
        if relu:
            _zero_window(rng, x, pool, stride)
        out_shape = shape[:2] + tuple((side - pool) // stride + 1 for side in shape[2:])
        cases.append(Case(name, (rng.normal(size=out_shape), x), {"pool": pool, "stride": stride}))
    return cases


def near_ties(rng: np.random.Generator, x: np.ndarray, pool: int, stride: int) -> np.ndarray:
    """``x`` with, in each example and channel, one pooling window (chosen at random) where
    a second value's magnitude is within a relative 0.1–0.3 % of the window's largest.

    For a large p only such a pair shares a window's Lp gradient (the other values' shares
    vanish in ``(|x|/‖w‖)^(p-1)``): with it placed, not left to the draw, a wrong exponent or
    the whole gradient sent to the maximum fails under every seed.
    """
    x = x.copy()
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            i, j = (stride * int(rng.integers((side - pool) // stride + 1))
                    for side in x.shape[2:])
            window = x[n, c, i:i + pool, j:j + pool]  # a view: writes go to x
            top = int(np.abs(window).argmax())
            other = (top + 1 + int(rng.integers(pool * pool - 1))) % (pool * pool)
            window.flat[other] = (rng.choice([-1.0, 1.0]) * np.abs(window.flat[top])
                                  * (1.0 - rng.uniform(1e-3, 3e-3)))
    return x


def _lp_pool_cases(rng: np.random.Generator, ties: bool = False) -> list[Case]:
    """``ties``: the p = 1000 case gets :func:`near_ties` (the backward's cases; the forward
    draws the same inputs without them)."""
    def case(name: str, shape, p: float, pool: int, stride: int, scale: float = 1.0,
             relu: bool = False, tied: bool = False) -> Case:
        x = scale * _pool_input(rng, shape, relu)
        if tied:
            x = near_ties(rng, x, pool, stride)
            name += ", in each channel a window with two nearly equal values"
        return Case(name, (x, p), {"pool": pool, "stride": stride})

    return [
        case("p = 2, signed inputs, 2×2 windows, stride 2, N=2, C=3", (2, 3, 6, 6), 2.0, 2, 2),
        case("p = 3 on signed inputs (the norm uses |x|)", (1, 2, 5, 7), 3.0, 2, 2),
        case("p = 1: the sum of |x| over the window", (2, 2, 6, 6), 1.0, 3, 3),
        case("p = 2.5, overlapping 3×3 windows, stride 1", (1, 2, 6, 5), 2.5, 3, 1),
        case("p = 1000 (close to max pooling): the powers overflow unless guarded",
             (2, 2, 6, 6), 1000.0, 2, 2, scale=3.0, tied=ties),
        case("after a ReLU: windows full of zeros, p = 4", (2, 3, 6, 6), 4.0, 2, 2, relu=True),
    ]


def _with_dout(cases: list[Case], rng: np.random.Generator) -> list[Case]:
    """The forward cases with an upstream gradient of the pooled shape in front."""
    out = []
    for c in cases:
        x, p = c.args
        pool, stride = c.kwargs["pool"], c.kwargs["stride"]
        shape = x.shape[:2] + tuple((side - pool) // stride + 1 for side in x.shape[2:])
        out.append(Case(c.name, (rng.normal(size=shape), x, p), c.kwargs))
    return out


def _lp_pool_backward_cases(rng: np.random.Generator) -> list[Case]:
    return _with_dout(_lp_pool_cases(rng, ties=True), rng)


register(
    Exercise(
        id="w07_conv_output_size", function="conv_output_size",
        reference=f"{REFERENCE}:conv_output_size", make_cases=_conv_output_size_cases, points=1,
        hidden=f"{HIDDEN}:conv_output_size",
        see=f"{LECTURE} §3 Padding, stride and output size",
        hint="count the positions where a whole window fits: padding is added on both sides, a "
             "window that would stick out is dropped, and the first position counts too. "
             "Check your answer on the LeNet rows against PyTorch's output shapes."),
    Exercise(
        id="w07_receptive_field", function="receptive_field",
        reference=f"{REFERENCE}:receptive_field", make_cases=_receptive_field_cases, points=1,
        see=f"{LECTURE} §7 Parameters and receptive fields of LeNet-5",
        hint="each layer widens the field by its kernel minus one, measured in the spacing of "
             "its *input* units in pixels; that spacing grows with the strides of the layers "
             "below it only. The usual mistake is the order of the two updates."),
    Exercise(
        id="w07_conv2d_forward_naive", function="conv2d_forward_naive",
        strategy="grader.differential:conv_forward",
        uses=("w07_conv_output_size",),
        reference=f"{REFERENCE}:conv2d_forward_naive", make_cases=_conv_forward_cases,
        points=3, see=f"{LECTURE} §2 Convolution as loops",
        hint="one output is the dot product of one filter with the window under it, over all "
             "input channels, plus that filter's bias; deep-learning 'convolution' does not "
             "flip the filter. The stride moves the window's start; padding comes first."),
    Exercise(
        id="w07_conv2d_backward_naive", function="conv2d_backward_naive",
        strategy="grader.differential:conv_backward",
        reference=f"{REFERENCE}:conv2d_backward_naive", make_cases=_conv_backward_cases,
        points=3, outputs=("dx", "dw", "db"), see=f"{LECTURE} §4 The backward pass",
        hint="each output depends on one window of the padded input, one filter and one bias: "
             "apply the chain rule to that dot product and send dout back to exactly those. "
             "Overlapping windows (stride < kernel) and the shared filter mean contributions "
             "add up; the padding is not part of x."),
    Exercise(
        id="w07_im2col", function="im2col", reference=f"{REFERENCE}:im2col",
        make_cases=_im2col_cases, points=2, hidden=f"{HIDDEN}:im2col",
        see=f"{LECTURE} §5 Fast convolution: im2col",
        hint="the layout is the contract: one column per output position (row-major over the "
             "output), the window flattened in the same order as a filter of w. Compare your "
             "columns with torch.nn.functional.unfold on a tiny arange image to see which "
             "axis is out of order."),
    Exercise(
        id="w07_conv2d_forward", function="conv2d_forward",
        strategy="grader.differential:conv_forward",
        uses=("w07_conv_output_size", "w07_im2col"),
        reference=f"{REFERENCE}:conv2d_forward", make_cases=_conv_forward_cases, points=2,
        hidden=f"{HIDDEN}:conv_forward", see=f"{LECTURE} §5 Fast convolution: im2col",
        hint="with the windows as columns, all filters at all positions are one matrix "
             "product per image; check that the filter matrix flattens in the same order as "
             "your columns and that the bias belongs to the filter axis."),
    Exercise(
        id="w07_conv2d_backward", function="conv2d_backward",
        strategy="grader.differential:conv_backward",
        uses=("w07_im2col",),
        reference=f"{REFERENCE}:conv2d_backward", make_cases=_conv_backward_cases, points=3,
        outputs=("dx", "dw", "db"), hidden=f"{HIDDEN}:conv_backward",
        see=f"{LECTURE} §5 Fast convolution: im2col",
        hint="the matrix product is an affine layer (Week 4), so its gradients follow from "
             "that one; the gathering into columns must then be undone by adding every "
             "column back onto the window it came from (a pixel copied into several columns "
             "collects from each), and the padding is cut off."),
    Exercise(
        id="w07_maxpool_forward", function="maxpool_forward",
        strategy="grader.differential:maxpool_forward",
        reference=f"{REFERENCE}:maxpool_forward", make_cases=_maxpool_forward_cases, points=2,
        see=f"{LECTURE} §6 Max pooling",
        hint="windows start every `stride` pixels and are pool × pool, with no padding, so "
             "the output size follows the same rule as a convolution's; the odd-size and "
             "overlapping cases test exactly that."),
    Exercise(
        id="w07_maxpool_backward", function="maxpool_backward",
        strategy="grader.differential:maxpool_backward",
        uses=("w07_maxpool_forward",),
        reference=f"{REFERENCE}:maxpool_backward", make_cases=_maxpool_backward_cases,
        points=3, hidden=f"{HIDDEN}:maxpool_backward", see=f"{LECTURE} §6 Max pooling",
        hint="the output of a window depends on one input only, so one position receives its "
             "gradient; which one, when several are equal, is the decision the tie cases test "
             "— find PyTorch's rule with F.max_pool2d on a window holding two equal non-zero "
             "values. Overlapping windows may pick the same pixel."),
    Exercise(
        id="w07_lp_pool_forward", function="lp_pool_forward",
        strategy="grader.differential:lp_pool_forward",
        reference=f"{REFERENCE}:lp_pool_forward", make_cases=_lp_pool_cases, points=3,
        hidden=f"{HIDDEN}:lp_pool", see=f"{LECTURE} §6 Max pooling",
        hint="each window's p-norm: the order of the operations matters (power, sum over the "
             "window — not a mean —, root) and the norm is of the magnitudes. For large p the "
             "powers leave the float range long before the result does: the decision is a "
             "rescaling that keeps every power between 0 and 1 in *each* window (a scale "
             "shared by the whole tensor still underflows), and a window of zeros must give "
             "0, not nan."),
    Exercise(
        id="w07_lp_pool_backward", function="lp_pool_backward",
        strategy="grader.differential:lp_pool_backward",
        uses=("w07_lp_pool_forward",),
        reference=f"{REFERENCE}:lp_pool_backward", make_cases=_lp_pool_backward_cases,
        points=3, hidden=f"{HIDDEN}:lp_pool_backward", see=f"{LECTURE} §6 Max pooling",
        hint="the chain rule through the root, the sum and the power, and through the "
             "absolute value (the signed cases test that); every input of a window gets a "
             "share, overlapping windows add up. For p = 1000 write the derivative so that "
             "each power has a base between 0 and 1 (a power of |x| alone overflows), and a "
             "window of zeros passes no gradient."),
)
