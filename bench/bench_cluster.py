"""Grading on a Dask cluster vs the local pool (issue 20), on this machine's loopback.

``python -m bench cluster [--submissions N]`` (default 200; ``make bench TOPICS="cluster
--submissions N"``). One Week-1 class of N submissions (the demo class of
:func:`grader.demo.write_class`: reference, untouched, three partial, an infinite loop, a
tamperer and a kernel killer, replicated to N students) is graded by four configurations:

* the local pool at ``--jobs 1`` and ``--jobs 2`` (threads driving sandboxes);
* a loopback cluster of 1 and of 2 one-slot workers: a real ``dask scheduler`` process and
  ``python -m grader worker`` processes, each in its own working directory. Every cluster
  (and the local pool) grades a few submissions untimed first, as long-lived workers would
  have; the clusters stay up for the whole run.

The configurations are **interleaved**: the class is cut into chunks of at most ``CHUNK``
(25) submissions, at least ``ROUNDS`` (4) of them, and each round grades its chunk with every
configuration in turn (A B C D, then D C B A, …), so a slow spell of the shared machine hits
them all alike. A configuration's time is the sum of its chunks; each row's notes give the
1-minute load average seen at the start of its chunks.

**Nothing lost on interruption**: after every chunk and every benchmark the run writes what it
has measured to ``bench/out/cluster/partial.json`` (:class:`Progress`: the results file's
format, ``"partial": true``, rows of the finished rounds marked PARTIAL). A rerun starts
over; ``COURSE_BENCH_RESUME=1 python -m bench cluster --submissions N`` resumes a stopped run
of the same N and course version from its last finished chunk.

Also: the engine's overhead per task (a no-op task's round trip through the cluster vs a
thread pool, and cluster − pool grading time per submission), the finish time of the same
class on 2 workers with one SIGKILLed at 25 % (every grade recorded exactly once), and a
**projection** for 10,000 submissions on 32 one-slot workers from the measured per-task cost
and 2-worker efficiency (a formula, not a measurement).

On a 2-core machine the curve ends at 2 slots: the scheduler, the client and the workers
share the two cores with the sandboxes (and, today, with other people's jobs).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import Row
from bench.bench_autograde import ASSIGNMENT, CELL_TIMEOUT
from grader.autograde import autograde
from grader.cluster import LoopbackCluster, course_fingerprint, worker_identity
from grader.config import fast_mode
from grader.demo import write_class
from grader.gradebook import export_rows
from grader.release import ASSIGNMENTS, db_url, release
from grader.sandbox import Limits

#: ``python -m bench cluster --submissions N`` sets this (default 200; 16 in fast mode).
SUBMISSIONS_ENV = "COURSE_BENCH_SUBMISSIONS"
#: Chunks the class is cut into for interleaving the configurations: at least ROUNDS, of at
#: most CHUNK submissions each.
ROUNDS = 4
CHUNK = 25
#: ``COURSE_BENCH_RESUME=1``: continue a stopped run from its partial results file.
RESUME_ENV = "COURSE_BENCH_RESUME"
CONFIGS = [("local", 1), ("cluster", 1), ("local", 2), ("cluster", 2)]
MACHINE = "shared 2-core machine (other engineers' jobs running): an upper bound"


def submissions() -> int:
    default = 16 if fast_mode() else 200
    return int(os.environ.get(SUBMISSIONS_ENV) or default)


def load() -> float:
    return os.getloadavg()[0]


def load_note(samples: list[float]) -> str:
    return (f"load average (1 min) at its chunks' starts {min(samples):.1f}–{max(samples):.1f}"
            if samples else "")


def start_cluster(root: Path, workers: int) -> LoopbackCluster:
    """A loopback cluster whose workers have imported the grading code (the version check
    and the grading modules happen before any timing)."""
    from distributed import Client

    cluster = LoopbackCluster(root, workers)
    try:
        with Client(cluster.address, timeout=120) as client:
            client.run(worker_identity)
            client.run(exec, "import grader.autograde")
    except BaseException:
        cluster.close()
        raise
    return cluster


def warm(cluster: LoopbackCluster) -> None:
    """Grade a few submissions untimed, so that every worker has done one real job (its
    lazily imported reference kernels and check code): a class is graded by long-lived
    workers, and the local pool's process has them loaded already."""
    work = _scratch() / f"warm-{cluster.address.rsplit(':', 1)[-1]}"
    students = build_class(work, 2 * len(cluster.workers))
    _grade(work, students, scheduler=cluster.address)


def class_names(count: int) -> list[str]:
    """The first ``count`` students: :func:`write_class`'s roles, copy by copy
    (``ada-reference-000``, ``ben-untouched-000``, …), so any prefix is a mixed class."""
    roles = _template()[1]
    return [f"{roles[i % len(roles)]}-{i // len(roles):03d}" for i in range(count)]


def build_class(work: Path, count: int) -> list[str]:
    """``count`` submissions (:func:`class_names`) in ``work/submitted`` of a fresh release,
    or those already there (a resumed run's folder)."""
    students = class_names(count)
    submitted = work / "submitted"
    if submitted.is_dir() and sorted(p.name for p in submitted.iterdir()) == sorted(students):
        return students
    release([ASSIGNMENT], work=work)
    template = _template()[0]
    for student in students:
        shutil.copytree(template / student.rsplit("-", 1)[0], submitted / student)
    return students


_TEMPLATES: list[Path] = []
_SCRATCH: list[Path] = []


def _scratch() -> Path:
    """A folder for this process's benchmarks, removed at exit."""
    if not _SCRATCH:
        import atexit

        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="bench-cluster-")))
        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return _SCRATCH[0]


def _template() -> tuple[Path, list[str]]:
    """:func:`write_class` once per process (in a temporary folder removed at exit)."""
    if not _TEMPLATES:
        folder = _scratch() / "class"
        write_class(ASSIGNMENT, folder)
        _TEMPLATES.append(folder)
    folder = _TEMPLATES[0]
    return folder, sorted(p.name for p in folder.iterdir())


def _grade(work: Path, students: list[str], jobs: int = 1,
           scheduler: str | None = None) -> float:
    start = time.monotonic()
    results = autograde(ASSIGNMENT, work / "submitted", work / "autograded", ASSIGNMENTS,
                        db_url=db_url(work), students=students, jobs=jobs, seed=1,
                        progress=False, limits=Limits(cell_timeout=CELL_TIMEOUT),
                        scheduler=scheduler)
    seconds = time.monotonic() - start
    assert len(results) == len(students), (len(results), len(students))
    return seconds


def recorded_once(work: Path, students: list[str]) -> tuple[bool, int]:
    """Whether the gradebook holds exactly one submission per student (and no other)."""
    rows = [r for r in export_rows(db_url(work)) if r["assignment"] == ASSIGNMENT]
    names = [r["student"] for r in rows]
    return sorted(names) == sorted(students), len(rows)


#: Figures the later benchmarks of this module build on (filled by bench_throughput).
_MEASURED: dict = {}


# --------------------------------------------------------------------------------------
# Nothing lost on interruption: the partial results file
# --------------------------------------------------------------------------------------
def out_dir() -> Path:
    """``bench/out/cluster`` (``cluster-fast`` in fast mode): the partial results file and the
    graded classes of the interleaved run (kept for a resume)."""
    return Path(__file__).resolve().parent / "out" / ("cluster-fast" if fast_mode() else "cluster")


def partial_path() -> Path:
    return out_dir() / "partial.json"


def command() -> str:
    count = os.environ.get(SUBMISSIONS_ENV)
    return "python -m bench cluster" + (f" --submissions {count}" if count else "")


class Progress:
    """What the run has measured so far, written to ``bench/out/cluster/partial.json`` after
    every chunk and every benchmark: the results file's format (``bench/results/*.json``)
    with ``"partial": true``, the number of submissions per configuration reached, rows of the
    finished rounds marked PARTIAL, and the chunks' raw seconds (``state``). A run stopped at
    a deadline thus keeps its finished chunks.

    A rerun **starts over** (the partial file and the graded classes are replaced), unless
    ``COURSE_BENCH_RESUME=1``: then a stopped run of the same N and the same course version
    continues from its last finished chunk (the unfinished chunk is graded again, whole) and
    keeps the rows of its finished benchmarks.
    """

    def __init__(self, count: int):
        # A stop at a deadline (SIGTERM, as from `timeout`) unwinds like Ctrl-C: the clusters'
        # processes are killed and the temporary folders removed, the partial file is kept.
        import atexit

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        atexit.register(self._said_where)
        self.started = time.monotonic()
        self.count = count
        fresh = {"submissions": count, "rounds": rounds(count), "fingerprint":
                 course_fingerprint(), "chunks": [], "rows": {}, "seconds": 0.0, "resumed": 0}
        old = self._read()
        state = old.get("state", {})
        if os.environ.get(RESUME_ENV) == "1":
            same = {k: state.get(k) for k in ("submissions", "rounds", "fingerprint")}
            if same == {k: fresh[k] for k in same}:
                self.state = state
                self.state["resumed"] += 1
                self.state["seconds"] = old.get("seconds", 0.0)  # the earlier processes' time
                print(f"  resuming {partial_path()}: {len(state['chunks'])} chunk(s) of the "
                      f"interleaved run kept, finished: {state.get('finished', [])}", flush=True)
                return
            print(f"  nothing to resume in {partial_path()} for N = {count} and this course "
                  f"version ({same}): starting over", flush=True)
        shutil.rmtree(out_dir(), ignore_errors=True)
        out_dir().mkdir(parents=True)
        self.state = fresh

    def _said_where(self) -> None:
        if not all(self.finished(b.__name__) for b in BENCHMARKS):
            print(f"stopped before the end: what was measured is in {partial_path()} "
                  f"(rerun with {RESUME_ENV}=1 to resume)", flush=True)

    @staticmethod
    def _read() -> dict:
        try:
            return json.loads(partial_path().read_text())
        except (OSError, ValueError):
            return {}

    def chunk(self, r: int, kind: str, slots: int) -> dict | None:
        """The finished chunk ``r`` of a configuration, if an earlier process measured it."""
        return next((c for c in self.state["chunks"]
                     if (c["round"], c["kind"], c["slots"]) == (r, kind, slots)), None)

    def add_chunk(self, r: int, kind: str, slots: int, graded: int, seconds: float,
                  load_1min: float) -> None:
        self.state["chunks"].append({"round": r, "kind": kind, "slots": slots,
                                     "graded": graded, "seconds": seconds, "load": load_1min})

    def finished(self, name: str) -> bool:
        return name in self.state.setdefault("finished", [])

    def kept(self, name: str) -> list[Row]:
        """A finished benchmark's rows, as an earlier process measured them."""
        return [Row(**{k: v for k, v in r.items() if k != "command"})
                for r in self.state["rows"][name]]

    def finish(self, name: str, rows: list[Row], stage: str, reached: int) -> None:
        self.state.setdefault("finished", []).append(name)
        self.save(stage, {name: rows}, reached)

    def save(self, stage: str, rows: dict[str, list[Row]], reached: int) -> None:
        """Write the partial file: the rows of every finished benchmark (``rows``: by name;
        kept ones of an earlier process included) and ``stage``, what was running."""
        from bench.__main__ import machine

        self.state["rows"].update({name: [r.to_dict() if isinstance(r, Row) else r for r in
                                          got] for name, got in rows.items()})
        listed = [dict(r, command=command()) for got in self.state["rows"].values() for r in got]
        done = all(self.finished(b.__name__) for b in BENCHMARKS)
        result = {"topic": "cluster", "command": command(), "partial": not done,
                  "reached": {"submissions per configuration": reached, "of": self.count,
                              "stage": stage},
                  "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  "seconds": self.state["seconds"] + time.monotonic() - self.started,
                  "machine": machine(), "fast": fast_mode(), "rows": listed,
                  "state": self.state}
        path = partial_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        tmp.replace(path)  # a reader never sees half a file


def rounds(count: int) -> int:
    """Chunks the class is cut into: at least ``ROUNDS``, at most ``CHUNK`` submissions each
    (what a run stopped at a deadline can lose per configuration)."""
    return max(ROUNDS, -(-count // CHUNK))


_PROGRESS: list[Progress] = []


def progress() -> Progress:
    if not _PROGRESS:
        _PROGRESS.append(Progress(submissions()))
    return _PROGRESS[0]


def throughput_rows(count: int, of: int, seconds: dict, chunks: dict, loads: dict,
                    same: dict, identical: bool, done_rounds: int, total_rounds: int,
                    resumed: int = 0) -> list[Row]:
    """The throughput and per-submission overhead rows over the ``count`` submissions each
    configuration graded (``of`` in the whole run; fewer: rows marked PARTIAL)."""
    partial = (f"PARTIAL ({done_rounds} of {total_rounds} rounds: {count} of {of} "
               "submissions per configuration): " if count < of else "")
    rows = []
    for slots in (1, 2):
        local_s, remote_s = seconds["local", slots], seconds["cluster", slots]
        overhead = (remote_s - local_s) / local_s
        rows.append(Row(
            f"{partial}cluster throughput, {count} Week-1 submissions, {slots} one-slot "
            f"worker(s)", 60 * count / remote_s, "submissions/min",
            f"local pool, --jobs {slots}", 60 * count / local_s,
            target="≤ 10 % slower than the pool per slot", met=overhead <= 0.10,
            notes=f"cluster {remote_s:.0f} s vs local {local_s:.0f} s: {100 * overhead:+.1f} %; "
                  f"interleaved in {done_rounds} chunks; cell timeout {CELL_TIMEOUT} s; every "
                  f"submission recorded once: {same['cluster', slots] and same['local', slots]}"
                  f"; gradebooks of all four configurations identical: {identical}; "
                  + (f"resumed {resumed} time(s) after a stop (chunks measured by different "
                     "processes, each with freshly started clusters); " if resumed else "")
                  + f"cluster "
                  f"{load_note(loads['cluster', slots])}, local {load_note(loads['local', slots])}"
                  f"; {MACHINE}", seconds=remote_s + local_s,
            extra={"chunk_seconds": {"cluster": chunks["cluster", slots],
                                     "local": chunks["local", slots]},
                   "partial": bool(partial)}))
    for slots in (1, 2):
        extra = (seconds["cluster", slots] - seconds["local", slots]) / count
        rows.append(Row(
            f"{partial}engine overhead per graded submission, {slots} slot(s): "
            "(cluster − pool) / N", extra * 1000, "ms",
            notes=f"= ({seconds['cluster', slots]:.1f} s − {seconds['local', slots]:.1f} s) / "
                  f"{count}: wall-clock the cluster adds per submission (negative: the cluster "
                  f"was faster); {MACHINE}", seconds=0.0, extra={"partial": bool(partial)}))
    return rows


def gradebooks(works: dict, students: list[str]) -> tuple[dict, bool]:
    """Per configuration: every student of ``students`` recorded once; and whether the four
    gradebooks (student, score) are identical."""
    same = {config: recorded_once(works[config], students)[0] for config in CONFIGS}
    books = {config: sorted((r["student"], r["score"]) for r in export_rows(db_url(works[
        config])) if r["assignment"] == ASSIGNMENT) for config in CONFIGS}
    return same, all(book == books["local", 1] for book in books.values())


def bench_throughput() -> list[Row]:
    """Local pool (1, 2 jobs) vs loopback cluster (1, 2 workers), interleaved by chunks."""
    state = progress()
    if state.finished("bench_throughput"):  # resumed after it had finished
        _MEASURED.update(state.state["measured"])
        _MEASURED["seconds"] = {(k, int(n)): v for k, n, v in _MEASURED["seconds"]}
        return state.kept("bench_throughput")
    root = out_dir() / "run"  # the graded classes, kept for a resume
    count, total_rounds = state.count, state.state["rounds"]
    works, students = {}, []
    for kind, slots in CONFIGS:
        works[kind, slots] = root / f"{kind}{slots}"
        students = build_class(works[kind, slots], count)
    clusters = {}
    try:
        for slots in (1, 2):
            clusters[slots] = start_cluster(_scratch() / f"dask{slots}", slots)
        # The worker-killed run's cluster starts now too: its workers then run the same
        # grading code as the instructor's process even if the checkout changes meanwhile.
        _MEASURED["killed_cluster"] = start_cluster(_scratch() / "dask-killed", 2)
        for cluster in (*clusters.values(), _MEASURED["killed_cluster"]):
            warm(cluster)
        warm_local = _scratch() / "warm-local"
        _grade(warm_local, build_class(warm_local, 2), jobs=2)  # the same for the local pool
        seconds = dict.fromkeys(CONFIGS, 0.0)
        chunks: dict = {config: [] for config in CONFIGS}  # each chunk's seconds
        loads: dict = {config: [] for config in CONFIGS}
        size = -(-count // total_rounds)
        done_rounds, graded = 0, 0
        for r in range(total_rounds):
            chunk = students[r * size:(r + 1) * size]
            if not chunk:
                break
            order = CONFIGS if r % 2 == 0 else CONFIGS[::-1]
            for kind, slots in order:
                measured = state.chunk(r, kind, slots)
                if measured is None:
                    load_1min = load()
                    took = _grade(works[kind, slots], chunk, jobs=slots,
                                  scheduler=clusters[slots].address if kind == "cluster"
                                  else None)
                    state.add_chunk(r, kind, slots, len(chunk), took, load_1min)
                    measured = state.chunk(r, kind, slots)
                    state.save(f"round {r + 1} of {total_rounds}", {}, graded)
                loads[kind, slots].append(measured["load"])
                chunks[kind, slots].append(measured["seconds"])
                seconds[kind, slots] += measured["seconds"]
                print(f"  round {r + 1}/{total_rounds} {kind} {slots}: {len(chunk)} graded, "
                      f"{seconds[kind, slots]:.0f} s so far", flush=True)
            done_rounds, graded = r + 1, graded + len(chunk)
            if graded < count:  # rows of the finished rounds, marked PARTIAL
                same, identical = gradebooks(works, students[:graded])
                state.save(f"round {done_rounds + 1} of {total_rounds}", {
                    "bench_throughput": throughput_rows(
                        graded, count, seconds, chunks, loads, same, identical, done_rounds,
                        total_rounds, state.state["resumed"])}, graded)
        # The no-op round trip on the 2-worker cluster, while it is up.
        noop_ms, noop_map_ms, noop_loads = _noop(clusters[2].address)
    finally:
        for cluster in clusters.values():
            cluster.close()
    same, identical = gradebooks(works, students)
    rows = throughput_rows(count, count, seconds, chunks, loads, same, identical,
                           done_rounds, total_rounds, state.state["resumed"])
    rows.append(Row("engine overhead per task: a no-op task's round trip (submit → result, one "
                    "at a time), loopback cluster of 2 workers", noop_ms, "ms",
                    "ThreadPoolExecutor(2), same no-op", noop_map_ms[1],
                    notes=f"pipelined (executor.map of many no-ops): cluster "
                          f"{noop_map_ms[0]:.2f} ms per task; {load_note(noop_loads)}; "
                          f"{MACHINE}", seconds=0.0))
    _MEASURED.update(count=count, seconds=seconds, students=students)
    state.state["measured"] = {"count": count, "students": students, "seconds": [
        [k, n, v] for (k, n), v in seconds.items()]}
    state.finish("bench_throughput", rows, "bench_worker_killed", count)
    return rows


def _noop(address: str) -> tuple[float, tuple[float, float], list[float]]:
    """Round trip of one no-op task at a time, and per-task cost of many pipelined ones."""
    from distributed import Client

    n = 50 if fast_mode() else 300
    loads = [load()]
    with Client(address) as client:
        executor = client.get_executor(pure=False)
        list(executor.map(abs, range(20)))  # warm
        start = time.monotonic()
        for i in range(n):
            assert executor.submit(abs, -i).result() == i
        round_trip = (time.monotonic() - start) / n
        start = time.monotonic()
        assert list(executor.map(abs, range(n))) == list(range(n))
        pipelined = (time.monotonic() - start) / n
    with ThreadPoolExecutor(2) as pool:
        start = time.monotonic()
        list(pool.map(abs, range(n)))
        local = (time.monotonic() - start) / n
    loads.append(load())
    return round_trip * 1000, (pipelined * 1000, local * 1000), loads


def bench_worker_killed() -> list[Row]:
    """The same class on 2 workers, one SIGKILLed once 25 % of it is recorded."""
    state = progress()
    if state.finished("bench_worker_killed"):  # resumed after it had finished
        return state.kept("bench_worker_killed")
    count = _MEASURED.get("count") or state.count
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        work = root / "killed"
        students = build_class(work, count)
        cluster = _MEASURED.pop("killed_cluster", None)
        if cluster is None:  # a resumed run
            cluster = start_cluster(root / "dask", 2)
            warm(cluster)
        outcome: dict = {}
        loads = [load()]
        try:
            def run() -> None:
                try:
                    outcome["seconds"] = _grade(work, students, scheduler=cluster.address)
                except BaseException as error:  # reported below
                    outcome["error"] = error

            runner = threading.Thread(target=run, daemon=True)
            start = time.monotonic()
            runner.start()
            while len(list((work / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb"))) < count / 4:
                assert runner.is_alive(), f"the run ended before 25 %: {outcome}"
                time.sleep(0.05)
            os.kill(cluster.workers[0].pid, signal.SIGKILL)
            killed_at = time.monotonic() - start
            loads.append(load())
            runner.join()
            loads.append(load())
        finally:
            cluster.close()
        if "error" in outcome:
            raise outcome["error"]
        once, recorded = recorded_once(work, students)
        graded = len(list((work / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")))
    undisturbed = _MEASURED.get("seconds", {}).get(("cluster", 2))
    assert once, f"{recorded} gradebook rows for {count} submissions"
    rows = [Row(f"finish time, {count} submissions, 2 workers, one SIGKILLed at 25 %",
                outcome["seconds"], "s",
                "the same class on 2 workers, none killed (interleaved run above)"
                if undisturbed else "", undisturbed,
                target="every grade recorded exactly once", met=once,
                notes=f"killed after {killed_at:.0f} s; {recorded} gradebook rows and "
                      f"{graded} autograded notebooks for {count} submissions; the survivor "
                      f"grades the rest alone; {load_note(loads)}; {MACHINE}",
                seconds=outcome["seconds"])]
    state.finish("bench_worker_killed", rows, "bench_projection", count)
    return rows


def bench_projection() -> list[Row]:
    """10,000 submissions on 32 one-slot workers, from the per-task costs measured above."""
    if "seconds" not in _MEASURED:
        return []
    count, seconds = _MEASURED["count"], _MEASURED["seconds"]
    task_s = seconds["cluster", 1] / count  # one slot, engine included
    efficiency = min(1.0, seconds["cluster", 1] / (2 * seconds["cluster", 2]))
    minutes = 10_000 * task_s / (32 * efficiency) / 60
    rows = [Row("PROJECTION (not a measurement): 10,000 Week-1 submissions on 32 one-slot "
                "workers", minutes, "min",
                notes=f"T = 10,000 × t / (32 × E) = 10,000 × {task_s:.2f} s / (32 × "
                      f"{efficiency:.2f}); t = seconds per submission on one cluster slot, "
                      f"engine included ({seconds['cluster', 1]:.0f} s / {count}, measured); "
                      f"E = 2-worker efficiency t1 / (2 t2) (measured, capped at 1); assumes E "
                      "holds at 32 workers, the scheduler and the instructor's process on cores "
                      "of their own, and the same class mix (1 in 8 hits the "
                      f"{CELL_TIMEOUT} s cell timeout)", seconds=0.0)]
    progress().finish("bench_projection", rows, "complete", count)
    return rows


BENCHMARKS = [bench_throughput, bench_worker_killed, bench_projection]
