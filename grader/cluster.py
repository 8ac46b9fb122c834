"""Grading fanned out on a Dask distributed cluster (``autograde --scheduler ADDRESS``).

The instructor's process prepares each notebook as a :class:`grader.autograde.GradeJob`
(bytes: no shared filesystem), a worker runs it in its own sandbox and returns the result as
bytes, and the instructor's process alone records it (:mod:`grader.gradebook`). So:

* a task the engine runs twice (a worker lost mid-task) is recorded once;
* a lost worker's tasks are rescheduled by the scheduler;
* an *infrastructure* failure (a lost cluster, a task killed with its workers, a worker
  running another version of the course) is never a grade: nothing is recorded for that
  notebook and the run ends with "rerun with --resume";
* workers whose course version (:func:`course_fingerprint`) differs from the instructor's are
  refused before anything is recorded.

Start a worker with ``python -m grader worker ADDRESS`` (full isolation required).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import Future
from functools import lru_cache
from pathlib import Path

from grader.config import REPO_ROOT

#: Test-only override of a process's course fingerprint (a worker "of another version").
FINGERPRINT_ENV = "COURSE_GRADER_FINGERPRINT"
#: The scheduler address ``autograde`` uses when ``--scheduler`` is not given.
SCHEDULER_ENV = "COURSE_SCHEDULER"
#: Seconds the client waits for a lost scheduler to come back before stopping the run.
LOST_GRACE_ENV = "COURSE_CLUSTER_GRACE"


class ClusterError(RuntimeError):
    """The cluster cannot grade (lost, or of another version): nothing was recorded for the
    notebooks it did not grade; ``--resume`` finishes the run."""


class FingerprintMismatch(ClusterError):
    """A worker runs another version of the course (grader or answers)."""


@lru_cache(maxsize=1)
def _source_fingerprint() -> str:
    digest = hashlib.sha256()
    for package in ("grader", "answers"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def course_fingerprint() -> str:
    """sha256 of the grading code (``grader/``, ``answers/``): equal on every host that grades
    exactly as the instructor's machine would."""
    return os.environ.get(FINGERPRINT_ENV) or _source_fingerprint()


def worker_identity() -> dict:
    """Run on each worker at connect time: who it is and which course version it grades."""
    from grader.isolation import isolation_level

    return {"host": socket.gethostname(), "pid": os.getpid(),
            "fingerprint": course_fingerprint(), "isolation": isolation_level()}


def kill_sandboxes() -> int:
    """Run on each worker on Ctrl-C: kill its live sandboxes (their tasks then fail fast)."""
    from grader.sandbox import _LIVE, kill_all_sandboxes

    count = len(_LIVE)
    kill_all_sandboxes()
    return count


# --------------------------------------------------------------------------------------
# The client side
# --------------------------------------------------------------------------------------
class ClusterPool:
    """A connection to a Dask scheduler, used by :func:`grader.autograde.autograde` like a
    thread pool: :meth:`submit` a job, get a ``concurrent.futures.Future`` of its bytes.

    ``address``: ``tcp://host:8786`` / ``tls://…``, or ``local:N`` for a local cluster of N
    one-slot worker processes (one machine; a dashboard for free).
    """

    def __init__(self, address: str, connect_timeout: float = 60.0):
        from distributed import Client, LocalCluster

        self.address = address
        self.local = None
        if address.startswith("local:"):
            self.local = LocalCluster(n_workers=int(address.split(":", 1)[1] or 1),
                                      threads_per_worker=1, processes=True,
                                      dashboard_address=None, host="127.0.0.1")
            address = self.local.scheduler_address
        self.client = Client(address, timeout=connect_timeout, set_as_default=False)
        try:
            self.client.wait_for_workers(1, timeout=connect_timeout)
            self.fingerprint = course_fingerprint()
            self.check_versions()
        except BaseException:
            self.close()
            raise
        self.executor = self.client.get_executor(pure=False)
        self._lost_since: float | None = None

    def check_versions(self) -> dict:
        """Refuse a cluster whose workers grade another version of the course, or without
        full isolation (naming the hosts)."""
        identities = self.client.run(worker_identity)
        wrong = [f"{who['host']} ({addr}): version {who['fingerprint'][:12]}"
                 for addr, who in identities.items() if who["fingerprint"] != self.fingerprint]
        if wrong:
            raise FingerprintMismatch(
                f"{len(wrong)} worker(s) grade another version of the course than this "
                f"checkout ({self.fingerprint[:12]}): " + "; ".join(wrong)
                + ". Nothing was graded; update them (same grader/ and answers/) and restart")
        weak = [f"{who['host']} ({addr}): {who['isolation']}" for addr, who in identities.items()
                if who["isolation"] != "full"]
        if weak:
            raise ClusterError("worker(s) without full isolation: " + "; ".join(weak))
        return identities

    @property
    def slots(self) -> int:
        return sum(self.client.nthreads().values())

    def submit(self, task, job) -> Future:
        """Run ``task(job.to_bytes())`` on a worker (``task``: an importable function)."""
        job.fingerprint = self.fingerprint
        return self.executor.submit(task, job.to_bytes())

    def lost(self) -> bool:
        """True once the scheduler has been unreachable (or without workers) for longer than
        the grace period (``COURSE_CLUSTER_GRACE`` seconds, default 20)."""
        grace = float(os.environ.get(LOST_GRACE_ENV, "20"))
        try:
            healthy = self.client.status == "running" and bool(
                self.client.scheduler_info(n_workers=-1).get("workers"))
        except Exception:
            healthy = False
        if healthy:
            self._lost_since = None
            return False
        self._lost_since = self._lost_since or time.monotonic()
        return time.monotonic() - self._lost_since > grace

    def kill_sandboxes(self) -> None:
        """Stop every sandbox on every worker (Ctrl-C): Dask cannot stop a running task."""
        try:
            self.client.run(kill_sandboxes, wait=True)
        except Exception:  # a worker gone meanwhile: its sandboxes died with it
            pass

    def close(self) -> None:
        try:
            self.client.close(timeout=10)
        except Exception:
            pass
        if self.local is not None:
            self.local.close()


# --------------------------------------------------------------------------------------
# A real cluster on this machine's loopback (tests, benchmarks, trying it out)
# --------------------------------------------------------------------------------------
class LoopbackCluster:
    """A real ``dask scheduler`` process and ``workers`` one-slot grading workers
    (``python -m grader worker``) on 127.0.0.1, each process in its own process group and
    working directory under ``root`` (``root/worker<i>/work``: no shared filesystem).

    ``env``: extra environment of worker ``i`` (e.g. another course version). A context
    manager; :meth:`close` (also at interpreter exit) SIGKILLs every process group::

        with LoopbackCluster(tmp / "dask", workers=2) as cluster:
            autograde(..., scheduler=cluster.address)
    """

    def __init__(self, root: Path, workers: int = 2, env: dict[int, dict] | None = None,
                 timeout: float = 300.0):
        import atexit

        from distributed import Client

        atexit.register(self.close)  # never left behind, whatever fails
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        file = root / "scheduler.json"
        self.scheduler = self._start(
            ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(file)], root, {})
        self.workers: list[subprocess.Popen] = []
        try:
            deadline = time.monotonic() + timeout
            while not file.exists() or not file.read_text().strip():
                if self.scheduler.poll() is not None or time.monotonic() > deadline:
                    raise ClusterError(f"the dask scheduler did not start within {timeout:.0f} "
                                       f"s (exit status {self.scheduler.poll()})")
                time.sleep(0.1)
            time.sleep(0.2)  # the file is written before the scheduler listens
            self.address = json.loads(file.read_text())["address"]
            for i in range(workers):
                home = root / f"worker{i}"
                home.mkdir()
                self.workers.append(self._start(
                    ["grader", "--work", str(home / "work"), "worker", self.address,
                     "--slots", "1", "--no-nanny", "--name", f"w{i}", "--host", "127.0.0.1"],
                    home, (env or {}).get(i, {})))
            with Client(self.address, timeout=timeout) as client:
                client.wait_for_workers(workers, timeout=timeout)
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _start(args: list[str], cwd: Path, env: dict) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", *args], cwd=cwd,
                                env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    @property
    def processes(self) -> list[subprocess.Popen]:
        return [*self.workers, self.scheduler]

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> "LoopbackCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
