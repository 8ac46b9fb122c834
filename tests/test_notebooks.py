"""Every course notebook executes top to bottom in fast mode (COURSE_FAST=1)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader.config import REPO_ROOT

pytestmark = pytest.mark.slow

LECTURES = sorted((REPO_ROOT / "course").glob("*.ipynb"))
SOLUTIONS = sorted((REPO_ROOT / "solutions").glob("week*/*.ipynb"))
RELEASES = sorted((REPO_ROOT / "assignments").glob("week*/*.ipynb"))


def execute(path: Path, allow_errors: bool = False) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_FAST"] = "1"
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def rel(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


@pytest.mark.parametrize("path", LECTURES, ids=rel)
def test_lecture_executes(path):
    execute(path)


@pytest.mark.parametrize("path", SOLUTIONS, ids=rel)
def test_solution_passes_public_and_hidden_checks(path):
    nb = execute(path)
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.outputs)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
              and c.cell_type == "code"]  # written answers (markdown) are graded by hand
    # Each test cell runs its public and its hidden check: two ✓ lines per cell.
    assert outputs.count("✓ ") == 2 * len(graded)


@pytest.mark.parametrize("path", RELEASES, ids=rel)
def test_untouched_release_fails_every_public_check_with_a_hint(path):
    nb = execute(path, allow_errors=True)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors, f"{meta['grade_id']}: the public check passed on the untouched release"
        assert errors[0].ename == "CheckFailed"
        assert "not attempted" in errors[0].evalue and meta["grade_id"] in errors[0].evalue
