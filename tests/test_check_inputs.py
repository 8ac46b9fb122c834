"""Inputs must be left unchanged unless the contract says in place (issue 19, item 3).

Checked on every call: in the learner's own ``check()`` (their arguments are copies, compared
after the call) and in the hidden grade, where the sandboxed worker sends back its copies of
the arguments and the grader compares them outside the sandbox.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from grader.check import Case, Exercise, evaluate, get_exercise, reference_outputs, run_cases
from grader.isolation import isolation_level

SHIFT_IN_PLACE = '''
import numpy as np
def softmax(x):
    x -= x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)
'''


def _load(source: str, name: str):
    namespace: dict = {"np": np}
    exec(source, namespace)
    return namespace[name]


def test_a_function_that_shifts_its_argument_fails_with_a_clear_message():
    result = evaluate("w01_softmax", _load(SHIFT_IN_PLACE, "softmax"))
    assert not result.passed and result.fraction == 0.0
    message = result.cases[0].message
    assert "`softmax` changed its argument `x`" in message
    assert "work on a copy or build a new array" in message
    assert "the first at index" in message and "largest change" in message
    cases = len(result.cases)
    assert f"this case is 1 of {cases}" in message and "of the exercise's 2 points" in message


def test_the_hidden_check_catches_it_too_and_a_copy_passes():
    with np.errstate(all="ignore"):
        assert not evaluate("w01_softmax", _load(SHIFT_IN_PLACE, "softmax"), hidden=True,
                            seed=3).passed
    copying = _load(SHIFT_IN_PLACE.replace("x -= x.max", "x = x - x.max"), "softmax")
    assert evaluate("w01_softmax", copying).passed
    assert evaluate("w01_softmax", copying, hidden=True, seed=3).passed


def test_a_correct_output_with_a_changed_input_still_fails_the_case():
    def relu_backward(dout, cache):  # right answer, but it zeroes the caller's upstream
        dout[cache <= 0] = 0
        return dout.copy()

    result = evaluate("w04_relu_backward", relu_backward)
    assert not result.passed
    assert all("changed its argument `dout`" in c.message for c in result.cases
               if not c.passed)
    assert "values differ" not in result.report()


def test_a_changed_shape_or_dtype_is_named():
    def flatten_in_place(x):
        x.shape = (-1,)
        return np.ones(x.size)

    exercise = get_exercise("w01_softmax")
    case = Case("reshaped", (np.zeros((2, 3)),))
    result = run_cases(exercise, flatten_in_place, [case], [(np.ones(6),)])
    assert "its shape changed from (2, 3) to (6,)" in result.cases[0].message


def _writer_exercise(in_place=(0,)) -> Exercise:
    """A synthetic exercise whose contract updates ``params`` in place (none of the course's
    exercises has one: every update returns new arrays)."""
    def cases(rng):
        return [Case("one step", (rng.normal(size=(3,)), rng.normal(size=(3,)), 0.1))]

    return Exercise(id="w00_inplace_step", function="sgd_step",
                    reference="tests.test_check_inputs:_reference_step", make_cases=cases,
                    points=2, hint="", outputs=("loss",), in_place=in_place)


def _reference_step(params, grads, lr):
    params -= lr * grads
    return float(np.sum(params ** 2))


def test_an_in_place_contract_is_checked_the_other_way_round():
    exercise = _writer_exercise()
    cases = exercise.cases(1)
    expected = reference_outputs(exercise, cases)
    assert len(expected[0]) == 2  # the loss, then params after the call

    def writes(params, grads, lr):
        params -= lr * grads
        return float(np.sum(params ** 2))

    def returns_new(params, grads, lr):  # same loss, but the caller's params never move
        new = params - lr * grads
        return float(np.sum(new ** 2))

    def also_changes_grads(params, grads, lr):
        params -= lr * grads
        grads *= 0
        return float(np.sum(params ** 2))

    assert run_cases(exercise, writes, cases, expected).passed
    result = run_cases(exercise, returns_new, cases, expected)
    assert not result.passed and "params (after the call): values differ" in result.report()
    result = run_cases(exercise, also_changes_grads, cases, expected)
    assert not result.passed and "changed its argument `grads`" in result.report()
    assert "`params`" not in result.report().split("changed its argument")[1]


def test_no_reference_kernel_changes_its_arguments():
    """The contract the learners get: every exercise's reference leaves its inputs alone
    (the in-place check would otherwise reject the answer key itself)."""
    from grader.check import all_exercises

    for exercise in all_exercises().values():
        if exercise.score or exercise.framework != "numpy" or exercise.in_place:
            continue
        cases = exercise.cases(2, hidden=True)
        with np.errstate(all="ignore"):
            result = run_cases(exercise, exercise.reference_function(), cases,
                               reference_outputs(exercise, cases))
        assert result.passed, result.report()


@pytest.mark.skipif(isolation_level() == "none", reason="needs a sandbox")
def test_the_hidden_grade_compares_the_echoed_arguments_outside_the_sandbox():
    from tests.test_dependencies import sandboxed

    with sandboxed(SHIFT_IN_PLACE) as (sandbox, runner):
        exercise = get_exercise("w01_softmax")
        result = runner.check(exercise, seed=5)
        assert result.fraction == 0.0
        assert "`softmax` changed its argument `x`" in result.cases[0].message
        assert not runner.faults and not runner.violations
    with sandboxed(SHIFT_IN_PLACE.replace("x -= x.max", "x = x - x.max")) as (sandbox, runner):
        assert runner.check(get_exercise("w01_softmax"), seed=5).passed
