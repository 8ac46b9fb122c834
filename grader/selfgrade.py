"""Self-grading for learners who study alone: the instructor's checks, on your own machine.

``python -m grader selfgrade assignments/week01-numpy/`` grades your notebook exactly as the
instructor's ``autograde`` does (:func:`grader.autograde.grade_notebook`: your code runs in a
sandbox, your functions are called on hidden cases from a fresh seed, the scores are decided
outside your code), then

* writes the feedback page next to the notebook (``numerics.ipynb`` → ``numerics.feedback.html``),
* prints one line per exercise, and
* appends the scores to your own records, a small SQLite file (:func:`progress_db`), which
  ``python -m grader progress`` turns into a table and an HTML page with a chart.

Your notebook is only read, never written: it is copied to a scratch folder and graded there.

What the grader trusts is not your notebook but the release regenerated from ``solutions/``
(the same notebook as the committed ``assignments/``, which you are probably editing in
place). A notebook is refused, with what to do instead, when it is not a notebook of this
course, or when its test cells were released from another version of the course (their
nbgrader checksums or ids differ from the current release): scores from another version
would not be comparable.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path

import nbformat

from grader.autograde import (
    NotebookResult,
    ReferenceCache,
    ReleaseNotebook,
    feedback_html,
    grade_notebook,
    write_no_follow,
)
from grader.config import work_dir
from grader.isolation import full_isolation_problem, isolation_level
from grader.nbgrader_ext import SOLUTION_SUFFIX, exercise_of
from grader.release import SOLUTIONS
from grader.sandbox import Limits

#: Environment variable naming the progress database (default: ``<work>/progress.sqlite``).
PROGRESS_DB_ENV = "COURSE_PROGRESS_DB"
#: Suffix of the feedback page written next to a self-graded notebook.
FEEDBACK_SUFFIX = ".feedback.html"

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT    NOT NULL,  -- one self-grade of one notebook
    exercise_id  TEXT    NOT NULL,
    week         INTEGER NOT NULL,
    assignment   TEXT    NOT NULL,
    points       REAL    NOT NULL,
    score        REAL    NOT NULL,
    passed       INTEGER NOT NULL,  -- 1 when the score is the full points
    status       TEXT    NOT NULL,  -- passed | failed | not attempted
    graded_at    TEXT    NOT NULL,  -- ISO 8601, UTC
    notebook     TEXT    NOT NULL,  -- the notebook as it was given
    release_hash TEXT    NOT NULL,  -- sha256 prefix of the release it was graded against
    seed         INTEGER NOT NULL   -- seed of the hidden cases
);
CREATE INDEX IF NOT EXISTS attempts_by_exercise ON attempts (exercise_id, graded_at);
"""


class NotGradable(Exception):
    """The notebook cannot be self-graded; the message says why and what to do instead."""


def progress_db(work: Path | None = None) -> Path:
    """Where the learner's records live: ``$COURSE_PROGRESS_DB``, else ``<work>/progress.sqlite``."""
    from_env = os.environ.get(PROGRESS_DB_ENV, "").strip()
    return Path(from_env) if from_env else (work or work_dir()) / "progress.sqlite"


def week_of(assignment: str) -> int:
    """``"week03-classic-ml"`` → 3."""
    match = re.match(r"week(\d+)", assignment)
    if not match:
        raise ValueError(f"assignment id {assignment!r} does not start with weekNN")
    return int(match.group(1))


# --------------------------------------------------------------------------------------
# Which release does a notebook belong to, and is it the current one?
# --------------------------------------------------------------------------------------
def _exercise_cell_ids(nb: nbformat.NotebookNode) -> set[str]:
    """grade_ids of test cells and solution cells: ids that name one exercise course-wide."""
    ids = set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") and (meta.get("grade") or meta.get("solution")):
            ids.add(meta["grade_id"])
    return ids


def _source_notebooks(solutions: Path) -> list[tuple[str, Path]]:
    """(assignment, nbgrader source notebook) for every week in ``solutions/``."""
    return [(folder.name, path) for folder in sorted(solutions.glob("week*")) if folder.is_dir()
            for path in sorted(folder.glob("*.ipynb"))]


def identify(nb: nbformat.NotebookNode, solutions: Path = SOLUTIONS) -> tuple[str, str]:
    """The (assignment, notebook name) whose exercises this notebook shares most.

    Raises:
        NotGradable: no exercise cell of the notebook belongs to this course.
    """
    ours = _exercise_cell_ids(nb)
    if not ours:
        raise NotGradable(
            "it is not a notebook of this course: it has no nbgrader test or solution cells. "
            "Self-grade the notebook you worked on in assignments/, for example "
            "`python -m grader selfgrade assignments/week01-numpy/`.")
    best, overlap = None, 0
    for assignment, source in _source_notebooks(solutions):
        try:
            shared = len(ours & _exercise_cell_ids(nbformat.read(source, as_version=4)))
        except (OSError, ValueError):  # a week being written right now: not a candidate
            continue
        if shared > overlap:
            best, overlap = (assignment, source.name), shared
    if best is None:
        sample = ", ".join(sorted(ours)[:4])
        raise NotGradable(
            f"its exercises ({sample}, …) belong to no assignment of this copy of the course: "
            "it comes from another course, or from a version of this one with other exercises. "
            "Self-grade a notebook from this checkout's assignments/ folder.")
    return best


def _grade_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """Autograded test cells by grade_id (written answers, markdown, are graded by hand)."""
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in nb.cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
            and cell.get("cell_type") == "code"}


def version_problems(nb: nbformat.NotebookNode, release: ReleaseNotebook) -> list[str]:
    """How the notebook's test cells, as released to it, differ from the current release.

    A test cell carries the checksum nbgrader gave it at release time; editing the cell does
    not change that stored value (the grader then ignores the edits and flags them, as for
    any submission). A stored checksum that differs from the current release's means the cell
    was released with other content or points: the notebook belongs to another version.
    """
    ours = _grade_cells(nb)
    solved = {exercise_of(gid) for gid in _exercise_cell_ids(nb) if gid.endswith(SOLUTION_SUFFIX)}
    problems = []
    for grade_id, cell in ours.items():
        released = release.grade_cells.get(grade_id)
        if released is None:
            problems.append(f"test cell {grade_id} is not part of the current release")
            continue
        stored, current = cell.metadata.nbgrader.get("checksum"), released.metadata.nbgrader["checksum"]
        if stored != current:
            points = cell.metadata.nbgrader.get("points")
            detail = (f"worth {points:g} points in your copy, {release.points(grade_id):g} now"
                      if isinstance(points, (int, float)) and points != release.points(grade_id)
                      else "its check changed since your copy was released")
            problems.append(f"test cell {grade_id} differs from the current release ({detail})")
    for grade_id in release.grade_cells:
        if grade_id not in ours and grade_id not in solved:
            problems.append(f"exercise {grade_id} is not in your copy (added to the course "
                            "after your copy was released)")
    return problems


def _is_nbgrader_source(nb: nbformat.NotebookNode) -> bool:
    cells = _grade_cells(nb).values()
    return any("### BEGIN HIDDEN TESTS" in cell.source or "checksum" not in cell.metadata.nbgrader
               for cell in cells)


@dataclass
class CurrentRelease:
    """The trusted release a notebook is graded against."""

    assignment: str
    notebook: ReleaseNotebook
    digest: str  # sha256 prefix of the release notebook: the course version it belongs to

    @property
    def week(self) -> int:
        return week_of(self.assignment)


#: What a released notebook is generated from, besides its source notebook.
_RELEASE_CODE = ("release.py", "nbgrader_setup.py", "nbgrader_ext.py")


def current_release(assignment: str, notebook: str, work: Path) -> CurrentRelease:
    """The current release of ``notebook``, regenerated from ``solutions/`` with nbgrader.

    Regenerating gives the committed ``assignments/`` content (a test guarantees they agree)
    without trusting the working copy, which is usually the very notebook being graded. The
    result is kept in ``<work>/selfgrade/releases/<key>/``, keyed by everything it is made
    from, so only the first self-grade after a change of the course pays for nbgrader.
    """
    import nbgrader

    from grader.release import release

    key = sha256((SOLUTIONS / assignment / notebook).read_bytes())
    for name in _RELEASE_CODE:
        key.update((Path(__file__).parent / name).read_bytes())
    key.update(nbgrader.__version__.encode())
    cache = work / "selfgrade" / "releases" / key.hexdigest()[:16]
    path = cache / assignment / notebook
    if not path.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(dir=cache.parent))
        try:
            release([assignment], release_dir=fresh, work=work / "selfgrade")
            with contextlib.suppress(OSError):  # another self-grade cached it first
                fresh.rename(cache)  # atomic: a cached release is always complete
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
    return CurrentRelease(assignment, ReleaseNotebook.read(path),
                          sha256(path.read_bytes()).hexdigest()[:12])


def _read_notebook(content: bytes) -> nbformat.NotebookNode:
    try:
        nb = nbformat.reads(content.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as error:
        raise NotGradable(f"it is not a valid notebook ({type(error).__name__}); open it in "
                          "JupyterLab to see what is wrong, or restore it with git") from None
    return nb


def trusted_release_for(nb: nbformat.NotebookNode, work: Path) -> CurrentRelease:
    """The current release this notebook was handed out as; refuse any other notebook."""
    assignment, name = identify(nb)
    current = f"assignments/{assignment}/{name}"
    if _is_nbgrader_source(nb):
        raise NotGradable(
            f"it is the nbgrader source of {assignment} (solutions/: reference solution and "
            f"hidden tests), not a released notebook. Self-grade your copy, {current}.")
    release = current_release(assignment, name, work)
    problems = version_problems(nb, release.notebook)
    if problems:
        raise NotGradable(
            "this notebook was released from another version of the course (older or newer "
            "than this checkout): " + "; ".join(problems) + ". Its score would not be "
            "comparable with this version's. What to do: save your notebook under another "
            f"name, get the current release ({current}; `git checkout -- {current}` restores "
            "it), copy your code into its solution cells and self-grade that notebook.")
    return release


# --------------------------------------------------------------------------------------
# Self-grading
# --------------------------------------------------------------------------------------
@dataclass
class SelfGrade:
    """One self-graded notebook."""

    path: Path
    assignment: str
    week: int
    release_hash: str
    result: NotebookResult
    feedback: Path
    graded_at: str
    run_id: str = field(default_factory=lambda: secrets.token_hex(8))


def exercise_status(exercise) -> str:
    """passed / failed / not attempted for one :class:`grader.autograde.ExerciseScore`."""
    if exercise.report.startswith(f"{exercise.exercise_id}: not attempted"):
        return NOT_ATTEMPTED
    return PASSED if exercise.score >= exercise.points > 0 else FAILED


def notebooks_in(path: Path) -> list[Path]:
    """The notebooks a path names: the file itself, or every notebook directly in a folder."""
    if path.is_dir():
        found = sorted(p for p in path.glob("*.ipynb") if p.is_file())
        if not found:
            raise NotGradable(f"{path} holds no notebook (*.ipynb)")
        return found
    if not path.exists():
        raise NotGradable(f"{path} does not exist")
    if path.suffix != ".ipynb":
        raise NotGradable(f"{path} is not a notebook (*.ipynb)")
    return [path]


def selfgrade(path: Path, db: Path | None = None, work: Path | None = None,
              limits: Limits = Limits(), seed: int | None = None) -> SelfGrade:
    """Grade one notebook with the full checks, write its feedback page and record the scores.

    Args:
        path: the learner's notebook (read only, never written).
        db: the progress database (default: :func:`progress_db`).
        work: the course working folder (default: :func:`grader.config.work_dir`).
        limits: the sandbox's limits (the instructor's defaults).
        seed: seed of the hidden cases (default: a fresh one).

    Raises:
        NotGradable: not a notebook of this course, or from another version of it.
    """
    work = work or work_dir()
    content = path.read_bytes()  # one read: what is graded is exactly what was checked
    nb = _read_notebook(content)
    release = trusted_release_for(nb, work)
    with tempfile.TemporaryDirectory(prefix="selfgrade-") as scratch:
        copy = Path(scratch) / release.notebook.path.name
        copy.write_bytes(content)
        references = ReferenceCache(secrets.randbelow(2**31) if seed is None else seed)
        result, graded = grade_notebook(copy, release.notebook, "self", release.assignment,
                                        references, limits, isolation=isolation_level(),
                                        files_from=path.parent)  # e.g. a milestone's weights
    feedback = path.with_name(path.stem + FEEDBACK_SUFFIX)
    write_no_follow(feedback, feedback_html(graded).encode("utf-8"))  # never through a link
    run = SelfGrade(path, release.assignment, release.week, release.digest, result, feedback,
                    graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    record(run, db or progress_db(work))
    return run


def connect(db: Path) -> sqlite3.Connection:
    db.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(db)
    connection.executescript(_SCHEMA)
    return connection


def record(run: SelfGrade, db: Path) -> None:
    """Append one row per exercise of ``run`` to the progress database."""
    rows = [(run.run_id, e.exercise_id, run.week, run.assignment, e.points, e.score,
             int(exercise_status(e) == PASSED), exercise_status(e), run.graded_at,
             str(run.path), run.release_hash, run.result.seed) for e in run.result.exercises]
    connection = connect(db)
    try:
        with connection:
            connection.executemany(
                "INSERT INTO attempts (run_id, exercise_id, week, assignment, points, score, "
                "passed, status, graded_at, notebook, release_hash, seed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    finally:
        connection.close()


def score_table(run: SelfGrade) -> str:
    """Terminal report of one self-grade: a line per exercise, then what failed and why."""
    result = run.result
    lines = [f"{'exercise':<32}{'score':>10}  result", "-" * 64]
    for e in result.exercises:
        status = exercise_status(e)
        first = e.report.splitlines()[0].split(": ", 1)[-1]
        detail = "" if status == NOT_ATTEMPTED else f" — {first}"
        lines.append(f"{e.exercise_id:<32}{f'{e.score:g} / {e.points:g}':>10}  {status}{detail}")
    lines += ["-" * 64, f"{'total':<32}{f'{result.score:g} / {result.max_score:g}':>10}"]
    failed = [e for e in result.exercises if exercise_status(e) == FAILED]
    if failed:
        lines.append("\nWhat the checks found:")
        lines += [e.report for e in failed]
    if result.flags:
        lines.append("\nFlags:")
        lines += [f"  ⚑ {flag}" for flag in result.flags]
    if result.cell_errors:
        lines.append("\nCells that failed when the grader ran your notebook:")
        lines += [f"  ⚠ {error}" for error in result.cell_errors]
    return "\n".join(lines)


def isolation_note() -> str:
    """One line saying which sandbox graded the notebook (basic is fine for your own work)."""
    if isolation_level() == "full":
        return "sandbox: full isolation (bubblewrap)"
    why = full_isolation_problem() or "COURSE_SANDBOX_ISOLATION=basic"
    return (f"sandbox: basic isolation ({why}): your code ran with your own account, which "
            "is fine for your own notebook; an instructor's autograde needs full isolation")


def cli_selfgrade(paths: list[Path], work: Path, db: Path | None, limits: Limits,
                  seed: int | None) -> int:
    """``python -m grader selfgrade PATH …``: 0 when every notebook was graded, else 1."""
    db = db or progress_db(work)
    refused = 0
    for given in paths:
        try:
            notebooks = notebooks_in(given)
        except NotGradable as error:
            print(f"✗ {error}")
            refused += 1
            continue
        for path in notebooks:
            try:
                run = selfgrade(path, db=db, work=work, limits=limits, seed=seed)
            except NotGradable as error:
                print(f"✗ {path} was not graded: {error}\n")
                refused += 1
                continue
            print(f"Self-grade of {path} ({run.assignment}, release {run.release_hash}, "
                  f"hidden cases from seed {run.result.seed}, {run.result.seconds:.1f} s)")
            print(isolation_note() + "\n")
            print(score_table(run))
            print(f"\nfeedback page   {run.feedback}\nrecorded in     {db}"
                  "\nall weeks       python -m grader progress --html\n")
    return 1 if refused else 0


# --------------------------------------------------------------------------------------
# Progress across weeks
# --------------------------------------------------------------------------------------
@dataclass
class ExerciseProgress:
    exercise_id: str
    points: float
    status: str = NOT_ATTEMPTED
    score: float = 0.0
    graded_at: str | None = None  # of the latest self-grade, ISO 8601 UTC


@dataclass
class WeekProgress:
    week: int
    assignment: str
    exercises: list[ExerciseProgress]

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def last_graded(self) -> str | None:
        return max((e.graded_at for e in self.exercises if e.graded_at), default=None)


def course_plan(solutions: Path = SOLUTIONS) -> list[WeekProgress]:
    """Every week's exercises, none attempted: the test cells of ``solutions/`` in notebook
    order, then any registered exercise no notebook grades yet (under its ``wNN_`` week)."""
    from grader.check import all_exercises

    registry = all_exercises()
    weeks: dict[int, WeekProgress] = {}
    for assignment, source in _source_notebooks(solutions):
        week = weeks.setdefault(week_of(assignment), WeekProgress(week_of(assignment),
                                                                  assignment, []))
        try:
            cells = _grade_cells(nbformat.read(source, as_version=4))
        except (OSError, ValueError):  # a week being written right now: the registry still counts
            continue
        for grade_id, cell in cells.items():
            points = registry[grade_id].points if grade_id in registry \
                else float(cell.metadata.nbgrader.get("points", 0))
            week.exercises.append(ExerciseProgress(grade_id, points))
    listed = {e.exercise_id for week in weeks.values() for e in week.exercises}
    for exercise_id, exercise in registry.items():
        match = re.match(r"w(\d+)_", exercise_id)
        if exercise_id in listed or not match:
            continue
        number = int(match.group(1))
        week = weeks.setdefault(number, WeekProgress(number, f"week{number:02d}", []))
        week.exercises.append(ExerciseProgress(exercise_id, exercise.points))
    return [weeks[number] for number in sorted(weeks) if weeks[number].exercises]


def progress(db: Path, solutions: Path = SOLUTIONS) -> list[WeekProgress]:
    """The course plan with each exercise's latest self-grade from ``db`` filled in."""
    weeks = course_plan(solutions)
    latest: dict[str, tuple] = {}
    if db.exists():
        connection = connect(db)
        try:
            for row in connection.execute(
                    "SELECT exercise_id, score, status, graded_at FROM attempts "
                    "ORDER BY graded_at, id"):
                latest[row[0]] = row  # later rows replace earlier ones
        finally:
            connection.close()
    for week in weeks:
        for exercise in week.exercises:
            if exercise.exercise_id in latest:
                _, exercise.score, exercise.status, exercise.graded_at = latest[exercise.exercise_id]
    return weeks


def _local_time(iso: str | None) -> str:
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M") if iso else "—"


def _week_summary(week: WeekProgress) -> str:
    if week.last_graded is None:
        return NOT_ATTEMPTED
    return f"{week.score:g} / {week.max_score:g}"


def progress_table(weeks: list[WeekProgress]) -> str:
    """Terminal view: one line per exercise, one total per week."""
    exercises = [e for week in weeks for e in week.exercises]
    passed = sum(e.status == PASSED for e in exercises)
    attempted = sum(w.last_graded is not None for w in weeks)
    lines = [f"{passed} of {len(exercises)} exercises passed; {attempted} of {len(weeks)} "
             "weeks self-graded",
             "", f"{'week':<6}{'exercise':<32}{'status':<15}{'score':>10}  last graded",
             "-" * 82]
    for week in weeks:
        for e in week.exercises:
            score = f"{e.score:g} / {e.points:g}" if e.graded_at else f"– / {e.points:g}"
            lines.append(f"{week.week:<6}{e.exercise_id:<32}{e.status:<15}{score:>10}  "
                         f"{_local_time(e.graded_at)}")
        total = f"{week.score:g} / {week.max_score:g}" if week.last_graded else \
            f"– / {week.max_score:g}"
        lines.append(f"{'':<6}{f'week {week.week} ({week.assignment})':<32}{'':<15}"
                     f"{total:>10}  {_local_time(week.last_graded)}")
        lines.append("")
    return "\n".join(lines).rstrip()


def score_chart_png(weeks: list[WeekProgress]) -> bytes:
    """Bar chart of the score per week (% of the week's points, latest self-grades)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(5.0, 0.6 * len(weeks) + 1.5), 3.2), layout="constrained")
    ax = fig.subplots()
    labels = [f"W{week.week:02d}" for week in weeks]
    percent = [100 * week.score / week.max_score if week.max_score else 0.0 for week in weeks]
    colors = ["lightgray" if week.last_graded is None else "tab:green" if p >= 100
              else "tab:orange" for week, p in zip(weeks, percent, strict=True)]
    bars = ax.bar(labels, percent, color=colors)
    for bar, week in zip(bars, weeks, strict=True):
        text = "not attempted" if week.last_graded is None else f"{week.score:g}/{week.max_score:g}"
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 3), textcoords="offset points", ha="center", fontsize=7,
                    rotation=90 if week.last_graded is None else 0, va="bottom")
    ax.set_ylim(0, 130)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_ylabel("score (% of the week's points)")
    ax.set_title("Score per week (latest self-grades)", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def progress_html(weeks: list[WeekProgress], db: Path) -> str:
    """A self-contained page: the chart (PNG inlined as base64) and a table per week."""
    chart = base64.b64encode(score_chart_png(weeks)).decode("ascii")
    colors = {PASSED: "#d4edda", FAILED: "#fde2c8", NOT_ATTEMPTED: "#eeeeee"}
    sections = []
    for week in weeks:
        rows = "".join(
            f"<tr style='background:{colors.get(e.status, '#fff')}'>"
            f"<td><code>{html.escape(e.exercise_id)}</code></td><td>{html.escape(e.status)}</td>"
            f"<td>{(f'{e.score:g}' if e.graded_at else '–')} / {e.points:g}</td>"
            f"<td>{_local_time(e.graded_at)}</td></tr>" for e in week.exercises)
        sections.append(
            f"<h2>Week {week.week} — {html.escape(week.assignment)}: "
            f"{html.escape(_week_summary(week))}</h2>"
            f"<p>Last graded: {_local_time(week.last_graded)}</p>"
            "<table><tr><th>exercise</th><th>status</th><th>score</th><th>last graded</th></tr>"
            f"{rows}</table>")
    exercises = [e for week in weeks for e in week.exercises]
    passed = sum(e.status == PASSED for e in exercises)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>My progress</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
        "</style></head><body><h1>My progress</h1>"
        f"<p>{passed} of {len(exercises)} exercises passed. Latest self-grade of each exercise, "
        f"from {html.escape(str(db))}; generated {_local_time(datetime.now(timezone.utc).isoformat())}."
        "</p>"
        f"<img alt='score per week' src='data:image/png;base64,{chart}'>"
        + "".join(sections) + "</body></html>")


def cli_progress(work: Path, db: Path | None, html_path: str | Path | None) -> int:
    """``python -m grader progress [--html [PATH]]``: ``html_path=""`` means the default,
    ``<work>/progress.html``; ``None`` writes no page."""
    db = db or progress_db(work)
    if html_path is not None:
        html_path = Path(html_path) if str(html_path) else work / "progress.html"
    weeks = progress(db)
    if not db.exists():
        print(f"No self-grades recorded yet in {db}: run `python -m grader selfgrade "
              "assignments/<week>/` first.\n")
    print(progress_table(weeks))
    if html_path is not None:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(progress_html(weeks, db), encoding="utf-8")
        print(f"\nwrote {html_path}")
    return 0


__all__ = ["FAILED", "NOT_ATTEMPTED", "PASSED", "NotGradable", "SelfGrade", "cli_progress",
           "cli_selfgrade", "course_plan", "exercise_status", "identify", "progress",
           "progress_db", "progress_html", "progress_table", "score_table", "selfgrade",
           "version_problems"]
