"""Trusted autograding: sandboxed execution, scores decided outside the learner's code.

For each submitted notebook:

1. **Inspect** it against the release: invalid JSON, missing notebook, deleted, duplicated
   (nbgrader #1083) or edited test cells (checksums) are reported per submission.
2. **Execute** its code cells, test cells excluded, in a :class:`grader.sandbox.Sandbox`
   with a per-cell timeout and a memory limit. A cell that hangs or kills its kernel is
   skipped and the kernel restarted: only what depends on that cell is lost.
3. **Score** each exercise here, in the trusted process: the learner's function is called in
   the sandbox on hidden cases drawn from a per-run seed; only the outputs come back and are
   compared with the reference kernels. Nothing the learner's code prints, suppresses or
   redefines can change a score (nbgrader #427 and the "no error output = pass" rule).
4. **Record** the scores in nbgrader's gradebook (so the formgrader shows them), write an
   autograded copy of the notebook (test cells as released, with the check reports as their
   output: hidden tests never appear, #917/#1363) and, on request, feedback HTML.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import signal
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import nbformat
from nbgrader.utils import compute_checksum

from grader.check import CheckResult, Exercise, get_exercise, reference_outputs, run_cases
from grader.sandbox import (Limits, ProtocolViolation, Sandbox, SandboxDied, SandboxError,
                            SandboxTimeout, kill_all_sandboxes)

GRADING_METADATA_KEY = "dlcourse_grading"


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
@dataclass
class ExerciseScore:
    exercise_id: str
    points: float
    score: float
    report: str


@dataclass
class NotebookResult:
    """The grade of one notebook of one student's submission."""

    student: str
    assignment: str
    notebook: str
    exercises: list[ExerciseScore] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    cell_errors: list[str] = field(default_factory=list)
    seed: int = 0
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises)


# --------------------------------------------------------------------------------------
# Step 1: inspect the submission against the release
# --------------------------------------------------------------------------------------
@dataclass
class ReleaseNotebook:
    """What the grader trusts about a released notebook: its test cells."""

    path: Path
    grade_cells: dict[str, nbformat.NotebookNode]  # grade_id -> released test cell

    @classmethod
    def read(cls, path: Path) -> "ReleaseNotebook":
        nb = nbformat.read(path, as_version=4)
        cells = {}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                cells[meta["grade_id"]] = cell
        return cls(path, cells)

    @property
    def test_sources(self) -> set[str]:
        return {cell.source for cell in self.grade_cells.values()}

    def points(self, grade_id: str) -> float:
        return float(self.grade_cells[grade_id].metadata["nbgrader"]["points"])


def inspect_cells(nb: nbformat.NotebookNode, release: ReleaseNotebook
                  ) -> tuple[list[str], dict[str, str]]:
    """Check the submission's test cells against the release's (nbgrader checksums).

    Returns:
        ``(flags, voided)``: messages for the instructor and the learner, and the exercises
        whose test cell was deleted or edited (scored 0: the learner changed what is graded),
        with the reason. A duplicated cell (a copy, nbgrader #1083) is reported, not voided.
    """
    flags: list[str] = []
    voided: dict[str, str] = {}
    seen: dict[str, list[nbformat.NotebookNode]] = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            seen.setdefault(grade_id, []).append(cell)
    for grade_id, released in release.grade_cells.items():
        copies = seen.get(grade_id, [])
        if not copies:
            voided[grade_id] = (f"test cell {grade_id} is missing (deleted, or its metadata "
                                "was removed)")
            continue
        if len(copies) > 1:
            flags.append(f"grade_id {grade_id} appears in {len(copies)} cells (a copied "
                         "cell?); graded once, with the grader's own checks")
        for copy in copies:
            try:
                edited = (copy.source != released.source
                          or compute_checksum(copy) != released.metadata.nbgrader["checksum"])
            except (KeyError, ValueError, TypeError):
                edited = True
            if edited:
                voided[grade_id] = f"test cell {grade_id} was edited (its checksum changed)"
                break
    flags += [f"{reason}: 0 points for {grade_id}" for grade_id, reason in voided.items()]
    return flags, voided


def cells_to_run(nb: nbformat.NotebookNode, release: ReleaseNotebook) -> list[tuple[int, str]]:
    """The learner's code cells in order: every code cell that is not a test cell."""
    tests = release.test_sources
    runnable = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") or meta.get("grade_id") in release.grade_cells:
            continue
        if cell.source in tests:
            continue
        runnable.append((index, cell.source))
    return runnable


# --------------------------------------------------------------------------------------
# Step 2 and 3: execute in the sandbox, score outside it
# --------------------------------------------------------------------------------------
class NotebookRunner:
    """Executes a notebook's cells in a sandbox and can restore its state after a crash."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.replay: list[str] = []  # cells that ran without hanging or killing the kernel
        self.errors: list[str] = []  # every failing cell, for the feedback
        self.faults: list[str] = []  # hangs and kernel deaths, flagged for the instructor
        self.violations: list[str] = []  # garbled protocol: treated as tampering

    def run(self, cells: Iterable[tuple[int, str]]) -> None:
        for index, source in cells:
            outcome = self.sandbox.run_cell(source)
            if outcome.violation:
                self.violations.append(f"cell {index + 1}: {outcome.error}")
            if outcome.timed_out or outcome.died:
                self.errors.append(f"cell {index + 1}: {outcome.error}; skipped")
                self.faults.append(f"cell {index + 1}: {outcome.error}")
                self.recover()
                continue
            if not outcome.ok and outcome.error:
                self.errors.append(f"cell {index + 1}: {outcome.error}")
            self.replay.append(source)

    def recover(self) -> None:
        """Restart the kernel and replay the cells that had run."""
        self.sandbox.restart()
        for source in self.replay:
            outcome = self.sandbox.run_cell(source)
            if outcome.timed_out or outcome.died:  # not deterministic: give up on state
                self.sandbox.restart()
                break


def remote_function(runner: NotebookRunner, exercise: Exercise) -> Callable:
    """A stand-in for the learner's function that calls it inside the sandbox."""
    failure: list[str] = []
    timeout = runner.sandbox.limits.call_timeout or exercise.timeout

    def call(*args, **kwargs):
        if failure:
            raise SandboxError(f"skipped: {failure[0]}")
        try:
            return runner.sandbox.call(exercise.function, args, kwargs, timeout,
                                       exercise.framework)
        except (SandboxTimeout, SandboxDied) as error:
            runner.faults.append(f"{exercise.function}(): {error}")
            if isinstance(error, ProtocolViolation):
                runner.violations.append(f"{exercise.function}(): {error}")
            failure.append(f"an earlier case {error}" if isinstance(error, SandboxTimeout)
                           else f"an earlier case: {error}")
            runner.recover()
            raise SandboxError(str(error)) from None

    return call


class ReferenceCache:
    """Hidden cases and reference outputs, computed once per exercise per run."""

    def __init__(self, seed: int):
        self.seed = seed
        self._cache: dict[str, tuple] = {}

    def get(self, exercise: Exercise) -> tuple:
        if exercise.id not in self._cache:
            cases = exercise.cases(self.seed, hidden=True)
            self._cache[exercise.id] = (cases, reference_outputs(exercise, cases))
        return self._cache[exercise.id]


def grade_notebook(path: Path, release: ReleaseNotebook, student: str, assignment: str,
                   references: ReferenceCache, limits: Limits = Limits(),
                   zero_on_tampering: bool = True
                   ) -> tuple[NotebookResult, nbformat.NotebookNode | None]:
    """Grade one submitted notebook; return its result and the autograded notebook.

    Tampering (replacing ``np.allclose``, ``check``, ``sys.modules`` entries …, or opening
    the course's protected files) scores 0 and is flagged for the instructor to review;
    ``zero_on_tampering=False`` only flags it. Other suspicious actions (network, processes,
    signals) are flagged; they cannot succeed in the sandbox anyway.
    """
    start = time.monotonic()
    result = NotebookResult(student, assignment, release.path.name, seed=references.seed)

    def zero_all(reason: str) -> None:
        result.flags.append(reason)
        result.exercises = [ExerciseScore(gid, release.points(gid), 0.0, f"{gid}: 0 — {reason}")
                            for gid in release.grade_cells]

    if not path.exists():
        others = sorted(p.name for p in path.parent.glob("*.ipynb")) if path.parent.exists() else []
        hint = f"; found {', '.join(others)} instead (renamed?)" if others else ""
        zero_all(f"notebook {release.path.name} was not submitted{hint}")
        return result, None
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # invalid JSON or not a notebook
        zero_all(f"{path.name} is not a valid notebook ({type(error).__name__}); "
                 "nothing could be graded")
        return result, None

    cell_flags, voided = inspect_cells(nb, release)
    result.flags += cell_flags
    with Sandbox(limits) as sandbox:
        runner = NotebookRunner(sandbox)
        runner.run(cells_to_run(nb, release))
        result.cell_errors = runner.errors
        for grade_id in release.grade_cells:
            if grade_id in voided:
                result.exercises.append(ExerciseScore(
                    grade_id, release.points(grade_id), 0.0,
                    f"{grade_id}: 0 — {voided[grade_id]}; restore the cell from the release"))
            else:
                result.exercises.append(_score_exercise(grade_id, release, runner, references))
        tampered, events = sandbox.inspect()  # after the calls: they run learner code too
    result.flags += [f"fault: {fault}" for fault in runner.faults]
    tampering = list(runner.violations)
    if tampered:
        tampering.append("replaced grading-related objects: " + ", ".join(tampered))
    is_tampering = lambda e: e.startswith(("opened a protected path", "tried to import"))  # noqa: E731
    tampering += [e for e in events if is_tampering(e)]
    result.flags += [f"suspicious: {e}" for e in events if not is_tampering(e)]
    if tampering:
        reason = "tampering detected (" + "; ".join(tampering) + ")"
        result.flags.append(reason + ": score set to 0 for review")
        if zero_on_tampering:
            result.exercises = [ExerciseScore(e.exercise_id, e.points, 0.0,
                                              f"{e.exercise_id}: 0 — {reason}")
                                for e in result.exercises]
    result.seconds = time.monotonic() - start
    return result, autograded_notebook(nb, release, result)


def _score_exercise(grade_id: str, release: ReleaseNotebook, runner: NotebookRunner,
                    references: ReferenceCache) -> ExerciseScore:
    points = release.points(grade_id)
    try:
        exercise = get_exercise(grade_id)
    except KeyError:
        return ExerciseScore(grade_id, points, 0.0,
                             f"{grade_id}: no check is registered for this test cell "
                             "(course error: tell your instructor)")
    cases, expected = references.get(exercise)
    check: CheckResult = run_cases(exercise, remote_function(runner, exercise), cases, expected)
    return ExerciseScore(grade_id, points, round(points * check.fraction, 4),
                         check.report(exercise.hint))


# --------------------------------------------------------------------------------------
# Step 4: autograded notebook, gradebook, feedback
# --------------------------------------------------------------------------------------
def autograded_notebook(nb: nbformat.NotebookNode, release: ReleaseNotebook,
                        result: NotebookResult) -> nbformat.NotebookNode:
    """The submission with released test cells whose output is the grader's report."""
    graded = nbformat.from_dict(json.loads(json.dumps(nb)))
    reports = {e.exercise_id: e for e in result.exercises}
    for cell in graded.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in release.grade_cells:
            cell.source = release.grade_cells[grade_id].source
            score = reports[grade_id]
            text = f"[{score.score:g} / {score.points:g} points]\n{score.report}\n"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    graded.metadata[GRADING_METADATA_KEY] = {
        "score": result.score, "max_score": result.max_score, "seed": result.seed,
        "flags": result.flags, "cell_errors": result.cell_errors,
        "exercises": [asdict(e) for e in result.exercises],
        "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return graded


def submitted_timestamp(submission: Path) -> datetime | None:
    """When a submission folder was handed in, as nbgrader reads it: its ``timestamp.txt``
    (written by ``nbgrader collect`` and ``zip_collect``), or None without one."""
    from nbgrader.utils import parse_utc

    stamp = submission / "timestamp.txt"
    return parse_utc(stamp.read_text().strip()) if stamp.is_file() else None


def record(results: list[NotebookResult], db_url: str, submitted_dir: Path | None = None) -> None:
    """Write scores into nbgrader's gradebook; re-grading updates rows, never duplicates.

    Rows are written as nbgrader's own autograder writes them, so that the formgrader shows
    the submissions as graded: the submission's timestamp is the one of its folder in
    ``submitted_dir`` (the formgrader says "needs autograding" when they differ) and every
    auto-graded cell is marked as needing no manual grade.
    """
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    from grader.nbgrader_setup import COURSE_ID

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
            submitted = gb.find_submission_notebook(notebook_id, result.assignment,
                                                    result.student)
            submitted.flagged = bool(result.flags)
            gb.db.commit()


def feedback_html(graded: nbformat.NotebookNode) -> str:
    """Render an autograded notebook as a self-contained feedback page."""
    from nbconvert import HTMLExporter

    info = graded.metadata.get(GRADING_METADATA_KEY, {})
    rows = "".join(
        f"<tr><td><code>{html.escape(e['exercise_id'])}</code></td>"
        f"<td>{e['score']:g} / {e['points']:g}</td>"
        f"<td><pre>{html.escape(e['report'])}</pre></td></tr>"
        for e in info.get("exercises", []))
    flags = "".join(f"<li>{html.escape(flag)}</li>" for flag in info.get("flags", []))
    errors = "".join(f"<li>{html.escape(err)}</li>" for err in info.get("cell_errors", []))
    summary = (
        f"<h1>Score: {info.get('score', 0):g} / {info.get('max_score', 0):g}</h1>"
        f"<p>Graded {html.escape(str(info.get('graded_at', '')))} with hidden cases from seed "
        f"{info.get('seed', '')}.</p>"
        f"<table border='1' cellpadding='4'><tr><th>exercise</th><th>points</th>"
        f"<th>what the checks found</th></tr>{rows}</table>"
        + (f"<h2>Flags</h2><ul>{flags}</ul>" if flags else "")
        + (f"<h2>Cells that failed when the grader ran your notebook</h2><ul>{errors}</ul>"
           if errors else ""))
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(graded)
    return body.replace("<body", "<body data-feedback='1'", 1).replace(
        "<main>", f"<main><div class='feedback-summary'>{summary}</div>", 1)


# --------------------------------------------------------------------------------------
# A whole class
# --------------------------------------------------------------------------------------
def submitted_students(submitted_dir: Path, assignment: str) -> list[str]:
    return sorted(p.name for p in submitted_dir.iterdir()
                  if p.is_dir() and (p / assignment).is_dir()) if submitted_dir.exists() else []


class GradingLock:
    """One grading run per work folder at a time (a second run waits, saying for whom).

    nbgrader's SQLite gradebook is not safe for concurrent writers, and two runs grading the
    same submission would race on its autograded copy.
    """

    def __init__(self, path: Path):
        self.path = path

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
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()  # closing releases the lock


def _write_atomically(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)


def already_graded(submission: Path, graded: Path) -> bool:
    """True when ``graded`` exists and is newer than ``submission`` (for ``resume``)."""
    if not graded.exists():
        return False
    return not submission.exists() or graded.stat().st_mtime >= submission.stat().st_mtime


@contextmanager
def _ctrl_c_as_flag():
    """Turn Ctrl-C (SIGINT) into an event the grading loop checks between results.

    Python raises KeyboardInterrupt wherever the main thread happens to be, and when that
    is a finalizer (``__del__``) the exception is printed and dropped: the run would go on
    as if nothing happened. Checked in one place instead, a Ctrl-C always stops the run
    after the results already finished are recorded. (Only the main thread can set a
    signal handler; elsewhere the event is never set and Ctrl-C behaves as usual.)
    """
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def autograde(assignment: str | list[str], submitted_dir: Path, autograded_dir: Path,
              release_dir: Path, db_url: str | None = None, students: list[str] | None = None,
              jobs: int = 2, limits: Limits = Limits(), seed: int | None = None,
              progress: bool = True, resume: bool = False,
              lock_path: Path | None = None) -> list[NotebookResult]:
    """Grade every submission of one or more assignments in parallel and record the scores.

    Each (student, notebook) runs in its own sandbox; a submission that hangs or crashes
    costs only its own points. Several assignments share one pool of workers, so no worker
    idles at an assignment boundary. Each result is recorded in the gradebook as soon as it
    is ready, *then* its autograded copy is written (atomically): after an interruption
    (Ctrl-C, or the grader killed), ``resume=True`` skips exactly the notebooks whose
    autograded copy exists, and grading again replaces rows instead of adding them.
    """
    from tqdm.auto import tqdm

    assignments = [assignment] if isinstance(assignment, str) else list(assignment)
    seed = secrets.randbelow(2**31) if seed is None else seed
    references = ReferenceCache(seed)
    releases: dict[str, list[ReleaseNotebook]] = {}
    for name in assignments:
        releases[name] = [ReleaseNotebook.read(p)
                          for p in sorted((release_dir / name).glob("*.ipynb"))]
        if not releases[name]:
            raise FileNotFoundError(f"no released notebooks in {release_dir / name}")
        for release in releases[name]:  # reference outputs once, up front, in this process
            for grade_id in release.grade_cells:
                try:
                    references.get(get_exercise(grade_id))
                except KeyError:
                    pass
    with GradingLock(lock_path or autograded_dir.parent / ".grading.lock"):
        todo = []
        for name in assignments:
            for student in (students if students is not None
                            else submitted_students(submitted_dir, name)):
                for release in releases[name]:
                    submission = submitted_dir / student / name / release.path.name
                    graded = autograded_dir / student / name / release.path.name
                    if not (resume and already_graded(submission, graded)):
                        todo.append((student, name, release, submission, graded))
        results: list[NotebookResult] = []
        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        bar = tqdm(total=len(todo), desc=f"autograde {', '.join(assignments)}"[:60],
                   unit="notebook", disable=not progress)
        futures = {pool.submit(grade_notebook, submission, release, student, name,
                               references, limits): graded
                   for student, name, release, submission, graded in todo}
        try:
            with _ctrl_c_as_flag() as interrupted:
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        result, graded_nb = future.result()
                        if db_url:
                            record([result], db_url, submitted_dir)
                        if graded_nb is not None:
                            _write_atomically(graded_nb, futures[future])
                        results.append(result)
                        bar.set_postfix_str(f"{result.student}: "
                                            f"{result.score:g}/{result.max_score:g}")
                        bar.update()
                    if interrupted.is_set():
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            kill_all_sandboxes()
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
            print(f"\ninterrupted: {len(results)} of {len(todo)} notebooks graded and recorded; "
                  "run again with --resume to grade the rest", flush=True)
            raise
        pool.shutdown(wait=True)
        bar.close()
    return sorted(results, key=lambda r: (r.assignment, r.student, r.notebook))


def write_feedback(assignment: str, autograded_dir: Path, feedback_dir: Path,
                   submitted_dir: Path | None = None,
                   students: list[str] | None = None) -> list[Path]:
    """Feedback HTML for every autograded notebook of ``assignment``.

    Only ``students`` when given. Beside each student's pages go the submission's
    ``timestamp.txt`` and ``submission_secret.txt`` (``submitted_dir``, default: the
    ``submitted`` folder beside ``autograded_dir``): ``nbgrader release_feedback`` reads both
    to name the released page after the student's own submission. A submission without a secret (written straight into
    ``submitted/``, as the demo does) gets a fresh one, so releasing never fails.
    """
    submitted_dir = submitted_dir or autograded_dir.parent / "submitted"
    written = []
    for graded_path in sorted(autograded_dir.glob(f"*/{assignment}/*.ipynb")):
        student = graded_path.parent.parent.name
        if students is not None and student not in students:
            continue
        out = feedback_dir / student / assignment / graded_path.with_suffix(".html").name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(feedback_html(nbformat.read(graded_path, as_version=4)))
        submission = submitted_dir / student / assignment
        for name in ("timestamp.txt", "submission_secret.txt"):
            source = submission / name
            if source.is_file():
                (out.parent / name).write_text(source.read_text())
            elif not (out.parent / name).is_file():
                (out.parent / name).write_text(
                    datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
                    if name == "timestamp.txt" else secrets.token_hex(16))
        written.append(out)
    return written
