"""Every check is itself tested: correct alternatives pass, plausible mutants fail.

The variants live in ``answers/variants/weekNN.py``; each test carries its exercise's marker,
so ``pytest -m w01_softmax`` runs the oracle tests and the variant tests of one exercise.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.check import all_exercises, evaluate
from answers.variants import Variant, alternatives, mutants
from tests.conftest import exercise_param

EXERCISES = all_exercises()
HIDDEN_SEEDS = (1, 2, 3)
#: A mutant whose label carries this tag is a mistake only the hidden cases catch (the
#: exercise's ``hidden`` generator): the public check must pass it, the hidden one fail it.
HIDDEN_ONLY = "[hidden only]"
#: Milestones are scored on a trained model, not function by function: their variants are
#: whole solution cells, graded as notebooks in tests/test_milestones.py.
FUNCTION_EXERCISES = {k: e for k, e in EXERCISES.items() if not e.score}


def _variant_params(variants: list[Variant]) -> list:
    return [exercise_param(v.exercise_id, v, label=v.label) for v in variants
            if v.exercise_id in FUNCTION_EXERCISES]


@pytest.mark.parametrize("variant", _variant_params(alternatives()))
def test_alternative_passes(variant):
    function = variant.load(EXERCISES[variant.exercise_id].function)
    with np.errstate(all="ignore"):
        for seed in HIDDEN_SEEDS:
            result = evaluate(variant.exercise_id, function, hidden=True, seed=seed)
            assert result.passed, result.report()
        assert evaluate(variant.exercise_id, function).passed  # public fixtures too


@pytest.mark.parametrize("variant", _variant_params(mutants()))
def test_mutant_fails(variant):
    function = variant.load(EXERCISES[variant.exercise_id].function)
    with np.errstate(all="ignore"):
        for seed in HIDDEN_SEEDS:
            assert not evaluate(variant.exercise_id, function, hidden=True, seed=seed).passed
        if HIDDEN_ONLY in variant.label:  # the hidden cases add information: prove it
            assert EXERCISES[variant.exercise_id].hidden, "a hidden-only mutant needs hidden cases"
            assert evaluate(variant.exercise_id, function).passed, \
                f"the public check catches this mutant: drop {HIDDEN_ONLY} from its label"
        else:
            assert not evaluate(variant.exercise_id, function).passed, \
                "the public check should catch this mutant too"


@pytest.mark.parametrize("exercise_id", [exercise_param(e, e) for e in EXERCISES])
def test_each_exercise_has_enough_variants(exercise_id):
    assert sum(v.exercise_id == exercise_id for v in alternatives()) >= 1
    assert sum(v.exercise_id == exercise_id for v in mutants()) >= 3


@pytest.mark.parametrize("exercise_id", [exercise_param(e, e) for e in FUNCTION_EXERCISES])
def test_reference_passes_its_own_public_fixture(exercise_id):
    assert evaluate(exercise_id, EXERCISES[exercise_id].reference_function()).passed


def test_every_variant_names_a_known_exercise():
    unknown = {v.exercise_id for v in alternatives() + mutants()} - set(EXERCISES)
    assert not unknown, f"variants for unknown exercises: {sorted(unknown)}"
