"""The learner's own copy (``python -m grader workspace``): copies the releases, never
overwrites a learner's notebook, adds new weeks, is git-ignored, and self-grades."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from grader.config import REPO_ROOT
from grader.release import ASSIGNMENTS
from grader.workspace import make_workspace

RELEASED = sorted(str(p.relative_to(ASSIGNMENTS)) for p in ASSIGNMENTS.glob("week*/*.ipynb"))


def test_copies_every_release_then_keeps_the_learners_notebooks(tmp_path):
    mine = tmp_path / "mywork"
    first = make_workspace(mine)
    assert sorted(first.copied) == RELEASED and first.kept == []
    notebook = mine / "week01-numpy" / "numerics.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[0].source += "\n\nmy notes"
    nbformat.write(nb, notebook)
    (mine / "week02-linear-models").rename(tmp_path / "gone")  # a week not yet copied
    second = make_workspace(mine)
    assert "week01-numpy/numerics.ipynb" in second.kept
    assert all(rel.startswith("week02-") for rel in second.copied) and second.copied
    assert "my notes" in notebook.read_text()  # never overwritten
    assert not list(mine.rglob(".*.part"))


def test_cli_says_what_was_copied_and_kept(tmp_path):
    command = [sys.executable, "-m", "grader", "workspace", str(tmp_path / "w")]
    run = lambda: subprocess.run(command, capture_output=True, text=True, timeout=120,  # noqa: E731
                                 cwd=tmp_path)
    first = run()
    assert first.returncode == 0 and "copied" in first.stdout
    second = run()
    assert f"0 notebook(s) copied, {len(RELEASED)} kept" in second.stdout
    assert "not overwritten" in second.stdout


def test_default_workspace_is_git_ignored():
    result = subprocess.run(["git", "check-ignore", "-q", "mywork/week01-numpy/numerics.ipynb"],
                            cwd=REPO_ROOT)
    assert result.returncode == 0, "mywork/ must be git-ignored"


@pytest.mark.slow
def test_selfgrade_works_on_the_learners_copy(tmp_path):
    from grader.selfgrade import selfgrade
    from grader.sandbox import Limits

    make_workspace(tmp_path / "mywork")
    copy = tmp_path / "mywork" / "week01-numpy" / "numerics.ipynb"
    run = selfgrade(copy, db=tmp_path / "progress.sqlite", work=tmp_path / "work",
                    limits=Limits(cell_timeout=5, call_timeout=3, memory_mb=2048), seed=1)
    assert run.assignment == "week01-numpy" and run.result.score == 0  # untouched copy
    assert run.feedback.exists() and run.feedback.parent == copy.parent
