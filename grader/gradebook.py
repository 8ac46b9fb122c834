"""The gradebook: the only writer of grades, its lock, and its tables.

Every grading path (the local pool, a Dask cluster, the formgrader button, the demo) records
through :func:`record` in the instructor's process, so a result the engine delivers twice is
written once (an idempotent upsert). :class:`GradingLock` serialises grading runs: a file
lock per work folder and, for a PostgreSQL gradebook shared by several machines, a
PostgreSQL advisory lock too.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from datetime import datetime
from pathlib import Path

from grader.config import COURSE_ID


def submitted_timestamp(submission: Path) -> datetime | None:
    """When a submission folder was handed in, as nbgrader reads it: its ``timestamp.txt``
    (written by ``nbgrader collect`` and ``zip_collect``), or None without one."""
    from nbgrader.utils import parse_utc

    stamp = submission / "timestamp.txt"
    if stamp.is_symlink() or not stamp.is_file():
        return None
    try:
        return parse_utc(stamp.read_text(errors="replace")[:200].strip())
    except Exception:  # unparsable: recorded without a time, and flagged when graded
        return None


def record(results: list[NotebookResult], db_url: str, submitted_dir: Path | None = None) -> None:
    """Write scores into nbgrader's gradebook; re-grading updates rows, never duplicates.

    Rows are written as nbgrader's own autograder writes them, so that the formgrader shows
    the submissions as graded: the submission's timestamp is the one of its folder in
    ``submitted_dir`` (the formgrader says "needs autograding" when they differ) and every
    auto-graded cell is marked as needing no manual grade.
    """
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning


    with Gradebook(db_url, COURSE_ID) as gb, warnings.catch_warnings():
        # nbgrader's add_submission triggers harmless SQLAlchemy autoflush warnings.
        warnings.simplefilter("ignore", category=SAWarning)
        for result in results:
            timestamp = (submitted_timestamp(submitted_dir / result.student / result.assignment)
                         if submitted_dir else None)
            gb.update_or_create_student(result.student)
            try:
                gb.find_submission(result.assignment, result.student).timestamp = timestamp
            except MissingEntry:
                gb.add_submission(result.assignment, result.student, timestamp=timestamp)
            notebook_id = Path(result.notebook).stem
            for exercise in result.exercises:
                grade = gb.find_grade(exercise.exercise_id, notebook_id, result.assignment,
                                      result.student)
                grade.auto_score = exercise.score
                grade.needs_manual_grade = False
            record_written(gb, result, notebook_id)
            submitted = gb.find_submission_notebook(notebook_id, result.assignment,
                                                    result.student)
            submitted.flagged = bool(result.flags)
            gb.db.commit()


def record_written(gb, result: NotebookResult, notebook_id: str) -> None:
    """Mark written answers in nbgrader's gradebook as nbgrader's autograder does: an answer
    needs manual grading (the formgrader lists it, with its points); an untouched one scores 0
    automatically. The auto score never counts an answer, and a regrade keeps the
    instructor's grade and comment."""
    from nbgrader.api import MissingEntry

    for answer in result.written:
        try:
            grade = gb.find_grade(answer.grade_id, notebook_id, result.assignment,
                                  result.student)
        except MissingEntry:  # a gradebook released before the question existed
            continue
        grade.auto_score = None if answer.answered else 0.0
        if grade.manual_score is None:
            grade.needs_manual_grade = answer.answered


def manual_grades(db_url: str, student: str, assignment: str, notebook_id: str) -> list[dict]:
    """Each written answer's points, manual score (None until graded) and comment."""
    from nbgrader.api import Gradebook, MissingEntry


    rows = []
    with Gradebook(db_url, COURSE_ID) as gb:
        try:
            notebook = gb.find_submission_notebook(notebook_id, assignment, student)
        except MissingEntry:
            return []
        comments = {c.name: c.comment for c in notebook.comments}
        for grade in notebook.grades:
            if grade.cell_type != "markdown":
                continue
            score = grade.manual_score if grade.manual_score is not None else grade.auto_score
            rows.append({"grade_id": grade.name, "points": grade.max_score, "score": score,
                         "graded": grade.manual_score is not None or grade.auto_score is not None,
                         "comment": comments.get(grade.name) or ""})
    return sorted(rows, key=lambda r: r["grade_id"])


def export_rows(db: str) -> list[dict]:
    """One row per (student, assignment): score, max score, per-exercise scores, flagged."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(db, COURSE_ID) as gb:
        for assignment in gb.assignments:
            for student in gb.students:
                try:
                    submission = gb.find_submission(assignment.name, student.id)
                except Exception:
                    continue
                row = {"student": student.id, "assignment": assignment.name,
                       "score": round(submission.score, 4), "max_score": submission.max_score,
                       "flagged": any(nb.flagged for nb in submission.notebooks)}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        row[grade.name] = round(grade.score, 4)
                rows.append(row)
    return sorted(rows, key=lambda row: (row["assignment"], row["student"]))


def gradebook_table(results: list) -> str:
    """A plain-text gradebook: one line per student and notebook, one column per exercise."""
    exercise_ids = list(dict.fromkeys(e.exercise_id for r in results for e in r.exercises))
    short = [eid.split("_", 1)[-1] for eid in exercise_ids]  # whole names: no two alike
    widths = [max(8, len(s)) + 1 for s in short]
    header = f"{'student':<20}{'notebook':<14}" + "".join(
        f"{s:>{w}}" for s, w in zip(short, widths)) + f"{'total':>14}  flags"
    lines = [header, "-" * len(header)]
    for r in results:
        scores = {e.exercise_id: e.score for e in r.exercises}
        cells = "".join(f"{scores.get(eid, 0):>{w}.2f}" for eid, w in zip(exercise_ids, widths))
        flags = f"{len(r.flags)} flag(s)" if r.flags else ""
        if r.cell_errors:
            flags += f"{', ' if flags else ''}{len(r.cell_errors)} cell error(s)"
        lines.append(f"{r.student:<20}{Path(r.notebook).stem:<14}{cells}"
                     f"{r.score:>8.2f} / {r.max_score:<3g}  {flags}")
    return "\n".join(lines)


def advisory_lock_key(db_url: str) -> int:
    """The PostgreSQL advisory-lock key of a course gradebook (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"dlcourse-grading\0{COURSE_ID}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def is_postgres(db_url: str | None) -> bool:
    return bool(db_url) and db_url.split(":", 1)[0].split("+", 1)[0] in {"postgresql",
                                                                          "postgres"}


class GradingLock:
    """One grading run per gradebook at a time (a second run waits, saying for whom).

    nbgrader's SQLite gradebook is not safe for concurrent writers, and two runs grading the
    same submission would race on its autograded copy. The file lock serialises runs that
    share a work folder (one machine); with a PostgreSQL gradebook (``db_url``), a session
    advisory lock (``pg_advisory_lock``) also serialises runs on *different* machines. It is
    held on a connection of its own for the whole run and released with it, also when the
    process dies (the server ends the session).
    """

    def __init__(self, path: Path, db_url: str | None = None):
        self.path = path
        self.db_url = db_url if is_postgres(db_url) else None
        self.connection = None

    def __enter__(self) -> "GradingLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.path.open("a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            print(f"waiting for another grading run to finish ({holder}) …", flush=True)
            fcntl.flock(self.handle, fcntl.LOCK_EX)
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()}")
        self.handle.flush()
        if self.db_url:
            try:
                self._lock_postgres()
            except BaseException:
                self.handle.close()
                raise
        return self

    def _lock_postgres(self) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        key = advisory_lock_key(self.db_url)
        engine = create_engine(self.db_url, poolclass=NullPool)
        self.connection = engine.connect()
        got = self.connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        if not got:
            print("waiting for another grading run on this PostgreSQL gradebook to finish "
                  "(another machine or process holds its advisory lock) …", flush=True)
            self.connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        self.connection.commit()

    def __exit__(self, *exc) -> None:
        try:
            if self.connection is not None:
                from sqlalchemy import text

                try:
                    self.connection.execute(text("SELECT pg_advisory_unlock(:k)"),
                                            {"k": advisory_lock_key(self.db_url)})
                    self.connection.commit()
                finally:
                    self.connection.close()
                    self.connection = None
        finally:
            self.handle.close()  # closing releases the lock
