"""Trusted autograding, including nbgrader's known failure modes (issue numbers inline)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.autograde import autograde, write_feedback
from grader.cli import export_rows
from grader.demo import fill, solution_sources
from grader.isolation import isolation_level
from grader.release import ASSIGNMENTS, db_url
from grader.sandbox import Limits

pytestmark = pytest.mark.skipif(
    isolation_level() != "full", reason="autograde grades others only with full isolation "
    "(bubblewrap; .ci/run installs it)")
ASSIGNMENT = "week01-numpy"
NOTEBOOK = "numerics.ipynb"
FAST = Limits(cell_timeout=3, call_timeout=3, memory_mb=2048)


def release_nb() -> nbformat.NotebookNode:
    return nbformat.read(ASSIGNMENTS / ASSIGNMENT / NOTEBOOK, as_version=4)


def solved(**overrides: str) -> nbformat.NotebookNode:
    code = solution_sources(ASSIGNMENT, NOTEBOOK)
    code.update(overrides)
    return fill(release_nb(), code)


def grade(work: Path, tmp_path: Path, notebooks: dict[str, object], seed: int = 7,
          limits: Limits = FAST):
    """Write each student's notebook (NotebookNode, or raw text) and autograde them."""
    submitted = tmp_path / "submitted"
    for student, nb in notebooks.items():
        folder = submitted / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(nb, str):
            (folder / NOTEBOOK).write_text(nb)
        elif nb is not None:
            nbformat.write(nb, folder / NOTEBOOK)
    results = autograde(ASSIGNMENT, submitted, tmp_path / "autograded", ASSIGNMENTS,
                        db_url=db_url(work), jobs=2, limits=limits, seed=seed, progress=False)
    return {r.student: r for r in results}


def scores(result) -> dict[str, float]:
    return {e.exercise_id: e.score for e in result.exercises}


def test_reference_full_marks_release_zero(released_work, tmp_path):
    results = grade(released_work, tmp_path, {"ref": solved(), "blank": release_nb()})
    assert results["ref"].score == results["ref"].max_score == 15
    assert results["blank"].score == 0 and results["blank"].cell_errors == []
    assert all("not attempted" in e.report for e in results["blank"].exercises)


def test_dead_kernel_is_not_counted_as_passed(released_work, tmp_path):
    """nbgrader #427: a kernel that dies must not leave its checks counted as passed."""
    dying = solved(w01_softmax="import os\ndef softmax(x):\n    os._exit(1)")
    result = grade(released_work, tmp_path, {"dies": dying})["dies"]
    assert scores(result)["w01_softmax"] == 0
    assert "killed its kernel" in result.exercises[0].report or "ended" in result.exercises[0].report
    assert result.score == 13  # the other exercises are unaffected


def test_suppressed_errors_do_not_pass(released_work, tmp_path):
    """A test cell with no error output is not enough (nbgrader PR #1324's trick)."""
    hider = release_nb()
    hider.cells.insert(2, nbformat.v4.new_code_cell(
        "import sys\nget_ipython().showtraceback = lambda *a, **k: None\n"
        "sys.excepthook = lambda *a: None\n"
        "softmax = logsumexp = log_softmax = cross_entropy = standardize = lambda *a: 0.0"))
    result = grade(released_work, tmp_path, {"hider": hider})["hider"]
    assert result.score == 0


def tampered() -> nbformat.NotebookNode:
    """The release with a cell that makes every check cell print "passed" when run as is."""
    tamper = release_nb()
    tamper.cells.insert(2, nbformat.v4.new_code_cell(
        "import numpy as np, builtins\nnp.allclose = lambda *a, **k: True\n"
        "def check(*a, **k):\n    print('✓ passed')\n"
        "softmax = logsumexp = log_softmax = cross_entropy = standardize = "
        "lambda *a, **k: np.zeros(3)"))
    return tamper


def test_tampering_gains_nothing_and_is_flagged(released_work, tmp_path):
    result = grade(released_work, tmp_path, {"tamper": tampered()})["tamper"]
    assert result.score == 0
    assert any("numpy.allclose" in flag and "check" in flag for flag in result.flags)


def test_per_cell_timeout_applies(released_work, tmp_path):
    """nbgrader #1004: the configured timeout must really apply."""
    looping = solved()
    looping.cells.insert(3, nbformat.v4.new_code_cell("while True:\n    pass"))
    result = grade(released_work, tmp_path, {"loop": looping})["loop"]
    assert any("timed out after 3 s" in e for e in result.cell_errors)
    assert result.score == 15  # the looping cell defined nothing that was graded


def test_infinite_loop_inside_a_function_costs_that_exercise(released_work, tmp_path):
    spin = solved(w01_logsumexp="def logsumexp(x, axis=-1):\n    while True:\n        pass")
    result = grade(released_work, tmp_path, {"spin": spin})["spin"]
    assert scores(result)["w01_logsumexp"] == 0
    assert "no answer within 3 s" in result.exercises[1].report
    # log_softmax calls logsumexp in the reference solution: its cases time out too.
    assert scores(result)["w01_softmax"] == 2 and scores(result)["w01_standardize"] == 2


def test_edited_duplicated_and_deleted_test_cells_are_reported(released_work, tmp_path):
    """nbgrader #1083: a copied cell duplicates its grade_id; say so per submission."""
    edited, duplicated, deleted = solved(), solved(), solved()
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "w01_softmax":
            cell.source = "pass  # nothing to check here"
    index = next(i for i, c in enumerate(duplicated.cells)
                 if c.metadata.get("nbgrader", {}).get("grade_id") == "w01_logsumexp")
    duplicated.cells.insert(index, nbformat.from_dict(json.loads(json.dumps(duplicated.cells[index]))))
    deleted.cells = [c for c in deleted.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id") != "w01_standardize"]
    results = grade(released_work, tmp_path,
                    {"edited": edited, "duplicated": duplicated, "deleted": deleted})
    assert any("w01_softmax was edited" in f for f in results["edited"].flags)
    assert any("w01_logsumexp appears in 2 cells" in f for f in results["duplicated"].flags)
    assert any("w01_standardize is missing" in f for f in results["deleted"].flags)
    # An edited or deleted test cell voids that exercise only; a copy is graded once.
    assert scores(results["edited"])["w01_softmax"] == 0 and results["edited"].score == 13
    assert scores(results["deleted"])["w01_standardize"] == 0 and results["deleted"].score == 13
    assert results["duplicated"].score == 15


def test_invalid_and_missing_notebooks_score_zero(released_work, tmp_path):
    (tmp_path / "submitted" / "nobook" / ASSIGNMENT).mkdir(parents=True)
    results = grade(released_work, tmp_path, {"broken": "{ not json", "nobook": None})
    assert results["broken"].score == 0 and "not a valid notebook" in results["broken"].flags[0]
    assert results["nobook"].score == 0 and "not submitted" in results["nobook"].flags[0]


def test_hidden_tests_never_reach_release_or_feedback(released_work, tmp_path):
    """nbgrader #917/#1363: hidden test source must not leak."""
    grade(released_work, tmp_path, {"ref": solved(), "blank": release_nb()})
    feedback = write_feedback(ASSIGNMENT, tmp_path / "autograded", tmp_path / "feedback")
    texts = [p.read_text() for p in feedback]
    texts += [p.read_text() for p in (tmp_path / "autograded").rglob("*.ipynb")]
    texts += [p.read_text() for p in ASSIGNMENTS.rglob("*.ipynb")]
    assert len(feedback) == 2
    for text in texts:
        assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text
    assert "Score: 15 / 15" in (tmp_path / "feedback/ref" / ASSIGNMENT / "numerics.html").read_text()


def test_regrading_updates_the_gradebook_without_duplicates(released_work, tmp_path):
    wrong = solved(w01_softmax="def softmax(x):\n    return x")
    grade(released_work, tmp_path, {"regrade-me": wrong})
    grade(released_work, tmp_path, {"regrade-me": solved()})
    rows = [r for r in export_rows(db_url(released_work)) if r["student"] == "regrade-me"]
    assert len(rows) == 1 and rows[0]["score"] == 15 and rows[0]["w01_softmax"] == 2


def test_the_formgrader_autograde_button_grades_in_the_sandbox(released_work):
    """NbGraderAPI.autograde (the formgrader's ⚡ button) runs the course's sandboxed grader."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from grader.autograde import GRADING_METADATA_KEY
    from grader.config import REPO_ROOT
    from grader.nbgrader_setup import configure

    config = configure(Config(), REPO_ROOT, work=released_work)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for student, nb in (("button-honest", solved()), ("button-tamper", tampered())):
        folder = released_work / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NOTEBOOK)
        outcome = api.autograde(ASSIGNMENT, student)
        assert outcome["success"], outcome.get("error")
        assert "graded in the sandbox" in outcome["log"] and student in outcome["log"]
        graded = nbformat.read(released_work / "autograded" / student / ASSIGNMENT / NOTEBOOK, 4)
        assert GRADING_METADATA_KEY in graded.metadata
    rows = {r["student"]: r for r in export_rows(db_url(released_work))}
    assert rows["button-honest"]["score"] == 15 and rows["button-tamper"]["score"] == 0
    missing = api.autograde(ASSIGNMENT, "nobody")
    assert not missing["success"] and "no submission" in missing["error"]
    assert "nobody" not in {r["student"] for r in export_rows(db_url(released_work))}


# --------------------------------------------------------------------------------------
# Stable regrades (issue 19 item 6) and per-submission containment (issue 17)
# --------------------------------------------------------------------------------------
PARTIAL = dict(w01_softmax="import numpy as np\ndef softmax(x):\n    e = np.exp(x)\n"
               "    return e / e.sum(-1, keepdims=True)",
               w01_standardize="def standardize(x, axis=0, eps=1e-8):\n    return x - x.mean(axis)")


def test_regrade_of_an_unchanged_submission_gives_the_same_score(released_work, tmp_path):
    """No --seed: each (student, assignment) has its own seed, recorded and reused."""
    from grader.autograde import GRADING_METADATA_KEY, course_secret, submission_seed

    work = tmp_path / "work"
    submitted, autograded = work / "submitted", work / "autograded"
    folder = submitted / "stable" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(solved(**PARTIAL), folder / NOTEBOOK)
    nbformat.write(solved(**PARTIAL), (submitted / "twin" / ASSIGNMENT).mkdir(parents=True)
                   or submitted / "twin" / ASSIGNMENT / NOTEBOOK)

    def run(seed=None):
        results = autograde(ASSIGNMENT, submitted, autograded, ASSIGNMENTS,
                            db_url=db_url(released_work), jobs=2, limits=FAST, seed=seed,
                            progress=False)
        return {r.student: r for r in results}

    first, second = run(), run()
    secret = course_secret(work)
    assert (work / ".grading-secret").stat().st_mode & 0o777 == 0o600
    for student in ("stable", "twin"):
        assert first[student].seed == second[student].seed == submission_seed(
            secret, student, ASSIGNMENT)
        assert scores(first[student]) == scores(second[student])
        assert 0 < first[student].score < 15
    assert first["stable"].seed != first["twin"].seed  # one seed per student
    recorded = nbformat.read(autograded / "stable" / ASSIGNMENT / NOTEBOOK, 4)
    assert recorded.metadata[GRADING_METADATA_KEY]["seed"] == first["stable"].seed
    assert run(seed=12345)["stable"].seed == 12345  # an explicit --seed still overrides


def test_formgrader_button_and_cli_agree_on_an_unchanged_submission(released_work):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from grader.cli import main
    from grader.config import REPO_ROOT
    from grader.nbgrader_setup import configure

    folder = released_work / "submitted" / "button-stable" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(solved(**PARTIAL), folder / NOTEBOOK)
    assert main(["--work", str(released_work), "autograde", ASSIGNMENT, "--jobs", "1",
                 "--cell-timeout", "3", "--students", "button-stable"]) == 0
    cli_row = next(r for r in export_rows(db_url(released_work)) if r["student"] == "button-stable")
    config = configure(Config(), REPO_ROOT, work=released_work)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for _ in range(2):
        assert api.autograde(ASSIGNMENT, "button-stable")["success"]
        row = next(r for r in export_rows(db_url(released_work))
                   if r["student"] == "button-stable")
        assert row == cli_row and 0 < row["score"] < 15


def test_one_failing_submission_never_stops_the_run(released_work, tmp_path, monkeypatch):
    """A crash while grading, recording or writing one submission is recorded for it."""
    import grader.autograde as autograde_module

    real = autograde_module.grade_notebook

    def flaky(path, *args, **kwargs):
        if "crash-grading" in str(path):
            raise RuntimeError("simulated failure inside the grader")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(autograde_module, "grade_notebook", flaky)
    broken_meta = solved()
    broken_meta.cells[0]["metadata"]["nbgrader"] = "not a mapping"
    results = grade(released_work, tmp_path, {"crash-grading": solved(), "ok": solved(),
                                              "broken-meta": broken_meta})
    crashed = results["crash-grading"]
    assert crashed.score == 0 and any("grading failed: RuntimeError: simulated" in f
                                      for f in crashed.flags)
    assert results["ok"].score == 15 and results["broken-meta"].score == 15
    rows = {r["student"]: r for r in export_rows(db_url(released_work))}
    assert rows["crash-grading"]["score"] == 0 and rows["crash-grading"]["flagged"]
    assert (tmp_path / "autograded" / "crash-grading" / ASSIGNMENT / NOTEBOOK).exists()


def test_resume_completes_past_a_submission_that_cannot_be_read(released_work, tmp_path):
    stamp = tmp_path / "submitted" / "odd-stamp" / ASSIGNMENT
    stamp.mkdir(parents=True)
    nbformat.write(solved(), stamp / NOTEBOOK)
    (stamp / "timestamp.txt").write_text("\x00 not a time")
    results = grade(released_work, tmp_path, {"unreadable": "\x00\x01 garbage"})
    assert results["unreadable"].score == 0 and results["odd-stamp"].score == 15
    again = autograde(ASSIGNMENT, tmp_path / "submitted", tmp_path / "autograded", ASSIGNMENTS,
                      db_url=db_url(released_work), jobs=2, limits=FAST, seed=7,
                      progress=False, resume=True)
    assert again == []  # both were recorded the first time: nothing is left to grade


def test_self_grade_writes_no_feedback_through_a_planted_symlink(tmp_path):
    from grader.autograde import write_no_follow

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "numerics.feedback.html"
    link.symlink_to(victim)
    write_no_follow(link, b"<html>feedback</html>")
    assert victim.read_text() == "precious" and not link.is_symlink()
    assert link.read_text() == "<html>feedback</html>"
