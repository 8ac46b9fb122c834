"""Week 12 checks: a residual block's forward pass, trainable-parameter budgets of a frozen
ResNet, discriminative (layer-wise) learning rates, and the pieces of the fine-tuning loop
(a new head, frozen stages, per-group rates; a training step that keeps frozen batch norm
frozen).

The two fine-tuning exercises are checked through the assignment's locked harness functions
(``finetune_setup_probe``, ``finetune_step_probe``): they build the week's ``SmallResNet`` from
the case's weights and running statistics (given in ``state_dict`` order), call the learner's
function and return what a training step changed: outputs, which parameters train, the
parameters and the batch-norm running statistics after the step.

The residual block is a PyTorch exercise (``framework="torch"``): the learner may use
``F.conv2d`` and ``F.batch_norm``. Its cases include a batch of one with 1×1 images (batch
norm over a single value per channel), several channels with very different scales, and
gammas and betas far from their initial values so that the order of operations shows.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week12"


def _block_args(rng: np.random.Generator, n: int, c: int, h: int, w: int,
                scale: float = 1.0) -> tuple:
    x = scale * rng.normal(size=(n, c, h, w))
    conv = lambda: rng.normal(size=(c, c, 3, 3)) / np.sqrt(9 * c)  # noqa: E731
    bn = lambda: (1 + 0.5 * rng.normal(size=c), 0.5 * rng.normal(size=c))  # noqa: E731
    (g1, b1), (g2, b2) = bn(), bn()
    return x, conv(), g1, b1, conv(), g2, b2


def _residual_block_cases(rng: np.random.Generator) -> list[Case]:
    skewed = list(_block_args(rng, 3, 4, 5, 5))
    skewed[0] = skewed[0] * np.array([1e-2, 1, 10, 100])[None, :, None, None]
    negative_shift = list(_block_args(rng, 2, 3, 4, 4))
    negative_shift[6] = -np.abs(negative_shift[6]) - 1.0  # beta2 < 0: the final ReLU matters
    return [
        Case("batch 4, 3 channels, 6×6", _block_args(rng, 4, 3, 6, 6)),
        Case("non-square 2×2 channels 5×7", _block_args(rng, 2, 2, 5, 7)),
        Case("one channel, batch 8, 4×4", _block_args(rng, 8, 1, 4, 4)),
        Case("channels on very different scales", tuple(skewed)),
        Case("negative beta2 (the last ReLU clips)", tuple(negative_shift)),
        Case("batch of 2 with 1×1 images", _block_args(rng, 2, 3, 1, 1)),
    ]


def _param_count_cases(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("this week's ResNet, nothing frozen", (np.array([16, 16, 32, 32]), 1, 5, 0)),
        Case("this week's ResNet, stem frozen", (np.array([16, 16, 32, 32]), 1, 5, 1)),
        Case("this week's ResNet, backbone frozen", (np.array([16, 16, 32, 32]), 1, 5, 4)),
        Case("RGB input, widths 8→16→16", (np.array([8, 16, 16]), 3, 10, 2)),
        Case("stem only (no residual block)", (np.array([12]), 1, 3, 0)),
    ]
    widths = np.sort(rng.choice([4, 8, 12, 16, 24, 32], size=5))
    cases.append(Case("random widths, 2 stages frozen", (widths, 2, 7, 2)))
    return cases


def _lr_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("5 groups, decay 0.3, none frozen", (5, 1e-3, 0.3, 0)),
        Case("5 groups, decay 0.5, two frozen", (5, 1e-2, 0.5, 2)),
        Case("decay 1 (plain fine-tuning)", (4, 3e-4, 1.0, 0)),
        Case("everything but the head frozen", (6, 0.1, 0.2, 5)),
        Case("a single group (the head)", (1, 0.05, 0.3, 0)),
        *_random_lr_cases(rng),
    ]


def _random_lr_cases(rng: np.random.Generator) -> list[Case]:
    """Random sizes, rates and decays; how many groups are frozen is fixed, not drawn.

    One case with none frozen and one with at least one frozen and at least two trained
    groups, so that a freezing mistake (the last groups frozen instead of the first, frozen
    groups not zeroed) fails the same case under every seed: the partial credit does not
    depend on the draw (``random_mask`` in :mod:`grader.checks.week09` explains why)."""
    none = (int(rng.integers(2, 9)), float(rng.uniform(1e-4, 1e-1)), float(rng.uniform(0.1, 0.9)))
    n_groups = int(rng.integers(3, 9))
    some = (n_groups, float(rng.uniform(1e-4, 1e-1)), float(rng.uniform(0.1, 0.9)),
            int(rng.integers(1, n_groups - 1)))
    return [Case("random sizes and rates, none frozen", (*none, 0)),
            Case("random sizes and rates, some groups frozen", some)]


def resnet_state(rng: np.random.Generator, widths: tuple[int, ...], n_source: int
                 ) -> tuple[np.ndarray, ...]:
    """Weights and running statistics of a "pre-trained" SmallResNet, in state_dict order.

    Stem conv + BN, then per block conv1, bn1, conv2, bn2 and (when the width changes) the
    projection conv + BN, then the head; each BN as weight, bias, running mean, running var.
    """
    def conv(c_out: int, c_in: int, k: int) -> np.ndarray:
        return rng.normal(size=(c_out, c_in, k, k)) * np.sqrt(2.0 / (c_in * k * k))

    def bn(c: int) -> list[np.ndarray]:
        return [1 + 0.2 * rng.normal(size=c), 0.2 * rng.normal(size=c),
                0.3 * rng.normal(size=c), rng.uniform(0.5, 2.0, size=c)]

    state = [conv(widths[0], 1, 3), *bn(widths[0])]
    for a, b in zip(widths, widths[1:]):
        state += [conv(b, a, 3), *bn(b), conv(b, b, 3), *bn(b)]
        if a != b:
            state += [conv(b, a, 1), *bn(b)]
    state += [rng.normal(size=(n_source, widths[-1])) / np.sqrt(widths[-1]),
              0.1 * rng.normal(size=n_source)]
    return tuple(state)


def setup_case(rng: np.random.Generator, name: str, widths: tuple[int, ...], n_source: int,
               n_classes: int, lrs: list[float], n: int = 6) -> Case:
    """A ``w12_prepare_finetuning`` case: images, labels, the network, the new task's rates."""
    x = rng.normal(size=(n, 1, 8, 8))
    y = rng.integers(0, n_classes, size=n)
    head_w = rng.normal(size=(n_classes, widths[-1])) / np.sqrt(widths[-1])
    return Case(name, (x, y, np.array(widths), n_classes, np.array(lrs, dtype=float), head_w,
                       0.1 * rng.normal(size=n_classes), *resnet_state(rng, widths, n_source)))


def step_case(rng: np.random.Generator, name: str, widths: tuple[int, ...], n_classes: int,
              n_frozen: int, lr: float, n: int = 6) -> Case:
    """A ``w12_finetune_step`` case: images, labels, the network, frozen stages, the rate."""
    x = rng.normal(size=(n, 1, 8, 8))
    y = rng.integers(0, n_classes, size=n)
    return Case(name, (x, y, np.array(widths), n_frozen, lr,
                       *resnet_state(rng, widths, n_classes)))


def _setup_cases(rng: np.random.Generator) -> list[Case]:
    decaying = [1e-2 * 0.3 ** k for k in (3, 2, 1, 0)]
    return [
        setup_case(rng, "widths 4→4→8, nothing frozen, rates decaying towards the input",
                   (4, 4, 8), 5, 3, decaying),
        setup_case(rng, "the stem frozen (rate 0)", (4, 4, 8), 5, 3, [0.0, *decaying[1:]]),
        setup_case(rng, "the whole backbone frozen: only the new head trains", (4, 4, 8), 5, 4,
                   [0.0, 0.0, 0.0, 0.05]),
        setup_case(rng, "stem and first block frozen, 2 → 6 classes, widths 3→6→6", (3, 6, 6),
                   2, 6, [0.0, 0.0, 0.02, 0.1]),
    ]


def _step_cases(rng: np.random.Generator) -> list[Case]:
    return [
        step_case(rng, "nothing frozen, widths 4→4→8", (4, 4, 8), 3, 0, 0.05),
        step_case(rng, "the stem frozen", (4, 4, 8), 3, 1, 0.05),
        step_case(rng, "stem and first block frozen, widths 3→6→6", (3, 6, 6), 4, 2, 0.1),
        step_case(rng, "the whole backbone frozen", (4, 8), 2, 2, 0.2),
    ]


register(
    Exercise(
        id="w12_residual_block_forward", function="residual_block_forward",
        reference=f"{REFERENCE}:residual_block_forward", make_cases=_residual_block_cases,
        points=3, framework="torch", rtol=1e-6, atol=1e-8,
        hidden="answers.hidden.week12:residual_block_cases",
        see="course/week12-transfer.ipynb §2 Residual blocks and a small ResNet",
        hint="this case tests the order of operations and the statistics batch norm uses: in "
             "training mode each channel is normalized with the statistics of the current "
             "batch over every axis but the channel (which variance estimator?), and the "
             "shortcut is added before the last non-linearity, not after. The 1×1-image and "
             "skewed-channel cases show whether the statistics are per channel."),
    Exercise(
        id="w12_count_trainable_params", function="count_trainable_params",
        reference=f"{REFERENCE}:count_trainable_params", make_cases=_param_count_cases,
        points=3, hidden="answers.hidden.week12:param_count_cases",
        see="course/week12-transfer.ipynb §4 Four ways to transfer, and how many parameters each trains",
        hint="count what the optimizer can change, layer by layer, from the definitions: which "
             "layers have a bias, what a batch norm trains versus what it merely tracks "
             "(buffers), when a block needs a projection on its shortcut, and which stages "
             "the freezing removes. Compare with sum(p.numel() ...) on the lecture's model."),
    Exercise(
        id="w12_layerwise_learning_rates", function="layerwise_learning_rates",
        reference=f"{REFERENCE}:layerwise_learning_rates", make_cases=_lr_cases, points=2,
        rtol=1e-12, atol=0.0, hidden="answers.hidden.week12:lr_cases",
        see="course/week12-transfer.ipynb §4 Four ways to transfer, and how many parameters each trains",
        hint="which end of the network keeps the base rate — the input or the head — and in "
             "which direction the decay compounds; frozen groups are the first ones, and their "
             "rate is exactly 0 whatever the decay."),
    Exercise(
        id="w12_prepare_finetuning", function="finetune_setup_probe",
        reference=f"{REFERENCE}:finetune_setup_probe", make_cases=_setup_cases, points=4,
        framework="torch", rtol=1e-7, atol=1e-9,
        outputs=("logits", "trainable", "parameters_after_step", "running_stats_after_step"),
        hidden="answers.hidden.week12:setup_cases",
        see="course/week12-transfer.ipynb §5 Freezing batch norm",
        hint="three things must hold after your function: the optimizer updates the *new* "
             "head (when is the head created relative to the optimizer?), each group moves at "
             "its own rate (one parameter group per stage), and a frozen stage neither "
             "receives gradients nor lets its batch norm update its running statistics — "
             "requires_grad alone does not stop batch norm. The new head must also compute in "
             "the model's dtype."),
    Exercise(
        id="w12_finetune_step", function="finetune_step_probe",
        reference=f"{REFERENCE}:finetune_step_probe", make_cases=_step_cases, points=3,
        framework="torch", rtol=1e-7, atol=1e-9,
        outputs=("losses", "parameters_after", "running_stats_after"),
        hidden="answers.hidden.week12:step_cases",
        see="course/week12-transfer.ipynb §5 Freezing batch norm",
        hint="the harness calls model.eval() before each of your steps, as an evaluation "
             "would. Your step decides the mode of every part of the network: the trainable "
             "part must train with batch statistics, the frozen stages must keep normalizing "
             "with their stored statistics — and switching the whole model to one mode undoes "
             "the other. Then the usual loop body, loss measured before the update."),
)
