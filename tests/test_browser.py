"""The learner's and the instructor's path in a real browser (``make test-browser``).

JupyterLab with nbgrader's extensions, on a scratch copy of the course, driven by Playwright
in Debian's headless Chromium (never a browser Playwright downloads: ``.ci/browser.sh``
installs Chromium and the Playwright package). Screenshots of every step are written to
``work/browser-artifacts/`` (or ``$COURSE_BROWSER_ARTIFACTS``) and their paths printed.

Without Chromium or Playwright these tests are skipped, unless ``COURSE_REQUIRE_BROWSER`` is
set (CI), where that is an error.
"""

from __future__ import annotations

import json
import os
import pty
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from grader.config import REPO_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
# Headless on a closed network: no GPU, and none of Chromium's own background connections
# (updates, sync, field trials), which this machine's network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
JUPYTER = Path(sys.executable).parent / "jupyter"
ASSIGNMENT = "week01-numpy"
ARTIFACTS = Path(os.environ.get("COURSE_BROWSER_ARTIFACTS",
                               REPO_ROOT / "work" / "browser-artifacts"))
START_TIMEOUT_S = 120  # JupyterLab start-up on a busy 2-core machine
RUN_TIMEOUT_MS = 120_000  # one "Run All Cells" of a fast-mode notebook, kernel start included
UI_TIMEOUT_MS = 30_000  # a menu, a dialog, a page of the formgrader
# Week 1: 15 autograded points + 5 points of written answers graded by hand.
TOTAL = 20
# The student whose written answer the instructor grades in the formgrader.
HAND_GRADED = "cyd-partial"
WRITTEN = "w01_q_softplus"

# What a learner types: first a plausible mistake (overflows on huge logits), then the fix.
NAIVE_SOFTMAX = '''def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)
'''
STABLE_SOFTMAX = '''def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''


def _require_browser():
    """Playwright's sync API and Chromium, or a skip (an error where CI requires them)."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason, sync_playwright = "the playwright package is not installed", None
    if reason is None and not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}"
    if reason:
        if os.environ.get("COURSE_REQUIRE_BROWSER"):
            pytest.fail(f"COURSE_REQUIRE_BROWSER is set but {reason} (run .ci/browser.sh)")
        pytest.skip(f"{reason}: `bash .ci/browser.sh` installs both")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str, timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read().decode()


def _wait_until_serving(url: str, token: str, process: subprocess.Popen, log) -> None:
    """Poll /api/status (the server binds its port only after printing its URL)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited with {process.returncode}:\n{log()[-3000:]}")
        try:
            if _get(f"{url}/api/status", token, timeout=5)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"jupyter lab did not answer within {START_TIMEOUT_S} s:\n{log()[-3000:]}")
        time.sleep(0.5)


def _isolated_jupyter_env(tmp: Path, work: Path) -> dict[str, str]:
    """The environment of a test server: the course's work folder, nothing from ~/.jupyter."""
    env = dict(os.environ)
    # The kernel must use matplotlib's inline backend, not the tests' Agg (figures would vanish).
    env.pop("MPLBACKEND", None)
    settings = tmp / "lab-settings"
    notification = (settings / "@jupyterlab" / "apputils-extension"
                    / "notification.jupyterlab-settings")
    notification.parent.mkdir(parents=True, exist_ok=True)
    # No "Would you like to get notified about official Jupyter news?" toast over the
    # screenshots, and no requests to jupyter.org from a closed network.
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env.update(
        COURSE_WORK_DIR=str(work),
        COURSE_FAST="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"),
    )
    return env


# --------------------------------------------------------------------------------------
# Set-up: a scratch course with a graded demo class, JupyterLab on it, and a browser
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """What the browser sees, copied so that autosave and Validate never touch the repo."""
    root = tmp_path_factory.mktemp("course")
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for folder in ("course", "assignments", "solutions"):
        shutil.copytree(REPO_ROOT / folder, root / folder, ignore=ignore)
    shutil.copy2(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


@pytest.fixture(scope="module")
def class_work(tmp_path_factory) -> Path:
    """A work folder holding the demo class of Week 1, autograded into nbgrader's gradebook.

    The steps of ``python -m grader demo`` for one week (release, simulated class,
    autograde), so that a week being written elsewhere cannot fail the browser test.
    """
    from grader.autograde import autograde
    from grader.demo import grade_written_answers, register_class, write_class
    from grader.release import ASSIGNMENTS, db_url, release
    from grader.sandbox import Limits

    # Hypothesis imported here, not first inside a grading thread: under pytest its modules
    # load through the assertion rewriter (it is a pytest plugin's distribution), which
    # parses them with `ast` outside the grader's ast lock, and CPython 3.11's AST cannot be
    # built in two threads at once ("SystemError: AST constructor recursion depth mismatch"
    # failed the reference submission: 5 / 20). Outside pytest the import parses nothing.
    import hypothesis.extra.numpy  # noqa: F401
    import hypothesis.strategies  # noqa: F401

    work = tmp_path_factory.mktemp("work")
    release([ASSIGNMENT], release_dir=work / "release-check", work=work)
    register_class(db_url(work), write_class(ASSIGNMENT, work / "submitted"))
    autograde(ASSIGNMENT, work / "submitted", work / "autograded", ASSIGNMENTS,
              db_url=db_url(work), jobs=2, seed=0, progress=False,
              limits=Limits(cell_timeout=5))
    # The demo's simulated instructor grades the written answers, except one student's: the
    # instructor test grades that one in the formgrader.
    grade_written_answers(db_url(work), work / "submitted", ASSIGNMENT, skip=(HAND_GRADED,))
    return work


class Lab:
    def __init__(self, url: str, token: str, log: Path, course: Path | None = None):
        self.url, self.token, self.log, self.course = url, token, log, course

    def lab_url(self, workspace: str, path: str = "") -> str:
        # One workspace per test: no tabs restored from another test.
        tree = f"/tree/{path}" if path else ""
        return f"{self.url}/lab/workspaces/{workspace}{tree}?token={self.token}"


@pytest.fixture(scope="module")
def lab(course, class_work, tmp_path_factory) -> Lab:
    """``jupyter lab`` on the scratch course (its nbgrader_config.py), on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("lab")
    port, token = _free_port(), secrets.token_hex(16)
    log = tmp / "jupyter-lab.log"
    command = [str(JUPYTER), "lab", "--ip=127.0.0.1", f"--port={port}", "--no-browser",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={course}"]
    if os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=course, env=_isolated_jupyter_env(tmp, class_work),
                                  stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, token, server, log.read_text)
        print(f"\njupyter lab on {url} (log: {log})")
        yield Lab(url, token, log, course)
        server.send_signal(signal.SIGTERM)  # a clean stop: kernels shut down, files closed
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _require_browser()
    from playwright.sync_api import expect

    # Playwright's `expect` retries for 5 s by default (context.set_default_timeout does not
    # reach it): a formgrader page on a busy CI machine takes longer than that to fill in.
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class Console:
    """Errors a page reports: console.error messages and uncaught exceptions."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _message(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"{message.text} ({where})")

    def assert_clean(self) -> None:
        assert not self.errors, "errors in the browser console:\n" + "\n".join(self.errors)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.console = Console(page)
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:  # what the page showed when it failed
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w-]", "_", request.node.name)
        _shot(page, ARTIFACTS, f"failed-{name}")
    context.close()


def _shot(page, artifacts: Path, name: str) -> Path:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


# --------------------------------------------------------------------------------------
# JupyterLab, as a person uses it: menus, toolbar buttons, the keyboard
# --------------------------------------------------------------------------------------
def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def _open_notebook(page, lab: Lab, workspace: str, path: str) -> None:
    from playwright.sync_api import expect

    page.goto(lab.lab_url(workspace, path))
    page.locator(".jp-NotebookPanel .jp-Notebook").wait_for(timeout=START_TIMEOUT_S * 1000)
    expect(page.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle", timeout=RUN_TIMEOUT_MS)  # the kernel is ready


def _run_all(page) -> None:
    """Clear every output, then Run → Run All Cells (stops at the first failing cell)."""
    _menu(page, "Edit", "Clear Outputs of All Cells")
    _menu(page, "Run", "Run All Cells")


def _cell(page, source_text: str):
    """The code cell whose source (not output) contains ``source_text``."""
    editor = page.locator(".jp-InputArea .cm-content", has_text=source_text)
    return page.locator(".jp-Notebook .jp-CodeCell", has=editor)


def _type_into_cell(page, source_text: str, code: str) -> None:
    """Click into the cell's editor, select all of it and type ``code`` over it."""
    _cell(page, source_text).locator(".cm-content").click()
    page.keyboard.press("Control+a")
    # One input event, like a paste: the editor's auto-indent would re-indent typed newlines.
    page.keyboard.insert_text(code)


def _show(locator) -> None:
    locator.scroll_into_view_if_needed()
    locator.page.wait_for_timeout(300)  # let the notebook settle after the scroll


# --------------------------------------------------------------------------------------
# The learner
# --------------------------------------------------------------------------------------
def test_learner_runs_checks_fixes_softmax_and_validates(lab, page, artifacts):
    from playwright.sync_api import expect

    _open_notebook(page, lab, "learner", f"assignments/{ASSIGNMENT}/numerics.ipynb")
    check = _cell(page, 'check("w01_softmax", softmax)').locator(".jp-OutputArea")

    # 1. The untouched release: the first public check fails and says what to do.
    _run_all(page)
    expect(check).to_contain_text("w01_softmax: not attempted yet", timeout=RUN_TIMEOUT_MS)
    expect(check).to_contain_text("replace the `raise NotImplementedError(...)` line in `softmax`")
    _show(check)
    _shot(page, artifacts, "01-untouched-check-fails")

    # 2a. A plausible mistake: the check names the failing cases and gives the hint.
    _type_into_cell(page, 'raise NotImplementedError("w01_softmax', NAIVE_SOFTMAX)
    _run_all(page)
    expect(check).to_contain_text("hint:", timeout=RUN_TIMEOUT_MS)
    expect(check).to_contain_text("huge logits")
    _show(check)
    _shot(page, artifacts, "02a-naive-softmax-hint")

    # 2b. The stable softmax passes; Run All now stops at the next exercise.
    _type_into_cell(page, "e = np.exp(x)", STABLE_SOFTMAX)
    _run_all(page)
    expect(check).to_contain_text("✓ w01_softmax: all", timeout=RUN_TIMEOUT_MS)
    expect(check).not_to_contain_text("CheckFailed")
    # The success line alone: no Out[n] repr of a result object under it (nbgrader would also
    # read such an output as a partial-credit score).
    expect(check.locator(".jp-OutputArea-executeResult")).to_have_count(0)
    _show(check)
    _shot(page, artifacts, "02b-softmax-passes")

    # 3. nbgrader's Validate (toolbar): saves, runs the notebook on the server, reports.
    page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Validation Results", timeout=RUN_TIMEOUT_MS)
    for still_failing in ("w01_logsumexp", "w01_log_softmax", "w01_cross_entropy",
                          "w01_log_softmax_backward", "w01_softplus", "w01_standardize"):
        expect(dialog).to_contain_text(f'check("{still_failing}"')
    expect(dialog).not_to_contain_text('check("w01_softmax"')  # validated the saved edit
    _shot(page, artifacts, "03-validate-dialog")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)
    page.console.assert_clean()


# --------------------------------------------------------------------------------------
# The instructor
# --------------------------------------------------------------------------------------
def _row_with_cell(page, text: str):
    """The table rows with a cell that reads exactly ``text``."""
    cell = page.locator("td", has_text=re.compile(f"^{re.escape(text)}$"))
    return page.locator("tbody tr", has=cell)


def test_instructor_sees_the_graded_class_in_the_formgrader(lab, page, artifacts):
    from playwright.sync_api import expect

    # From JupyterLab's Nbgrader menu: the formgrader opens in a tab. Lab, then the tab's
    # page, then its table (filled by a request of its own) load one after the other: each
    # wait is for that condition, long enough for a busy machine.
    page.goto(lab.lab_url("instructor"), timeout=START_TIMEOUT_S * 1000)
    page.locator(".lm-MenuBar").first.wait_for(timeout=START_TIMEOUT_S * 1000)
    _menu(page, "Nbgrader", "Formgrader")
    formgrader = page.frame_locator(".jp-MainAreaWidget iframe")
    week = _row_with_cell(formgrader, ASSIGNMENT)
    expect(week, f"the formgrader's table of assignments lists {ASSIGNMENT}").to_have_count(
        1, timeout=UI_TIMEOUT_MS)
    expect(week.locator("td", has_text=re.compile("^8$")),
           f"{ASSIGNMENT}'s row in the formgrader shows 8 submissions").to_have_count(1)
    # No warning banner (a missing exchange folder, a missing course id).
    expect(formgrader.locator(".alert-warning"), "a warning banner in the formgrader"
           ).to_have_count(0)
    _shot(page, artifacts, "04a-formgrader-in-lab")

    # Manage Submissions: one row per student, autograded, with the score.
    page.goto(f"{lab.url}/formgrader/manage_submissions/{ASSIGNMENT}")
    # Full marks include the written answers' manual grades; the looping cell costs softmax.
    expected = {"ada-reference": f"{TOTAL} / {TOTAL}", "ben-untouched": f"0 / {TOTAL}",
                "gus-tamperer": f"0 / {TOTAL}", "fay-infinite-loop": f"{TOTAL - 2} / {TOTAL}"}
    for student, score in expected.items():
        row = _row_with_cell(page, student)
        expect(row, f"Manage Submissions: {student}'s row reads {score}").to_contain_text(
            score, timeout=UI_TIMEOUT_MS)
        expect(row, f"Manage Submissions: {student} is graded").to_contain_text("graded")
        # "needs autograding" / "needs manual grading"
        expect(row, f"Manage Submissions: {student} needs nothing").not_to_contain_text("needs")
    expect(page.locator("tbody tr"), "Manage Submissions: one row per student").to_have_count(8)
    expect(page.locator("tbody")).not_to_contain_text("None, None")  # names from the roster
    _shot(page, artifacts, "04b-manage-submissions")

    # Its ⚡ Autograde button grades in the sandbox as well (stock nbgrader would run the
    # tamperer's code unsandboxed, next to the check functions it redefines).
    _row_with_cell(page, "gus-tamperer").locator(".autograde a").click()
    success = page.locator("#success-modal")
    expect(success).to_contain_text("graded in the sandbox", timeout=UI_TIMEOUT_MS)
    expect(success).to_contain_text("gus-tamperer")
    _shot(page, artifacts, "04b2-autograde-button")
    success.locator(".modal-footer button").click()
    expect(success).to_have_count(0)
    expect(_row_with_cell(page, "gus-tamperer")).to_contain_text(f"0 / {TOTAL}")

    # Manual Grading → week01-numpy → numerics: one (anonymized) row per submission.
    page.goto(f"{lab.url}/formgrader/gradebook/{ASSIGNMENT}/numerics")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(8)
    expect(_row_with_cell(page, f"{TOTAL} / {TOTAL}").first).to_be_visible()  # the reference
    expect(_row_with_cell(page, f"0 / {TOTAL}").first).to_be_visible()  # the untouched release
    _shot(page, artifacts, "04c-gradebook-numerics")
    page.console.assert_clean()


def test_instructor_grades_a_written_answer_and_the_student_sees_it(lab, page, artifacts,
                                                                    class_work):
    """Manual grading in the formgrader: a score and a comment on a written answer land in the
    gradebook and in the course's feedback page for the student."""
    from nbgrader.api import Gradebook
    from playwright.sync_api import expect

    from grader.autograde import write_feedback
    from grader.nbgrader_setup import COURSE_ID
    from grader.release import db_url

    db = db_url(class_work)
    with Gradebook(db, COURSE_ID) as gb:
        assert gb.find_grade(WRITTEN, "numerics", ASSIGNMENT, HAND_GRADED).needs_manual_grade
        notebook_id = gb.find_submission_notebook("numerics", ASSIGNMENT, HAND_GRADED).id

    # Manage Submissions says the written answers wait for the instructor.
    page.goto(lab.lab_url("instructor-written"))  # logs in with the token
    page.locator(".jp-NotebookPanel, .jp-Launcher, .lm-MenuBar").first.wait_for()
    page.goto(f"{lab.url}/formgrader/manage_submissions/{ASSIGNMENT}")
    expect(_row_with_cell(page, HAND_GRADED)).to_contain_text("needs manual grading")

    # The submission's grading page: the written answer with its points, a score and a comment.
    page.goto(f"{lab.url}/formgrader/submissions/{notebook_id}/")
    score = page.locator(f"input.score#{WRITTEN}")
    expect(score).to_be_visible(timeout=UI_TIMEOUT_MS)
    comment_text = "Right formulation; name the input where log1p(exp(x)) overflows."
    score.fill("1")
    score.press("Tab")  # the formgrader saves a score when its field loses focus
    comment = page.locator(f"textarea#{WRITTEN}-comment")
    comment.fill(comment_text)
    comment.press("Tab")
    page.wait_for_timeout(1500)  # the saves are asynchronous requests
    _show(score)
    _shot(page, artifacts, "05a-manual-grade-written-answer")

    with Gradebook(db, COURSE_ID) as gb:
        grade = gb.find_grade(WRITTEN, "numerics", ASSIGNMENT, HAND_GRADED)
        assert grade.manual_score == 1 and not grade.needs_manual_grade
        assert gb.find_comment(WRITTEN, "numerics", ASSIGNMENT,
                               HAND_GRADED).comment == comment_text

    # The student's feedback page (the course's) shows the manual score and the comment.
    write_feedback(ASSIGNMENT, class_work / "autograded", class_work / "feedback", db_url=db)
    feedback = class_work / "feedback" / HAND_GRADED / ASSIGNMENT / "numerics.html"
    page.goto(feedback.as_uri())
    row = page.locator("tr.written", has_text=WRITTEN)
    expect(row).to_contain_text("1 / 2")
    expect(row).to_contain_text(comment_text)
    _show(row)
    _shot(page, artifacts, "05b-feedback-shows-manual-grade")


def _only_this_machine(context) -> list[str]:
    """Refuse every request that leaves this machine (as offline); return the refused URLs."""
    from urllib.parse import urlparse

    refused: list[str] = []

    def route(route) -> None:
        url = route.request.url
        if urlparse(url).scheme in ("file", "data", "blob") or urlparse(
                url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    context.route("**/*", route)
    return refused


# MathJax 2's typeset output: HTML-CSS (Chromium), SVG or CommonHTML.
MATHJAX_OUTPUT = ".MathJax, .MathJax_Display, .MathJax_SVG, .MathJax_CHTML"


def test_maths_renders_offline_in_the_formgrader_and_the_feedback_page(lab, page, artifacts,
                                                                        class_work):
    """Issue 20, item 5: with every request off this machine refused, the formgrader's
    submission page and the course's feedback page typeset their LaTeX with the MathJax the
    course installs (jupyter-server-mathjax): no page asks a CDN for anything."""
    from nbgrader.api import Gradebook
    from playwright.sync_api import expect

    from grader.autograde import write_feedback
    from grader.nbgrader_setup import COURSE_ID
    from grader.release import db_url

    refused = _only_this_machine(page.context)
    student = "ada-reference"
    with Gradebook(db_url(class_work), COURSE_ID) as gb:
        notebook_id = gb.find_submission_notebook("numerics", ASSIGNMENT, student).id

    page.goto(lab.lab_url("maths"))  # logs in with the token
    page.locator(".lm-MenuBar").first.wait_for()
    page.goto(f"{lab.url}/formgrader/submissions/{notebook_id}/")
    typeset = page.locator(MATHJAX_OUTPUT)
    expect(typeset.first).to_be_attached(timeout=RUN_TIMEOUT_MS)
    assert typeset.count() >= 3, "the week's maths is not typeset"
    mathjax = [s for s in page.locator("script[src*='MathJax.js']").evaluate_all(
        "nodes => nodes.map(n => n.src)")]
    assert mathjax and all(src.startswith(lab.url + "/static/jupyter_server_mathjax/")
                           for src in mathjax), mathjax
    _show(typeset.first)
    _shot(page, artifacts, "06a-formgrader-maths-offline")

    # The course's feedback page for the student.
    write_feedback(ASSIGNMENT, class_work / "autograded", class_work / "feedback",
                   db_url=db_url(class_work), students=[student])
    feedback = class_work / "feedback" / student / ASSIGNMENT / "numerics.html"
    # The same page served by the Jupyter server (JupyterLab's "Open in New Browser Tab"),
    # before the file: page (a request from a file: page is of an unknown origin to it).
    relative = feedback.relative_to(class_work)
    served = lab.course / "feedback-served" / relative
    served.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(feedback, served)
    page.goto(f"{lab.url}/files/{served.relative_to(lab.course).as_posix()}",
              referer=f"{lab.url}/lab")  # /files/ wants a same-host Referer, as from Lab
    expect(page.locator(MATHJAX_OUTPUT).first).to_be_attached(timeout=RUN_TIMEOUT_MS)
    mathjax = page.locator("script[src*='MathJax.js']").evaluate_all(
        "nodes => nodes.map(n => n.src)")
    assert mathjax and all(src.startswith(lab.url + "/static/jupyter_server_mathjax/")
                           for src in mathjax), mathjax
    # The same page as the student opens it from disk (its MathJax: this installation's).
    page.goto(feedback.as_uri())
    expect(page.locator(".feedback-summary")).to_contain_text(f"{TOTAL} / {TOTAL}")
    typeset = page.locator(MATHJAX_OUTPUT)
    expect(typeset.first).to_be_attached(timeout=RUN_TIMEOUT_MS)
    assert typeset.count() >= 3
    _show(typeset.first)
    _shot(page, artifacts, "06b-feedback-maths-offline")

    assert not refused, f"requests that left the machine: {refused}"


def test_feedback_page_shows_its_maths_from_disk_on_another_machine(page, artifacts,
                                                                     tmp_path):
    """A student opens the course's feedback page from disk on their own machine: the
    MathJax it names (the instructor's installation) is not there, nor any network. The
    maths still shows, as MathML written into the page and drawn by the browser itself:
    every formula has a size, none is left as TeX between dollars."""
    import nbformat
    from playwright.sync_api import expect

    from grader.autograde import GRADING_METADATA_KEY, feedback_html

    nb = nbformat.read(REPO_ROOT / "assignments" / ASSIGNMENT / "numerics.ipynb", as_version=4)
    nb.metadata[GRADING_METADATA_KEY] = {"score": 3, "max_score": 20, "exercises": []}
    feedback = tmp_path / "numerics.html"  # a copy of the page, e-mailed or downloaded
    feedback.write_text(feedback_html(nb), encoding="utf-8")
    blocked: list[str] = []

    def another_machine(route) -> None:
        if route.request.url == feedback.as_uri():
            route.continue_()
        else:  # MathJax.js of the instructor's installation, and anything remote
            blocked.append(route.request.url)
            route.abort()

    page.context.route("**/*", another_machine)
    page.goto(feedback.as_uri())
    expect(page.locator(".feedback-summary")).to_contain_text("3 / 20")
    maths = page.locator("main math")
    expect(maths.first).to_be_visible()
    sizes = maths.evaluate_all("nodes => nodes.map(n => [n.getBoundingClientRect().width, "
                               "n.getBoundingClientRect().height])")
    assert len(sizes) >= 10, f"{len(sizes)} formulas on Week 1's feedback page"
    assert all(w > 0 and h > 0 for w, h in sizes), sizes
    assert any("MathJax.js" in url for url in blocked), blocked  # it was really missing
    assert page.locator(MATHJAX_OUTPUT).count() == 0  # so this is the browser's own MathML
    shown = page.locator("main .jp-RenderedMarkdown").all_inner_texts()
    left = [m for text in shown for m in re.findall(r"\$[^$]*\\[A-Za-z]+[^$]*\$", text)]
    assert not left, f"maths left as TeX: {left[:3]}"
    _show(maths.first)
    _shot(page, artifacts, "06c-feedback-maths-from-disk-elsewhere")


# --------------------------------------------------------------------------------------
# Lectures render: every cell runs, figures are visible, progress bars are live widgets
# --------------------------------------------------------------------------------------
# Week 1 (figures) and the first lecture with tqdm progress bars (ipywidgets in JupyterLab).
LECTURES = ["week01-numpy", "week04-backprop"]


@pytest.mark.parametrize("lecture", LECTURES)
def test_lecture_runs_in_the_browser_with_visible_figures(lab, page, artifacts, lecture):
    from playwright.sync_api import expect

    if not (REPO_ROOT / "course" / f"{lecture}.ipynb").exists():
        pytest.skip(f"course/{lecture}.ipynb is not written yet")
    _open_notebook(page, lab, f"lecture-{lecture}", f"course/{lecture}.ipynb")
    _run_all(page)
    last_prompt = page.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputArea-prompt")
    stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    # Run All stops at a failing cell: wait for the last cell's result or the first traceback.
    expect(last_prompt.filter(has_text=re.compile(r"\[\d+\]")).or_(
        stderr.filter(has_text="Traceback").first)).to_be_visible(timeout=RUN_TIMEOUT_MS * 2)
    # stderr may carry notices (the fast-mode data subset); never an error or a warning.
    problems = [text for i in range(stderr.count())
                if re.search(r"Traceback|Error\b|Warning\b", text := stderr.nth(i).text_content())]
    assert not problems, "the lecture wrote errors or warnings:\n" + "\n".join(problems)
    expect(last_prompt).to_contain_text(re.compile(r"\[\d+\]"))  # every cell ran
    figures = page.locator(".jp-OutputArea-output img")
    assert figures.count() >= 1, "the lecture shows no figure"
    for i in range(figures.count()):
        figure = figures.nth(i)
        figure.scroll_into_view_if_needed()
        natural = figure.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
        box = figure.bounding_box()
        assert natural[0] and natural[1] > 0 and natural[2] > 0, f"figure {i} did not load"
        assert box and box["width"] > 100 and box["height"] > 100, f"figure {i} is not visible"
    widgets = page.locator(".jp-OutputArea-output .jupyter-widgets.widget-hprogress")
    print(f"{lecture}: {figures.count()} figures, {widgets.count()} progress-bar widgets")
    if "tqdm" in (REPO_ROOT / "course" / f"{lecture}.ipynb").read_text():
        assert widgets.count() >= 1, "tqdm progress bars did not render as widgets"
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    _show(widgets.first if widgets.count() else figures.first)
    _shot(page, artifacts, f"05-lecture-{lecture}")
    page.console.assert_clean()


# --------------------------------------------------------------------------------------
# `make lab`: nbgrader's extensions enabled, 127.0.0.1 only, the URL printed, Ctrl-C stops it
# --------------------------------------------------------------------------------------
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\x1b\(B")
# Run a command as a shell in a terminal window does: in a new session whose controlling
# terminal is stdin (a pty), so that Ctrl-C there signals the command and all it started.
IN_TERMINAL = ("import fcntl, os, sys, termios; os.setsid(); "
               "fcntl.ioctl(0, termios.TIOCSCTTY, 0); os.execvp(sys.argv[1], sys.argv[1:])")


def test_nbgrader_extensions_are_enabled():
    env = dict(os.environ, NO_COLOR="1")
    servers = subprocess.run([str(JUPYTER), "server", "extension", "list"], env=env,
                             capture_output=True, text=True, timeout=120, check=True)
    listing = ANSI.sub("", servers.stdout + servers.stderr)
    for extension in ("formgrader", "validate_assignment", "assignment_list", "course_list"):
        assert re.search(rf"nbgrader\.server_extensions\.{extension} enabled", listing), listing
        assert re.search(rf"nbgrader\.server_extensions\.{extension}\s+OK", listing), listing
    labs = subprocess.run([str(JUPYTER), "labextension", "list"], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    listing = ANSI.sub("", labs.stdout + labs.stderr)
    # nbgrader#1948: on an incompatible JupyterLab the line ends in "X", not "OK".
    assert re.search(r"@jupyter/nbgrader v\S+ enabled\s+OK", listing), listing
    assert "is not compatible" not in listing, listing


def _read_until(fd: int, pattern: re.Pattern, seen: bytearray, timeout: float,
                process: subprocess.Popen) -> re.Match | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = pattern.search(ANSI.sub("", seen.decode(errors="replace")))
        if match:
            return match
        if process.poll() is not None:
            return None
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the terminal closed: everything has exited
                return None
    return None


def test_make_lab_serves_locally_prints_url_and_stops_on_ctrl_c(tmp_path):
    """``make lab`` in a terminal: the printed URL works, one Ctrl-C stops server and kernels."""
    psutil = pytest.importorskip("psutil")
    if not shutil.which("make"):
        pytest.skip("no make")
    env = _isolated_jupyter_env(tmp_path, tmp_path / "work")
    port = _free_port()
    leader, terminal = pty.openpty()
    make = subprocess.Popen(
        [sys.executable, "-c", IN_TERMINAL, "make", "--no-print-directory",
         "-o", ".venv/.installed", "lab", f"LAB_ARGS=--port={port}"],
        cwd=REPO_ROOT, env=env, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    seen = bytearray()
    try:
        printed = _read_until(leader, re.compile(r"http://127\.0\.0\.1:(\d+)/lab\?token=(\w+)"),
                              seen, START_TIMEOUT_S, make)
        output = ANSI.sub("", seen.decode(errors="replace"))
        assert printed, f"`make lab` printed no http://127.0.0.1 URL:\n{output[-3000:]}"
        url, token = f"http://127.0.0.1:{printed.group(1)}", printed.group(2)
        _wait_until_serving(url, token, make, lambda: ANSI.sub("", seen.decode(errors="replace")))
        status, formgrader = _get(f"{url}/formgrader/manage_assignments", token)
        assert status == 200 and "Manage Assignments" in formgrader  # nbgrader's server extension
        assert "@jupyter/nbgrader" in _get(f"{url}/lab", token)[1]  # and its Lab extension
        server = next(p for p in psutil.Process(make.pid).children(recursive=True)
                      if "jupyter-lab" in " ".join(p.cmdline()))
        listening = [c.laddr for c in server.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
        request = urllib.request.Request(f"{url}/api/kernels", data=b"{}", method="POST",
                                         headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(request, timeout=60).read()  # a running kernel, to be shut down
        deadline = time.monotonic() + 60
        while True:  # ready when it listens on its five ZeroMQ ports
            kernels = [p for p in server.children(recursive=True)
                       if "ipykernel" in " ".join(p.cmdline())]
            if kernels and len([c for c in kernels[0].net_connections(kind="tcp")
                                if c.status == psutil.CONN_LISTEN]) >= 5:
                break
            assert time.monotonic() < deadline, "the kernel did not start"
            time.sleep(0.5)

        os.write(leader, b"\x03")  # Ctrl-C, once
        _read_until(leader, re.compile(r"(?!)"), seen, 60, make)  # until everything exits
        make.wait(timeout=10)
        output = ANSI.sub("", seen.decode(errors="replace"))
        _, alive = psutil.wait_procs([server, *kernels], timeout=10)
        assert not alive, f"still running after Ctrl-C: {alive}\n{output[-2000:]}"
        assert "Shutting down" in output and "Traceback" not in output, output[-3000:]
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
        os.close(leader)
