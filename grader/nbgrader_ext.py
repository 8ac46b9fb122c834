"""nbgrader customisations: a stub that names its exercise, and a safe Autograde button.

nbgrader replaces every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region with one fixed
``code_stub``. Here the stub carries the exercise id taken from the solution cell's
``grade_id`` (``w01_softmax_code`` → ``w01_softmax``), so the first error a learner sees
already names the exercise, its check and its marker.

The formgrader's ⚡ Autograde button calls ``NbGraderAPI.autograde``, which would run stock
``nbgrader autograde``: the student's code unsandboxed in the server's own account, graded
by test cells it can tamper with, overwriting the sandboxed grader's scores. The button
refuses (with what is missing and how to fix it) where full isolation is not available, and
uses the same per-(student, assignment) seed as ``autograde``, so it gives an unchanged
submission the same score.
:func:`route_formgrader_autograde` points that method at :func:`formgrader_autograde`, which
grades the one submission exactly as ``python -m grader autograde`` does. nbgrader builds the
API object itself for every request and offers no setting to choose its class, so the
course's ``nbgrader_config.py`` (executed by the formgrader before each request) installs the
route.
"""

from __future__ import annotations

import traceback
import os
from pathlib import Path

from nbgrader.preprocessors import ClearSolutions

#: Suffix of a solution cell's grade_id; the rest is the exercise id.
SOLUTION_SUFFIX = "_code"


def exercise_of(grade_id: str) -> str:
    """``"w01_softmax_code"`` → ``"w01_softmax"``; other ids are returned unchanged."""
    return grade_id[: -len(SOLUTION_SUFFIX)] if grade_id.endswith(SOLUTION_SUFFIX) else grade_id


def stub_for(exercise_id: str) -> str:
    return (f'raise NotImplementedError("{exercise_id}: replace this line with your code, '
            f'then run the check below")')


class ExerciseStubs(ClearSolutions):
    """ClearSolutions whose code stub names the exercise of each solution cell."""

    def _replace_solution_region(self, cell, language):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type == "code" and language == "python" and grade_id:
            saved = self.code_stub
            self.code_stub = {**saved, "python": stub_for(exercise_of(grade_id))}
            try:
                return super()._replace_solution_region(cell, language)
            finally:
                self.code_stub = saved
        return super()._replace_solution_region(cell, language)


def formgrader_autograde(api, assignment_id: str, student_id: str, force: bool = True,
                         create: bool = True) -> dict:
    """Grade one student's submission in the sandbox, for the formgrader's Autograde button.

    Returns what the formgrader expects of ``NbGraderAPI.autograde``: ``success``, ``log``
    and, on failure, ``error``. ``force`` and ``create`` are accepted for compatibility: the
    sandboxed grader always re-grades, and records unknown students.
    """
    from grader.autograde import autograde
    from grader.gradebook import gradebook_table

    coursedir = api.coursedir
    submitted = Path(coursedir.submitted_directory)
    if not (submitted / student_id / assignment_id).is_dir():  # record no zero for it
        return {"success": False, "log": "", "error": f"no submission of {assignment_id} by "
                                                      f"{student_id} in {submitted}"}
    from grader.isolation import IsolationUnavailable

    try:
        results = autograde(assignment_id, submitted, Path(coursedir.autograded_directory),
                            Path(coursedir.root) / coursedir.release_directory,
                            db_url=coursedir.db_url, students=[student_id],
                            jobs=1, progress=False,
                            scheduler=os.environ.get("COURSE_SCHEDULER") or None,
                            work=Path(coursedir.autograded_directory).resolve().parent)
    except IsolationUnavailable as error:  # never grade someone else's code unsandboxed
        return {"success": False, "log": "", "error": str(error)}
    except Exception:  # the formgrader shows the traceback in its error dialog
        return {"success": False, "error": traceback.format_exc(), "log": ""}
    return {"success": True, "log": "graded in the sandbox (python -m grader autograde)\n"
                                    + gradebook_table(results)}


def route_formgrader_autograde() -> None:
    """Make the formgrader's Autograde button run :func:`formgrader_autograde`."""
    from nbgrader.apps.api import NbGraderAPI

    NbGraderAPI.autograde = formgrader_autograde


def formgrader_generate_feedback(api, assignment_id: str, student_id: str | None = None,
                                 force: bool = True) -> dict:
    """The formgrader's Generate Feedback button: the course's feedback pages (per-exercise
    findings of the sandboxed grader, :func:`grader.autograde.write_feedback`) instead of
    stock nbgrader's page of test cells, with a one-line-per-page log."""
    from grader.autograde import write_feedback

    coursedir = api.coursedir
    try:
        written = write_feedback(assignment_id, Path(coursedir.autograded_directory),
                                 Path(coursedir.feedback_directory), db_url=coursedir.db_url,
                                 submitted_dir=Path(coursedir.submitted_directory),
                                 students=None if student_id is None else [student_id])
    except Exception:
        return {"success": False, "error": traceback.format_exc(), "log": ""}
    if not written:
        return {"success": False, "log": "", "error": f"no autograded notebooks of "
                                                      f"{assignment_id} to give feedback on"}
    return {"success": True, "log": "".join(f"wrote {path}\n" for path in written)}


def route_formgrader_feedback() -> None:
    """Make the formgrader's Generate Feedback button run :func:`formgrader_generate_feedback`."""
    from nbgrader.apps.api import NbGraderAPI

    NbGraderAPI.generate_feedback = formgrader_generate_feedback
