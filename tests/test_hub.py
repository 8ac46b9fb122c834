"""A class on a JupyterHub, and the nbgrader screens an instructor and a learner use.

Two parts:

* Unmarked, quick: the nbgrader screens of issue 20 item 5 (release and generate feedback,
  "draft" after release, the learner's Assignment List, the news toast, the gradebook table
  and ``grades.csv`` order), through the command line and nbgrader's own API.
* ``hub`` (``make test-hub``, run as root; CI runs it from ``.ci/hub.sh``): a real
  JupyterHub with real local users. The instructor releases; three students fetch, work and
  submit through nbgrader's Assignment List server extension (the hub's REST API); the
  instructor collects, grades in the sandbox, writes and releases feedback; the students
  fetch it. What each user can and cannot read in the exchange is pinned. Users the test
  creates are removed afterwards, even on failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

from grader.autograde import ExerciseScore, NotebookResult, write_feedback
from grader.cli import export_rows, gradebook_table
from grader.config import REPO_ROOT
from grader.hub import LAB_OVERRIDES, USER_PREFIX, write_lab_overrides
from grader.nbgrader_setup import COURSE_ID, course_api, release_to_exchange

PY = sys.executable
NBGRADER = Path(PY).parent / "nbgrader"
ASSIGNMENT = "week01-numpy"
NOTEBOOK = "numerics.ipynb"


def _env(work: Path, exchange: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "COURSE_WORK_DIR": str(work), "COURSE_EXCHANGE_ROOT": str(exchange),
            "COURSE_FAST": "1", **extra}


def _nbgrader(args: list[str], env: dict, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(NBGRADER), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


# ------------------------------------------------------------------------------------------
# The gradebook table and grades.csv
# ------------------------------------------------------------------------------------------
def _result(student: str, scores: dict[str, float]) -> NotebookResult:
    return NotebookResult(student, ASSIGNMENT, NOTEBOOK, exercises=[
        ExerciseScore(eid, 1.0, score, "") for eid, score in scores.items()])


def test_gradebook_table_names_every_exercise_in_full():
    ids = ["w01_pairwise_distances_naive", "w01_pairwise_distances_vectorized"]
    table = gradebook_table([_result("ada", {ids[0]: 1.0, ids[1]: 0.0})])
    header = table.splitlines()[0]
    assert "pairwise_distances_naive" in header and "pairwise_distances_vectorized" in header
    row = table.splitlines()[2].split()
    assert row[2:4] == ["1.00", "0.00"]  # the columns line up with their names


def test_export_rows_are_sorted_by_assignment_then_student(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{Path(PY).parent}{os.pathsep}{os.environ['PATH']}")  # alembic
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db, COURSE_ID) as gb:
        gb.add_assignment("week02-linear-models")
        gb.add_assignment("week01-numpy")
        for student in ("zoe", "ada", "mel"):  # graded ("completed") in this order
            gb.add_student(student)
        for assignment in ("week02-linear-models", "week01-numpy"):
            for student in ("zoe", "ada", "mel"):
                gb.add_submission(assignment, student)
    rows = [(r["assignment"], r["student"]) for r in export_rows(db)]
    assert rows == sorted(rows) and len(rows) == 6


# ------------------------------------------------------------------------------------------
# Feedback: generate (the course's page, via the formgrader's API) and release
# ------------------------------------------------------------------------------------------
def _graded_notebook(path: Path, score: float) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(r"$\sigma(x)$")])
    nb.metadata["dlcourse_grading"] = {
        "score": score, "max_score": 2, "seed": 7, "graded_at": "now", "flags": [],
        "cell_errors": [], "exercises": [{"exercise_id": "w01_softmax", "score": score,
                                          "points": 2, "report": "case 1: shapes (3, 4)"}]}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_generate_feedback_button_writes_the_course_page_and_release_feedback_works(
        tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(PY).parent}{os.pathsep}{os.environ['PATH']}")  # alembic
    work, exchange = tmp_path / "work", tmp_path / "exchange"
    for student, score in (("ana", 2.0), ("bo", 0.0)):
        _graded_notebook(work / "autograded" / student / ASSIGNMENT / NOTEBOOK, score)
    submitted = work / "submitted" / "ana" / ASSIGNMENT  # as `nbgrader collect` leaves it
    submitted.mkdir(parents=True)
    (submitted / "timestamp.txt").write_text("2026-12-07 10:00:00.000000 UTC")
    (submitted / "submission_secret.txt").write_text("s3cret")

    api = course_api(REPO_ROOT, work)
    result = api.generate_feedback(ASSIGNMENT, "ana")  # what the formgrader's button calls
    assert result["success"], result
    assert "[DEBUG]" not in result["log"] and result["log"].count("wrote ") == 1
    page = (work / "feedback" / "ana" / ASSIGNMENT / "numerics.html").read_text()
    assert "feedback-summary" in page and "case 1: shapes (3, 4)" in page  # the course's page
    assert not (work / "feedback" / "bo").exists()  # one student asked, one student written
    assert api.generate_feedback(ASSIGNMENT)["success"]  # the whole class: bo too
    assert (work / "feedback" / "bo" / ASSIGNMENT / "timestamp.txt").is_file()

    exchange.mkdir()
    done = _nbgrader(["release_feedback", ASSIGNMENT], _env(work, exchange))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "FileNotFoundError" not in done.stderr
    released = sorted((exchange / COURSE_ID / "feedback").glob("*.html"))
    assert len(released) == 2  # ana's named after her secret, bo's after a fresh one
    from nbgrader.utils import notebook_hash

    assert (exchange / COURSE_ID / "feedback"
            / f"{notebook_hash(secret='s3cret', notebook_id='numerics')}.html") in released


def test_write_feedback_keeps_the_submission_timestamp(tmp_path):
    _graded_notebook(tmp_path / "autograded" / "ana" / ASSIGNMENT / NOTEBOOK, 1.0)
    (tmp_path / "submitted" / "ana" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "submitted" / "ana" / ASSIGNMENT / "timestamp.txt").write_text("T0")
    write_feedback(ASSIGNMENT, tmp_path / "autograded", tmp_path / "feedback")
    assert (tmp_path / "feedback" / "ana" / ASSIGNMENT / "timestamp.txt").read_text() == "T0"


# ------------------------------------------------------------------------------------------
# Released means released: formgrader status and the learner's Assignment List
# ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_released_weeks_are_released_and_the_learner_sees_the_course(tmp_path, monkeypatch):
    from grader.release import release

    work, exchange = tmp_path / "work", tmp_path / "exchange"
    monkeypatch.setenv("COURSE_EXCHANGE_ROOT", str(exchange))
    release([ASSIGNMENT], work=work)
    api = course_api(REPO_ROOT, work)
    assert api.get_assignment(ASSIGNMENT)["status"] == "draft"  # generated only
    release_to_exchange([ASSIGNMENT], REPO_ROOT, work)
    release_to_exchange([ASSIGNMENT], REPO_ROOT, work)  # again (the demo, run twice)
    assert course_api(REPO_ROOT, work).get_assignment(ASSIGNMENT)["status"] == "released"

    # The learner's Assignment List asks what `nbgrader list` answers, from the learner's
    # own folder with the course's exchange settings.
    learner = tmp_path / "learner"
    learner.mkdir()
    listed = _nbgrader(["list", f"--Exchange.root={exchange}", f"--course={COURSE_ID}",
                        "--Exchange.path_includes_course=True"], _env(work, exchange), learner)
    assert listed.returncode == 0, listed.stderr
    assert f"{COURSE_ID} {ASSIGNMENT}" in listed.stdout + listed.stderr


# ------------------------------------------------------------------------------------------
# JupyterLab's news toast
# ------------------------------------------------------------------------------------------
def test_lab_overrides_turn_the_news_toast_off(tmp_path):
    """The settings JupyterLab serves (overrides.json of its app settings folder) say no
    news and no update checks, so a fresh Lab does not ask."""
    from jupyterlab_server.settings_utils import get_settings

    prefix = tmp_path / "prefix"
    path = write_lab_overrides(prefix)
    assert path == prefix / "share/jupyter/lab/settings/overrides.json"
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    plugin = "@jupyterlab/apputils-extension:notification"
    settings, _ = get_settings(str(path.parent), str(schemas), str(tmp_path / "user"))
    by_id = {s["id"]: s for s in settings["settings"]}
    assert by_id[plugin]["schema"]["properties"]["fetchNews"]["default"] == "false"
    assert LAB_OVERRIDES[plugin]["fetchNews"] == "false"
    # The course's own venv (what `make lab` runs) carries them once `make lab` has run.
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "write_lab_overrides" in makefile.split("\nlab:")[1].split("\n\n")[0]


# ==========================================================================================
# The hub (make test-hub): real users, a real JupyterHub
# ==========================================================================================
HUB_DIR = Path(os.environ.get("COURSE_HUB_DIR", "/srv/dlcourse-hub-test"))
STUDENTS = {  # local user -> what they hand in
    f"{USER_PREFIX}test-ana": "reference",
    f"{USER_PREFIX}test-bo": "untouched",
    f"{USER_PREFIX}test-cy": "tamperer",
}
PASSWORD = "class-password"
HUB_START_S = 120
SPAWN_S = 180


def _require_hub() -> None:
    reason = None
    if os.geteuid() != 0:
        reason = "the hub test creates local users: run it as root"
    elif not shutil.which("useradd"):
        reason = "no useradd"
    if reason:
        if os.environ.get("COURSE_REQUIRE_HUB"):
            pytest.fail(f"COURSE_REQUIRE_HUB is set but {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    def __init__(self, url: str, token: str):
        self.url, self.token = url, token

    def request(self, method: str, path: str, data: dict | None = None, form: bool = False,
                timeout: float = 60) -> tuple[int, object]:
        body, headers = None, {"Authorization": f"token {self.token}"}
        if data is not None and form:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text.strip() else None)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def start_server(self, user: str) -> None:
        status, body = self.request("POST", f"/hub/api/users/{user}/server")
        assert status in (201, 202), (status, body)
        deadline = time.monotonic() + SPAWN_S
        while time.monotonic() < deadline:
            status, model = self.request("GET", f"/hub/api/users/{user}")
            if status == 200 and model.get("servers", {}).get("", {}).get("ready"):
                return
            time.sleep(1)
        pytest.fail(f"{user}'s server was not ready within {SPAWN_S} s")

    def assignments(self, user: str, action: str = "", **fields: str) -> dict:
        """nbgrader's Assignment List server extension, as its panel calls it."""
        if action:
            status, body = self.request("POST", f"/user/{user}/assignments/{action}",
                                        {"course_id": COURSE_ID, **fields}, form=True,
                                        timeout=120)
        else:
            status, body = self.request("GET", f"/user/{user}/assignments?course_id={COURSE_ID}")
        assert status == 200, (action, status, body)
        return body


class BrowserStudent:
    """One student in headless Chromium (Debian's, as in tests/test_browser.py)."""

    def __init__(self, hub_url: str, user: str):
        from test_browser import CHROMIUM, CHROMIUM_ARGS, _require_browser

        sync_playwright = _require_browser()
        self.hub_url, self.user = hub_url, user
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        self.page = self._browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.set_default_timeout(60_000)

    def log_in(self) -> None:
        """The hub's login form; the hub spawns the server and redirects to JupyterLab."""
        page = self.page
        page.goto(f"{self.hub_url}/hub/login")
        page.fill("#username_input", self.user)
        page.fill("#password_input", PASSWORD)
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{self.user}/lab**", timeout=SPAWN_S * 1000)
        self.reopen_assignment_list()
        from playwright.sync_api import expect

        expect(page.get_by_text("Create Assignment")).to_have_count(0)  # instructor-only
        expect(page.get_by_text("Would you like to get notified")).to_have_count(0)  # no toast

    def reopen_assignment_list(self) -> None:
        from test_browser import _menu

        self.page.goto(f"{self.hub_url}/user/{self.user}/lab")
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(
            timeout=SPAWN_S * 1000)
        _menu(self.page, "Nbgrader", "Assignment List")
        self.page.locator("#released_assignments_list").wait_for()

    def click_in_assignment_list(self, section: str, button: str, then: str = "") -> None:
        """Click ``button`` on Week 1's row of one list (released, fetched, submitted) and
        wait until the assignment shows up in list ``then``."""
        from playwright.sync_api import expect

        row = self.page.locator(f"#{section}_assignments_list .list_item",
                                has_text=ASSIGNMENT).first
        expect(row).to_be_visible()
        row.get_by_role("button", name=button, exact=True).click()
        if then:
            expect(self.page.locator(f"#{then}_assignments_list .list_item",
                                     has_text=ASSIGNMENT).first).to_be_visible(timeout=120_000)
        else:  # the button says what it did, then comes back
            self.page.wait_for_timeout(3000)
        shots = Path(os.environ.get("COURSE_BROWSER_ARTIFACTS",
                                    REPO_ROOT / "work" / "browser-artifacts"))
        shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(shots / f"hub-{section}-{button.replace(' ', '-')}.png"))

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


def _as(user: str, *cmd: str) -> subprocess.CompletedProcess:
    """``cmd`` as ``user``, from that user's home (not the checkout: cwd is on sys.path)."""
    return subprocess.run(["runuser", "-u", user, "--", *cmd], capture_output=True, text=True,
                          timeout=60, cwd=os.path.expanduser(f"~{user}"))


def _work(nb: dict, kind: str) -> dict:
    """A student's version of the fetched notebook (the demo class's ingredients)."""
    from grader.demo import TAMPER_CELL, fill, solution_sources

    notebook = nbformat.from_dict(nb)
    if kind == "untouched":
        return notebook
    if kind == "reference":
        return fill(notebook, solution_sources(ASSIGNMENT, NOTEBOOK))
    notebook.cells.insert(1, nbformat.v4.new_code_cell(TAMPER_CELL))
    return notebook


def _fresh_postgres_database(url: str, name: str = "hub_class") -> str:
    """An empty database ``name`` on the server of ``url`` (other tests share ``url``'s)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return f"{url.rpartition('/')[0]}/{name}"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A course hub with three students; everything it created is removed afterwards."""
    _require_hub()
    from grader.hub import teardown

    work = tmp_path_factory.mktemp("hub-work")
    exchange = HUB_DIR / "exchange"
    env = _env(work, exchange, COURSE_HUB_DIR=str(HUB_DIR))
    if os.environ.get("COURSE_TEST_POSTGRES_URL"):  # CI: the class's gradebook on PostgreSQL
        env["COURSE_DB_URL"] = _fresh_postgres_database(os.environ["COURSE_TEST_POSTGRES_URL"])
    elif os.environ.get("COURSE_REQUIRE_POSTGRES"):
        pytest.fail("COURSE_REQUIRE_POSTGRES is set but COURSE_TEST_POSTGRES_URL is not")
    process = None
    log = work.parent / "hub.log"
    try:
        subprocess.run([PY, "-m", "grader", "hub", "install", "--minimal"], env=env,
                       check=True, timeout=1200)
        shutil.rmtree(exchange, ignore_errors=True)
        teardown(HUB_DIR, list(STUDENTS))  # leftovers of an interrupted run
        subprocess.run([PY, "-m", "grader", "hub", "setup", *STUDENTS], env=env, check=True,
                       timeout=300)
        port = _free_port()
        with log.open("w") as out:
            process = subprocess.Popen(
                [PY, "-m", "grader", "hub", "start", "--port", str(port),
                 "--password", PASSWORD], env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        token = ""
        deadline = time.monotonic() + HUB_START_S
        while time.monotonic() < deadline and process.poll() is None:
            token_file = HUB_DIR / "state" / "service_token"
            if token_file.is_file():
                token = token_file.read_text()
                try:
                    if Hub(f"http://127.0.0.1:{port}", token).request("GET", "/hub/api/")[0] == 200:
                        break
                except OSError:
                    pass
            time.sleep(0.5)
        else:
            pytest.fail(f"the hub did not start:\n{log.read_text()[-4000:]}")
        yield Hub(f"http://127.0.0.1:{port}", token), work, env
    finally:
        if process is not None:  # the hub stops the proxy and the servers it spawned
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            try:  # and whatever of its session is left (its own process group)
                os.killpg(process.pid, 9)
            except ProcessLookupError:
                pass
            process.wait()
        teardown(HUB_DIR, list(STUDENTS))
        if log.is_file():
            print(f"hub log: {log}")
        from grader.hub import course_users

        assert not set(course_users()) & set(STUDENTS), "test users left behind"


@pytest.mark.hub
def test_a_class_on_the_hub_from_release_to_feedback(hub):
    hub, work, env = hub
    exchange = HUB_DIR / "exchange"

    # The instructor releases Week 1 (generated into the gradebook, then into the exchange).
    subprocess.run([PY, "-m", "grader", "release", ASSIGNMENT], env=env, check=True, timeout=600)
    done = _nbgrader(["release_assignment", ASSIGNMENT, "--force"], env)
    assert done.returncode == 0, done.stderr[-3000:]

    # Students: log in (a server each), list, fetch, work, submit. The first one in a real
    # browser (the hub's login page, JupyterLab's Nbgrader → Assignment List panel), the
    # others through the same server extension over the hub's REST API.
    browser_user = next(iter(STUDENTS))
    student_page = None
    for user, kind in STUDENTS.items():
        if user == browser_user:
            student_page = BrowserStudent(hub.url, user)
            student_page.log_in()
            student_page.click_in_assignment_list("released", "Fetch", then="fetched")
        else:
            hub.start_server(user)
            listed = hub.assignments(user)
            assert listed["success"], listed
            assert [(a["assignment_id"], a["status"]) for a in listed["value"]] == [
                (ASSIGNMENT, "released")]
            assert hub.assignments(user, "fetch", assignment_id=ASSIGNMENT)["success"]
        # nbgrader fetches into COURSE/ASSIGNMENT of the home (path_includes_course).
        path = f"/user/{user}/api/contents/{COURSE_ID}/{ASSIGNMENT}/{NOTEBOOK}"
        status, model = hub.request("GET", path + "?content=1")
        assert status == 200, model
        status, _ = hub.request("PUT", path, {"type": "notebook", "format": "json",
                                              "content": _work(model["content"], kind)})
        assert status == 200
        if user == browser_user:
            student_page.click_in_assignment_list("fetched", "Submit", then="submitted")
        else:
            assert hub.assignments(user, "submit", assignment_id=ASSIGNMENT)["success"]
        status, _ = hub.request("GET", f"/user/{user}/formgrader")
        assert status == 404  # the instructor's screens are off in students' servers
        home = Path(os.path.expanduser(f"~{user}"))
        assert (home / "course").is_dir() and (home / "assignments").is_dir()
        assert not (home / "answers").exists() and not (home / "solutions").exists()
        assert not (home / "grader" / "autograde.py").exists()

    ana, bo, cy = STUDENTS
    # A student's kernel (the hub's Python, the hub's environment for servers) imports the
    # course library's checks, and finds no answer key and no grading code.
    python = str(HUB_DIR / "venv" / "bin" / "python")
    env_of_servers = ["env", f"PYTHONPATH={HUB_DIR / 'distribution'}", python, "-c"]
    imported = _as(bo, *env_of_servers, "import grader.check, grader.checks.week01")
    assert imported.returncode == 0, imported.stderr
    for forbidden in ("answers.kernels.week01", "grader.autograde", "grader.selfgrade"):
        assert _as(bo, *env_of_servers, f"import {forbidden}").returncode != 0, forbidden
    inbound = exchange / COURSE_ID / "inbound"
    outbound = exchange / COURSE_ID / "outbound"
    submissions = sorted(p.name for p in inbound.iterdir())
    assert len(submissions) == 3
    # What a student can and cannot do in the exchange.
    assert _as(bo, "ls", str(inbound)).returncode != 0  # inbound/ is 2733: not listable
    assert _as(bo, "ls", str(outbound / ASSIGNMENT)).returncode == 0  # releases are public
    assert _as(bo, "touch", str(outbound / ASSIGNMENT / "x.ipynb")).returncode != 0
    assert _as(bo, "mkdir", str(outbound / "week99-fake")).returncode != 0
    # nbgrader's by-design gap (jupyter/nbgrader#978): a submission's folder is readable by
    # anyone who knows its name (student+assignment+timestamp+random suffix), never listable.
    anas = next(name for name in submissions if name.startswith(ana + "+"))
    assert _as(bo, "cat", str(inbound / anas / NOTEBOOK)).returncode == 0
    # The instructor's side of the machine is closed to students: answer key, solutions,
    # the work folder (gradebook, collected submissions).
    for secret in (REPO_ROOT / "answers" / "kernels" / "week01.py",
                   REPO_ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, work):
        assert _as(bo, "ls", str(secret)).returncode != 0, secret

    # The instructor collects, grades in the sandbox, writes and releases feedback.
    done = _nbgrader(["collect", ASSIGNMENT], env)
    assert done.returncode == 0, done.stderr[-3000:]
    for user in STUDENTS:
        assert (work / "submitted" / user / ASSIGNMENT / NOTEBOOK).is_file()
        assert _as(bo if user != bo else ana, "cat",
                   str(work / "submitted" / user / ASSIGNMENT / NOTEBOOK)).returncode != 0
    graded = subprocess.run([PY, "-m", "grader", "autograde", ASSIGNMENT, "--jobs", "2",
                             "--seed", "3", "--cell-timeout", "10"], env=env,
                            capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    subprocess.run([PY, "-m", "grader", "feedback", ASSIGNMENT], env=env, check=True,
                   timeout=300)
    done = _nbgrader(["release_feedback", ASSIGNMENT], env)
    assert done.returncode == 0, done.stderr[-3000:]

    db = env.get("COURSE_DB_URL") or f"sqlite:///{work / 'gradebook.db'}"
    rows = {r["student"]: r for r in export_rows(db) if r["assignment"] == ASSIGNMENT}
    assert set(rows) == set(STUDENTS)
    # Every autograded point for the reference (written answers wait for a person's grade).
    graded_ana = nbformat.read(work / "autograded" / ana / ASSIGNMENT / NOTEBOOK, as_version=4)
    auto = graded_ana.metadata["dlcourse_grading"]
    assert rows[ana]["score"] == auto["score"] == auto["max_score"] > 0
    assert rows[bo]["score"] == 0
    assert rows[cy]["score"] < rows[cy]["max_score"]

    # Students fetch their own feedback (nbgrader finds it by their submission's secret).
    for user in STUDENTS:
        if user == browser_user:
            student_page.reopen_assignment_list()
            student_page.click_in_assignment_list("submitted", "Fetch Feedback")
            student_page.close()
        else:
            assert hub.assignments(user, "fetch_feedback", assignment_id=ASSIGNMENT)["success"]
        home = Path(os.path.expanduser(f"~{user}"))
        feedback = home / COURSE_ID / ASSIGNMENT / "feedback"
        pages = list(feedback.glob(f"*/{Path(NOTEBOOK).stem}.html"))
        assert len(pages) == 1, user
        assert "feedback-summary" in pages[0].read_text()
        assert _as(user, "cat", str(pages[0])).returncode == 0

    # Maths on the feedback page renders offline (issue 20, item 5): the page names no CDN,
    # and every student's server serves the MathJax it looks for (jupyter-server-mathjax).
    assert not re.search(r"cdnjs|jsdelivr|unpkg", pages[0].read_text())
    user = next(u for u in STUDENTS if u != browser_user)
    request = urllib.request.Request(
        f"{hub.url}/user/{user}/static/jupyter_server_mathjax/MathJax.js",
        headers={"Authorization": f"token {hub.token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200 and b"MathJax" in response.read()
