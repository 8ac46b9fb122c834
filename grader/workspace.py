"""The learner's own copy of the assignments: ``python -m grader workspace [DIR]``.

Learners write in a copy (default ``mywork/``, git-ignored) instead of the tracked
``assignments/``: the checkout stays clean, ``git pull`` brings course updates, and running
the command again adds the weeks released since without ever overwriting a notebook the
learner already has.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from grader.config import REPO_ROOT

DEFAULT_WORKSPACE = "mywork"


@dataclass
class WorkspaceReport:
    root: Path
    copied: list[str] = field(default_factory=list)  # new notebooks (relative to root)
    kept: list[str] = field(default_factory=list)  # the learner's existing notebooks


def make_workspace(target: Path | None = None, assignments: Path | None = None) -> WorkspaceReport:
    """Copy every released notebook into ``target`` unless the learner already has it.

    Args:
        target: the learner's folder (default: ``mywork/`` in the checkout).
        assignments: the released assignments (default: the checkout's ``assignments/``).
    """
    source = Path(assignments or REPO_ROOT / "assignments")
    root = Path(target or REPO_ROOT / DEFAULT_WORKSPACE)
    report = WorkspaceReport(root)
    for notebook in sorted(source.glob("week*/*.ipynb")):
        rel = notebook.relative_to(source)
        destination = root / rel
        if destination.exists():
            report.kept.append(str(rel))
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        staged = destination.with_name(f".{destination.name}.part")
        shutil.copyfile(notebook, staged)
        staged.replace(destination)  # never a half-written notebook
        report.copied.append(str(rel))
    return report


def cli_workspace(target: Path | None = None) -> int:
    report = make_workspace(target)
    root = report.root
    try:
        shown = root.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = root
    for rel in report.copied:
        print(f"copied  {shown / rel}")
    for rel in report.kept:
        print(f"kept    {shown / rel} (yours: not overwritten)")
    print(f"{len(report.copied)} notebook(s) copied, {len(report.kept)} kept. Work in {shown}/; "
          f"grade yourself with `make selfgrade NB={shown}/<week>/`.")
    return 0
