"""The differential search of the hidden grade (issue 19, item 2).

It must find and shrink a planted bug that the fixed cases (public and hidden) miss, stay
within its budget of calls (asserted on the bookkeeping, never on wall-clock time), pass
every correct alternative, and never show a reference output.
"""

from __future__ import annotations

import numpy as np
import pytest

from answers.variants import alternatives
from grader.check import all_exercises, evaluate, get_exercise
from grader.differential import BUDGET_CALLS, CASE_NAME, Budget, search


def _softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def two_columns_wrong(x):
    """Right everywhere except on rows of exactly two entries (a planted bug)."""
    return np.zeros_like(x) if x.shape[-1] == 2 else _softmax(x)


class Counting:
    """A learner's function that counts its calls."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)


def test_the_fixed_cases_miss_the_planted_bug():
    assert evaluate("w01_softmax", two_columns_wrong).passed
    for seed in (1, 2, 3):
        assert evaluate("w01_softmax", two_columns_wrong, hidden=True, seed=seed).passed


@pytest.mark.parametrize("seed", [3, 4])
def test_the_search_finds_it_and_shrinks_it(seed):
    exercise = get_exercise("w01_softmax")
    budget = Budget()
    learner = Counting(two_columns_wrong)
    result = search(exercise, learner, seed, arg_names=["x"], budget=budget)
    assert not result.passed
    assert result.name.startswith(CASE_NAME)
    # shrunk: one row of two entries, both 0 (Hypothesis' simplest values)
    assert "smallest failing input found: softmax(x=array([0., 0.], dtype=float64))" \
        in result.message
    assert "values differ" in result.message
    assert learner.calls == budget.made <= BUDGET_CALLS


def test_the_search_is_the_same_for_the_same_seed():
    exercise = get_exercise("w01_softmax")
    first = search(exercise, two_columns_wrong, 4, ["x"])
    again = search(exercise, two_columns_wrong, 4, ["x"])
    assert (first.passed, first.message) == (again.passed, again.message)


_DRAWS = """
import hashlib, sys
sys.path.insert(0, {repo!r})
{extra}
from grader.check import get_exercise
from grader.differential import search
import numpy as np
seen = hashlib.sha256()
def learner(x):  # right everywhere: every search draws its whole budget
    seen.update(repr((x.shape, x.tobytes())).encode())
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
for seed in range(6):
    search(get_exercise("w01_softmax"), learner, seed, ["x"])
print(seen.hexdigest())
"""


def test_the_inputs_drawn_do_not_depend_on_what_the_process_imported(tmp_path):
    """Hypothesis mixes constants from every imported local module into its draws; the
    search must not (CI drew other inputs than this checkout for the same seed)."""
    import subprocess
    import sys

    from grader.config import REPO_ROOT

    (tmp_path / "learner_constants.py").write_text(
        "".join(f"C{i} = {v!r}\n" for i, v in enumerate([0.5, -3.25, 7.0])))

    def draws(extra: str, cwd) -> str:
        script = _DRAWS.format(repo=str(REPO_ROOT), extra=extra)
        return subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True,
                              text=True, check=True, timeout=600).stdout.strip()

    plain = draws("", REPO_ROOT)
    assert plain
    assert draws(f"sys.path.insert(0, {str(tmp_path)!r}); import learner_constants",
                 tmp_path) == plain


@pytest.mark.parametrize("function", [_softmax, two_columns_wrong,
                                      lambda x: np.full_like(x, np.nan)])
def test_it_stays_within_its_budget(function):
    exercise = get_exercise("w01_softmax")
    for seed in (1, 2):
        budget = Budget(calls=8)
        learner = Counting(function)
        search(exercise, learner, seed, ["x"], budget)
        assert learner.calls == budget.made <= 8
        assert budget.left >= 0


def test_an_overflow_is_found_and_reported_with_its_input():
    def unshifted(x):
        e = np.exp(x)
        return e / e.sum(axis=-1, keepdims=True)

    with np.errstate(all="ignore"):
        result = search(get_exercise("w01_softmax"), unshifted, 2, ["x"])
    assert not result.passed
    assert "nan/inf where finite values were expected" in result.message
    value = float(result.message.split("array([")[1].split("]")[0].split(",")[0])
    assert value > 709  # exp overflows from about 709.8 on: the shrunk input sits there


def test_the_reference_output_is_never_shown():
    def half(x):
        return 0.5 * _softmax(x)

    result = search(get_exercise("w01_softmax"), half, 1, ["x"])
    assert not result.passed
    assert "expected" not in result.message.split(" — ")[0]  # the input part: inputs only
    assert "array(" in result.message.split(" — ")[0]
    assert result.message.count("array(") == 1  # the input, no output array


STRATEGY_EXERCISES = {k for k, e in all_exercises().items() if e.strategy}


def test_strategies_are_declared_where_a_contract_is_easy_to_state():
    assert {"w01_softmax", "w01_log_softmax", "w01_softplus", "w04_relu_backward",
            "w04_affine_forward"} <= STRATEGY_EXERCISES


@pytest.mark.parametrize("variant", [v for v in alternatives()
                                     if v.exercise_id in STRATEGY_EXERCISES],
                         ids=lambda v: f"{v.exercise_id}:{v.label}")
def test_every_correct_alternative_passes_the_search(variant):
    exercise = get_exercise(variant.exercise_id)
    function = variant.load(exercise.function)
    for seed in (1, 2):
        with np.errstate(all="ignore"):
            result = search(exercise, function, seed)
        assert result.passed, result.message


def test_the_reference_passes_its_own_search():
    for exercise_id in STRATEGY_EXERCISES:
        exercise = get_exercise(exercise_id)
        with np.errstate(all="ignore"):
            assert search(exercise, exercise.reference_function(), 1).passed


# --------------------------------------------------------------------------------------
# Weeks 5–7: optimizer steps, dropout, normalization, convolution and pooling
# --------------------------------------------------------------------------------------
WEEKS_5_TO_7 = {"w05_momentum_step", "w05_nesterov_step", "w05_rmsprop_step", "w05_adam_step",
                "w06_dropout_forward", "w06_dropout_backward", "w06_batchnorm_forward",
                "w06_batchnorm_backward", "w06_layernorm_forward", "w06_layernorm_backward",
                "w06_spatial_batchnorm_forward", "w06_spatial_batchnorm_backward",
                "w07_conv2d_forward_naive", "w07_conv2d_forward", "w07_conv2d_backward_naive",
                "w07_conv2d_backward", "w07_maxpool_forward", "w07_maxpool_backward",
                "w07_lp_pool_forward", "w07_lp_pool_backward"}


def dropout_for_matrices(x, u, p, train=True):
    """Right on every input of two axes or more; a 1-D input raises (a planted bug: the
    fixed cases use 2-D and 3-D activations only)."""
    from answers.kernels.week06 import dropout_forward

    if train:
        x.shape[1]  # noqa: B018 - "the number of units" read from the wrong axis
    return dropout_forward(x, u, p, train)


def maxpool_backward_shortcut(dout, x, pool=2, stride=2):
    """A 1×1 window is its own maximum, so "the gradient passes through": right for stride
    1 only (a planted bug: no fixed case pools 1×1 windows)."""
    from answers.kernels.week07 import maxpool_backward

    return dout.copy() if pool == 1 else maxpool_backward(dout, x, pool, stride)


def test_weeks_5_to_7_declare_strategies():
    assert WEEKS_5_TO_7 <= STRATEGY_EXERCISES


@pytest.mark.parametrize("exercise_id, planted", [("w06_dropout_forward", dropout_for_matrices),
                                                  ("w07_maxpool_backward",
                                                   maxpool_backward_shortcut)])
def test_the_fixed_cases_miss_the_planted_bugs_of_weeks_6_and_7(exercise_id, planted):
    assert evaluate(exercise_id, planted).passed
    for seed in (1, 2, 3, 4, 5):
        assert evaluate(exercise_id, planted, hidden=True, seed=seed).passed


@pytest.mark.parametrize("exercise_id, planted, names, seeds, smallest", [
    ("w06_dropout_forward", dropout_for_matrices, ["x", "u", "p", "train"], (1, 6),
     "dropout_forward(x=array([0.], dtype=float64), u=array([0.], dtype=float64), p=0.0, "
     "train=True) — raised IndexError"),
    ("w07_maxpool_backward", maxpool_backward_shortcut, ["dout", "x", "pool", "stride"], (3, 5),
     "maxpool_backward(dout=array([[[[0.]]]], dtype=float64), x=array([[[[0., 0.]]]], "
     "dtype=float64), pool=1, stride=2) — returned shape (1, 1, 1, 1), dtype float64, "
     "expected shape (1, 1, 1, 2)"),
])
def test_the_search_finds_and_shrinks_the_planted_bugs(exercise_id, planted, names, seeds,
                                                       smallest):
    exercise = get_exercise(exercise_id)
    for seed in seeds:
        budget = Budget()
        learner = Counting(planted)
        result = search(exercise, learner, seed, arg_names=names, budget=budget)
        assert not result.passed
        assert f"smallest failing input found: {smallest}" in result.message
        assert learner.calls == budget.made <= BUDGET_CALLS


@pytest.mark.parametrize("exercise_id", sorted(WEEKS_5_TO_7))
def test_the_new_strategies_stay_within_their_budget(exercise_id):
    exercise = get_exercise(exercise_id)
    reference = exercise.reference_function()

    def nan_everywhere(*args):
        out = reference(*args)
        return tuple(np.full_like(o, np.nan) for o in out) if isinstance(out, tuple) \
            else np.full_like(out, np.nan)

    for function in (reference, nan_everywhere):
        budget = Budget(calls=6)
        learner = Counting(function)
        with np.errstate(all="ignore"):
            result = search(exercise, learner, 1, budget=budget)
        assert learner.calls == budget.made <= 6 and budget.left >= 0
        assert result.passed is (function is reference), result.message
