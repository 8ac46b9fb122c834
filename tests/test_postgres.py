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
    # every autograded point (15); the written answers (5) wait for manual grading
    assert by_student["ada-reference"]["score"] == 15
    assert by_student["ada-reference"]["max_score"] == 20
    assert by_student["ben-untouched"]["score"] == 0
    assert by_student["gus-tamperer"]["flagged"]


def test_two_grading_runs_on_one_postgresql_gradebook_are_serialised(tmp_path):
    """Two instructors on different machines (here: two work folders, so two file locks)
    share one PostgreSQL gradebook: the advisory lock lets one run at a time."""
    import subprocess
    import sys
    import textwrap
    import time

    from grader.gradebook import GradingLock

    assert URL, "COURSE_REQUIRE_POSTGRES is set but COURSE_TEST_POSTGRES_URL is not"
    holder = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from grader.gradebook import GradingLock
        with GradingLock(Path({str(tmp_path / 'a' / '.grading.lock')!r}), {URL!r}):
            print("locked", flush=True)
            time.sleep(4)
        print("released", flush=True)
    """)
    other = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with GradingLock(tmp_path / "b" / ".grading.lock", URL):  # another machine's folder
            waited = time.monotonic() - started
            assert other.poll() is not None or other.stdout.readline().strip() == "released"
        assert waited > 1.0, "the second run did not wait for the first"
    finally:
        other.kill()
        other.wait()
    with GradingLock(tmp_path / "c" / ".grading.lock", URL):  # released: taken at once
        pass


def test_advisory_lock_is_released_when_a_run_dies(tmp_path):
    import subprocess
    import sys
    import textwrap

    from grader.gradebook import GradingLock

    assert URL, "COURSE_REQUIRE_POSTGRES is set but COURSE_TEST_POSTGRES_URL is not"
    dying = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from grader.gradebook import GradingLock
        with GradingLock(Path({str(tmp_path / 'a' / '.grading.lock')!r}), {URL!r}):
            print("locked", flush=True)
            os._exit(1)  # killed mid-run: the server ends its session and the lock
    """)
    out = subprocess.run([sys.executable, "-c", dying], capture_output=True, text=True,
                         timeout=120)
    assert "locked" in out.stdout, out.stderr
    with GradingLock(tmp_path / "b" / ".grading.lock", URL):
        pass


def test_sqlite_gradebook_takes_no_advisory_lock(tmp_path):
    from grader.gradebook import GradingLock, is_postgres

    assert is_postgres(URL) and not is_postgres(f"sqlite:///{tmp_path}/gradebook.db")
    with GradingLock(tmp_path / ".grading.lock", f"sqlite:///{tmp_path}/g.db") as lock:
        assert lock.connection is None
