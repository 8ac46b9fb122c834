"""A mistake's partial credit does not depend on the draw (issue 19, item 6), Weeks 4–7.

Every hand-written mutant of these exercises gets the same share of cases under each seed
of the hidden grade: the properties that expose a mistake (ids out of topological order,
paths of different lengths, a coordinate where eps's place shows, a step just before a
drop, a norm at max_norm, a curve that runs out of patience at a fixed epoch, a partial
window, compounding strides, windows of zeros, near ties for a large p) are placed by the
generators, not left to the draw.
"""

from __future__ import annotations

import warnings

import pytest

from answers.variants import mutants
from bench.credit_stability import credit_by_seed
from grader.check import get_exercise
from tests.conftest import exercise_param

EXERCISES = ("w04_backprop_graph", "w05_rmsprop_step", "w05_step_lr", "w05_clip_grad_norm",
             "w06_early_stopping", "w07_conv_output_size", "w07_receptive_field",
             "w07_maxpool_backward", "w07_lp_pool_backward")
SEEDS = range(4)


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", [exercise_param(e, e) for e in EXERCISES])
def test_mutant_credit_does_not_depend_on_the_seed(exercise_id):
    exercise = get_exercise(exercise_id)
    variants = [v for v in mutants() if v.exercise_id == exercise_id]
    assert variants, f"no hand-written mutants of {exercise_id}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for variant in variants:
            credits = credit_by_seed(variant, exercise, SEEDS)
            assert "error" not in credits, f"{variant.label}: a draw failed: {credits}"
            assert len(set(credits)) == 1, f"{variant.label}: credits {credits}"
