"""The grader survives its own faults: killed or interrupted mid-run, or run twice at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.cli import export_rows
from grader.config import REPO_ROOT
from grader.demo import write_class
from grader.isolation import isolation_level
from grader.release import db_url, release

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    isolation_level() != "full", reason="autograde grades others only with full isolation "
    "(bubblewrap; .ci/run installs it)")]
ASSIGNMENT = "week01-numpy"


@pytest.fixture
def work(tmp_path) -> Path:
    release([ASSIGNMENT], work=tmp_path)
    write_class(ASSIGNMENT, tmp_path / "submitted")
    return tmp_path


def grader_cli(work: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "grader", "--work", str(work), "autograde", ASSIGNMENT,
         "--jobs", "1", "--cell-timeout", "3", "--seed", "11", *args],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def graded_files(work: Path) -> dict[str, float]:
    return {p.parent.parent.name: p.stat().st_mtime
            for p in (work / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")}


def wait_for_first_grade(work: Path, process: subprocess.Popen, timeout: float = 900) -> None:
    """Wait (a liveness guard, not a time budget: generous for a loaded machine)."""
    deadline = time.monotonic() + timeout
    while not graded_files(work):
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "no notebook was graded in time"
        time.sleep(0.05)


def assert_each_student_recorded_once(work: Path) -> None:
    students = sorted(p.name for p in (work / "submitted").iterdir())
    rows = [r for r in export_rows(db_url(work)) if r["assignment"] == ASSIGNMENT]
    assert sorted(r["student"] for r in rows) == students
    assert sorted(graded_files(work)) == students
    reference = next(r for r in rows if r["student"] == "ada-reference")
    # every autograded point; the written answers (5 points) wait for manual grading
    assert reference["score"] == 15 and reference["max_score"] == 20


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_interrupted_run_resumes_and_records_every_grade_once(work, sig):
    first = grader_cli(work)
    wait_for_first_grade(work, first)
    first.send_signal(sig)
    output = first.communicate(timeout=600)[0]
    if sig == signal.SIGINT:
        assert first.returncode == 130 and "--resume" in output, output
    before = graded_files(work)
    assert 0 < len(before) < 8, "the run should have been interrupted part-way"

    second = grader_cli(work, "--resume")
    assert second.wait(timeout=1200) == 0, second.stdout.read()
    after = graded_files(work)
    assert all(after[s] == before[s] for s in before), "resume re-graded finished notebooks"
    assert_each_student_recorded_once(work)


def test_two_runs_at_once_are_serialized(work):
    runs = [grader_cli(work), grader_cli(work)]
    outputs = [run.communicate(timeout=1200)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert any("waiting for another grading run" in out for out in outputs)
    assert_each_student_recorded_once(work)
