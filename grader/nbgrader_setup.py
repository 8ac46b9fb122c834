"""The course's nbgrader settings, shared by ``nbgrader_config.py`` and the Python API."""

from __future__ import annotations

import os
from pathlib import Path

from traitlets.config import Config

from grader.config import COURSE_ID  # noqa: E402,F401 (re-exported)

#: The course's nbconvert templates: ``course_feedback`` (the feedback pages) and
#: ``course_formgrade`` (nbgrader's formgrade page), both without a CDN script.
# The pages (feedback, MathJax) live in grader.pages, which imports no pipeline module:
# autograde renders feedback without importing this module (no import cycle).
from grader.pages import (TEMPLATES, clean_rendered_html, feedback_exporter,  # noqa: E402,F401
                          local_mathjax)


def configure(c: Config, root: str | os.PathLike, work: str | os.PathLike | None = None) -> Config:
    """Fill ``c`` with the course layout rooted at ``root`` (work folder: ``root/work``)."""
    from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme,
                                        ClearOutput, ComputeChecksums, IncludeHeaderFooter,
                                        InstantiateTests, LockCells, SaveCells)

    from grader.nbgrader_ext import (ExerciseStubs, route_formgrader_autograde,
                                     route_formgrader_feedback)

    root = Path(root).resolve()
    work = Path(work or os.environ.get("COURSE_WORK_DIR", root / "work")).resolve()
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = "solutions"
    c.CourseDirectory.release_directory = "assignments"
    # nbgrader joins these names onto root; absolute paths keep them in the work folder.
    c.CourseDirectory.submitted_directory = str(work / "submitted")
    c.CourseDirectory.autograded_directory = str(work / "autograded")
    c.CourseDirectory.feedback_directory = str(work / "feedback")
    c.CourseDirectory.solution_directory = str(work / "source_solution")
    # SQLite by default; COURSE_DB_URL selects another database (e.g. PostgreSQL for large
    # classes: postgresql+psycopg2://user@host:port/gradebook).
    c.CourseDirectory.db_url = os.environ.get("COURSE_DB_URL") or f"sqlite:///{work / 'gradebook.db'}"
    # The exchange students fetch from and submit to. On a shared machine (a JupyterHub, see
    # `python -m grader hub`) every user must reach it: COURSE_EXCHANGE_ROOT names such a
    # folder (nbgrader makes it world-writable, its inbound/ 2733); by default it is private.
    c.Exchange.root = os.environ.get("COURSE_EXCHANGE_ROOT") or str(work / "exchange")
    c.Exchange.path_includes_course = True
    c.ClearSolutions.code_stub = {"python": 'raise NotImplementedError()'}
    c.GenerateAssignment.preprocessors = [
        IncludeHeaderFooter, InstantiateTests, LockCells, ExerciseStubs, ClearOutput,
        CheckCellMetadata, ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme,
        ComputeChecksums, CheckCellMetadata,
    ]
    # Release notebooks are deterministic functions of the sources (drift-checked in tests).
    c.ClearMetadataPreprocessor.enabled = True
    route_formgrader_autograde()  # the formgrader's Autograde button grades in the sandbox
    route_formgrader_feedback()  # Generate Feedback writes the course's feedback pages
    route_formgrader_mathjax()  # its pages load MathJax from the server, not a CDN
    return c


def formgrade_exporter(config: Config | None = None):
    """The formgrader's exporter (nbgrader's ``formgrade`` page) with MathJax from the server."""
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    return HTMLExporter(config=config or Config(), template_name="course_formgrade",
                        extra_template_basedirs=[str(TEMPLATES), handlers.template_path],
                        extra_template_paths=[handlers.template_path])


def route_formgrader_mathjax() -> None:
    """Make the formgrader render submissions with :func:`formgrade_exporter` (nbgrader's
    page hard-codes MathJax from cdnjs, so maths showed as raw LaTeX offline)."""
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension

    original = FormgradeExtension.init_tornado_settings
    if getattr(original, "course_mathjax", False):
        return

    def init_tornado_settings(self, webapp) -> None:
        original(self, webapp)
        webapp.settings["nbgrader_exporter"] = formgrade_exporter(self.config)

    init_tornado_settings.course_mathjax = True
    FormgradeExtension.init_tornado_settings = init_tornado_settings


def course_api(root: str | os.PathLike, work: str | os.PathLike | None = None,
               extra: Config | None = None):
    """nbgrader's Python API (what the formgrader calls) on the course at ``root``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    c = configure(Config(), root, work)
    c.merge(extra or Config())
    return NbGraderAPI(CourseDirectory(config=c), config=c)


def release_to_exchange(assignments: list[str], root: str | os.PathLike,
                        work: str | os.PathLike | None = None) -> None:
    """Put released assignments into the exchange (``nbgrader release_assignment``), so that
    learners' Assignment List offers them and the formgrader shows them as released, not
    draft. Assignments must already be generated into ``assignments/`` and the gradebook."""
    extra = Config()
    extra.ExchangeReleaseAssignment.force = True  # a new release replaces the old one
    api = course_api(root, work, extra)
    for assignment in assignments:
        result = api.release_assignment(assignment)
        if not result["success"]:
            raise RuntimeError(f"nbgrader release_assignment {assignment} failed:\n"
                               f"{result.get('error') or result.get('log')}")
