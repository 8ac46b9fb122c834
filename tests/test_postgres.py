"""The gradebook on PostgreSQL (large classes). CI starts a server with .ci/postgres.sh."""

from __future__ import annotations

import os

import pytest

from grader.autograde import autograde
from grader.cli import export_rows
from grader.demo import write_class
from grader.release import ASSIGNMENTS, release
from grader.sandbox import Limits

URL = os.environ.get("COURSE_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not URL and not os.environ.get("COURSE_REQUIRE_POSTGRES"),
                       reason="no PostgreSQL server: set COURSE_TEST_POSTGRES_URL "
                              "(bash .ci/postgres.sh starts one and prints it)"),
]


def test_release_autograde_and_export_on_postgresql(tmp_path, monkeypatch):
    assert URL, "COURSE_REQUIRE_POSTGRES is set but COURSE_TEST_POSTGRES_URL is not"
    monkeypatch.setenv("COURSE_DB_URL", URL)
    release(["week01-numpy"], work=tmp_path)
    students = write_class("week01-numpy", tmp_path / "submitted")
    for _ in range(2):  # grading twice updates rows, never duplicates them
        results = autograde("week01-numpy", tmp_path / "submitted", tmp_path / "autograded",
                            ASSIGNMENTS, db_url=URL, jobs=2, seed=5, progress=False,
                            limits=Limits(cell_timeout=5))
    assert len(results) == len(students)
    rows = [r for r in export_rows(URL) if r["assignment"] == "week01-numpy"]
    by_student = {r["student"]: r for r in rows}
    assert sorted(by_student) == sorted(students) and len(rows) == len(students)
    assert by_student["ada-reference"]["score"] == by_student["ada-reference"]["max_score"]
    assert by_student["ben-untouched"]["score"] == 0
    assert by_student["gus-tamperer"]["flagged"]
