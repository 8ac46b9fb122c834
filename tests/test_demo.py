"""The main job: `python -m grader demo` on a fresh work folder."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from grader.config import REPO_ROOT

pytestmark = pytest.mark.slow


def test_demo_class_end_to_end(tmp_path):
    # No wall-clock budget here (a busy CI machine would fail it): the demo's time is a
    # benchmark row, `python -m bench autograde` (bench/bench_autograde.py: bench_demo).
    run = subprocess.run([sys.executable, "-m", "grader", "--work", str(tmp_path), "demo"],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert "timed out" in out and "numpy.allclose" in out and "ended its kernel" in out
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    by_student = {}
    for row in rows:
        by_student.setdefault(row["student"], []).append(row)
    assert {"ada-reference", "ben-untouched", "fay-infinite-loop", "gus-tamperer"} <= set(by_student)
    for row in by_student["ada-reference"]:
        assert float(row["score"]) == float(row["max_score"]) > 0
    for row in by_student["ben-untouched"]:
        assert float(row["score"]) == 0
    assert all(float(r["score"]) == 0 for r in by_student["gus-tamperer"])  # tampering → 0, flagged
    for student in ("cyd-partial", "dee-partial", "eli-partial"):
        # Never full marks in any week; some points somewhere (a week's mix of mutants and
        # stubs may legitimately earn nothing).
        assert all(float(r["score"]) < float(r["max_score"]) for r in by_student[student])
        assert sum(float(r["score"]) for r in by_student[student]) > 0, student
    assert list(tmp_path.glob("feedback/*/*/*.html"))
    # The formgrader lists students by name ("None, None" without them).
    from nbgrader.api import Gradebook

    from grader.nbgrader_setup import COURSE_ID
    from grader.release import db_url

    with Gradebook(db_url(tmp_path), COURSE_ID) as gb:
        names = {s.id: (s.first_name, s.last_name) for s in gb.students}
    assert names["fay-infinite-loop"] == ("Fay", "Infinite loop")
    assert all(first and last for first, last in names.values()), names


def test_demo_of_an_unknown_week_names_the_weeks_and_grades_nothing(tmp_path):
    run = subprocess.run([sys.executable, "-m", "grader", "--work", str(tmp_path), "demo",
                          "week99-nothing"], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 2
    assert "unknown assignment(s): week99-nothing" in run.stderr
    assert "week01-numpy" in run.stderr
    assert not (tmp_path / "grades.csv").exists()
