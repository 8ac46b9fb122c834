"""A mistake's partial credit does not depend on the draw (issue 19, item 6): Weeks 8, 11,
12 and 14.

Every hand-written mutant of these exercises (``answers.variants.mutants()``) is graded on
the public and hidden cases of four seeds (``bench.credit_stability.credit_by_seed``): two
learners with the same mistake must get the same share of cases, so the case that exposes a
mistake must expose it under every draw (fixed counts, placed events and extremes; see
``random_mask`` in ``grader/checks/week09.py``).

    python -m bench.credit_stability --seeds 8 w08_autoencoder_loss …   # the same, wider
"""

from __future__ import annotations

import warnings

import pytest

from answers.variants import mutants
from bench.credit_stability import credit_by_seed
from grader.check import get_exercise
from tests.conftest import exercise_param

EXERCISES = ["w08_autoencoder_loss", "w08_autoencoder_gradients", "w08_rbm_free_energy",
             "w11_kneser_ney", "w11_plateau_lr", "w12_layerwise_learning_rates",
             "w14_frechet_distance"]
SEEDS = range(4)


@pytest.mark.parametrize("exercise_id", [exercise_param(e, e) for e in EXERCISES])
def test_partial_credit_does_not_depend_on_the_seed(exercise_id):
    exercise = get_exercise(exercise_id)
    variants = [v for v in mutants() if v.exercise_id == exercise_id]
    assert len(variants) >= 3
    varying = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for variant in variants:
            credits = credit_by_seed(variant, exercise, SEEDS)
            if len(set(credits)) != 1:
                varying.append(f"{variant.label}: {credits}")
    assert not varying, "partial credit depends on the seed:\n" + "\n".join(varying)
