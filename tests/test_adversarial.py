"""Autograding that cannot be fooled: one grading run, many attacks, an honest student.

Every attack is built into an otherwise correct solution, graded in the same parallel run
as the untouched reference. Each must (1) score zero for what it attacked, (2) be flagged
in the result (gradebook flag + feedback), and (3) leave the rest of the run untouched:
the reference in the same run still gets full marks.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.autograde import autograde
from grader.config import REPO_ROOT
from grader.demo import fill, solution_sources
from grader.isolation import isolation_level
from grader.release import ASSIGNMENTS, db_url
from grader.sandbox import Limits

pytestmark = pytest.mark.slow
ASSIGNMENT, NOTEBOOK = "week01-numpy", "numerics.ipynb"
SOLUTION = REPO_ROOT / "solutions" / ASSIGNMENT / NOTEBOOK
ALL = ["w01_softmax", "w01_logsumexp", "w01_log_softmax", "w01_cross_entropy", "w01_standardize"]

CORRECT_SOFTMAX = '''
def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)
'''


def with_softmax_prefix(body: str) -> str:
    """A softmax that first runs ``body`` (the attack), then computes the right answer."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return ("import numpy as np\n\ndef softmax(x):\n" + indented +
            "\n    e = np.exp(x - x.max(-1, keepdims=True))\n    return e / e.sum(-1, keepdims=True)\n")


# name -> (cell to add after the setup cell, or None; softmax source override, or None;
#          exercises that must score 0; text expected in a flag)
ATTACKS: dict[str, tuple[str | None, str | None, list[str], str]] = {
    "monkeypatch-numpy": ("np.allclose = lambda *a, **k: True", None, ALL, "numpy.allclose"),
    "monkeypatch-testing": ("np.testing.assert_allclose = lambda *a, **k: None", None, ALL,
                            "assert_allclose"),
    # Replacing isinstance breaks the worker itself: caught as tampering all the same.
    "monkeypatch-builtins": ("import builtins\nbuiltins.isinstance = lambda *a: True", None,
                             ALL, "tampering detected"),
    "monkeypatch-grader": ("import grader.check\ngrader.check.compare = lambda *a, **k: None",
                           None, ALL, "grader.check.compare"),
    "redefine-check": ("def check(*args, **kwargs):\n    print('✓ passed')", None, ALL,
                       "check (redefined"),
    "sys-modules-injection": ("import sys, types\nsys.modules['grader.check'] = "
                              "types.ModuleType('grader.check')", None, ALL, "sys.modules"),
    "read-hidden-tests": (None, with_softmax_prefix(
        f"open({str(SOLUTION)!r}).read()"), ALL, "opened a protected path"),
    "import-reference": (None, with_softmax_prefix(
        "from answers.kernels.week01 import softmax as ref\nreturn ref(x)"), ALL,
        "tried to import answers.kernels"),
    "write-gradebook": ("import os\nfor name in ('gradebook.db', 'grades.csv'):\n"
                        "    try:\n        open(os.path.join(os.environ.get('COURSE_WORK_DIR', "
                        f"{str(REPO_ROOT / 'work')!r}), name), 'w').write('pwned')\n"
                        "    except OSError:\n        pass", None, ALL, "opened a protected path"),
    "write-other-submission": (
        "import glob\nfor path in glob.glob('/**/submitted/*/week01-numpy/*.ipynb', recursive=True):\n"
        "    open(path, 'w').write('{}')", None, [], ""),
    "sys-exit": (None, with_softmax_prefix("import sys\nsys.exit(0)"), ["w01_softmax"],
                 "sys.exit"),
    "os-exit": (None, with_softmax_prefix("import os\nos._exit(0)"), ["w01_softmax"],
                "ended its kernel"),
    "kill-own-kernel": (None, with_softmax_prefix(
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"), ["w01_softmax"], "killed"),
    "kill-grader": (None, with_softmax_prefix(
        "import os, signal\nos.kill(os.getppid(), signal.SIGTERM)"), ["w01_softmax"],
        "sent signal"),
    "fork-bomb": ("import os\nwhile True:\n    os.fork()", None, [], "started a process"),
    "memory-bomb": (None, with_softmax_prefix("block = bytearray(64 * 2**30)"), ["w01_softmax"],
                    "ran out of memory"),
    "infinite-loop": (None, with_softmax_prefix("while True:\n    pass"), ["w01_softmax"],
                      "no answer within"),
    "stdout-flood": ("import sys\nfor _ in range(3000):\n    sys.stdout.write('x' * 1000)\n"
                     "    sys.stdout.write('x' * 1000)", None, [], "MB of output"),
    "network": (None, with_softmax_prefix(
        "import socket\nsocket.create_connection(('93.184.216.34', 80), timeout=2)"),
        ["w01_softmax"], "network connection attempted"),
}


def solved() -> nbformat.NotebookNode:
    return fill(nbformat.read(ASSIGNMENTS / ASSIGNMENT / NOTEBOOK, as_version=4),
                solution_sources(ASSIGNMENT, NOTEBOOK))


def build(attack: str) -> nbformat.NotebookNode:
    cell, softmax_source, _, _ = ATTACKS[attack]
    code = solution_sources(ASSIGNMENT, NOTEBOOK)
    if softmax_source:
        code["w01_softmax"] = softmax_source
    nb = fill(nbformat.read(ASSIGNMENTS / ASSIGNMENT / NOTEBOOK, as_version=4), code)
    if cell:
        setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(cell))
    return nb


@pytest.fixture(scope="module")
def graded(released_work, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attacks")
    submitted = tmp / "submitted"
    for attack in ATTACKS:
        folder = submitted / attack / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(build(attack), folder / NOTEBOOK)
    honest = submitted / "honest" / ASSIGNMENT
    honest.mkdir(parents=True)
    nbformat.write(solved(), honest / NOTEBOOK)
    # Structural attacks on the notebook file itself.
    (submitted / "invalid-json" / ASSIGNMENT).mkdir(parents=True)
    (submitted / "invalid-json" / ASSIGNMENT / NOTEBOOK).write_text('{"cells": [')
    (submitted / "renamed" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(build("os-exit"), submitted / "renamed" / ASSIGNMENT / "my-work.ipynb")
    edited = solved()
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "w01_logsumexp":
            cell.source = "pass"
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "w01_standardize":
            cell.metadata["nbgrader"]["points"] = 200
    (submitted / "edited-grade-cells" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(edited, submitted / "edited-grade-cells" / ASSIGNMENT / NOTEBOOK)

    results = autograde(ASSIGNMENT, submitted, tmp / "autograded", ASSIGNMENTS,
                        db_url=db_url(released_work), jobs=2, seed=3, progress=False,
                        limits=Limits(cell_timeout=10, call_timeout=4, memory_mb=2048))
    return {r.student: r for r in results}, tmp


def scores(result) -> dict[str, float]:
    return {e.exercise_id: e.score for e in result.exercises}


def test_at_least_fifteen_distinct_attacks():
    assert len(ATTACKS) + 3 >= 15


def test_honest_student_in_the_same_run_gets_full_marks(graded):
    results, _ = graded
    assert results["honest"].score == results["honest"].max_score == 15
    assert results["honest"].flags == []


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack_scores_zero_where_it_attacked_and_is_flagged(graded, attack):
    if attack == "fork-bomb" and isolation_level() != "full":
        pytest.skip("process limits per sandbox need full isolation (run as root)")
    results, _ = graded
    result = results[attack]
    _, _, attacked, flag_text = ATTACKS[attack]
    got = scores(result)
    for exercise_id in attacked:
        assert got[exercise_id] == 0, f"{attack} kept points for {exercise_id}: {got}"
    for exercise_id in set(ALL) - set(attacked):
        assert got[exercise_id] == 2, f"{attack} lost points it did not attack: {got}"
    if flag_text:
        assert any(flag_text in flag for flag in result.flags), result.flags


def test_other_submissions_and_gradebook_untouched(graded):
    results, tmp = graded
    honest = tmp / "submitted" / "honest" / ASSIGNMENT / NOTEBOOK
    assert json.loads(honest.read_text())["cells"], "a sandbox overwrote another submission"
    assert not list(Path("/").glob("pwned"))


def test_invalid_renamed_and_edited_notebooks(graded):
    results, _ = graded
    assert results["invalid-json"].score == 0
    assert "not a valid notebook" in results["invalid-json"].flags[0]
    assert results["renamed"].score == 0 and "my-work.ipynb" in results["renamed"].flags[0]
    edited = results["edited-grade-cells"]
    assert scores(edited)["w01_logsumexp"] == 0 and scores(edited)["w01_standardize"] == 0
    assert any("w01_standardize was edited" in f for f in edited.flags)
