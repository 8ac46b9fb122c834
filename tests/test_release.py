"""solutions/ → assignments/: drift, stubs, metadata and exercise ids."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from grader.check import all_exercises
from grader.nbgrader_ext import exercise_of, stub_for
from grader.release import ASSIGNMENTS, SOLUTIONS, assignment_ids, check_release_drift

SOURCE_NOTEBOOKS = sorted(SOLUTIONS.glob("week*/*.ipynb"))
#: A written question (manually graded answer): ``wNN_q_<slug>``, its prompt ``…_prompt``.
WRITTEN_ID = re.compile(r"^w(\d\d)_q_[a-z0-9_]+$")


def is_written(cell, meta) -> bool:
    return bool(meta.get("grade")) and cell.cell_type == "markdown"


def nbgrader_cells(path: Path):
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader")
        if meta:
            yield cell, meta


def test_committed_release_matches_solutions(tmp_path):
    """assignments/ is generated: regenerate it and compare (run `make release` to fix)."""
    drift = check_release_drift(tmp_path)
    assert not drift, "assignments/ drifted from solutions/ — run `make release`:\n" + "\n".join(
        f"  {d.path}: {d.reason}" for d in drift)


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=lambda p: p.parent.name)
def test_grade_cells_are_registered_exercises(path):
    exercises = all_exercises()
    for cell, meta in nbgrader_cells(path):
        if is_written(cell, meta):
            continue  # written questions: test_written_questions_follow_the_convention
        if meta.get("grade"):
            grade_id = meta["grade_id"]
            assert grade_id in exercises, f"{path.name}: test cell {grade_id} has no check"
            assert float(meta["points"]) == exercises[grade_id].points, grade_id
            body = ast.parse(cell.source).body
            assert isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant), \
                f"{grade_id}: an autograded test cell opens with a one-line docstring"
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{grade_id}: no hidden checks"
        if meta.get("solution"):
            assert exercise_of(meta["grade_id"]) in exercises, meta["grade_id"]


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=lambda p: p.parent.name)
def test_written_questions_follow_the_convention(path):
    """A locked prompt ``wNN_q_<slug>_prompt``, then the answer cell ``wNN_q_<slug>``
    (manually graded, points > 0) holding a model answer and a rubric between the markers."""
    cells = list(nbgrader_cells(path))
    week = path.parent.name[4:6]
    for index, (cell, meta) in enumerate(cells):
        if not is_written(cell, meta):
            assert not WRITTEN_ID.match(meta.get("grade_id", "")) or cell.cell_type == "markdown"
            continue
        grade_id = meta["grade_id"]
        match = WRITTEN_ID.match(grade_id)
        assert match and match.group(1) == week, \
            f"{grade_id}: a written answer's id is w{week}_q_<slug>"
        assert meta.get("solution") and not meta.get("locked"), f"{grade_id}: answer cell"
        assert float(meta.get("points", 0)) > 0, f"{grade_id}: a written answer has points"
        assert grade_id not in all_exercises(), f"{grade_id}: not a registered Exercise"
        source = cell.source
        assert source.lstrip().startswith("### BEGIN SOLUTION") and \
            source.rstrip().endswith("### END SOLUTION"), f"{grade_id}: whole answer in markers"
        assert "**Model answer.**" in source and "**Rubric" in source, grade_id
        prompt, prompt_meta = cells[index - 1]
        assert prompt_meta.get("grade_id") == f"{grade_id}_prompt", \
            f"{grade_id}: the cell before it is its locked prompt {grade_id}_prompt"
        assert prompt_meta.get("locked") and not prompt_meta.get("grade") \
            and prompt.cell_type == "markdown"


@pytest.mark.parametrize("assignment", assignment_ids())
def test_release_replaces_written_answers_by_a_blank(assignment):
    """nbgrader's markdown behaviour survives the course's ExerciseStubs: the model answer
    and rubric are gone, the learner sees "YOUR ANSWER HERE", points stay."""
    for path in (ASSIGNMENTS / assignment).glob("*.ipynb"):
        for cell, meta in nbgrader_cells(path):
            if is_written(cell, meta):
                assert cell.source == "YOUR ANSWER HERE", meta["grade_id"]
                assert float(meta["points"]) > 0
            assert "**Rubric" not in cell.source and "Model answer" not in cell.source


@pytest.mark.parametrize("assignment", assignment_ids())
def test_release_stubs_name_their_exercise(assignment):
    for path in (ASSIGNMENTS / assignment).glob("*.ipynb"):
        text = path.read_text()
        for cell, meta in nbgrader_cells(path):
            if meta.get("solution") and cell.cell_type == "code":
                assert stub_for(exercise_of(meta["grade_id"])).replace('"', '\\"') in text
            assert "### BEGIN SOLUTION" not in cell.source


def test_every_exercise_is_graded_somewhere():
    graded = {meta["grade_id"] for path in SOURCE_NOTEBOOKS
              for cell, meta in nbgrader_cells(path) if meta.get("grade")
              and not is_written(cell, meta)}
    assert graded == set(all_exercises())


COURSE_NOTEBOOKS = sorted(p for folder in ("course", "solutions", "assignments")
                          for p in (ASSIGNMENTS.parent / folder).rglob("*.ipynb")
                          if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS,
                         ids=lambda p: str(p.relative_to(ASSIGNMENTS.parent)))
def test_notebooks_are_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} have outputs: clear them before committing"
