"""Course-wide settings read from the environment, in one place.

``COURSE_FAST=1`` switches every notebook, loader and training loop to *fast mode*: small
data and few steps, so the whole course executes in CI in minutes. Full mode (the default)
is what a learner runs and what the benchmarks measure.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Repository root when the package runs from a checkout (the usual, editable install).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: The nbgrader course id of the gradebook (here, a leaf module, so that recording grades
#: needs no nbgrader set-up: see grader/gradebook.py).
COURSE_ID = "dlcourse"


def fast_mode() -> bool:
    """True when ``COURSE_FAST`` is set to a true value (``1``, ``true``, ``yes``)."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


def pick(full, fast):
    """Return ``fast`` in fast mode, else ``full`` (e.g. ``epochs = pick(10, 1)``)."""
    return fast if fast_mode() else full


def work_dir() -> Path:
    """The instructor's git-ignored working folder (gradebook, submissions, feedback)."""
    return Path(os.environ.get("COURSE_WORK_DIR", REPO_ROOT / "work"))
