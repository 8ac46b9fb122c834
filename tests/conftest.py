"""Shared test set-up: exercise markers, and a scratch course work folder."""

from __future__ import annotations

import os

# Before NumPy is imported (notebook kernels inherit these too): tests run two at a time on
# two cores, where multi-threaded BLAS on small matrices is many times slower, not faster.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# Notebooks and sandboxes in the tests run in fast mode.
os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from grader.check import all_exercises  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # One marker per exercise id, so `pytest -m w01_softmax` tests one exercise alone;
    # registered from the registry so a new exercise cannot be forgotten (--strict-markers).
    for exercise_id in all_exercises():
        config.addinivalue_line("markers", f"{exercise_id}: tests of exercise {exercise_id}")


def exercise_param(exercise_id: str, *values, label: str = ""):
    """A ``pytest.param`` carrying the exercise's marker."""
    return pytest.param(*values, marks=getattr(pytest.mark, exercise_id),
                        id=f"{exercise_id}-{label}" if label else exercise_id)


@pytest.fixture(scope="session")
def released_work(tmp_path_factory) -> Path:
    """A work folder whose gradebook knows every released assignment."""
    from grader.release import release

    work = tmp_path_factory.mktemp("work")
    release(work=work)
    return work
