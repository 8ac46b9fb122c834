"""No answer in the learner's hands: lectures, releases and hints of week N never import,
print or write out the solution of an exercise of week N or later.

What counts as a leak in a document of week N (see ``tests/leakscan.py``):

* an import of, or a pointer to, ``answers.kernels.weekMM`` with MM ≥ N, any use of
  ``answers.hidden`` / ``answers.variants``, a pointer into ``solutions/``;
* ``inspect.getsource`` (printing source code);
* most (≥ 50 %) of the significant lines of a solution of week ≥ N, verbatim up to
  whitespace and comments (solutions: the bodies between BEGIN/END SOLUTION in
  ``solutions/`` and the reference kernels' function bodies).

And no hint (``hint`` + ``see``) holds a line of a solution or reference kernel.

**Known leaks.** Lectures written before the answers moved still leak. The weeks listed
below are expected to leak *today*; the test fails when a listed week no longer does, so a
week leaves the list the moment its content is fixed (the lead empties the lists).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.check import all_exercises
from grader.config import REPO_ROOT
from tests import leakscan

#: Weeks whose lecture still leaks (imports same-week answers, getsource, inline solutions).
KNOWN_LEAKS: set[int] = set()
#: Weeks whose released notebooks still hold most of a reference kernel's lines.
KNOWN_RELEASE_LEAKS: set[int] = set()
#: Weeks where a hint still holds a line of solution code.
KNOWN_HINT_LEAKS: set[int] = set()

LECTURES = sorted((REPO_ROOT / "course").glob("week*.ipynb"))
WEEKS = sorted({leakscan.week_of(p.name) for p in LECTURES})


@pytest.fixture(scope="module")
def solutions() -> list[leakscan.Solution]:
    return leakscan.all_solutions()


def _judge(week: int, known: set[int], problems: list[str], what: str) -> None:
    if week in known:
        assert problems, (f"week {week}: the {what} no longer leaks — remove {week} from "
                          f"the known-leak list in tests/test_leaks.py")
        pytest.xfail(f"week {week} {what}: known leak ({problems[0]}; …)")
    assert not problems, f"week {week} {what} leaks answers:\n  " + "\n  ".join(problems)


def _text(paths: list[Path]) -> str:
    return "\n".join(leakscan.notebook_text(p) for p in paths)


@pytest.mark.parametrize("week", WEEKS)
def test_lecture_uses_no_answer_of_its_week_or_later(week, solutions):
    lectures = [p for p in LECTURES if leakscan.week_of(p.name) == week]
    text = _text(lectures)
    problems = (leakscan.reference_problems(text, week)
                + leakscan.verbatim_problems(text, solutions, week))
    _judge(week, KNOWN_LEAKS, problems, "lecture")


@pytest.mark.parametrize("week", WEEKS)
def test_release_holds_no_answer(week, solutions):
    releases = sorted((REPO_ROOT / "assignments").glob(f"week{week:02d}-*/*.ipynb"))
    text = _text(releases)
    problems = (leakscan.reference_problems(text, week)
                + leakscan.verbatim_problems(text, solutions, week))
    assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text
    _judge(week, KNOWN_RELEASE_LEAKS, problems, "release")


@pytest.mark.parametrize("week", WEEKS)
def test_hints_hold_no_solution_code(week, solutions):
    same_week = [s for s in solutions if s.week == week]
    problems = []
    for exercise in all_exercises().values():
        if int(exercise.id[1:3]) != week:
            continue
        text = f"{exercise.hint}\n{exercise.see}"
        problems += [f"{exercise.id}: {p}" for p in leakscan.code_in_hint(text, same_week)]
        problems += [f"{exercise.id}: {p}" for p in leakscan.reference_problems(text, week)]
    _judge(week, KNOWN_HINT_LEAKS, problems, "hints")


# The scanner itself: each rule catches what it is meant to, and only that ------------------
def test_scanner_finds_imports_getsource_and_pointers():
    found = leakscan.reference_problems(
        "from answers.kernels import week03, week05 as k\nimport answers.kernels.week04\n"
        "print(inspect.getsource(f))\nsee solutions/week04-backprop/\n"
        "from answers.hidden.week02 import cases", week=4)
    assert any("week05" in p for p in found) and any("week04" in p for p in found)
    assert not any("week03" in p for p in found)  # an earlier week's answers are released
    assert any("getsource" in p for p in found) and any("solutions/" in p for p in found)
    assert any("answers.hidden" in p for p in found)
    assert leakscan.reference_problems("from answers.kernels.week01 import softmax", 2) == []


def test_scanner_finds_a_pasted_solution_but_not_a_paraphrase():
    solution = leakscan.Solution(1, "demo", tuple(leakscan.significant_lines([
        "shifted = x - np.max(x, axis=-1, keepdims=True)", "e = np.exp(shifted)  # safe",
        "return e / np.sum(e, axis=-1, keepdims=True)"])), "")
    pasted = "def f(x):\n    shifted  =  x - np.max(x, axis=-1, keepdims=True)\n" \
             "    return e / np.sum(e, axis=-1, keepdims=True)   # normalise\n"
    assert leakscan.verbatim_problems(pasted, [solution], 1)  # 2 of 3 lines
    paraphrase = "z = x - x.max(-1, keepdims=True)\nreturn np.exp(z) / np.exp(z).sum(-1, keepdims=True)"
    assert not leakscan.verbatim_problems(paraphrase, [solution], 1)
    assert not leakscan.verbatim_problems(pasted, [solution], 2)  # a past week's answer
    assert leakscan.code_in_hint("subtract the maximum of each row first", [solution]) == []
    assert leakscan.code_in_hint("write shifted = x - np.max(x, axis=-1, keepdims=True)",
                                 [solution])


def test_every_solution_and_kernel_is_scanned(solutions):
    """The scanner sees every exercise's solution cell and every kernel module."""
    names = {s.name.split(":")[-1] for s in solutions}
    missing = [e for e in all_exercises() if f"{e}_code" not in names]
    assert not missing, f"solution cells the leak scan does not see: {missing}"
    kernel_weeks = {s.week for s in solutions if s.name.startswith("answers/")}
    modules = {leakscan.week_of(p.name)
               for p in (leakscan.REPO_ROOT / "answers" / "kernels").glob("week*.py")}
    assert kernel_weeks == modules and modules, "kernel modules the leak scan does not see"
