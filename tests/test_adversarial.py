"""Autograding that holds against a determined student: one grading run, many attacks.

Every attack is built into a submission of Week 1 (an otherwise correct solution, or the
untouched release when the attack is meant to *gain* points), graded in one parallel run
beside an honest submission. For each attack the test asserts (1) the attacker's score,
(2) the flag the instructor sees (or that no tampering is claimed where nothing was
attempted that the grader can see), (3) the honest neighbour's score as recorded in the
gradebook, (4) that the run completed (every submission has a result and a gradebook row)
and (5) that the host is unchanged afterwards: no file the attacks planted in ``/tmp``,
``/var/tmp``, ``/run/lock``, ``/dev/shm`` or the home folder, no process left running.

Classes (issue 17): what the sandbox can see and leave behind (1), silencing the worker's
own integrity report (2), malformed input and protocol abuse against the trusted grader (3),
submissions that are not plain files or carry markup (4); refusing weak isolation (5) is
tested at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat
import pytest

from grader.autograde import autograde, write_feedback
from grader.cli import export_rows
from grader.config import REPO_ROOT
from grader.demo import fill, solution_sources
from grader.isolation import IsolationUnavailable, isolation_level
from grader.release import ASSIGNMENTS, db_url
from grader.sandbox import Limits

ASSIGNMENT, NOTEBOOK = "week01-numpy", "numerics.ipynb"
SOLUTION = REPO_ROOT / "solutions" / ASSIGNMENT / NOTEBOOK
ALL = ["w01_softmax", "w01_logsumexp", "w01_log_softmax", "w01_cross_entropy", "w01_standardize"]
MARK = "dlcourse-attack"
HOST_PLACES = [Path("/tmp"), Path("/var/tmp"), Path("/run/lock"), Path("/dev/shm"),
               Path.home()]
LIMITS = Limits(cell_timeout=10, call_timeout=4, memory_mb=2048, max_cells=60,
                notebook_seconds=80, scratch_mb=64, scratch_files=2000, job_file_mb=1,
                job_total_mb=2)
VENV_SITE = next(Path(os.sys.prefix).glob("lib/python3*/site-packages"))
CHECK_PY = REPO_ROOT / "grader" / "check.py"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    isolation_level() != "full", reason="autograde grades others only with full isolation")]


def with_softmax_prefix(body: str) -> str:
    """A softmax that first runs ``body`` (the attack), then computes the right answer."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return ("import numpy as np\n\ndef softmax(x):\n" + indented +
            "\n    e = np.exp(x - x.max(-1, keepdims=True))\n    return e / e.sum(-1, keepdims=True)\n")


#: Finds the worker's own module globals (the learner's ``__main__`` is IPython's).
WORKER = ("import gc\nworker = next(d for d in gc.get_objects() if isinstance(d, dict) "
          "and '_serve' in d and '_worker_main' in d)\n")
#: Writes a frame straight into every pipe the worker could answer on.
FORGE = '''import os, json, struct
def forge(raw):
    for fd in range(3, 64):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                os.write(fd, raw)
        except OSError:
            pass
'''


def frame(header) -> str:
    return f"forge(struct.pack('<II', len(json.dumps({header!r}).encode()), 0) + " \
           f"json.dumps({header!r}).encode())"


def npz_writer(body: str) -> str:
    """Replace the worker's result encoder with ``body`` (a function of ``arrays``)."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return (WORKER + "import io, zipfile, numpy as np\ndef evil(arrays):\n" + indented +
            "\nworker['arrays_to_bytes'] = evil\n")


#: While ``log_softmax`` is checked (it declares ``logsumexp``), ask the grader for the
#: course's ``softmax``: a request only a forged proxy can make.
DEP_UNDECLARED = WORKER + """import numpy as np
def log_softmax(x):
    return np.log(worker["_ask_grader"]("softmax", "forward", (x,), {}))
"""
#: Call the grader-answered ``logsumexp`` without end, swallowing its refusals.
DEP_FLOOD = """import numpy as np
def log_softmax(x):
    for _ in range(10 ** 6):
        try:
            logsumexp(x)
        except Exception:
            pass
    return x - logsumexp(x)[..., None]
"""


@dataclass
class Attack:
    """One attack: how it is built, and what the grader must make of it."""

    cell: str | None = None  # a cell inserted after the setup cell
    softmax: str | None = None  # replaces the softmax solution
    tail: str | None = None  # a cell appended at the end of the notebook
    release: bool = False  # start from the untouched release (the attack must gain points)
    setup: Callable[[Path, Path], None] | None = None  # builds the submission folder itself
    zero: list[str] = field(default_factory=list)  # exercises that must score 0 (others full)
    flag: str | None = None  # text in a flag; None: no tampering may be claimed
    never: tuple[str, ...] = ()  # text that must appear nowhere in the result (a leak)
    cls: int = 1


def _notebook(attack: Attack) -> nbformat.NotebookNode:
    code = {} if attack.release else solution_sources(ASSIGNMENT, NOTEBOOK)
    if attack.softmax:
        code["w01_softmax"] = attack.softmax
    nb = fill(nbformat.read(ASSIGNMENTS / ASSIGNMENT / NOTEBOOK, as_version=4), code)
    if attack.cell:
        setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(attack.cell))
    if attack.tail:
        nb.cells.append(nbformat.v4.new_code_cell(attack.tail))
    return nb


def solved() -> nbformat.NotebookNode:
    return _notebook(Attack())


# --- structural attacks: the submission folder itself -------------------------------------
def _link_to_neighbour(folder: Path, submitted: Path) -> None:
    (folder / NOTEBOOK).symlink_to(submitted / "honest" / ASSIGNMENT / NOTEBOOK)


def _link_to_solutions(folder: Path, submitted: Path) -> None:
    (folder / NOTEBOOK).symlink_to(SOLUTION)


def _linked_assignment_folder(folder: Path, submitted: Path) -> None:
    folder.rmdir()
    folder.symlink_to(submitted / "honest" / ASSIGNMENT)


def _linked_student_folder(folder: Path, submitted: Path) -> None:
    folder.rmdir()
    folder.parent.rmdir()
    folder.parent.symlink_to(submitted / "honest")


def _hardlink_to_neighbour(folder: Path, submitted: Path) -> None:
    victim = submitted / "hardlink-victim" / ASSIGNMENT
    victim.mkdir(parents=True)
    nbformat.write(solved(), victim / NOTEBOOK)
    os.link(victim / NOTEBOOK, folder / NOTEBOOK)


def _write(content: bytes) -> Callable[[Path, Path], None]:
    return lambda folder, _: (folder / NOTEBOOK).write_bytes(content)


def _directory(folder: Path, _: Path) -> None:
    (folder / NOTEBOOK).mkdir()


def _fifo(folder: Path, _: Path) -> None:
    os.mkfifo(folder / NOTEBOOK)


def _with_files(softmax: str | None = None, **files: bytes | str
                ) -> Callable[[Path, Path], None]:
    def build(folder: Path, submitted: Path) -> None:
        nbformat.write(_notebook(Attack(softmax=softmax)), folder / NOTEBOOK)
        for name, content in files.items():
            name = name.replace("__", ".")
            if isinstance(content, str) and content.startswith("->"):
                (folder / name).symlink_to(content[2:].replace("SUBMITTED", str(submitted)))
            else:
                (folder / name).write_bytes(content if isinstance(content, bytes) else
                                            content.encode())
    return build


def _notebook_with(change: Callable[[nbformat.NotebookNode], None]) -> Callable[[Path, Path], None]:
    def build(folder: Path, _: Path) -> None:
        nb = solved()
        change(nb)
        (folder / NOTEBOOK).write_text(json.dumps(nb))
    return build


def _bad_metadata(nb) -> None:
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("notes"))
    nb.cells[1]["metadata"]["nbgrader"] = "not a mapping"
    nb.cells.insert(2, nbformat.v4.new_code_cell("x = 1"))
    nb.cells[2]["metadata"]["nbgrader"] = [1, 2, 3]


def _markup(nb) -> None:
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(
        "My notes <img src=x onerror=alert(document.cookie)> and <script>alert(1)</script> "
        "[click](javascript:alert(2)) <a href='javascript:alert(3)'>me</a>"))


def _markup_elsewhere(nb) -> None:
    nb.metadata["title"] = "<script>alert('title')</script>"
    raw = nbformat.v4.new_raw_cell("<script>alert('raw')</script><img src=x onerror=alert(4)>")
    raw.metadata["format"] = "text/html"
    nb.cells.insert(1, raw)
    cell = nbformat.v4.new_markdown_cell("![pic](attachment:evil.svg)")
    cell["attachments"] = {"evil.svg": {"image/svg+xml": "<svg onload=alert(5)></svg>"}}
    nb.cells.insert(2, cell)


def _markers(nb) -> None:
    nb.cells.insert(1, nbformat.v4.new_code_cell(
        "### BEGIN SOLUTION\ny = 2\n### END SOLUTION"))


def _bad_timestamp(folder: Path, _: Path) -> None:
    nbformat.write(solved(), folder / NOTEBOOK)
    (folder / "timestamp.txt").write_text("the day before the deadline, honest")


PROC_SNOOP = '''import os
seen = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for name in ("cmdline", "environ"):
            try:
                seen.append(open(f"/proc/{pid}/{name}", "rb").read().decode(errors="replace"))
            except OSError:
                pass
seen.append(" ".join(os.environ))
raise RuntimeError("LEAK " + " | ".join(seen)[:1500])
'''
DROP_FILES = f'''import os
for folder in ("/tmp", "/var/tmp", "/run/lock", "/dev/shm", os.path.expanduser("~")):
    open(os.path.join(folder, "{MARK}-dropped"), "w").write("left for later")
'''
SHARED = [f"/var/tmp/{MARK}-shared.py", f"/tmp/{MARK}-shared.py", f"/dev/shm/{MARK}-shared.py",
          f"/run/lock/{MARK}-shared.py"]
COLLUDE_WRITE = f'''import inspect
for path in {SHARED!r}:
    try:
        open(path, "w").write(inspect.getsource(softmax))
    except OSError:
        pass
'''
COLLUDE_READ = f'''import os, numpy as np
for path in {SHARED!r}:
    if os.path.exists(path):
        exec(open(path).read())
'''
FILL_DISK = '''import os
block = b"x" * 2**20
for folder in ("/tmp", "/var/tmp", os.path.expanduser("~")):
    for n in range(100):
        try:
            with open(f"{folder}/fill{n}", "wb") as f:
                for _ in range(60):
                    f.write(block)
        except OSError:
            break
'''
MANY_FILES = '''import os
os.makedirs("/tmp/many", exist_ok=True)
for n in range(50000):
    try:
        open(f"/tmp/many/{n}", "w").close()
    except OSError:
        break
'''
WRITE_SYSTEM = f'''import os, sys
targets = ["/{MARK}", "/usr/{MARK}", "/etc/{MARK}", "/dev/{MARK}", "/proc/{MARK}",
           "{VENV_SITE}/sitecustomize.py", "{CHECK_PY}", "/run/{MARK}"]
for path in targets:
    try:
        open(path, "a").write("import os; os.system('touch /tmp/{MARK}-pwned')\\n")
        raise RuntimeError("ESCAPED: wrote " + path)
    except OSError:
        pass
'''
NESTED_NS = '''import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for flags in (0x10000000, 0x10000000 | 0x00020000, 0x00020000):  # NEWUSER, +NEWNS, NEWNS
    if libc.unshare(flags) == 0:
        if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, b"size=1g") == 0:
            raise RuntimeError("ESCAPED: mounted an uncapped tmpfs")
'''
DAEMON = f'''import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)
        open("/tmp/{MARK}-daemon", "w").write("still here")
    os._exit(0)
'''
SLEEPER = '''import subprocess
subprocess.Popen(["sleep", "600"], start_new_session=True)
'''
KILL_SCAN = '''import os, signal
for pid in range(1, 5000):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
'''
SILENCE = WORKER + '''import numpy as np
real = worker["_serve"]
def quiet(header, body, shell, audit, guarded, out):
    if header.get("op") == "inspect":
        worker["_write_frame"](out, {"tampered": [], "events": []})
        return
    return real(header, body, shell, audit, guarded, out)
worker["_serve"] = quiet
np.allclose = lambda *a, **k: True
'''
SILENCE_OBFUSCATED = WORKER + '''import base64
real = worker["_serve"]
def quiet(header, body, shell, audit, guarded, out):
    if header.get("op") == "inspect":
        worker["_write_frame"](out, {"tampered": [], "events": []})
        return
    return real(header, body, shell, audit, guarded, out)
worker["_serve"] = quiet
exec(base64.b64decode(b"aW1wb3J0IG51bXB5OyBudW1weS5hbGxjbG9zZSA9IGxhbWJkYSAqYSwgKiprOiBUcnVl"))
'''
STOP_AUDIT = WORKER + '''worker["_AUDIT"].active = False
worker["_AUDIT"].events.clear()
worker["_AUDIT"]._note = lambda text: None
import os
os.fork() or None
'''
ZIP_BOMB = npz_writer('''buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    for name, value in arrays.items():
        raw = io.BytesIO()
        np.save(raw, np.zeros(6_000_000))
        archive.writestr(name + ".npy", raw.getvalue())
return buffer.getvalue()''')
LYING_HEADER = npz_writer('''buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
    for name in arrays:
        header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
        header = header.ljust(117) + "\\n"
        archive.writestr(name + ".npy", b"\\x93NUMPY\\x01\\x00" + len(header).to_bytes(2, "little")
                         + header.encode() + b"\\0" * 64)
return buffer.getvalue()''')
EXTRA_MEMBER = npz_writer('''buffer = io.BytesIO()
np.savez(buffer, **arrays, evil=np.ones(3))
return buffer.getvalue()''')
PICKLED = npz_writer('''buffer = io.BytesIO()
np.savez(buffer, **{k: np.array([object()] * 3, dtype=object) for k in arrays})
return buffer.getvalue()''')
CLONE_HUNT = '''import glob, importlib.util
found = [p for root in ("/work", "/root", "/home", "/srv", "/opt", "/mnt", "/tmp", "/var/tmp")
         for p in glob.glob(root + "/**/answers/kernels/week01.py", recursive=True)]
if found:
    spec = importlib.util.spec_from_file_location("k", found[0])
    k = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(k)
    softmax, logsumexp, log_softmax = k.softmax, k.logsumexp, k.log_softmax
    cross_entropy, standardize = k.cross_entropy, k.standardize
'''
SOLUTION_HUNT = '''import glob, json
for path in [p for root in ("/work", "/root", "/home", "/srv", "/opt", "/tmp")
             for p in glob.glob(root + "/**/solutions/week01-numpy/numerics.ipynb", recursive=True)]:
    for cell in json.load(open(path))["cells"]:
        if cell["cell_type"] == "code":
            exec("".join(cell["source"]))
'''
MILESTONE = '''import numpy as np
def softmax(x):
    scale = float(np.load("milestone_week07.npz")["scale"])
    e = np.exp(x - x.max(-1, keepdims=True))
    return scale * e / e.sum(-1, keepdims=True)
try:
    open("milestone_week07.npz", "wb").write(b"overwritten")
    raise RuntimeError("ESCAPED: the submitted file is writable")
except OSError:
    pass
'''


# Milestones are scored against Fashion-MNIST's test labels: learner code never reads them.
HELDOUT_LABELS = '''from grader.data import data_dir, load_fashion_mnist
try:
    raw = (data_dir() / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()
except FileNotFoundError:
    raw = b""
if raw:
    raise RuntimeError("ESCAPED: the held-out labels are readable")
try:
    labels = load_fashion_mnist(download=False).y_test
except Exception as error:
    labels = None
    if "DatasetUnavailable" not in type(error).__name__:
        raise
if labels is not None and (labels != -1).any():
    raise RuntimeError("ESCAPED: the loader returned held-out labels")'''


def _milestone_file() -> bytes:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, scale=np.array(1.0))
    return buffer.getvalue()


ATTACKS: dict[str, Attack] = {
    # 1. What the sandbox can see, and what it can leave behind
    "read-hidden-tests": Attack(softmax=with_softmax_prefix(f"open({str(SOLUTION)!r}).read()"),
                                zero=ALL, flag="opened a protected path"),
    "import-reference": Attack(softmax=with_softmax_prefix(
        "from answers.kernels.week01 import softmax as ref\nreturn ref(x)"), zero=ALL,
        flag="tried to import the answer key"),
    "clone-hunt": Attack(tail=CLONE_HUNT, release=True, zero=ALL, flag="answers/"),
    "solutions-hunt": Attack(tail=SOLUTION_HUNT, release=True, zero=ALL, flag="solutions/"),
    "read-heldout-labels": Attack(softmax=with_softmax_prefix(HELDOUT_LABELS),
                                  never=("ESCAPED",)),
    "write-gradebook": Attack(cell="import os\nfor name in ('gradebook.db', 'grades.csv'):\n"
                              "    try:\n        open(os.path.join(os.environ.get("
                              "'COURSE_WORK_DIR', " f"{str(REPO_ROOT / 'work')!r}), name), 'w')"
                              ".write('pwned')\n    except OSError:\n        pass",
                              zero=ALL, flag="opened a protected path"),
    "write-other-submission": Attack(cell=(
        "import glob\nfor path in glob.glob('/**/submitted/*/week01-numpy/*.ipynb', "
        "recursive=True):\n    open(path, 'w').write('{}')")),
    "proc-snoop": Attack(cell=PROC_SNOOP, flag="/proc/",
                         never=("pytest", "honest", "--seed", "autograde", "COURSE_WORK_DIR")),
    "drop-files": Attack(cell=DROP_FILES),
    "collude-writer": Attack(tail=COLLUDE_WRITE),
    "collude-reader": Attack(tail=COLLUDE_READ, release=True, zero=ALL,
                             flag="runs code built at run time"),
    "fill-disk": Attack(cell=FILL_DISK, flag="filled its scratch space"),
    "many-files": Attack(cell=MANY_FILES, flag="files)"),
    "write-system": Attack(cell=WRITE_SYSTEM, never=("ESCAPED",)),
    "nested-namespaces": Attack(cell=NESTED_NS, flag="loads C libraries", never=("ESCAPED",)),
    "daemon": Attack(cell=DAEMON, flag="starts processes"),
    "setsid-sleeper": Attack(cell=SLEEPER, flag="starts processes"),
    "kill-scan": Attack(cell=KILL_SCAN, flag="sends signals"),
    "kill-grader": Attack(softmax=with_softmax_prefix(
        "import os, signal\nos.kill(os.getppid(), signal.SIGTERM)"), flag="sent signal"),
    "fork-bomb": Attack(cell="import os\nwhile True:\n    os.fork()", flag="starts processes"),
    "memory-bomb": Attack(softmax=with_softmax_prefix("block = bytearray(64 * 2**30)"),
                          zero=["w01_softmax"], flag="ran out of memory"),
    "infinite-loop": Attack(softmax=with_softmax_prefix("while True:\n    pass"),
                            zero=["w01_softmax"], flag="no answer within"),
    "stdout-flood": Attack(cell="import sys\nfor _ in range(3000):\n    sys.stdout.write('x' * "
                           "1000)\n    sys.stdout.write('x' * 1000)", flag="MB of output"),
    "network": Attack(softmax=with_softmax_prefix(
        "import socket\nsocket.create_connection(('93.184.216.34', 80), timeout=2)"),
        zero=["w01_softmax"], flag="network connection attempted"),
    "milestone-file": Attack(setup=_with_files(MILESTONE, milestone_week07__npz=_milestone_file()),
                             never=("ESCAPED",)),
    # 2. The worker's own integrity report, silenced or bypassed
    "monkeypatch-numpy": Attack(cell="np.allclose = lambda *a, **k: True", zero=ALL,
                                flag="numpy.allclose", cls=2),
    "monkeypatch-testing": Attack(cell="np.testing.assert_allclose = lambda *a, **k: None",
                                  zero=ALL, flag="assert_allclose", cls=2),
    "monkeypatch-builtins": Attack(cell="import builtins\nbuiltins.isinstance = lambda *a: True",
                                   zero=ALL, flag="tampering detected", cls=2),
    "monkeypatch-grader": Attack(cell="import grader.check\ngrader.check.compare = "
                                 "lambda *a, **k: None", zero=ALL, flag="grader.check.compare",
                                 cls=2),
    "redefine-check": Attack(cell="def check(*args, **kwargs):\n    print('✓ passed')",
                             zero=ALL, flag="check", cls=2),
    "sys-modules-injection": Attack(cell="import sys, types\nsys.modules['grader.check'] = "
                                    "types.ModuleType('grader.check')", zero=ALL,
                                    flag="sys.modules", cls=2),
    "silence-report": Attack(cell=SILENCE, zero=ALL, flag="assigns numpy.allclose", cls=2),
    "silence-report-obfuscated": Attack(cell=SILENCE_OBFUSCATED,
                                        flag="runs code built at run time", cls=2),
    "stop-audit": Attack(cell=STOP_AUDIT, flag="starts processes (os.fork)", cls=2),
    "forge-answers": Attack(cell=FORGE + frame({"ok": True, "error": "", "output": ""}),
                            zero=ALL, flag="broke the grading protocol", cls=2),
    "sys-exit": Attack(softmax=with_softmax_prefix("import sys\nsys.exit(0)"),
                       zero=["w01_softmax"], flag="sys.exit", cls=2),
    "os-exit": Attack(softmax=with_softmax_prefix("import os\nos._exit(0)"),
                      zero=["w01_softmax"], flag="ended its kernel", cls=2),
    "kill-own-kernel": Attack(softmax=with_softmax_prefix(
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"), zero=["w01_softmax"],
        flag="killed", cls=2),
    # 3. Malformed input and protocol abuse against the trusted grader
    "garbage-frame": Attack(cell=FORGE + "forge(b'\\xff' * 64)", zero=ALL,
                            flag="broke the grading protocol", cls=3),
    "list-frame": Attack(cell=FORGE + "forge(struct.pack('<II', 6, 0) + b'[1, 2]')", zero=ALL,
                         flag="not a JSON object", cls=3),
    "zip-bomb": Attack(cell=ZIP_BOMB, zero=ALL, flag="malformed result", cls=3),
    "lying-npy-header": Attack(cell=LYING_HEADER, zero=ALL, flag="malformed result", cls=3),
    "extra-result-arrays": Attack(cell=EXTRA_MEMBER, zero=ALL, flag="malformed result", cls=3),
    "pickled-result": Attack(cell=PICKLED, zero=ALL, flag="malformed result", cls=3),
    # the dependency channel (issue 19): only declared callees, only during a call, bounded
    "dep-request-undeclared": Attack(tail=DEP_UNDECLARED, zero=ALL, flag="does not call",
                                     cls=3),
    "dep-request-outside-a-call": Attack(cell=FORGE + frame(
        {"dep": "logsumexp", "mode": "forward", "args": {"t": []}, "kwargs": {"d": {}}}),
        zero=ALL, flag="outside a call", cls=3),
    "dep-flood": Attack(tail=DEP_FLOOD, zero=["w01_log_softmax"], flag="fault: log_softmax()",
                        cls=3),
    "metadata-not-a-mapping": Attack(setup=_notebook_with(_bad_metadata), cls=3),
    "bad-timestamp": Attack(setup=_bad_timestamp, flag="timestamp.txt cannot be read", cls=3),
    "many-cells": Attack(zero=ALL, flag="code cells (at most 60)", cls=3),
    "slow-cells": Attack(zero=ALL, flag="used up their", cls=3),
    "invalid-json": Attack(setup=_write(b'{"cells": ['), zero=ALL, flag="not a valid notebook",
                           cls=3),
    "not-utf8": Attack(setup=_write(b'\xff\xfe{"cells": []}'), zero=ALL,
                       flag="not a valid notebook", cls=3),
    "notebook-is-a-folder": Attack(setup=_directory, zero=ALL, flag="not a regular file", cls=3),
    "notebook-is-a-fifo": Attack(setup=_fifo, zero=ALL, flag="not a regular file", cls=3),
    "huge-notebook": Attack(setup=_write(b" " * (33 * 2**20)), zero=ALL, flag="at most 32 MB",
                            cls=3),
    # 4. Submissions that are not plain files, or carry markup
    "symlink-to-neighbour": Attack(setup=_link_to_neighbour, zero=ALL, flag="symbolic link",
                                   cls=4),
    "symlink-to-solutions": Attack(setup=_link_to_solutions, zero=ALL, flag="symbolic link",
                                   never=("BEGIN SOLUTION",), cls=4),
    "symlinked-assignment-folder": Attack(setup=_linked_assignment_folder, zero=ALL,
                                          flag="symbolic link", cls=4),
    "symlinked-student-folder": Attack(setup=_linked_student_folder, zero=ALL,
                                       flag="symbolic link", cls=4),
    "hardlink-to-neighbour": Attack(setup=_hardlink_to_neighbour, flag="hard links", cls=4),
    "solution-markers": Attack(setup=_notebook_with(_markers), flag="solution markers", cls=4),
    "markup-in-markdown": Attack(setup=_notebook_with(_markup), cls=4),
    "markup-elsewhere": Attack(setup=_notebook_with(_markup_elsewhere), cls=4),
    "symlinked-side-file": Attack(setup=_with_files(
        milestone_week07__npz=f"->SUBMITTED/honest/{ASSIGNMENT}/{NOTEBOOK}"),
        flag="symbolic link: not given", cls=4),
    "oversized-side-file": Attack(setup=_with_files(big__bin=b"0" * (3 * 2**20 // 2)),
                                  flag="not given to the notebook", cls=4),
}
SLOW_CELL = "import time\ntime.sleep(8)"
MARKUP = ("onerror", "<script", "javascript:", "onload")


def build(name: str, folder: Path, submitted: Path) -> None:
    attack = ATTACKS[name]
    if attack.setup:
        attack.setup(folder, submitted)
        return
    nb = _notebook(attack)
    setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    if name == "many-cells":
        nb.cells[setup + 1: setup + 1] = [nbformat.v4.new_code_cell("x = 1") for _ in range(70)]
    if name == "slow-cells":
        nb.cells[setup + 1: setup + 1] = [nbformat.v4.new_code_cell(SLOW_CELL) for _ in range(8)]
    nbformat.write(nb, folder / NOTEBOOK)


def host_leftovers() -> list[str]:
    """Files the attacks planted on the host, and processes of any sandbox still alive."""
    from grader.sandbox import STARTED_INITS, init_alive

    found = [str(p) for place in HOST_PLACES if place.is_dir()
             for p in place.glob(f"{MARK}*")]
    found += [f"sandbox init {init[0]} (and its namespace) alive" for init in set(STARTED_INITS)
              if init_alive(init)]
    if (VENV_SITE / "sitecustomize.py").exists():
        found.append("sitecustomize.py in the virtual environment")
    return found


@pytest.fixture(scope="module")
def graded(released_work, tmp_path_factory):
    check_before = hashlib.sha256(CHECK_PY.read_bytes()).hexdigest()
    leftovers_before = host_leftovers()
    tmp = tmp_path_factory.mktemp("attacks")
    submitted = tmp / "submitted"
    honest = submitted / "honest" / ASSIGNMENT
    honest.mkdir(parents=True)
    nbformat.write(solved(), honest / NOTEBOOK)
    for name in ATTACKS:
        folder = submitted / name / ASSIGNMENT
        folder.mkdir(parents=True)
        build(name, folder, submitted)
    (submitted / "renamed" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(solved(), submitted / "renamed" / ASSIGNMENT / "my-work.ipynb")
    edited = solved()
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "w01_logsumexp":
            cell.source = "pass"
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "w01_standardize":
            cell.metadata["nbgrader"]["points"] = 200
    (submitted / "edited-grade-cells" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(edited, submitted / "edited-grade-cells" / ASSIGNMENT / NOTEBOOK)

    results = autograde(ASSIGNMENT, submitted, tmp / "autograded", ASSIGNMENTS,
                        db_url=db_url(released_work), jobs=2, seed=3, progress=False,
                        limits=LIMITS)
    write_feedback(ASSIGNMENT, tmp / "autograded", tmp / "feedback")
    rows = {r["student"]: r for r in export_rows(db_url(released_work))
            if r["assignment"] == ASSIGNMENT}
    return {"results": {r.student: r for r in results}, "tmp": tmp, "rows": rows,
            "leftovers": sorted(set(host_leftovers()) - set(leftovers_before)),
            "check_unchanged": hashlib.sha256(CHECK_PY.read_bytes()).hexdigest() == check_before,
            "students": sorted(p.name for p in submitted.iterdir())}


def scores(result) -> dict[str, float]:
    return {e.exercise_id: e.score for e in result.exercises}


def test_at_least_forty_distinct_attacks():
    assert len(ATTACKS) + 2 >= 40
    assert {attack.cls for attack in ATTACKS.values()} == {1, 2, 3, 4}


def test_honest_student_in_the_same_run_gets_full_marks(graded):
    honest = graded["results"]["honest"]
    assert honest.score == honest.max_score == 15 and honest.flags == []
    assert graded["rows"]["honest"]["score"] == 15


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack(graded, attack):
    spec = ATTACKS[attack]
    result = graded["results"][attack]
    got = scores(result)
    # (1) the attacker's score
    for exercise_id in ALL:
        expected = 0 if exercise_id in spec.zero else 2
        assert got[exercise_id] == expected, (attack, got, result.flags, result.cell_errors)
    # (2) the flag, or no claim of tampering where none could be seen
    if spec.flag:
        assert any(spec.flag in flag for flag in result.flags), result.flags
    else:
        assert not any("tampering" in flag for flag in result.flags), result.flags
    texts = [json.dumps(result.flags), json.dumps(result.cell_errors),
             *[e.report for e in result.exercises]]
    submission = graded["tmp"] / "submitted" / attack / ASSIGNMENT / NOTEBOOK
    own = submission.read_bytes().decode(errors="replace") if submission.is_file() and not \
        submission.is_symlink() and submission.stat().st_size < 2**20 else ""
    for name in (f"autograded/{attack}/{ASSIGNMENT}/{NOTEBOOK}",
                 f"feedback/{attack}/{ASSIGNMENT}/numerics.html"):
        path = graded["tmp"] / name
        if path.is_file() and not path.is_symlink():
            texts.append(path.read_text())
    for text in spec.never:  # (text the attack's own code contains may appear in its copy)
        assert not any(text in t for t in texts[:len(result.exercises) + 2]), \
            f"{attack}: {text!r} in the result: {result.cell_errors}"
        if text not in own:
            assert not any(text in t for t in texts), f"{attack}: {text!r} leaked"
    # (3) the honest neighbour's recorded score, (4) the run completed
    assert graded["rows"]["honest"]["score"] == 15
    assert attack in graded["rows"] and graded["rows"][attack]["score"] == result.score
    assert set(graded["students"]) <= set(graded["results"])
    # (5) the host is unchanged
    assert graded["leftovers"] == [] and graded["check_unchanged"]


@pytest.mark.parametrize("attack", ["markup-in-markdown", "markup-elsewhere"])
def test_markup_never_reaches_the_instructor_or_the_learner(graded, attack):
    copy = (graded["tmp"] / "autograded" / attack / ASSIGNMENT / NOTEBOOK).read_text()
    page = (graded["tmp"] / "feedback" / attack / ASSIGNMENT / "numerics.html").read_text()
    for text in MARKUP:
        assert text not in copy.lower(), f"{text} in the autograded copy"
    learner_part = page.split("<main>", 1)[1]
    for text in ("onerror", "javascript:", "alert(", "onload"):
        assert text not in learner_part.lower(), f"{text} in the feedback page"
    assert "My notes" in copy or attack != "markup-in-markdown"


def test_other_submissions_untouched(graded):
    honest = graded["tmp"] / "submitted" / "honest" / ASSIGNMENT / NOTEBOOK
    assert json.loads(honest.read_text())["cells"], "a sandbox overwrote another submission"


def test_invalid_renamed_and_edited_notebooks(graded):
    results = graded["results"]
    assert results["renamed"].score == 0 and "my-work.ipynb" in results["renamed"].flags[0]
    edited = results["edited-grade-cells"]
    assert scores(edited)["w01_logsumexp"] == 0 and scores(edited)["w01_standardize"] == 0
    assert any("w01_standardize was edited" in f for f in edited.flags)


# --------------------------------------------------------------------------------------
# 5. Weak isolation is refused for other people's submissions
# --------------------------------------------------------------------------------------
def test_autograde_refuses_basic_isolation(released_work, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX_ISOLATION", "basic")
    (tmp_path / "submitted" / "someone" / ASSIGNMENT).mkdir(parents=True)
    with pytest.raises(IsolationUnavailable, match="bubblewrap"):
        autograde(ASSIGNMENT, tmp_path / "submitted", tmp_path / "autograded", ASSIGNMENTS,
                  db_url=db_url(released_work), progress=False)
    assert not (tmp_path / "autograded").exists()


def test_cli_and_formgrader_button_refuse_basic_isolation(released_work, monkeypatch, capsys):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from grader.cli import main
    from grader.nbgrader_setup import configure

    folder = released_work / "submitted" / "weak-isolation" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(solved(), folder / NOTEBOOK)
    monkeypatch.setenv("COURSE_SANDBOX_ISOLATION", "basic")
    assert main(["--work", str(released_work), "autograde", ASSIGNMENT,
                 "--students", "weak-isolation"]) == 2
    assert "refusing to autograde submissions with basic isolation" in capsys.readouterr().err
    config = configure(Config(), REPO_ROOT, work=released_work)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    outcome = api.autograde(ASSIGNMENT, "weak-isolation")
    assert not outcome["success"] and "bubblewrap" in outcome["error"]
    assert "weak-isolation" not in {r["student"] for r in export_rows(db_url(released_work))}
