"""Milestone exercises: graded on what the learner's own model achieves (issue 15).

Each milestone has two exercises (see :mod:`grader.milestone` for the learner's side):

``wNN_milestone``
    The grader calls the learner's ``milestone_predict(checkpoint, images)`` in the sandbox
    with the name of the file they submitted and the held-out Fashion-MNIST test images;
    the class scores come back and the accuracy is computed here, outside the learner's
    code, on the curve :func:`grader.milestone.credit_curve` (0 at ``floor``, full marks at
    ``full``). The file is checked first (present, a plain ``.npz``, no pickle, size): a
    missing or unsafe file scores 0 with a message naming what was expected.
``wNN_milestone_probe``
    ``milestone_probe(x, y, steps, seed)``: a gradient check of the learner's loss and
    ``steps`` calls of their ``train_step`` on a small training subset, from a seed drawn
    per grading run; judged by :func:`grader.milestone.probe_credit`.

Grading-time bound per milestone: the notebook's cells (30 s each, the sandbox's cell
limit), then ``timeout`` seconds per call below (week 5: 60 s + 60 s; week 7: 120 s + 60 s).

What a milestone grade can and cannot vouch for. The test labels never reach learner code
while grading: the sandbox hides their file and the loaders return ``-1`` for every test label
(:data:`grader.data.WITHHELD_WHILE_GRADING`), so a ``milestone_predict`` that looks labels up
instead of running the model scores at chance. The probe needs working training code. What
no grader can see is *how* the weights were obtained: Fashion-MNIST's test split is public,
so a learner who trains on it, or hides labels inside the weights, is not caught here — an
instructor who needs that guarantee grades on a split the learners never had.

Fast mode (``COURSE_FAST=1``: the tests and CI, where a notebook trains for seconds) scores
the first 1,000 test images against lower bars (:data:`FAST_BARS`), and says so in every
message. Full mode, what a class is graded with, uses the 10,000 test images and the bars
set from the reference runs (``bench/results/milestones.json``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from grader.check import Case, Exercise, register
from grader.config import fast_mode
from grader.milestone import accuracy_credit, probe_credit

#: (floor, full marks, stretch) of each week's held-out accuracy, full mode.
BARS = {5: (0.70, 0.87, None), 7: (0.70, 0.88, 0.90)}
#: The same in fast mode: seconds of training on 1,800 images (tests only, never a class).
FAST_BARS = {5: (0.30, 0.60, None), 7: (0.30, 0.60, None)}
#: Test images scored in fast mode (the full test split otherwise).
FAST_TEST_IMAGES = 1000
PROBE_IMAGES, PROBE_STEPS = 64, 40


def checkpoint_name(week: int) -> str:
    return f"milestone_week{week:02d}.npz"


@lru_cache(maxsize=2)
def _test_split(fast: bool) -> tuple[np.ndarray, np.ndarray]:
    from grader.data import load_fashion_mnist

    data = load_fashion_mnist(limit=FAST_TEST_IMAGES if fast else None)
    return data.X_test, data.y_test


@lru_cache(maxsize=2)
def _train_split(fast: bool) -> tuple[np.ndarray, np.ndarray]:
    from grader.data import load_fashion_mnist

    data = load_fashion_mnist(limit=2000 if fast else None)
    return data.X_train, data.y_train


def _heldout_cases(week: int):
    def make_cases(rng: np.random.Generator) -> list[Case]:
        x, y = _test_split(fast_mode())
        name = checkpoint_name(week)
        return [Case(f"your {name} on the {len(x):,} Fashion-MNIST test images",
                     (name, x), target=y)]
    return make_cases


def _probe_cases(rng: np.random.Generator) -> list[Case]:
    x, y = _train_split(fast_mode())
    seed = int(rng.integers(0, 1000))
    pick = np.sort(rng.choice(len(x), size=PROBE_IMAGES, replace=False))
    return [Case(f"{PROBE_STEPS} training steps on {PROBE_IMAGES} training images from seed "
                 f"{seed}", (x[pick], y[pick]), {"steps": PROBE_STEPS, "seed": seed})]


def _accuracy_metric(week: int):
    def metric(case: Case, outputs: tuple[np.ndarray, ...]) -> tuple[float, str]:
        floor, full, stretch = (FAST_BARS if fast_mode() else BARS)[week]
        credit, message = accuracy_credit(outputs[0], case.target, floor, full, stretch)
        if fast_mode():
            message += " [fast mode: test bars, not the course's]"
        return credit, message
    return metric


#: LeNet-5's parameter names (the Week 7 notebook fixes them), in the probe's sorted order.
LENET_NAMES = sorted(["conv1_w", "conv1_b", "conv2_w", "conv2_b", "fc1_w", "fc1_b",
                      "fc2_w", "fc2_b", "fc3_w", "fc3_b"])


def _mlp_names(count: int) -> list[str] | None:
    """``W1, b1, ...`` of a network with ``count // 2`` layers, in sorted order."""
    if count % 2:
        return None
    return sorted([f"W{i}" for i in range(1, count // 2 + 1)]
                  + [f"b{i}" for i in range(1, count // 2 + 1)])


def _probe_metric(week: int):
    def metric(case: Case, outputs: tuple[np.ndarray, ...]) -> tuple[float, str]:
        if len(outputs) != 2:
            return 0.0, (f"expected (losses, gradient errors) from the probe, got "
                         f"{len(outputs)} value(s)")
        count = np.asarray(outputs[1]).size
        names = (LENET_NAMES if count == len(LENET_NAMES) else None) if week == 7 \
            else _mlp_names(count)
        return probe_credit(outputs[0], outputs[1], case.kwargs["steps"], names)
    return metric


score_w05_accuracy = _accuracy_metric(5)
score_w07_accuracy = _accuracy_metric(7)
score_w05_probe = _probe_metric(5)
score_w07_probe = _probe_metric(7)

_MILESTONE_HINT = ("run the notebook's sanity checks first (loss ≈ ln 10 at the start, "
                   "gradient check, overfitting 50 images), then train until the validation "
                   "accuracy is above the bar; the file must come from the model the "
                   "notebook builds")
_PROBE_HINT = ("the gradient check compares your backward pass with your forward pass: a "
               "large error names the parameter arrays whose layer's backward pass is wrong; "
               "if the loss does not fall, check the sign of your update and the step count t")

register(
    Exercise(
        id="w05_milestone", function="milestone_predict", reference="",
        make_cases=_heldout_cases(5), points=6, timeout=60.0,
        score="grader.checks.milestones:score_w05_accuracy",
        files=(checkpoint_name(5),), outputs=("class scores",),
        hint=_MILESTONE_HINT,
        see="course/week05-optimization.ipynb §8 Putting it together on Fashion-MNIST"),
    Exercise(
        id="w05_milestone_probe", function="milestone_probe", reference="",
        uses=("w05_adam_step", "w05_cosine_lr"),
        make_cases=_probe_cases, points=3, timeout=60.0,
        score="grader.checks.milestones:score_w05_probe", outputs=("losses", "gradient errors"),
        hint=_PROBE_HINT,
        see="course/week04-backprop.ipynb §5 Gradient checking"),
    Exercise(
        id="w07_milestone", function="milestone_predict", reference="",
        uses=("w07_conv2d_forward", "w07_conv2d_backward", "w07_im2col",
              "w07_maxpool_forward", "w07_maxpool_backward"),
        make_cases=_heldout_cases(7), points=8, timeout=120.0,
        score="grader.checks.milestones:score_w07_accuracy",
        files=(checkpoint_name(7),), outputs=("class scores",),
        hint=_MILESTONE_HINT,
        see="course/week07-cnn.ipynb §8 LeNet-5 on Fashion-MNIST"),
    Exercise(
        id="w07_milestone_probe", function="milestone_probe", reference="",
        make_cases=_probe_cases, points=4, timeout=60.0,
        score="grader.checks.milestones:score_w07_probe", outputs=("losses", "gradient errors"),
        hint=_PROBE_HINT,
        see="course/week07-cnn.ipynb §4 The backward pass"),
)
