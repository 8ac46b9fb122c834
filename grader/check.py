"""The check engine: run a learner's function on cases and explain what went wrong.

One exercise id (``w01_softmax``) names an exercise everywhere: the nbgrader ``grade_id`` of
its test cell, the stub's ``NotImplementedError`` message, the pytest marker and the
:class:`Exercise` registered here. A test cell calls::

    check("w01_softmax", softmax)               # public: stored fixtures, no reference needed
    check("w01_softmax", softmax, hidden=True)  # hidden: fresh seeded cases vs the reference

A failed check names the case, the shapes and dtypes, the largest absolute and relative
error and a hint; it never prints the reference output.

The comparison itself lives in :func:`run_cases`, which returns a :class:`CheckResult`
instead of raising, so the trusted autograder can score a learner's function that runs in a
sandbox (see :mod:`grader.autograde`) with exactly the same logic.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import math
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"

#: Seed of the public fixture cases (the hidden ones use a different, per-run seed).
PUBLIC_SEED = 0


# --------------------------------------------------------------------------------------
# Exercises and cases
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One input to an exercise: a name a learner understands plus the call's arguments."""

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    #: What a milestone's metric compares the outputs with (e.g. held-out labels); never
    #: passed to the learner's function.
    target: Any = None
    #: A "must raise" case: the contract refuses this input, and the function must raise
    #: this exception type (a built-in one, e.g. ``ValueError``) or a subclass of it; a
    #: returned value or another exception fails the case. The reference must raise it too.
    raises: type[BaseException] | None = None
    #: Why the input is refused, for the message (``"the kernel does not fit in the padded
    #: input"``); used with ``raises`` only.
    reason: str = ""


@dataclass(frozen=True)
class Exercise:
    """Everything the engine needs to check one exercise.

    Attributes:
        id: stable exercise id, e.g. ``"w01_softmax"``.
        function: name of the function the learner defines, e.g. ``"softmax"``.
        reference: ``"module:function"`` of the reference kernel, imported lazily so that
            public checks work where the reference kernels are not shipped.
        make_cases: ``rng -> list[Case]``: seeded random inputs plus edge cases.
        points: points of the exercise's test cell.
        rtol, atol: tolerances of :func:`numpy.allclose`-style comparison.
        hint: one or two sentences pointing at the usual mistake, shown on failure.
        timeout: seconds one call may take when autograded (sandboxed).
        framework: ``"numpy"``, or ``"torch"``: array arguments reach the learner's function
            as float64/int64 ``torch.Tensor``s and tensor outputs are converted back, so a
            PyTorch exercise is checked with the same cases and fixtures.
        see: where the idea is taught, e.g. ``"course/week06-regularization.ipynb §5"``:
            the second level of the hint, shown once the first level has not helped.
        outputs: names of the outputs by their meaning (``("dx", "dw", "db")``), used in
            messages instead of "output 1"; empty for a single output.
        hidden: ``"module:function"`` (in :mod:`answers.hidden`) of extra hidden cases,
            ``rng -> list[Case]``, aimed at the mistakes the public cases do not catch;
            drawn only when grading, never stored in a public fixture.
        score: ``"module:function"`` of a metric, for a *milestone* (graded on what the
            learner's model achieves, see :mod:`grader.milestone`): ``(case, outputs) ->
            (fraction, message)`` replaces the comparison with a reference, which is then
            empty (``reference=""``); no public fixture is stored.
        files: files the learner submits next to the notebook that the exercise needs
            (``("milestone_week07.npz",)``): checked by the grader before the call.
        in_place: arguments the contract updates in place (positional index or keyword
            name). Every *other* array argument must be left unchanged by the call (checked
            on every call, a changed argument fails the case); these are checked the other
            way round: their state after the call is compared with the reference's, as
            extra outputs named ``"<argument> (after the call)"``. No exercise of the
            course has one today (every update returns new arrays).
        uses: ids of other graded exercises whose functions this one calls (the RNN over a
            sequence calls the step). In the hidden grade each is answered by the course's
            implementation, outside the sandbox (:func:`grader.autograde.dependency_answers`),
            so a bug in the callee costs only the callee's points; the learner's own check
            names the callee to fix first. A milestone (``score``) declares its callees
            too, for that message only: it is graded on the learner's own pipeline (the
            model was trained with their functions), so its callees are not answered by the
            grader.
        strategy: ``"module:function"`` of a differential-search strategy
            (:mod:`grader.differential`): further inputs drawn within the contract when
            grading, compared with the reference, smallest failing input reported.
    """

    id: str
    function: str
    reference: str
    make_cases: Callable[[np.random.Generator], list[Case]]
    points: float
    hint: str
    rtol: float = 1e-7
    atol: float = 1e-9
    timeout: float = 10.0
    framework: str = "numpy"
    see: str = ""
    outputs: tuple[str, ...] = ()
    hidden: str = ""
    score: str = ""
    files: tuple[str, ...] = ()
    in_place: tuple[int | str, ...] = ()
    uses: tuple[str, ...] = ()
    strategy: str = ""

    def reference_function(self) -> Callable:
        return _import_attribute(self.reference)

    def cases(self, seed: int, hidden: bool = False) -> list[Case]:
        """The cases drawn from ``seed``; with ``hidden``, the hidden generator's cases too."""
        rng = np.random.default_rng(seed)
        cases = self.make_cases(rng)
        if hidden and self.hidden:
            cases = cases + list(_import_attribute(self.hidden)(rng))
        return cases


def _import_attribute(spec: str) -> Any:
    """``"package.module:name"`` → the object, imported lazily (answers may be absent)."""
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr)


class CallFailed(Exception):
    """A learner's call failed in a way already described for them (see :mod:`grader.sandbox`).

    ``raised``: when the learner's function raised, the qualified names of its exception's
    classes (``"builtins.ValueError"``, …, most derived first) as the sandboxed worker
    reported them: plain strings, read by :func:`raised_matches` for a "must raise" case;
    empty for a timeout or a dead worker.
    """

    def __init__(self, message: str = "", raised: Sequence[str] = ()):
        super().__init__(message)
        self.raised = tuple(raised)


def exception_names(error_type: type) -> tuple[str, ...]:
    """``("builtins.ValueError", "builtins.Exception", …)``: the qualified names of an
    exception type's classes, most derived first (what the worker reports)."""
    return tuple(f"{cls.__module__}.{cls.__qualname__}" for cls in error_type.__mro__)


def raised_matches(error: BaseException, expected: type[BaseException]) -> bool:
    """Whether ``error`` is an ``expected`` (or a subclass). A sandboxed call's error
    (:class:`CallFailed`) is judged on the class names the worker reported."""
    if isinstance(error, CallFailed):
        return exception_names(expected)[0] in error.raised
    return isinstance(error, expected)


def builtin_exception(name: str) -> type[BaseException]:
    """The built-in exception class named ``name`` (a fixture stores a name, never a pickle)."""
    import builtins

    value = getattr(builtins, name, None)
    if not (isinstance(value, type) and issubclass(value, Exception)):
        raise ValueError(f"{name!r} is not a built-in exception type")
    return value


_REGISTRY: dict[str, Exercise] = {}


def register(*exercises: Exercise) -> None:
    """Add exercises to the registry (called by the ``grader.checks.weekNN`` modules)."""
    for exercise in exercises:
        if exercise.id in _REGISTRY and _REGISTRY[exercise.id] != exercise:
            raise ValueError(f"exercise id {exercise.id!r} is registered twice")
        _REGISTRY[exercise.id] = exercise


def _load_all_checks() -> None:
    import grader.checks as checks_pkg

    for module in pkgutil.iter_modules(checks_pkg.__path__):
        importlib.import_module(f"grader.checks.{module.name}")


def all_exercises() -> dict[str, Exercise]:
    """Every registered exercise, keyed by id, in course order."""
    _load_all_checks()
    return dict(sorted(_REGISTRY.items()))


def get_exercise(exercise_id: str) -> Exercise:
    exercises = all_exercises()
    if exercise_id not in exercises:
        known = ", ".join(exercises)
        raise KeyError(f"unknown exercise id {exercise_id!r}; known ids: {known}")
    return exercises[exercise_id]


# --------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------
def rel_error(x: Any, y: Any) -> float:
    """Largest elementwise relative error ``|x - y| / max(1e-8, |x| + |y|)`` (CS231n style).

    For float64 kernels, ~1e-12 or less means identical maths; above ~1e-6 means a bug.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


def as_outputs(value: Any) -> tuple[np.ndarray, ...]:
    """Normalize a return value (array, scalar or tuple of them) to a tuple of arrays."""
    items = value if isinstance(value, tuple) else (value,)
    return tuple(np.asarray(item) for item in items)


def describe(array: np.ndarray) -> str:
    return f"shape {tuple(array.shape)}, dtype {array.dtype}"


def output_label(index: int, count: int, names: Sequence[str] = ()) -> str:
    """How a message names output ``index`` of ``count``: by meaning (``"dw: "``) when the
    exercise names its outputs, else by position; nothing for a single unnamed output."""
    if index < len(names) and names[index]:
        return f"{names[index]}: "
    return f"output {index}: " if count > 1 else ""


def compare(got: Any, expected: Sequence[np.ndarray], rtol: float, atol: float,
            names: Sequence[str] = ()) -> str | None:
    """Return ``None`` when ``got`` matches ``expected``, else what differs (no values).

    ``names`` are the outputs' names by meaning (:attr:`Exercise.outputs`), used instead of
    "output 1" in the message.
    """
    try:
        got_arrays = as_outputs(got)
    except Exception as error:  # e.g. a ragged list
        return f"the return value could not be turned into arrays ({error})"
    if len(got_arrays) != len(expected):
        named = f" ({', '.join(names)})" if len(names) == len(expected) and len(names) > 1 else ""
        return f"returned {len(got_arrays)} value(s), expected {len(expected)}{named}"
    for index, (mine, ref) in enumerate(zip(got_arrays, expected)):
        label = output_label(index, len(expected), names)
        if mine.dtype == object or not np.issubdtype(mine.dtype, np.number) and mine.dtype != bool:
            return f"{label}returned {describe(mine)}, expected a numeric array with {describe(ref)}"
        if mine.shape != ref.shape:
            return f"{label}returned {describe(mine)}, expected shape {tuple(ref.shape)}"
        if np.issubdtype(ref.dtype, np.integer) and not np.issubdtype(mine.dtype, np.integer):
            return f"{label}returned {describe(mine)}, expected integer values"
        mine_f = mine.astype(np.float64)
        ref_f = ref.astype(np.float64)
        bad_nan = ~np.isfinite(mine_f) & np.isfinite(ref_f)
        if bad_nan.any():
            count = int(bad_nan.sum())
            return (f"{label}{count} of {mine.size} entries are nan/inf where finite values "
                    f"were expected ({describe(mine)}) — a sign of overflow or 0/0")
        if not np.allclose(mine_f, ref_f, rtol=rtol, atol=atol, equal_nan=True):
            finite = np.isfinite(ref_f)
            abs_err = float(np.max(np.abs(mine_f - ref_f)[finite], initial=0.0))
            return (f"{label}values differ ({describe(mine)}): max abs error {abs_err:.3g}, "
                    f"max rel error {rel_error(mine_f[finite], ref_f[finite]):.3g} "
                    f"(tolerance rtol={rtol:g}, atol={atol:g})")
    return None


@dataclass
class CaseResult:
    name: str
    passed: bool
    message: str = ""
    credit: float | None = None  # partial credit of a scored (milestone) case, in [0, 1]


@dataclass
class CheckResult:
    """Outcome of one exercise's check: per-case results and the partial-credit fraction."""

    exercise_id: str
    cases: list[CaseResult]
    note: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.cases) and all(case.passed for case in self.cases)

    @property
    def fraction(self) -> float:
        """Share of cases passed (a milestone's cases: their credit): the partial credit."""
        if not self.cases:
            return 0.0
        return sum(case.passed if case.credit is None else case.credit
                   for case in self.cases) / len(self.cases)

    def report(self, hint: str = "", see: str = "") -> str:
        """A message for the learner: which cases failed and why, never the reference.

        ``hint`` (the first level: the concept the failing cases test) and ``see`` (the second
        level: where the idea is taught) are added when the check failed.
        """
        if self.note:  # nothing was compared: say why instead of counting cases
            return f"{self.exercise_id}: {self.note}"
        total = len(self.cases)
        passed = sum(case.passed for case in self.cases)
        lines = [f"{self.exercise_id}: {passed}/{total} cases passed"]
        lines += [f"  ✗ {case.name}: {case.message}" if not case.passed
                  else f"  ✓ {case.name}: {case.message}"
                  for case in self.cases if not case.passed or case.message]
        if not self.passed and hint:
            lines.append(f"  hint: {hint}")
        if not self.passed and see:
            lines.append(f"  see: {see}")
        return "\n".join(lines)


def _copy_args(case: Case) -> tuple[tuple, dict]:
    copy = lambda v: v.copy() if isinstance(v, np.ndarray) else v  # noqa: E731
    return tuple(copy(a) for a in case.args), {k: copy(v) for k, v in case.kwargs.items()}


def in_framework(function: Callable, framework: str) -> Callable:
    """Wrap ``function`` so it takes and returns NumPy arrays whatever its framework."""
    if framework == "numpy":
        return function
    if framework != "torch":
        raise ValueError(f"unknown framework {framework!r}")

    @functools.wraps(function)
    def call(*args, **kwargs):
        import torch

        to_torch = lambda v: torch.from_numpy(v) if isinstance(v, np.ndarray) else v  # noqa: E731
        out = function(*(to_torch(a) for a in args), **{k: to_torch(v) for k, v in kwargs.items()})
        to_numpy = lambda v: v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v  # noqa: E731
        return tuple(to_numpy(v) for v in out) if isinstance(out, tuple) else to_numpy(out)

    return call


def _call_name(exercise: Exercise, case: Case) -> str:
    shapes = ", ".join(describe(a) if isinstance(a, np.ndarray) else repr(a) for a in case.args)
    kwargs = "".join(f", {k}={v!r}" for k, v in case.kwargs.items())
    return f"{case.name} [{exercise.function}({shapes}{kwargs})]"


# --------------------------------------------------------------------------------------
# Arguments must be left unchanged (unless the contract says in place)
# --------------------------------------------------------------------------------------
def argument_names(function: Callable | None, count: int) -> list[str]:
    """The names of the first ``count`` positional parameters of ``function`` (its
    signature, through :func:`functools.wraps`), or ``[]`` when they cannot be read."""
    if function is None:
        return []
    try:
        params = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return []
    names = []
    for param in params:
        if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            break
        names.append(param.name)
    return names[:count] if len(names) >= count else []


def _argument_label(index: int | str, names: Sequence[str]) -> str:
    if isinstance(index, str):
        return f"`{index}`"
    return f"`{names[index]}`" if index < len(names) else f"{index + 1}"


def _in_place_key(exercise: Exercise, index: int | str) -> bool:
    return index in exercise.in_place


def describe_change(before: np.ndarray, after: Any) -> str | None:
    """How ``after`` differs from ``before`` (shape, dtype, first changed element, largest
    change), or ``None`` when it holds the same values (NaN equals NaN, -0.0 equals 0.0)."""
    if not isinstance(after, np.ndarray):
        return f"it is no longer an array ({type(after).__name__})"
    if after.shape != before.shape:
        return f"its shape changed from {tuple(before.shape)} to {tuple(after.shape)}"
    if after.dtype != before.dtype:
        return f"its dtype changed from {before.dtype} to {after.dtype}"
    if before.dtype.kind in "fc":
        same = (after == before) | (np.isnan(after) & np.isnan(before))
    else:
        same = after == before
    if same.all():
        return None
    changed = np.argwhere(~same)
    first = tuple(int(i) for i in changed[0])
    text = f"{len(changed)} of {before.size} elements changed, the first at index {first}"
    if before.dtype.kind in "biuf" and before.dtype.kind != "b":
        with np.errstate(all="ignore"):
            delta = np.abs(after.astype(np.float64) - before.astype(np.float64))[~same]
        finite = delta[np.isfinite(delta)]
        text += (f", largest change {float(finite.max()):.3g}" if finite.size
                 else ", to nan/inf")
    return text


def input_changes(exercise: Exercise, case: Case, after_args: Sequence[Any],
                  after_kwargs: dict, names: Sequence[str], case_count: int) -> str | None:
    """The message for arguments the call changed although its contract does not allow it
    (``None`` when every non-in-place array argument holds its values)."""
    problems = []
    items = [(i, before, after_args[i] if i < len(after_args) else None)
             for i, before in enumerate(case.args)]
    items += [(k, v, after_kwargs.get(k)) for k, v in case.kwargs.items()]
    for index, before, after in items:
        if not isinstance(before, np.ndarray) or _in_place_key(exercise, index):
            continue
        change = describe_change(before, after)
        if change:
            problems.append(f"its argument {_argument_label(index, names)} ({change})")
    if not problems:
        return None
    share = (f"this case is 1 of {case_count}: {exercise.points / case_count:.3g} of the "
             f"exercise's {exercise.points:g} points" if case_count else "")
    return (f"`{exercise.function}` changed {' and '.join(problems)}; work on a copy or build "
            f"a new array — a changed argument fails the case ({share})")


def _after_values(exercise: Exercise, after_args: Sequence[Any], after_kwargs: dict
                  ) -> tuple[np.ndarray, ...]:
    """The in-place arguments' states after a call, compared as extra outputs."""
    values = []
    for index in exercise.in_place:
        value = after_kwargs.get(index) if isinstance(index, str) else (
            after_args[index] if index < len(after_args) else None)
        values.append(np.asarray(value))
    return tuple(values)


def output_names(exercise: Exercise, names: Sequence[str] = ()) -> tuple[str, ...]:
    """Names of the compared outputs: the exercise's, then each in-place argument's."""
    if not exercise.in_place:
        return exercise.outputs
    return tuple(exercise.outputs) + tuple(
        f"argument {_argument_label(i, names).strip('`')} (after the call)"
        for i in exercise.in_place)


def _call_with_inputs(function: Callable, args: tuple, kwargs: dict
                      ) -> tuple[Any, tuple, dict]:
    """Call ``function``; return its value and its arguments as they are after the call.

    A sandboxed stand-in (:func:`grader.autograde.remote_function`) has ``call_with_inputs``:
    the worker sends back its copies of the arguments, compared here, outside the sandbox.
    """
    remote = getattr(function, "call_with_inputs", None)
    if remote is not None:
        value, after_args, after_kwargs = remote(*args, **kwargs)
        return value, tuple(after_args), dict(after_kwargs)
    value = function(*args, **kwargs)
    return value, args, kwargs


def describe_value(value: Any) -> str:
    """What a call returned, for a message: a scalar's value, else the arrays' shapes."""
    try:
        outputs = as_outputs(value)
    except Exception:  # noqa: BLE001 - e.g. a ragged list
        return f"a {type(value).__name__}"
    if len(outputs) > 1:
        return f"a tuple of {len(outputs)} values ({'; '.join(describe(o) for o in outputs)})"
    out = outputs[0]
    if out.ndim == 0 and out.dtype != object:
        return f"{out.item()!r} ({out.dtype})"
    return f"an array of {describe(out)}"


def refusal_result(exercise: Exercise, case: Case, name: str, got: Any = None,
                   error: BaseException | None = None) -> CaseResult:
    """The outcome of a "must raise" case (:attr:`Case.raises`): passed when ``error`` is
    the expected exception (or a subclass), else a message that says what the contract
    refuses, why, and what the call did instead."""
    if error is not None and raised_matches(error, case.raises):
        return CaseResult(name, True, "")
    because = f" because {case.reason}" if case.reason else ""
    wanted = f"`{exercise.function}` should refuse this input: raise {case.raises.__name__}" \
             f"{because}"
    if error is None:
        return CaseResult(name, False, f"{wanted}; it returned {describe_value(got)}")
    if isinstance(error, CallFailed) and not error.raised:  # timed out or died
        return CaseResult(name, False, f"{wanted}; instead: {error}")
    text = str(error) if isinstance(error, CallFailed) else \
        f"raised {type(error).__name__}: {error}"
    return CaseResult(name, False, f"{wanted}; it {text} — a caller that catches "
                                   f"{case.raises.__name__} would not catch that")


def run_cases(exercise: Exercise, function: Callable, cases: Iterable[Case],
              expected: Iterable[Sequence[np.ndarray]],
              arg_names: Sequence[str] | None = None) -> CheckResult:
    """Call ``function`` on each case and compare with the expected outputs.

    Exceptions raised by the learner's function fail that case (with the exception named),
    except in a "must raise" case (:attr:`Case.raises`), which passes only when the
    expected exception (or a subclass) is raised;
    a ``NotImplementedError`` stops early: the exercise has not been attempted. An array
    argument the call changed fails the case too (unless :attr:`Exercise.in_place` lists
    it); ``arg_names`` name the arguments in that message (default: ``function``'s own).
    """
    cases = list(cases)
    results: list[CaseResult] = []
    for case, want in zip(cases, expected):
        name = _call_name(exercise, case)
        names = list(arg_names) if arg_names is not None else \
            argument_names(function, len(case.args))
        args, kwargs = _copy_args(case)
        try:
            got, after_args, after_kwargs = _call_with_inputs(function, args, kwargs)
        except NotImplementedError:
            return CheckResult(exercise.id, [CaseResult(name, False, "not implemented yet")],
                               note=f"not attempted yet — replace the `raise NotImplementedError(...)` "
                                    f"line in `{exercise.function}` with your code")
        except CallFailed as error:  # raised, timed out or died inside the sandbox
            results.append(refusal_result(exercise, case, name, error=error)
                           if case.raises else CaseResult(name, False, str(error)))
            continue
        except Exception as error:  # the learner's bug, reported as that case's failure
            results.append(refusal_result(exercise, case, name, error=error) if case.raises
                           else CaseResult(name, False, f"raised {type(error).__name__}: {error}"))
            continue
        if case.raises:  # it should have refused the input
            results.append(refusal_result(exercise, case, name, got=got))
            continue
        if exercise.in_place:
            try:
                got = as_outputs(got) + _after_values(exercise, after_args, after_kwargs)
            except Exception as error:  # e.g. a ragged list
                got = error
        problems = [compare(got, want, exercise.rtol, exercise.atol,
                            output_names(exercise, names))
                    if not isinstance(got, Exception) else
                    f"the return value could not be turned into arrays ({got})",
                    input_changes(exercise, case, after_args, after_kwargs, names, len(cases))]
        problems = [p for p in problems if p]
        results.append(CaseResult(name, not problems, "; ".join(problems)))
    return CheckResult(exercise.id, results)


def score_cases(exercise: Exercise, function: Callable, cases: Iterable[Case]) -> CheckResult:
    """Call ``function`` on each case and score its outputs with the exercise's metric.

    For milestones (``exercise.score``): no reference output, the metric maps the outputs
    to a fraction of the points and a message. Failures are reported as in
    :func:`run_cases`; a case passes only at full credit.
    """
    metric = _import_attribute(exercise.score)
    results: list[CaseResult] = []
    for case in cases:
        args, kwargs = _copy_args(case)
        try:
            got = function(*args, **kwargs)
        except NotImplementedError:
            return CheckResult(exercise.id, [CaseResult(case.name, False, "not implemented yet")],
                               note="not attempted yet — replace the `raise NotImplementedError"
                                    "(...)` lines of this part's solution cells with your code")
        except Exception as error:  # raised, timed out or died (in the sandbox: CallFailed)
            message = str(error) if isinstance(error, CallFailed) \
                else f"raised {type(error).__name__}: {error}"
            results.append(CaseResult(case.name, False, message, credit=0.0))
            continue
        try:
            credit, message = metric(case, as_outputs(got))
        except Exception as error:  # outputs the metric cannot read (ragged, wrong kind)
            results.append(CaseResult(case.name, False, f"the return value could not be "
                                      f"scored ({type(error).__name__}: {error})", 0.0))
            continue
        credit = float(min(max(credit, 0.0), 1.0))
        results.append(CaseResult(case.name, credit == 1.0, message, credit))
    return CheckResult(exercise.id, results)


def reference_outputs(exercise: Exercise, cases: Iterable[Case]) -> list[tuple[np.ndarray, ...]]:
    """The reference's outputs on each case (then, for :attr:`Exercise.in_place`
    arguments, their states after the call)."""
    reference = in_framework(exercise.reference_function(), exercise.framework)
    outputs = []
    for case in cases:
        args, kwargs = _copy_args(case)
        if case.raises:  # a "must raise" case: no output; the reference must refuse it too
            try:
                reference(*args, **kwargs)
            except case.raises:
                outputs.append(())
                continue
            raise AssertionError(f"{exercise.id}: case {case.name!r} expects "
                                 f"{case.raises.__name__}, but the reference returned")
        value = as_outputs(reference(*args, **kwargs))
        if exercise.in_place:
            value = value + tuple(np.array(v) for v in _after_values(exercise, args, kwargs))
        outputs.append(value)
    return outputs


# --------------------------------------------------------------------------------------
# Public fixtures: stored inputs and expected outputs, so public checks need no reference
# --------------------------------------------------------------------------------------
def fixture_path(exercise_id: str) -> Path:
    return FIXTURE_DIR / f"{exercise_id}.npz"


def save_fixture(exercise: Exercise, path: Path | None = None) -> Path:
    """Store the public cases of ``exercise`` and the reference outputs (``.npz``, no pickle)."""
    cases = exercise.cases(PUBLIC_SEED)
    outputs = reference_outputs(exercise, cases)
    arrays: dict[str, np.ndarray] = {}
    meta = []
    for i, (case, outs) in enumerate(zip(cases, outputs)):
        meta.append({"name": case.name, "nargs": len(case.args), "nout": len(outs),
                     "kwargs": case.kwargs, "scalar_args": [not isinstance(a, np.ndarray)
                                                             for a in case.args]})
        if case.raises:  # stored by name: a built-in exception, never a pickle
            builtin_exception(case.raises.__name__)
            meta[-1] |= {"raises": case.raises.__name__, "reason": case.reason}
        for j, arg in enumerate(case.args):
            arrays[f"case{i}_arg{j}"] = np.asarray(arg)
        for j, out in enumerate(outs):
            arrays[f"case{i}_out{j}"] = out
    arrays["meta"] = np.array(json.dumps(meta))
    path = path or fixture_path(exercise.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


def load_fixture(exercise_id: str, path: Path | None = None
                 ) -> tuple[list[Case], list[tuple[np.ndarray, ...]]]:
    path = path or fixture_path(exercise_id)
    if not path.exists():
        raise FileNotFoundError(
            f"{exercise_id}: public fixture {path} is missing; regenerate it with "
            "`python -m grader fixtures`")
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        cases, outputs = [], []
        for i, info in enumerate(meta):
            args = []
            for j in range(info["nargs"]):
                value = data[f"case{i}_arg{j}"]
                args.append(value.item() if info["scalar_args"][j] else value)
            raises = builtin_exception(info["raises"]) if info.get("raises") else None
            cases.append(Case(info["name"], tuple(args), info["kwargs"], raises=raises,
                              reason=info.get("reason", "")))
            outputs.append(tuple(data[f"case{i}_out{j}"] for j in range(info["nout"])))
    return cases, outputs


# --------------------------------------------------------------------------------------
# The function test cells call
# --------------------------------------------------------------------------------------
class CheckFailed(AssertionError):
    """Raised by :func:`check` when a case fails; its message is the teaching report."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of the traceback: the frames would all be inside
        # the grader, and the report already names the case, the shapes and the error.
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {line}" if i == 0 else line
                for i, line in enumerate(str(self).splitlines() or [""])]


def evaluate(exercise_id: str, function: Callable, hidden: bool = False,
             seed: int | None = None) -> CheckResult:
    """Run the public (fixture) or hidden (reference, seeded) cases; return the result."""
    exercise = get_exercise(exercise_id)
    if exercise.score:  # a milestone: no fixture, no reference; the cases read local data
        cases = exercise.cases(PUBLIC_SEED if not hidden else
                               PUBLIC_SEED + 1 if seed is None else seed, hidden=hidden)
        return score_cases(exercise, in_framework(function, exercise.framework), cases)
    if hidden:
        cases = exercise.cases(PUBLIC_SEED + 1 if seed is None else seed, hidden=True)
        expected = reference_outputs(exercise, cases)
    else:
        cases, expected = load_fixture(exercise_id)
    return run_cases(exercise, in_framework(function, exercise.framework), cases, expected)


#: Width of a check's message in a notebook: nbgrader's Validate dialog shows it in a <pre>
#: the course cannot style, so long lines are wrapped here (feedback pages wrap with CSS).
MESSAGE_WIDTH = 88


def wrap_lines(text: str, width: int = MESSAGE_WIDTH) -> str:
    """Wrap each long line of ``text`` at spaces, continuing under its own indentation."""
    import textwrap

    out = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out += textwrap.wrap(line, width=width, subsequent_indent=indent + "    ",
                             break_long_words=False, break_on_hyphens=False) or [line]
    return "\n".join(out)


#: Failed checks per exercise in this process (a notebook kernel): the hint's tier.
_FAILURES: dict[str, int] = {}


def hint_tiers(exercise: Exercise, failures: int) -> tuple[str, str]:
    """``(hint, see)`` to show after the ``failures``-th failed check of ``exercise``.

    The first failure gets the first level only (which concept the failing case tests);
    from the second failure on, the lecture section where the idea is taught is added.
    """
    return exercise.hint, (exercise.see if failures >= 2 else "")


def callees_to_fix_first(exercise: Exercise, function: Callable) -> str:
    """Lines naming the graded functions ``function`` calls (:attr:`Exercise.uses`) whose
    own public check fails in the learner's namespace: fix those first.

    In the grade, the course answers those calls (a callee's bug costs only the callee's
    points); in the notebook, the learner's own callee runs, so its bug shows here too.
    """
    namespace = getattr(function, "__globals__", None) or {}
    lines = []
    for callee_id in exercise.uses:
        try:
            callee = get_exercise(callee_id)
            mine = namespace.get(callee.function)
            if not callable(mine):
                continue
            with np.errstate(all="ignore"):
                failed = not evaluate(callee_id, mine).passed
        except Exception:  # a broken callee or a missing fixture: say nothing
            continue
        if failed and exercise.score:  # a milestone: graded on the learner's own pipeline
            lines.append(f"  fix first: `{exercise.function}` calls your `{callee.function}`, "
                         f"whose own check ({callee_id}) fails — fix it, then run this again "
                         f"(a milestone is graded on your own pipeline: your "
                         f"`{callee.function}` runs when grading too)")
        elif failed:
            lines.append(f"  fix first: `{exercise.function}` calls your `{callee.function}`, "
                         f"whose own check ({callee_id}) fails — fix it, then check this "
                         f"again (when grading, `{exercise.function}` is scored with the "
                         f"course's `{callee.function}`, so its bug costs only {callee_id}'s "
                         "points)")
    return "\n".join(lines)


def check(exercise_id: str, function: Callable, hidden: bool = False,
          seed: int | None = None) -> None:
    """Check a learner's function; print a short success line or raise :class:`CheckFailed`.

    Hints come in tiers: the first failed check of an exercise names the failing cases and
    the concept they test (``Exercise.hint``); a later failure of the same exercise in the
    same kernel adds where the idea is taught (``Exercise.see``).

    Returns nothing, so that a check cell shows the success line alone (no ``Out[n]`` repr,
    which nbgrader would also try to read as a partial-credit score); :func:`evaluate`
    returns the :class:`CheckResult`.

    Args:
        exercise_id: e.g. ``"w01_softmax"``.
        function: the learner's implementation.
        hidden: ``False`` (public): the stored fixture cases, which need no reference code.
            ``True``: fresh cases from ``seed`` compared with the reference kernel.
        seed: seed of the hidden cases.
    """
    if not callable(function):
        raise CheckFailed(f"{exercise_id}: expected a function, got {type(function).__name__}")
    result = evaluate(exercise_id, function, hidden=hidden, seed=seed)
    kind = "hidden" if hidden else "public"
    if not result.passed:
        if result.note:  # not attempted: no hint, and no tier used up
            raise CheckFailed(wrap_lines(result.report()))
        _FAILURES[exercise_id] = _FAILURES.get(exercise_id, 0) + 1
        hint, see = hint_tiers(get_exercise(exercise_id), _FAILURES[exercise_id])
        report = result.report(hint, see)
        first = callees_to_fix_first(get_exercise(exercise_id), function)
        raise CheckFailed(wrap_lines(report + ("\n" + first if first else "")))
    print(f"✓ {exercise_id}: all {len(result.cases)} {kind} cases passed")
    for case in result.cases:  # a milestone's figures (accuracy, loss): worth seeing
        if case.message:
            print(f"  {case.name}: {case.message}")


# --------------------------------------------------------------------------------------
# "Not attempted yet" instead of a bare NameError in a notebook
# --------------------------------------------------------------------------------------
def not_attempted_message(name: str) -> str | None:
    """The message for a ``NameError`` on ``name`` when it is an exercise's function."""
    functions = {exercise.function: exercise.id for exercise in all_exercises().values()}
    if name not in functions:
        return None
    return (f"{functions[name]}: not attempted yet: run the cell that defines `{name}` first "
            f"(its check can only run once `{name}` exists in this kernel; Run → Run All "
            "Cells runs the notebook from the top)")


def _name_error_handler(shell, etype, value, tb, tb_offset=None) -> None:
    """IPython custom exception handler: explain a missing exercise function, else show the
    usual traceback. Either way the cell ends in an error (nbgrader's Validate counts it)."""
    name = getattr(value, "name", None)
    message = not_attempted_message(name) if name else None
    if message is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
        return None
    readable = NameError(message)
    shell._showtraceback(etype, readable, [f"\x1b[0;31m{etype.__name__}\x1b[0m: {message}"])
    return None


def install_notebook_handlers() -> bool:
    """In a Jupyter kernel, show "not attempted yet" for a check run before its function
    cell. Called when this module is imported; returns whether a handler was installed.

    Only in a Jupyter (ZMQ) kernel: the grading sandbox runs a plain IPython shell and keeps
    its own error handling.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return False
    shell.set_custom_exc((NameError,), _name_error_handler)
    return True


install_notebook_handlers()


# --------------------------------------------------------------------------------------
# Gradient checking
# --------------------------------------------------------------------------------------
def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                       h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of a scalar function ``f`` at ``x`` (any shape).

    Error is O(h²): with float64 and h=1e-5, expect a relative error near 1e-8 to 1e-10
    against a correct analytic gradient; above 1e-5 usually means a bug.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        plus = f(x)
        x[idx] = old - h
        minus = f(x)
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                             dout: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` w.r.t. ``x``: checks a layer's backward pass."""
    return numerical_gradient(lambda z: float(np.sum(f(z) * dout)), x, h)


def gradient_check(f: Callable[[np.ndarray], float], x: np.ndarray, analytic: np.ndarray,
                   h: float = 1e-5, tolerance: float = 1e-7) -> float:
    """Compare an analytic gradient with central differences; return the relative error.

    Raises :class:`CheckFailed` naming the shape, the error and the worst index when the
    relative error exceeds ``tolerance``.
    """
    numeric = numerical_gradient(f, x, h)
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise CheckFailed(f"gradient has {describe(analytic)}, expected shape {numeric.shape}")
    error = rel_error(analytic, numeric)
    if not math.isfinite(error) or error > tolerance:
        worst = np.unravel_index(np.argmax(np.abs(analytic - numeric)), numeric.shape)
        raise CheckFailed(f"gradient check failed: relative error {error:.3g} > {tolerance:g} "
                          f"(worst entry at index {tuple(int(i) for i in worst)}, shape "
                          f"{numeric.shape}); expected ~1e-8 or less for float64")
    return error
