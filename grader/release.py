"""Course layout and the release step: ``solutions/`` (nbgrader source) → ``assignments/``.

``assignments/`` is generated, committed (so a self-study learner can open it straight
away) and never edited by hand: :func:`release` regenerates it with nbgrader, and a test
regenerates it into a scratch folder and fails if the committed copy drifted.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from traitlets.config import Config

from grader.config import REPO_ROOT, work_dir
from grader.nbgrader_setup import COURSE_ID, configure

SOLUTIONS = REPO_ROOT / "solutions"
ASSIGNMENTS = REPO_ROOT / "assignments"


def assignment_ids(root: Path = REPO_ROOT) -> list[str]:
    """Every assignment (``weekNN-slug``) that has an nbgrader source folder, in order."""
    return sorted(p.name for p in (root / "solutions").glob("week*") if p.is_dir())


def notebooks_of(assignment: str, folder: Path = ASSIGNMENTS) -> list[Path]:
    return sorted((folder / assignment).glob("*.ipynb"))


def _ensure_venv_on_path() -> None:
    # nbgrader runs `alembic` as a program to create the gradebook: it must be on PATH even
    # when this interpreter was started without activating its virtual environment.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_config(work: Path | None = None, release_dir: Path | None = None) -> Config:
    """The course's nbgrader configuration, optionally with another work/release folder."""
    _ensure_venv_on_path()
    c = configure(Config(), REPO_ROOT, work or work_dir())
    if release_dir is not None:
        c.CourseDirectory.release_directory = str(Path(release_dir).resolve())
    c.Application.log_level = "WARN"
    return c


def db_url(work: Path | None = None) -> str:
    return nbgrader_config(work).CourseDirectory.db_url


def release(assignments: list[str] | None = None, release_dir: Path | None = None,
            work: Path | None = None) -> list[Path]:
    """Generate the student version of each assignment and register it in the gradebook.

    Args:
        assignments: ids like ``"week01-numpy"``; all of them when ``None``.
        release_dir: where to write (default: ``assignments/``).
        work: working folder holding the gradebook (default: :func:`grader.config.work_dir`).

    Returns:
        The generated notebooks.
    """
    import tempfile

    from nbgrader.apps import NbGraderAPI

    assignments = assignments or assignment_ids()
    out_root = Path(release_dir) if release_dir else ASSIGNMENTS
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        # nbgrader deletes and rewrites its output folder: generate elsewhere, then replace
        # only the notebooks that changed, atomically, so that readers of assignments/ (a
        # learner's Jupyter, a grading run, parallel tests) never see a missing file.
        config = nbgrader_config(work, Path(scratch))
        if config.CourseDirectory.db_url.startswith("sqlite:///"):
            Path(config.CourseDirectory.db_url.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True)
        # nbgrader's local exchange must exist, or the formgrader warns that release and
        # collect are unavailable.
        Path(config.Exchange.root).mkdir(parents=True, exist_ok=True)
        api = NbGraderAPI(config=config)
        for assignment in assignments:
            if not (SOLUTIONS / assignment).is_dir():
                raise FileNotFoundError(f"no nbgrader source folder solutions/{assignment}")
            result = api.generate_assignment(assignment, force=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader could not release {assignment}:\n"
                                   f"{result['log']}\n{result.get('error', '')}")
            for generated in notebooks_of(assignment, Path(scratch)):
                _normalize(generated)
                target = out_root / assignment / generated.name
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists() or target.read_bytes() != generated.read_bytes():
                    staged = target.with_name(f".{target.name}.{os.getpid()}.tmp")
                    shutil.copyfile(generated, staged)
                    os.replace(staged, target)
                written.append(target)
    return written


def _normalize(path: Path) -> None:
    """Strip volatile metadata so that a release is a pure function of its source."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


@dataclass
class ReleaseDrift:
    path: str
    reason: str


def check_release_drift(scratch: Path) -> list[ReleaseDrift]:
    """Regenerate every release into ``scratch`` and list files that differ from ``assignments/``."""
    fresh_root = scratch / "assignments"
    release(release_dir=fresh_root, work=scratch / "work")
    drift = []
    fresh = {p.relative_to(fresh_root) for p in fresh_root.rglob("*.ipynb")}
    committed = {p.relative_to(ASSIGNMENTS) for p in ASSIGNMENTS.rglob("*.ipynb")
                 if ".ipynb_checkpoints" not in p.parts}
    for rel in sorted(fresh | committed):
        if rel not in committed:
            drift.append(ReleaseDrift(str(rel), "missing from assignments/"))
        elif rel not in fresh:
            drift.append(ReleaseDrift(str(rel), "has no source in solutions/"))
        elif (fresh_root / rel).read_text() != (ASSIGNMENTS / rel).read_text():
            drift.append(ReleaseDrift(str(rel), "differs from what solutions/ generates"))
    return drift


__all__ = ["COURSE_ID", "assignment_ids", "notebooks_of", "release", "check_release_drift",
           "nbgrader_config", "db_url"]
