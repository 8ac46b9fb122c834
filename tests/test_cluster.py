"""Grading on a Dask cluster (issue 20): a real ``dask scheduler`` and grading workers as
separate processes, each in its own working directory, on 127.0.0.1.

Covered: the same gradebook as the local pool; a worker killed mid-run (its sandboxes die,
every grade recorded once); the whole cluster lost (nothing recorded for the rest, then
``--resume`` on a fresh cluster); a worker of another course version refused before anything
is recorded; Ctrl-C stops the sandboxes on every worker. The fast, engine-free pieces (job
and result serialisation, the fingerprint) run without a cluster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader.autograde import GradeJob, ReleaseNotebook, prepare_job
from grader.cluster import LoopbackCluster
from grader.config import REPO_ROOT
from grader.gradebook import export_rows
from grader.isolation import isolation_level
from grader.release import ASSIGNMENTS, db_url, release

ASSIGNMENT = "week01-numpy"
NOTEBOOK = "numerics.ipynb"
distributed = pytest.importorskip("distributed")
needs_full = pytest.mark.skipif(isolation_level() != "full", reason="grading workers need full "
                                "isolation (bubblewrap; .ci/run installs it)")


# --------------------------------------------------------------------------------------
# Without a cluster: the job is plain data
# --------------------------------------------------------------------------------------
def test_job_round_trips_as_bytes_and_carries_no_path(tmp_path):
    release_path = sorted((ASSIGNMENTS / ASSIGNMENT).glob("*.ipynb"))[0]
    rel = ReleaseNotebook.read(release_path)
    folder = tmp_path / "ann" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / release_path.name).write_bytes(release_path.read_bytes())
    (folder / "data.npz").write_bytes(b"\x93NUMPY-ish")
    job = prepare_job(folder / release_path.name, rel, "ann", ASSIGNMENT, seed=5,
                      root=tmp_path)
    blob = job.to_bytes()
    assert str(tmp_path) not in blob.decode()  # no path of the instructor's machine travels
    again = GradeJob.from_bytes(blob)
    assert again == job and again.files == {"data.npz": b"\x93NUMPY-ish"}
    missing = prepare_job(tmp_path / "bob" / ASSIGNMENT / release_path.name, rel, "bob",
                          ASSIGNMENT, seed=5)
    assert missing.submission is None and "was not submitted" in missing.refused


def test_fingerprint_covers_grader_and_answers(monkeypatch):
    from grader.cluster import _source_fingerprint, course_fingerprint

    assert course_fingerprint() == _source_fingerprint() and len(course_fingerprint()) == 64
    monkeypatch.setenv("COURSE_GRADER_FINGERPRINT", "bogus")
    assert course_fingerprint() == "bogus"


PIPELINE = ("cli", "nbgrader_ext", "autograde", "release", "nbgrader_setup", "demo",
            "selfgrade", "gradebook", "cluster")


def _grader_imports(module: str) -> set[str]:
    """Every ``grader.X`` module imported anywhere in ``grader/module.py`` (lazy ones too)."""
    import ast

    tree = ast.parse((REPO_ROOT / "grader" / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and
                 node.level == 0 else [a.name for a in node.names]
                 if isinstance(node, ast.Import) else [])
        found |= {n.split(".")[1] for n in names if n.startswith("grader.")}
    return found - {module}


def test_pipeline_modules_import_alone_and_form_no_cycle():
    graph = {m: _grader_imports(m) & set(PIPELINE) for m in PIPELINE}

    def cycle_from(node, path):
        for nxt in sorted(graph[node]):
            if nxt in path:
                return path[path.index(nxt):] + [nxt]
            found = cycle_from(nxt, path + [nxt])
            if found:
                return found
        return None

    for module in PIPELINE:
        cycle = cycle_from(module, [module])
        assert cycle is None, "import cycle: " + " → ".join(cycle)
    assert "cli" not in set().union(*graph.values()), "only __main__ may import the CLI"
    code = "; ".join(f"subprocess.run([sys.executable, '-c', 'import grader.{m}'], check=True)"
                     for m in PIPELINE)
    subprocess.run([sys.executable, "-c", f"import subprocess, sys; {code}"], check=True,
                   cwd=REPO_ROOT, timeout=600)


# --------------------------------------------------------------------------------------
# A real cluster on loopback
# --------------------------------------------------------------------------------------
def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


class Cluster(LoopbackCluster):
    """The loopback cluster of :mod:`grader.cluster`, with its workers' sandboxes in view."""

    def sandboxes(self) -> set[int]:
        return set().union(*(_descendants(w.pid) for w in self.workers))

    def stop(self) -> None:
        self.close()


@pytest.fixture
def clusters(tmp_path):
    started: list[Cluster] = []

    def start(**kwargs) -> Cluster:
        started.append(Cluster(tmp_path / f"cluster{len(started)}", **kwargs))
        return started[-1]

    yield start
    for cluster in started:
        cluster.stop()


@pytest.fixture
def work(tmp_path) -> Path:
    from grader.demo import write_class

    folder = tmp_path / "instructor"
    release([ASSIGNMENT], work=folder)
    write_class(ASSIGNMENT, folder / "submitted")
    return folder


def grader_cli(work: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "grader", "--work", str(work), "autograde", ASSIGNMENT,
         "--cell-timeout", "5", "--seed", "11", *args],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "COURSE_CLUSTER_GRACE": "3", **(env or {})})


def graded_files(work: Path) -> dict[str, float]:
    return {p.parent.parent.name: p.stat().st_mtime
            for p in (work / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")}


def graded_flags(work: Path) -> dict[str, list[str]]:
    """Each student's flags, from the autograded copies (what a failed comparison shows)."""
    from grader.autograde import GRADING_METADATA_KEY

    return {p.parent.parent.name: nbformat.read(p, as_version=4).metadata.get(
                GRADING_METADATA_KEY, {}).get("flags")
            for p in sorted((work / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb"))}


def rows(work: Path, url: str | None = None) -> list[dict]:
    return sorted((r for r in export_rows(url or db_url(work)) if r["assignment"] == ASSIGNMENT),
                  key=lambda r: r["student"])


def postgres_gradebook(name: str) -> str | None:
    """A fresh, empty PostgreSQL database ``name`` on the server CI starts (``.ci/run``:
    ``COURSE_TEST_POSTGRES_URL``); ``None`` without one (an error where CI requires it)."""
    url = os.environ.get("COURSE_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("COURSE_REQUIRE_POSTGRES"):
            pytest.fail("COURSE_REQUIRE_POSTGRES is set but COURSE_TEST_POSTGRES_URL is not")
        return None
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return f"{url.rpartition('/')[0]}/{name}"


def wait_for_first_grade(work: Path, process: subprocess.Popen, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout  # a liveness guard for a loaded machine
    while not graded_files(work):
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "no notebook was graded in time"
        time.sleep(0.05)


def assert_each_student_recorded_once(work: Path) -> None:
    students = sorted(p.name for p in (work / "submitted").iterdir())
    recorded = rows(work)
    assert [r["student"] for r in recorded] == students
    assert sorted(graded_files(work)) == students
    reference = graded_metadata(work)[f"ada-reference/{NOTEBOOK}"]  # written answers aside
    assert reference["score"] == reference["max_score"] > 0 and not reference["flags"]


def graded_metadata(work: Path) -> dict[str, dict]:
    out = {}
    for path in sorted((work / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")):
        meta = dict(nbformat.read(path, as_version=4).metadata["dlcourse_grading"])
        meta.pop("graded_at"), meta.pop("graded_on", None)
        out[f"{path.parent.parent.name}/{path.name}"] = meta
    return out


@needs_full
@pytest.mark.slow
def test_cluster_grades_like_the_local_pool(tmp_path, work, clusters, monkeypatch):
    """The cluster's gradebook equals the local pool's. In CI (``.ci/run`` starts a server)
    the cluster side records into PostgreSQL, the pool into SQLite: the same rows in both."""
    import shutil

    local = tmp_path / "local"
    shutil.copytree(work, local)
    local_db = f"sqlite:///{(local / 'gradebook.db').resolve()}"
    postgres = postgres_gradebook("cluster_parity")
    if postgres:  # the class's gradebook on PostgreSQL: the assignment registered there
        monkeypatch.setenv("COURSE_DB_URL", postgres)
        release([ASSIGNMENT], work=work)
    remote_db = db_url(work)
    assert (remote_db == postgres) if postgres else remote_db.startswith("sqlite:")
    cluster = clusters(workers=2)
    # 5 s cells time out on a busy machine (a flagged fault on one side only): give cells 60 s
    remote = grader_cli(work, "--scheduler", cluster.address, "--cell-timeout", "60",
                        env={"COURSE_DB_URL": postgres or ""})
    pool = grader_cli(local, "--jobs", "2", "--cell-timeout", "60", env={"COURSE_DB_URL": ""})
    out_remote, out_pool = remote.communicate(timeout=1800)[0], pool.communicate(timeout=1800)[0]
    assert remote.returncode == 0, out_remote
    assert pool.returncode == 0, out_pool
    assert len(rows(work, remote_db)) == 8
    assert rows(work, remote_db) == rows(local, local_db), (graded_flags(work),
                                                           graded_flags(local))
    assert graded_metadata(work) == graded_metadata(local)
    hosts = {nbformat.read(p, as_version=4).metadata["dlcourse_grading"].get("graded_on")
             for p in (work / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")}
    assert None not in hosts  # each graded notebook says where it was graded
    for i in range(2):  # workers never saw the instructor's files
        assert not list((tmp_path / "cluster0" / f"worker{i}").rglob("submitted"))


@needs_full
@pytest.mark.slow
def test_worker_killed_mid_run_records_every_grade_once(work, clusters):
    cluster = clusters(workers=2)
    client = grader_cli(work, "--scheduler", cluster.address)
    deadline = time.monotonic() + 900
    victim, sandboxes = None, set()
    while victim is None:  # a worker caught grading: its sandbox runs
        assert client.poll() is None and time.monotonic() < deadline, client.stdout.read()
        for worker in cluster.workers:
            sandboxes = _descendants(worker.pid)
            if sandboxes and graded_files(work):
                victim = worker
                break
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    deadline = time.monotonic() + 5
    while _alive(sandboxes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(sandboxes), "the killed worker's sandboxes outlived it"
    output = client.communicate(timeout=1200)[0]
    assert client.returncode == 0, output
    assert_each_student_recorded_once(work)


@needs_full
@pytest.mark.slow
def test_cluster_lost_stops_without_zeros_and_resume_finishes(work, clusters):
    first = clusters(workers=2)
    client = grader_cli(work, "--scheduler", first.address)
    wait_for_first_grade(work, client)
    first.stop()  # scheduler and every worker
    output = client.communicate(timeout=600)[0]
    assert client.returncode == 3 and "--resume" in output, output
    before = graded_files(work)
    assert 0 < len(before) < 8, output
    assert [r["student"] for r in rows(work)] == sorted(before)  # no zero for the rest

    second = clusters(workers=2)
    resumed = grader_cli(work, "--scheduler", second.address, "--resume")
    output = resumed.communicate(timeout=1200)[0]
    assert resumed.returncode == 0, output
    after = graded_files(work)
    assert all(after[s] == before[s] for s in before), "resume re-graded finished notebooks"
    assert_each_student_recorded_once(work)


@needs_full
@pytest.mark.slow
def test_worker_of_another_version_is_refused_before_recording(work, clusters):
    cluster = clusters(workers=2, env={1: {"COURSE_GRADER_FINGERPRINT": "bogus"}})
    client = grader_cli(work, "--scheduler", cluster.address)
    output = client.communicate(timeout=600)[0]
    assert client.returncode == 3, output
    assert "another version of the course" in output and "bogus"[:5] in output, output
    assert rows(work) == [] and graded_files(work) == {}


@needs_full
@pytest.mark.slow
def test_ctrl_c_stops_the_sandboxes_on_every_worker(work, clusters):
    cluster = clusters(workers=2)
    client = grader_cli(work, "--scheduler", cluster.address)
    wait_for_first_grade(work, client)
    deadline = time.monotonic() + 300
    while not cluster.sandboxes():  # sandboxes running on the workers
        assert client.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    running = cluster.sandboxes()
    client.send_signal(signal.SIGINT)
    output = client.communicate(timeout=300)[0]
    assert client.returncode == 130 and "--resume" in output, output
    deadline = time.monotonic() + 5
    while _alive(running) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(running), "sandboxes outlived Ctrl-C"
    assert [r["student"] for r in rows(work)] == sorted(graded_files(work))
