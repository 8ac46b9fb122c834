"""Week 10 checks: PyTorch versions of earlier weeks' maths (arguments arrive as tensors).

Every exercise uses ``framework="torch"``: the case arrays reach the learner's function as
float64 / int64 tensors, and the returned tensors are compared with the reference in
float64. Shapes are non-square on purpose, so a transposed weight fails loudly.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week10"


def _linear_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, m: int) -> Case:
        return Case(name, (rng.normal(size=(n, d)), rng.normal(size=(d, m)),
                           rng.normal(size=m), rng.normal(size=(n, m))))

    return [case("4 examples, 3 → 5 features", 4, 3, 5),
            case("a batch of one, 6 → 2", 1, 6, 2),
            case("a single output (M=1)", 5, 4, 1)]


def _training_step_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, c: int, lr: float, momentum: float) -> Case:
        return Case(name, (rng.normal(size=(n, d)), rng.integers(0, c, size=n),
                           0.5 * rng.normal(size=(d, c)), 0.1 * rng.normal(size=c),
                           lr, momentum))

    return [case("8 examples, 3 features, 4 classes, lr 0.5, momentum 0.9", 8, 3, 4, 0.5, 0.9),
            case("plain SGD (momentum 0), lr 1", 6, 5, 3, 1.0, 0.0),
            case("a batch of one, two classes", 1, 4, 2, 0.3, 0.5),
            case("large learning rate 5", 10, 2, 3, 5.0, 0.9)]


def _lstm_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name, n, d, h, scale in [("3 examples, D=4, H=5", 3, 4, 5, 0.5),
                                 ("a batch of one, D=2, H=3", 1, 2, 3, 0.5),
                                 ("a single hidden unit, D=3, H=1", 4, 3, 1, 0.5),
                                 ("saturated gates (large weights)", 3, 4, 2, 3.0)]:
        cases.append(Case(name, (rng.normal(size=(n, d)), rng.normal(size=(n, h)),
                                 rng.normal(size=(n, h)), scale * rng.normal(size=(d, 4 * h)),
                                 scale * rng.normal(size=(h, 4 * h)),
                                 scale * rng.normal(size=4 * h))))
    return cases


def _lenet_params(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    shapes = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (400, 120), (120,), (120, 84), (84,),
              (84, 10), (10,)]
    params = []
    for shape in shapes:
        fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
        scale = np.sqrt(2 / fan_in) if len(shape) > 1 else 0.1
        params.append(scale * rng.normal(size=shape))
    return tuple(params)


def _lenet_cases(rng: np.random.Generator) -> list[Case]:
    return [Case("2 random 28×28 images", (rng.normal(size=(2, 1, 28, 28)), *_lenet_params(rng))),
            Case("a batch of one", (rng.random(size=(1, 1, 28, 28)), *_lenet_params(rng))),
            Case("3 images with a bright square", (
                np.pad(np.ones((3, 1, 8, 8)), ((0, 0), (0, 0), (3, 17), (10, 10))),
                *_lenet_params(rng)))]


register(
    Exercise(
        id="w10_linear_grads", function="linear_grads", reference=f"{REFERENCE}:linear_grads",
        make_cases=_linear_cases, points=2, framework="torch",
        hint="make leaf tensors with requires_grad_(True) (detach().clone() first), compute "
             "out = x @ w + b, call out.backward(dout) — the upstream gradient, not a sum — and "
             "return out.detach(), x.grad, w.grad, b.grad."),
    Exercise(
        id="w10_training_step", function="training_step",
        reference=f"{REFERENCE}:training_step", make_cases=_training_step_cases, points=2,
        framework="torch",
        hint="use torch.optim.SGD([w, b], lr=lr, momentum=momentum) on leaf tensors; in each of "
             "the two steps: zero_grad(), loss = F.cross_entropy(x @ w + b, y) on the raw scores "
             "(mean over the batch), backward(), step(); record each loss before its step."),
    Exercise(
        id="w10_lstm_cell", function="lstm_cell", reference=f"{REFERENCE}:lstm_cell",
        make_cases=_lstm_cases, points=2, framework="torch",
        hint="a = x @ Wx + prev_h @ Wh + b, split into 4 chunks in the order i, f, g, o; "
             "sigmoid for i, f, o and tanh for g; next_c = f * prev_c + i * g; "
             "next_h = o * tanh(next_c)."),
    Exercise(
        id="w10_lenet", function="lenet_logits", reference=f"{REFERENCE}:lenet_logits",
        make_cases=_lenet_cases, points=3, framework="torch", rtol=1e-6, atol=1e-8,
        hint="F.conv2d(x, w, b, padding=2) for the first convolution only, ReLU, "
             "F.max_pool2d(·, 2) after each convolution, flatten(1) in (channel, row, column) "
             "order, then h @ w + b (weights are (in, out)) with ReLU after fc1 and fc2 only."),
)
