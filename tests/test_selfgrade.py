"""Self-grading: the instructor's checks on a learner's own notebook, and their progress."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import compute_checksum

from grader.cli import main
from grader.config import REPO_ROOT
from grader.demo import TAMPER_CELL, fill, solution_sources
from grader.release import ASSIGNMENTS, SOLUTIONS
from grader.sandbox import Limits
from grader.selfgrade import (
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    PROGRESS_DB_ENV,
    NotGradable,
    course_plan,
    exercise_status,
    progress,
    progress_db,
    progress_html,
    progress_table,
    selfgrade,
)
from answers.variants import mutants

ASSIGNMENT = "week01-numpy"
NOTEBOOK = "numerics.ipynb"
FAST = Limits(cell_timeout=5, call_timeout=5, memory_mb=2048)
EXERCISES = ["w01_softmax", "w01_logsumexp", "w01_log_softmax", "w01_cross_entropy",
             "w01_log_softmax_backward", "w01_softplus", "w01_standardize"]


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """One course work folder: the trusted release's gradebook is created once."""
    return tmp_path_factory.mktemp("selfgrade-work")


def release_nb() -> nbformat.NotebookNode:
    return nbformat.read(ASSIGNMENTS / ASSIGNMENT / NOTEBOOK, as_version=4)


def solved(**overrides: str) -> nbformat.NotebookNode:
    code = solution_sources(ASSIGNMENT, NOTEBOOK)
    code.update(overrides)
    return fill(release_nb(), code)


def write(nb: nbformat.NotebookNode, folder: Path, name: str = NOTEBOOK) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


def grade(path: Path, work: Path, db: Path):
    return selfgrade(path, db=db, work=work, limits=FAST, seed=11)


def grade_cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def release_stub(exercise_id: str) -> str:
    """The released (unanswered) solution cell of an exercise."""
    return grade_cell(release_nb(), f"{exercise_id}_code").source


def rows(db: Path) -> list[dict]:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute("SELECT * FROM attempts ORDER BY id")]


def test_reference_gets_full_marks_and_the_notebook_is_left_untouched(work, tmp_path):
    path = write(solved(), tmp_path / "me")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    run = grade(path, work, tmp_path / "progress.sqlite")

    assert run.result.score == run.result.max_score == 15
    assert [exercise_status(e) for e in run.result.exercises] == [PASSED] * 7
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert run.feedback == tmp_path / "me" / "numerics.feedback.html"
    page = run.feedback.read_text()
    assert "Score: 15 / 15" in page and "BEGIN HIDDEN TESTS" not in page
    recorded = rows(tmp_path / "progress.sqlite")
    assert [r["exercise_id"] for r in recorded] == EXERCISES
    assert all(r["passed"] == 1 and r["score"] == r["points"] and r["week"] == 1
               and r["assignment"] == ASSIGNMENT and r["notebook"] == str(path)
               and re.fullmatch(r"[0-9a-f]{12}", r["release_hash"]) for r in recorded)


def test_untouched_release_scores_zero_through_the_command_line(work, tmp_path, capsys):
    folder = tmp_path / "assignments" / ASSIGNMENT
    path = write(release_nb(), folder)
    before = path.read_bytes()
    db = tmp_path / "progress.sqlite"
    code = main(["--work", str(work), "selfgrade", str(folder), "--db", str(db),
                 "--cell-timeout", "5", "--seed", "3"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"total\s+0 / 15", out) and out.count(NOT_ATTEMPTED) == 7
    assert path.read_bytes() == before and (folder / "numerics.feedback.html").exists()
    assert [r["status"] for r in rows(db)] == [NOT_ATTEMPTED] * 7


def test_tampering_gains_nothing(work, tmp_path):
    db = tmp_path / "progress.sqlite"
    wrong = {m.exercise_id: m.source for m in reversed(mutants())
             if m.exercise_id.startswith("w01_")}  # the first mutant of each exercise
    plain = grade(write(solved(**wrong), tmp_path / "plain"), work, db)
    tamperer = solved(**wrong)
    tamperer.cells.insert(2, nbformat.v4.new_code_cell(TAMPER_CELL))
    tampered = grade(write(tamperer, tmp_path / "tamper"), work, db)
    assert tampered.result.score <= plain.result.score < 15
    assert any("numpy.allclose" in flag for flag in tampered.result.flags)


def test_edited_test_cells_are_graded_as_the_instructor_would(work, tmp_path):
    """Edits of the learner's own copy are not "another version": graded, flagged, no gain."""
    edited = solved()
    grade_cell(edited, "w01_softmax").source = "pass  # no check needed"
    grade_cell(edited, "w01_logsumexp").metadata.nbgrader["points"] = 50
    run = grade(write(edited, tmp_path), work, tmp_path / "progress.sqlite")
    scores = {e.exercise_id: e for e in run.result.exercises}
    assert run.result.max_score == 15 and scores["w01_logsumexp"].points == 2
    assert scores["w01_log_softmax"].score == 2, scores["w01_log_softmax"].report  # unaffected
    assert any("w01_softmax was edited" in flag for flag in run.result.flags)
    assert any("w01_logsumexp was edited" in flag for flag in run.result.flags)


def refused(path: Path, work: Path, db: Path) -> str:
    with pytest.raises(NotGradable) as error:
        grade(path, work, db)
    assert not db.exists() and not list(path.parent.glob("*.feedback.html"))
    return str(error.value)


def test_non_course_notebooks_are_refused(work, tmp_path):
    db = tmp_path / "progress.sqlite"
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])
    message = refused(write(plain, tmp_path / "plain"), work, db)
    assert "not a notebook of this course" in message and "assignments/" in message

    foreign = release_nb()
    for cell in foreign.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id", "").startswith("w01_"):
            meta["grade_id"] = meta["grade_id"].replace("w01_", "w99_other_course_")
    assert "belong to no assignment" in refused(write(foreign, tmp_path / "foreign"), work, db)

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / NOTEBOOK).write_text("{ not json")
    assert "not a valid notebook" in refused(tmp_path / "broken" / NOTEBOOK, work, db)

    source = SOLUTIONS / ASSIGNMENT / NOTEBOOK
    with pytest.raises(NotGradable, match="nbgrader source of week01-numpy"):
        grade(source, work, db)
    assert not (source.parent / "numerics.feedback.html").exists()


def released_differently(nb: nbformat.NotebookNode, grade_id: str, **changes) -> None:
    """Change a test cell as another release would have, checksum included."""
    cell = grade_cell(nb, grade_id)
    cell.source = changes.get("source", cell.source)
    cell.metadata.nbgrader["points"] = changes.get("points", cell.metadata.nbgrader["points"])
    cell.metadata.nbgrader["checksum"] = compute_checksum(cell)


def test_notebooks_from_another_course_version_are_refused(work, tmp_path):
    db = tmp_path / "progress.sqlite"
    older = solved()
    released_differently(older, "w01_softmax", points=3)
    message = refused(write(older, tmp_path / "points"), work, db)
    assert "released from another version of the course" in message
    assert "w01_softmax differs from the current release (worth 3 points in your copy, 2 now)" \
        in message
    assert f"git checkout -- assignments/{ASSIGNMENT}/{NOTEBOOK}" in message

    changed = solved()
    released_differently(changed, "w01_logsumexp", source='check("w01_logsumexp", logsumexp2)')
    assert "w01_logsumexp differs from the current release (its check changed" in refused(
        write(changed, tmp_path / "check"), work, db)

    before_standardize = solved()
    before_standardize.cells = [c for c in before_standardize.cells if not c.metadata.get(
        "nbgrader", {}).get("grade_id", "").startswith("w01_standardize")]
    assert "exercise w01_standardize is not in your copy" in refused(
        write(before_standardize, tmp_path / "missing"), work, db)

    newer = solved()
    extra = {**json.loads(json.dumps(grade_cell(newer, "w01_softmax"))), "id": "softmax-twice"}
    newer.cells.append(nbformat.from_dict(extra))
    newer.cells[-1].metadata.nbgrader["grade_id"] = "w01_softmax_twice"
    newer.cells[-1].metadata.nbgrader["checksum"] = compute_checksum(newer.cells[-1])
    assert "test cell w01_softmax_twice is not part of the current release" in refused(
        write(newer, tmp_path / "newer"), work, db)


def test_progress_shows_the_latest_self_grade_of_each_exercise(work, tmp_path, capsys):
    db = tmp_path / "progress.sqlite"
    first = write(solved(w01_softmax="def softmax(x):\n    return x",
                         w01_standardize=release_stub("w01_standardize")), tmp_path / "a1")
    grade(first, work, db)
    week1 = next(w for w in progress(db) if w.week == 1)
    status = {e.exercise_id: e.status for e in week1.exercises}
    assert status == {"w01_softmax": FAILED, "w01_logsumexp": PASSED, "w01_log_softmax": PASSED,
                      "w01_cross_entropy": PASSED, "w01_log_softmax_backward": PASSED,
                      "w01_softplus": PASSED, "w01_standardize": NOT_ATTEMPTED}
    assert 11 <= week1.score < 13 and week1.max_score == 15

    second = grade(write(solved(), tmp_path / "a2"), work, db)
    weeks = progress(db)
    week1 = next(w for w in weeks if w.week == 1)
    assert [e.status for e in week1.exercises] == [PASSED] * 7
    assert week1.score == 15 and week1.last_graded == second.graded_at
    assert [e.exercise_id for e in week1.exercises] == EXERCISES
    for other in (w for w in weeks if w.week != 1):  # every other week: nothing attempted
        assert other.last_graded is None
        assert {e.status for e in other.exercises} == {NOT_ATTEMPTED}
    assert len({r["run_id"] for r in rows(db)}) == 2 and len(rows(db)) == 14

    table = progress_table(weeks)
    assert re.search(r"week 1 \(week01-numpy\)\s+15 / 15", table)
    assert "7 of" in table.splitlines()[0]
    page = progress_html(weeks, db)
    png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1))
    assert png.startswith(b"\x89PNG")

    out_page = tmp_path / "progress.html"
    assert main(["--work", str(work), "progress", "--db", str(db), "--html", str(out_page)]) == 0
    assert "w01_softmax" in capsys.readouterr().out and out_page.read_text().count("<h2>") == len(
        weeks)


def test_progress_database_location(monkeypatch, tmp_path):
    monkeypatch.delenv(PROGRESS_DB_ENV, raising=False)
    assert progress_db(tmp_path) == tmp_path / "progress.sqlite"
    monkeypatch.setenv(PROGRESS_DB_ENV, str(tmp_path / "elsewhere.sqlite"))
    assert progress_db(tmp_path) == tmp_path / "elsewhere.sqlite"


def test_syllabus_covers_every_available_week():
    """course/README.md lists each week of solutions/ as available, with its exercises and points."""
    text = (REPO_ROOT / "course" / "README.md").read_text()
    for week in course_plan():
        if not (SOLUTIONS / week.assignment).is_dir():
            continue
        section = re.search(rf"^## Week {week.week} — .*?(?=^## |\Z)", text,
                            re.MULTILINE | re.DOTALL)
        assert section and "(available)" in section.group(0).splitlines()[0], \
            f"course/README.md: add or update the section '## Week {week.week} — … (available)'"
        exercises = re.search(r"\*\*Exercises\*\* \((\d+) points[^)]*\)\.(.*?)(?=\n- \*\*)",
                              section.group(0), re.DOTALL)
        assert exercises, f"course/README.md, week {week.week}: no '**Exercises** (N points).'"
        # "`w06_batchnorm_backward` (3, derived)": the points, then perhaps a remark;
        # written questions (`wNN_q_…`) are graded by hand, not by the progress view
        every = {eid: float(points) for eid, points in
                 re.findall(r"`(w\d+_\w+)`\s+\((\d+)[,)]", exercises.group(2))}
        written = {eid: p for eid, p in every.items() if re.match(r"w\d+_q_", eid)}
        listed = {eid: p for eid, p in every.items() if eid not in written}
        assert listed == {e.exercise_id: e.points for e in week.exercises}, \
            f"course/README.md, week {week.week}: the exercises and points differ from solutions/"
        assert float(exercises.group(1)) == week.max_score + sum(written.values()), \
            f"week {week.week}: total points (autograded + written)"


def test_self_grade_says_which_isolation_and_never_writes_through_a_symlink(
        work, tmp_path, capsys, monkeypatch):
    """Basic isolation is allowed for one's own notebook, and the output says so."""
    monkeypatch.setenv("COURSE_SANDBOX_ISOLATION", "basic")
    folder = tmp_path / "linked" / ASSIGNMENT
    path = write(solved(), folder)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (folder / "numerics.feedback.html").symlink_to(victim)
    code = main(["--work", str(work), "selfgrade", str(path), "--db",
                 str(tmp_path / "progress.sqlite"), "--cell-timeout", "5", "--seed", "3"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "sandbox: basic isolation" in out and re.search(r"total\s+15 / 15", out)
    assert victim.read_text() == "precious"
    feedback = folder / "numerics.feedback.html"
    assert not feedback.is_symlink() and "Score: 15 / 15" in feedback.read_text()
