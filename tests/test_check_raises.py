""""Must raise" cases: the contract refuses an input, and the function must raise.

``Case(..., raises=ValueError)``: the learner's function passes the case only when it raises
that exception type or a subclass; a returned value or another exception fails it with a
message that says what the contract refuses and why. In the hidden grade the sandboxed
worker reports the exception's class names (plain strings); the grader decides outside.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from grader.check import (Case, CallFailed, Exercise, builtin_exception, evaluate,
                          get_exercise, load_fixture, reference_outputs, run_cases, save_fixture)
from grader.isolation import isolation_level
from grader.sandbox import ProtocolViolation, validate_answer

RAISING = ("w07_conv_output_size", "w08_sliding_windows", "w09_rnn_truncated_backward")


def conv_output_size(size, kernel, stride=1, pad=0):
    if size + 2 * pad < kernel:
        raise ValueError("the kernel does not fit")
    return (size + 2 * pad - kernel) // stride + 1


def stops_raising(size, kernel, stride=1, pad=0):
    """The operator mutant ``size + 2 * pad`` → ``size + 3 * pad`` in the check."""
    if size + 3 * pad < kernel:
        raise ValueError("the kernel does not fit")
    return (size + 2 * pad - kernel) // stride + 1


class DoesNotFit(ValueError):
    """A learner's own, more precise exception: still a ValueError."""


def raises_a_subclass(size, kernel, stride=1, pad=0):
    if size + 2 * pad < kernel:
        raise DoesNotFit(f"kernel {kernel} > {size + 2 * pad}")
    return (size + 2 * pad - kernel) // stride + 1


def raises_another_type(size, kernel, stride=1, pad=0):
    if size + 2 * pad < kernel:
        raise TypeError("the kernel does not fit")
    return (size + 2 * pad - kernel) // stride + 1


def test_every_raising_exercise_has_public_and_hidden_must_raise_cases():
    for exercise_id in RAISING:
        exercise = get_exercise(exercise_id)
        assert any(c.raises for c in load_fixture(exercise_id)[0]), exercise_id
        hidden = exercise.cases(1, hidden=True)[len(exercise.cases(1)):]
        assert any(c.raises is ValueError and c.reason for c in hidden), exercise_id


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_a_mutant_that_stops_raising_fails_and_is_told_why(seed):
    result = evaluate("w07_conv_output_size", stops_raising, hidden=seed is not None, seed=seed)
    assert not result.passed
    failed = [c for c in result.cases if not c.passed]
    message = failed[0].message
    assert message.startswith("`conv_output_size` should refuse this input: raise ValueError "
                              "because the kernel (")
    assert "larger than the padded input" in message
    assert message.endswith("it returned 0 (int64)")  # what the learner's code did


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_a_correct_alternative_raising_a_subclass_passes(seed):
    assert evaluate("w07_conv_output_size", raises_a_subclass, hidden=seed is not None,
                    seed=seed).passed
    assert evaluate("w07_conv_output_size", conv_output_size, hidden=seed is not None,
                    seed=seed).passed


def test_another_exception_fails_with_a_clear_message():
    result = evaluate("w07_conv_output_size", raises_another_type)
    failed = [c for c in result.cases if not c.passed]
    assert len(failed) == 2  # the two public "does not fit" cases, nothing else
    assert all(c.message.endswith("it raised TypeError: the kernel does not fit — a caller "
                                  "that catches ValueError would not catch that")
               for c in failed)
    assert result.fraction == pytest.approx(8 / 10)


def test_an_array_returned_where_the_contract_refuses_is_described():
    def no_check(x, window, stride=1):
        n = (len(x) - window) // stride + 1 if len(x) >= window else 0
        return np.stack([x[i * stride:i * stride + window] for i in range(n)]) if n else \
            np.zeros((0, window) + x.shape[1:])

    result = evaluate("w08_sliding_windows", no_check)
    messages = {c.name.split(" [")[0]: c.message for c in result.cases if not c.passed}
    assert messages == {
        "window 0: refused": "`sliding_windows` should refuse this input: raise ValueError "
                             "because a window must hold at least one item; it returned an "
                             "array of shape (6, 0), dtype float64",
        "stride 0 on a sequence shorter than the window: refused":
            "`sliding_windows` should refuse this input: raise ValueError because the windows "
            "must move forward (stride >= 1), however long the sequence; it returned an array "
            "of shape (0, 3), dtype float64"}


def test_a_sandboxed_failure_is_judged_on_the_reported_class_names():
    case = Case("too big", (3, 6), {"pad": 1}, raises=ValueError, reason="it does not fit")
    exercise = get_exercise("w07_conv_output_size")

    def remote(raised, message="raised DoesNotFit: no"):
        def call(*args, **kwargs):
            raise CallFailed(message, raised)
        return call

    names = ("__main__.DoesNotFit", "builtins.ValueError", "builtins.Exception",
             "builtins.BaseException", "builtins.object")
    assert run_cases(exercise, remote(names), [case], [()]).passed
    result = run_cases(exercise, remote(("builtins.TypeError", "builtins.Exception")), [case],
                       [()])
    assert not result.passed and "it raised DoesNotFit: no — a caller" in result.cases[0].message
    # a timeout or a dead worker names no class: never a refusal
    result = run_cases(exercise, remote((), "timed out after 10 s"), [case], [()])
    assert not result.passed
    assert result.cases[0].message.endswith("; instead: timed out after 10 s")


def test_the_worker_reports_class_names_only_as_a_short_list_of_strings():
    ok = {"ok": False, "error": "raised ValueError: x", "raised": ["builtins.ValueError"]}
    assert validate_answer("call", ok, 0)["raised"] == ["builtins.ValueError"]
    for raised in ("builtins.ValueError", [1], ["x" * 201], ["builtins.ValueError"] * 17):
        with pytest.raises(ProtocolViolation):
            validate_answer("call", dict(ok, raised=raised), 0)


def test_fixtures_store_the_exception_by_name(tmp_path):
    exercise = get_exercise("w07_conv_output_size")
    cases, outputs = load_fixture(exercise.id, save_fixture(exercise, tmp_path / "f.npz"))
    refused = [(c, o) for c, o in zip(cases, outputs) if c.raises]
    assert len(refused) == 2 and all(c.raises is ValueError and o == () and c.reason
                                     for c, o in refused)
    assert builtin_exception("ValueError") is ValueError
    for name in ("object", "print", "NoSuchError", "__import__"):
        with pytest.raises(ValueError):
            builtin_exception(name)


def test_a_reference_that_does_not_refuse_is_a_course_error():
    exercise = Exercise("t_fit", "conv_output_size", "answers.kernels.week07:conv_output_size",
                        lambda rng: [], 1, "")
    with pytest.raises(AssertionError, match="expects ValueError, but the reference returned"):
        reference_outputs(exercise, [Case("fits", (5, 3), raises=ValueError)])


@pytest.mark.skipif(isolation_level() == "none", reason="needs a sandbox")
@pytest.mark.parametrize("source, passes, says", [
    (raises_a_subclass, True, ""),
    (conv_output_size, True, ""),
    (stops_raising, False, "it returned 0 (int64)"),
    (raises_another_type, False, "it raised TypeError: the kernel does not fit — a caller"),
])
def test_the_hidden_grade_decides_outside_the_sandbox(source, passes, says):
    import inspect

    from tests.test_dependencies import sandboxed

    code = textwrap.dedent(inspect.getsource(source)).replace(source.__name__,
                                                                "conv_output_size", 1)
    if source is raises_a_subclass:
        code = textwrap.dedent(inspect.getsource(DoesNotFit)) + "\n" + code
    with sandboxed(code) as (_, runner):
        result = runner.check(get_exercise("w07_conv_output_size"), seed=2)
        assert result.passed is passes, result.report()
        assert not runner.faults and not runner.violations
        if says:
            assert any(says in c.message for c in result.cases if not c.passed)


@pytest.mark.skipif(isolation_level() == "none", reason="needs a sandbox")
def test_a_forged_list_of_class_names_is_a_protocol_violation():
    """Learner code that rewrites the worker's answer to claim a long list of exception
    classes: the answer is refused, the worker killed, the case gets nothing."""
    from tests.test_dependencies import WORKER, sandboxed

    attack = WORKER + textwrap.dedent('''
        def _forged(shell, header, body):
            return {"ok": False, "error": "raised ValueError: forged",
                    "raised": ["builtins.ValueError"] * 40}, b""
        worker["_call"] = _forged
        def conv_output_size(size, kernel, stride=1, pad=0):
            return 0
    ''')
    with sandboxed(attack) as (_, runner):
        result = runner.check(get_exercise("w07_conv_output_size"), seed=1)
        assert result.fraction == 0.0
        assert runner.violations and "short list of names" in runner.violations[0]
