"""The demo class: a simulated set of submissions for every released week.

Students are built from the release, the reference solutions and the registered
alternatives and mutants (:mod:`answers.variants`), so every week that exists gets a class
without extra code:

* ``ada-reference``: the reference solution (must score full marks);
* ``ben-untouched``: the release as handed out (must score zero, without errors);
* ``cyd-``, ``dee-``, ``eli-partial``: realistic mixes of correct alternatives, mutants
  and untouched stubs;
* ``fay-infinite-loop``: one cell never finishes (costs that cell's exercise only);
* ``gus-tamperer``: wrong code that redefines ``np.allclose`` and ``check`` to look right;
* ``hal-kernel-killer``: a cell that kills its own kernel (``os._exit``).

Written answers (manually graded): the reference writes the model answer, the partial
students its first sentence, the tamperer a one-liner, the untouched release nothing.
:func:`grade_written_answers` then plays the instructor in the formgrader: it gives each
written answer a manual score and a comment (full points for the model answer, half for its
first sentence, none otherwise), so the gradebook and the feedback show manual grades.

A milestone notebook (graded on a trained model, :mod:`grader.checks.milestones`) is handed
in with the file it saves: every student but ``ben-untouched`` hands in the reference run's
checkpoint (``answers/milestones/``, trained full size by ``python -m bench milestones``), so
the reference gets full marks and the partial students lose points through their mutant
layers and training steps (wrong backward passes fail the training probe) — training a
model is not part of the demo.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from grader.check import get_exercise
from grader.nbgrader_ext import SOLUTION_SUFFIX, exercise_of
from grader.release import ASSIGNMENTS, SOLUTIONS
from answers.variants import Variant, alternatives, mutants

TAMPER_CELL = '''# "Make the checks pass" without doing the work.
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
def check(*args, **kwargs):
    print("✓ all cases passed")
'''


def solution_sources(assignment: str, notebook: str) -> dict[str, str]:
    """Solution cell source by exercise id, with the solution markers removed."""
    nb = nbformat.read(SOLUTIONS / assignment / notebook, as_version=4)
    sources = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id.endswith(SOLUTION_SUFFIX):
            lines = [line for line in cell.source.splitlines()
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line]
            sources[exercise_of(grade_id)] = "\n".join(lines)
    return sources


def model_answers(assignment: str, notebook: str) -> dict[str, str]:
    """Written answer id → the model answer of its solution cell (rubric left out)."""
    nb = nbformat.read(SOLUTIONS / assignment / notebook, as_version=4)
    answers = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("grade") and meta.get("solution"):
            text = cell.source.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", "")
            text = text.split("**Rubric")[0].replace("**Model answer.**", "").strip()
            answers[meta["grade_id"]] = text
    return answers


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]


def fill(release: nbformat.NotebookNode, code: dict[str, str],
         written: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """A copy of the release whose solution cells hold ``code[exercise_id]`` where given,
    and whose written answer cells hold ``written[grade_id]`` where given."""
    nb = nbformat.from_dict(release)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)
    written = written or {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if exercise_of(grade_id) in code and grade_id.endswith(SOLUTION_SUFFIX):
            cell.source = code[exercise_of(grade_id)]
        elif cell.cell_type == "markdown" and grade_id in written:
            cell.source = written[grade_id]
    return nb


def _pick(variants: list[Variant], exercise_id: str, index: int) -> str | None:
    matching = [v.source.strip() for v in variants if v.exercise_id == exercise_id]
    return matching[index % len(matching)] if matching else None


def class_notebooks(assignment: str, notebook: str) -> dict[str, nbformat.NotebookNode]:
    """Every simulated student's version of one released notebook."""
    release = nbformat.read(ASSIGNMENTS / assignment / notebook, as_version=4)
    solved = solution_sources(assignment, notebook)
    ids = list(solved)
    wrong, right = mutants(), alternatives()

    def mix(offset: int) -> dict[str, str]:
        # Rotate through: a mutant, a correct alternative, a mutant, an untouched stub, ...
        code = {}
        for i, exercise_id in enumerate(ids):
            kind = (i + offset) % 4
            if kind in (0, 2):
                code[exercise_id] = _pick(wrong, exercise_id, i + offset) or solved[exercise_id]
            elif kind == 1:
                code[exercise_id] = _pick(right, exercise_id, i) or solved[exercise_id]
        return code

    model = model_answers(assignment, notebook)
    partial = {grade_id: first_sentence(text) for grade_id, text in model.items()}
    students = {
        "ada-reference": fill(release, solved, model),
        "ben-untouched": fill(release, {}),
        "cyd-partial": fill(release, mix(0), partial),
        "dee-partial": fill(release, mix(1), partial),
        "eli-partial": fill(release, mix(2), partial),
    }
    looping = dict(solved)
    looping[ids[0]] = solved[ids[0]] + (
        "\n\n# waiting for a convergence that never comes\nwhile True:\n    pass\n")
    students["fay-infinite-loop"] = fill(release, looping, model)

    tamperer = fill(release, {i: _pick(wrong, i, 0) or solved[i] for i in ids},
                    {grade_id: "Looks right to me." for grade_id in model})
    setup_index = next(i for i, cell in enumerate(tamperer.cells) if cell.cell_type == "code")
    tamperer.cells.insert(setup_index + 1, nbformat.v4.new_code_cell(TAMPER_CELL))
    students["gus-tamperer"] = tamperer

    killer = fill(release, solved, model)
    killer.cells.insert(len(killer.cells) // 2, nbformat.v4.new_code_cell(
        "import os\nos._exit(1)  # 'restart the kernel' the hard way"))
    students["hal-kernel-killer"] = killer
    for exercise_id in ids:  # fail early and loudly if a solution no longer matches its id
        get_exercise(exercise_id)
    return students


def milestone_files(assignment: str) -> dict[str, Path]:
    """The files the assignment's milestones expect, from the reference run (name -> path)."""
    from answers.milestones import reference_checkpoint
    from grader.autograde import ReleaseNotebook, submitted_files

    return {name: reference_checkpoint(name)
            for path in sorted((ASSIGNMENTS / assignment).glob("*.ipynb"))
            for name in submitted_files(ReleaseNotebook.read(path))}


def write_class(assignment: str, submitted_dir: Path) -> list[str]:
    """Write the simulated class into nbgrader's ``submitted/<student>/<assignment>/``."""
    written: dict[str, dict[str, nbformat.NotebookNode]] = {}
    for notebook_path in sorted((ASSIGNMENTS / assignment).glob("*.ipynb")):
        for student, nb in class_notebooks(assignment, notebook_path.name).items():
            written.setdefault(student, {})[notebook_path.name] = nb
    for student, notebooks in written.items():
        folder = submitted_dir / student / assignment
        shutil.rmtree(folder, ignore_errors=True)  # a fresh class on every demo run
        folder.mkdir(parents=True)
        for name, nb in notebooks.items():
            nbformat.write(nb, folder / name)
        if student != "ben-untouched":  # the release as handed out has trained nothing
            for name, source in milestone_files(assignment).items():
                shutil.copyfile(source, folder / name)
        # What `nbgrader collect` writes beside a submission: when it was handed in.
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        (folder / "timestamp.txt").write_text(stamp)
    return sorted(written)


def student_names(student: str) -> tuple[str, str]:
    """``"fay-infinite-loop"`` → ``("Fay", "Infinite loop")``: what the formgrader lists."""
    first, _, role = student.partition("-")
    return first.capitalize(), role.replace("-", " ").capitalize()


def register_class(db_url: str, students: list[str]) -> None:
    """Add the simulated students to the gradebook with names (the formgrader shows them)."""
    from nbgrader.api import Gradebook

    from grader.nbgrader_setup import COURSE_ID

    with Gradebook(db_url, COURSE_ID) as gb:
        for student in students:
            first, last = student_names(student)
            gb.update_or_create_student(student, first_name=first, last_name=last)


def demo_manual_grade(answer: str, model: str, points: float) -> tuple[float, str]:
    """The simulated instructor's grade of one written answer: ``(score, comment)``."""
    answer = answer.strip()
    if answer == model.strip():
        return points, "Demo grade: complete and correct — every rubric point is covered."
    if answer and answer == first_sentence(model):
        return float(points // 2), ("Demo grade: a correct start; the rubric also asks why, "
                                    "and what it implies.")
    return 0.0, "Demo grade: this does not answer the question; see the rubric points."


def grade_written_answers(db_url: str, submitted_dir: Path, assignment: str,
                          skip: tuple[str, ...] = ()) -> int:
    """Give every written answer that needs manual grading a score and a comment, as an
    instructor does in the formgrader; students in ``skip`` are left to grade by hand.
    Returns how many answers were graded."""
    from nbgrader.api import Gradebook, MissingEntry

    from grader.nbgrader_setup import COURSE_ID

    graded = 0
    with Gradebook(db_url, COURSE_ID) as gb:
        for path in sorted((ASSIGNMENTS / assignment).glob("*.ipynb")):
            model = model_answers(assignment, path.name)
            for student_dir in sorted(p for p in submitted_dir.iterdir() if p.is_dir()):
                submission = student_dir / assignment / path.name
                if student_dir.name in skip or not submission.exists():
                    continue
                cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
                         for c in nbformat.read(submission, as_version=4).cells}
                for grade_id, text in model.items():
                    try:
                        grade = gb.find_grade(grade_id, path.stem, assignment, student_dir.name)
                        comment = gb.find_comment(grade_id, path.stem, assignment,
                                                  student_dir.name)
                    except MissingEntry:
                        continue
                    if not grade.needs_manual_grade:
                        continue
                    score, remark = demo_manual_grade(cells.get(grade_id, ""), text,
                                                      grade.max_score)
                    grade.manual_score, grade.needs_manual_grade = score, False
                    comment.manual_comment = remark
                    graded += 1
        gb.db.commit()
    return graded
