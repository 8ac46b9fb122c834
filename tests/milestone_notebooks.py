"""Shared helpers of the tests that grade whole notebooks (milestones, capstone).

A "student" is a notebook (the untouched release, or the release filled with the reference
solution and some variants from ``answers/variants/``) and the file handed in beside it (a
checkpoint, or None). :func:`grade` autogrades a class of them in the sandbox, as an
instructor would, and returns each student's scores by exercise id.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from grader.autograde import autograde
from grader.check import get_exercise
from grader.demo import fill, solution_sources
from grader.release import ASSIGNMENTS
from grader.sandbox import Limits

NOTEBOOK = "milestone.ipynb"
#: Generous limits: the shared 2-core machine is slow, and the notebooks load data.
LIMITS = Limits(cell_timeout=120, memory_mb=4096)


def release(assignment: str, notebook: str = NOTEBOOK) -> nbformat.NotebookNode:
    """The released (learner's) notebook, untouched."""
    return nbformat.read(ASSIGNMENTS / assignment / notebook, as_version=4)


def solved(assignment: str, *variants, notebook: str = NOTEBOOK) -> nbformat.NotebookNode:
    """The release with every solution cell filled with the reference solution, except the
    cells that ``variants`` (:class:`answers.variants.Variant`) replace."""
    code = solution_sources(assignment, notebook)
    code.update({v.exercise_id: v.source for v in variants})
    return fill(release(assignment, notebook), code)


def variant(variants, words: str, exercise_id: str | None = None):
    """The variant whose label contains ``words`` (of ``exercise_id``, when given)."""
    return next(v for v in variants
                if words in v.label and exercise_id in (None, v.exercise_id))


class Graded(dict):
    """One student's scores by exercise id, and the cells that failed while grading."""

    def __init__(self, scores: dict, cell_errors: list[str]):
        super().__init__(scores)
        self.cell_errors = cell_errors


def grade(tmp_path: Path, assignment: str, students: dict[str, tuple], *,
          checkpoint: str | None = None, seed: int = 5, limits: Limits = LIMITS,
          notebook: str = NOTEBOOK) -> dict[str, Graded]:
    """Write each student's (notebook, file or None) and autograde them all (2 workers).

    ``checkpoint``: the name the file is handed in under (default: the file of the
    assignment's ``wNN_milestone`` exercise).
    """
    release_dir = tmp_path / "release"
    (release_dir / assignment).mkdir(parents=True)
    shutil.copy(ASSIGNMENTS / assignment / notebook, release_dir / assignment / notebook)
    submitted = tmp_path / "submitted"
    name = checkpoint or get_exercise(f"w{assignment[4:6]}_milestone").files[0]
    for student, (nb, handed_in) in students.items():
        folder = submitted / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / notebook)
        if handed_in is not None:
            shutil.copy(handed_in, folder / name)
    results = autograde(assignment, submitted, tmp_path / "autograded", release_dir,
                        jobs=2, limits=limits, seed=seed, progress=False)
    return {r.student: Graded({e.exercise_id: e for e in r.exercises}, r.cell_errors)
            for r in results}
