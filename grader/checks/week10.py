"""Week 10 checks: PyTorch — autograd, a custom autograd function, the learner's own modules
and training loop (arguments arrive as tensors).

Every exercise uses ``framework="torch"``: the case arrays reach the learner's function as
float64 / int64 tensors, and the returned tensors are compared with the reference in
float64. Shapes are non-square on purpose, so a transposed weight fails loudly.

The module exercises (``w10_lstm_cell``, ``w10_lstm_layer``, ``w10_lenet``, ``w10_fit``) call
a small locked harness function of the assignment that builds the learner's ``nn.Module`` (or
model), loads the case's weights into it and returns its outputs: the learner's class and
loop are what is checked, on given weights.
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


def _logcosh_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x: np.ndarray) -> Case:
        return Case(name, (x, rng.normal(size=x.shape)))

    return [case("a (3, 4) batch of moderate values", 2 * rng.normal(size=(3, 4))),
            case("huge magnitudes ±800 (cosh overflows float64 above ~710)",
                 np.array([[-800.0, -300.0, 300.0, 800.0], [-711.0, -50.0, 50.0, 711.0]])),
            case("inputs near 0 (log cosh x ≈ x²/2 is tiny but not 0)",
                 np.array([1e-8, -1e-8, 1e-5, -3e-4, 1e-2, 0.3])),
            case("around |x| = 1, 5, 20 (where formulations hand over)",
                 np.array([0.9, 1.0, 1.1, -4.9, 5.0, 19.5, 20.0, -20.5])),
            case("a 3-D tensor (any shape)", 3 * rng.normal(size=(2, 3, 2)))]


def _lstm_layer_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name, n, t, d, h, scale in [("3 sequences of 5 steps, D=4, H=6", 3, 5, 4, 6, 0.5),
                                    ("a single time step", 2, 1, 3, 2, 0.5),
                                    ("a single hidden unit over 12 steps", 2, 12, 3, 1, 0.5),
                                    ("one sequence of 30 steps, saturated gates", 1, 30, 2, 3,
                                     3.0)]:
        cases.append(Case(name, (rng.normal(size=(n, t, d)), rng.normal(size=(n, h)),
                                 rng.normal(size=(n, h)), scale * rng.normal(size=(d, 4 * h)),
                                 scale * rng.normal(size=(h, 4 * h)),
                                 scale * rng.normal(size=4 * h))))
    return cases


def _blobs(rng: np.random.Generator, n: int, d: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    """Examples of ``c`` classes around separated centres: a task a short run can learn."""
    y = rng.permutation(np.arange(n) % c)
    centres = 2.0 * rng.normal(size=(c, d))
    return centres[y] + rng.normal(size=(n, d)), y


def fit_case(rng: np.random.Generator, name: str, n: int, d: int, hidden: int, c: int,
             batch_size: int, epochs: int, lr: float, momentum: float) -> Case:
    """A ``w10_fit`` case: data, the weights of a two-layer net (nn.Linear layout), settings."""
    x, y = _blobs(rng, n, d, c)
    w1 = rng.normal(size=(hidden, d)) / np.sqrt(d)
    w2 = rng.normal(size=(c, hidden)) / np.sqrt(hidden)
    return Case(name, (x, y, w1, 0.1 * rng.normal(size=hidden), w2, 0.1 * rng.normal(size=c),
                       lr, momentum, batch_size, epochs))


def _fit_cases(rng: np.random.Generator) -> list[Case]:
    return [fit_case(rng, "12 examples in batches of 4, 3 epochs", 12, 3, 5, 3, 4, 3, 0.3, 0.9),
            fit_case(rng, "10 examples in batches of 4: the last batch holds 2", 10, 2, 6, 3, 4,
                     4, 0.2, 0.9),
            fit_case(rng, "one batch larger than the data (batch 16, 7 examples)", 7, 4, 3, 2,
                     16, 3, 0.5, 0.5),
            fit_case(rng, "batches of one, plain SGD", 5, 3, 4, 2, 1, 2, 0.1, 0.0)]


register(
    Exercise(
        id="w10_linear_grads", function="linear_grads", reference=f"{REFERENCE}:linear_grads",
        make_cases=_linear_cases, points=2, framework="torch",
        hidden="answers.hidden.week10:linear_grads_cases",
        outputs=("out", "dx", "dw", "db"),
        see="course/week10-pytorch.ipynb §2 Autograd",
        hint="this case tests the vector–Jacobian product: autograd only fills .grad of leaf "
             "tensors that require gradients, and a non-scalar output needs the upstream "
             "gradient itself (not a sum, not a mean) as the starting point of the backward "
             "pass. Compare your gradients with Week 4's affine layer on a tiny case."),
    Exercise(
        id="w10_logcosh", function="logcosh_forward_backward",
        reference=f"{REFERENCE}:logcosh_forward_backward", make_cases=_logcosh_cases,
        points=3, framework="torch", rtol=1e-10, atol=0.0, outputs=("y", "dx"),
        hidden="answers.hidden.week10:logcosh_cases",
        see="course/week10-pytorch.ipynb §3 Custom autograd functions",
        hint="two separate questions. Backward: differentiate log(cosh x) with the chain rule "
             "and evaluate the result in a form that stays finite for |x| in the hundreds. "
             "Forward: the value is compared with a *relative* tolerance, so it must be "
             "right to the last digits near 0 (where 1 + tiny rounds to 1 and subtracting "
             "nearly equal numbers cancels) and must not overflow far from 0 (cosh and exp of "
             "large arguments). One formula rarely does both: find an identity for each "
             "regime and decide where to switch."),
    Exercise(
        id="w10_training_step", function="training_step",
        reference=f"{REFERENCE}:training_step", make_cases=_training_step_cases, points=2,
        framework="torch", outputs=("losses", "w_new", "b_new"),
        hidden="answers.hidden.week10:training_step_cases",
        see="course/week10-pytorch.ipynb §6 Optimizers and the training loop",
        hint="the second of the two steps is where the usual loop bugs show: gradients that "
             "accumulate from one backward pass to the next, a momentum buffer that does not "
             "survive between steps, a loss recorded after instead of before its step, or "
             "probabilities passed to a loss that expects raw scores."),
    Exercise(
        id="w10_lstm_cell", function="lstm_cell", reference=f"{REFERENCE}:lstm_cell",
        make_cases=_lstm_cases, points=2, framework="torch", outputs=("next_h", "next_c"),
        hidden="answers.hidden.week10:lstm_cell_cases",
        see="course/week10-pytorch.ipynb §4 Modules: a model owns its parameters",
        hint="the harness loads Wx, Wh and b into your LSTMCell by name: the parameter names "
             "and shapes must be those of the docstring. Then it is Week 9's step: check the "
             "order of the four gate blocks, which non-linearity each gate gets, and which "
             "gate multiplies the old cell and which the candidate."),
    Exercise(
        id="w10_lstm_layer", function="lstm_layer", reference=f"{REFERENCE}:lstm_layer",
        make_cases=_lstm_layer_cases, points=3, framework="torch", outputs=("out", "h_T", "c_T"),
        hidden="answers.hidden.week10:lstm_layer_cases",
        see="course/week10-pytorch.ipynb §4 Modules: a model owns its parameters",
        hint="the layer registers its LSTMCell as the attribute `cell` (the harness loads "
             "cell.Wx, cell.Wh, cell.b) and walks the time axis (axis 1, batch first), feeding "
             "each step the state the previous step returned — both h and c. `out` stacks "
             "every step's h in time order; the final state is the last step's."),
    Exercise(
        id="w10_lenet", function="lenet_logits", reference=f"{REFERENCE}:lenet_logits",
        make_cases=_lenet_cases, points=3, framework="torch", rtol=1e-6, atol=1e-8,
        hidden="answers.hidden.week10:lenet_cases",
        see="course/week10-pytorch.ipynb §7 Porting: same weights, same outputs",
        hint="a port is right when the same weights give the same outputs. Compare your "
             "module layer by layer with Week 7's LeNet-5: which layer is padded, where the "
             "ReLUs and poolings sit (none on the logits), the flatten order of (C, H, W), and "
             "the layout nn.Linear stores its weight in versus Week 7's (in, out) arrays; the "
             "module must also hold the weights' dtype."),
    Exercise(
        id="w10_fit", function="fit_mlp", reference=f"{REFERENCE}:fit_mlp",
        make_cases=_fit_cases, points=4, framework="torch", rtol=1e-7, atol=1e-10,
        outputs=("epoch_losses", "w1", "b1", "w2", "b2"),
        hidden="answers.hidden.week10:fit_cases",
        see="course/week10-pytorch.ipynb §6 Optimizers and the training loop",
        hint="one optimizer for the whole run, mini-batches in order with a smaller last "
             "batch, one step per batch. The epoch's loss is the mean over its *examples*: "
             "think about how much a batch of 2 should weigh against a batch of 4 when you "
             "combine batch means, and record each batch's loss before its step."),
)
