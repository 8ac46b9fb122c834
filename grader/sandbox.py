"""Run a learner's notebook code in a separate, resource-limited, isolated process.

The trusted grader (:mod:`grader.autograde`) never imports or executes learner code itself.
It starts one worker process per submission (``python -m grader.sandbox``), sends it the
notebook's code cells one at a time, then asks it to *call* the learner's functions on
inputs the grader chose. Only data comes back: NumPy arrays in ``.npz`` form, checked
(names, sizes, dtypes, declared shapes) *before* they are read, loaded with
``allow_pickle=False``. Every protocol frame is validated (a JSON object with the keys and
types its request expects, within size limits); anything else is a protocol violation.
Whatever the learner's code redefines (``np.allclose``, ``check``, ``assert``,
``sys.modules``) lives and dies in the worker and cannot touch the score.

Isolation (:mod:`grader.isolation`): ``full`` runs the worker under bubblewrap (allowlist
filesystem, own PID/network/IPC/user namespaces, capped scratch); ``basic`` runs it as a
plain process. Limits (all per worker, see :class:`Limits`): time per cell and per call
(enforced by the parent, which kills the worker and, in full isolation, its whole PID
namespace), address space, CPU seconds, file size, open files and processes.

**Time is the sandbox's CPU time, within a wall-clock cap** (:class:`RequestClock`): a
cell or call may use its timeout in CPU seconds of the sandbox's processes, and at most
``Limits.wall_factor`` × its timeout of wall-clock time. On an idle machine the two agree
(an infinite loop is stopped after its timeout, as before); on a busy one the learner's
code gets less of a core, and a cell that needs 1 s of CPU is no longer cut off because
it took 20 s to get it (a regrade of an unchanged submission under load kept its score
only by luck before: the first cell's imports take ~3 s of a 15 s timeout at load 8).
A wait that uses no CPU (``time.sleep``, a blocked read) still ends at the cap. Time the
grader spends answering dependency requests is not the learner's CPU time. A worker that
dies or hangs is restarted and the cells that had run are replayed, so one bad cell costs
only what depends on it.

Two additions to a checked call (issue 19):

* **Arguments after the call.** With ``echo_inputs``, the worker sends back its copies of
  the array arguments as they are after the call (``in<i>`` beside the ``out<i>``
  outputs, same frame, same caps and validation); the grader compares them with what it
  sent, outside the sandbox (:func:`grader.check.input_changes`). A lying worker could only
  hide the learner's own mistake, never gain a point it would not have without it.
* **Dependencies answered by the grader.** When exercise E calls another graded function
  of the learner (the RNN over a sequence calls the step), a bug in the callee must not
  cost E's points. While E is checked, the names E declares (``Exercise.uses``) are bound,
  in the notebook's namespace, to a *proxy*: calling it sends a ``dep`` request frame (the
  arguments, as data) up the same pipe, and the trusted grader answers with the course's
  result for those arguments (:class:`DependencyServer`, computed outside the sandbox), or
  an error. The answer key's source never enters the sandbox: only the outputs (and, for
  PyTorch callees, vector–Jacobian products, so that autograd flows through the proxy)
  cross the pipe, for inputs the learner's own code chose. Requests are validated like
  answers (keys, types, nesting, sizes); a request for a name E does not declare can only
  be forged (the proxy asks only for its own name) and is a protocol violation; more than
  :data:`MAX_DEP_REQUESTS` requests in one call are refused, and the call fails. The
  alternative — running the course's implementation inside the sandbox — would put its
  source (bytecode) within reach of the learner's code; recording a "cascade" and
  forgiving afterwards would need a second grade of every caller.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import io
import json
import math
import os
import resource
import select
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import weakref
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from grader.check import CallFailed, in_framework
from grader.config import REPO_ROOT, work_dir
from grader.isolation import (SANDBOX_HOME, SCRATCH, SandboxSpec, bwrap_arguments, startup_script,
                              isolation_level, tools)

#: Largest result a worker may send back, as stored *and* as it expands (a learner's array).
MAX_FRAME_BYTES = 256 * 2**20
#: Largest JSON header of a frame.
MAX_HEADER_BYTES = 2**20
#: Most arrays one result may hold.
MAX_RESULT_ARRAYS = 64
#: Most ``dep`` requests (calls of a graded callee answered by the grader) in one call.
MAX_DEP_REQUESTS = 2000
#: Deepest nesting and most items of a value sent through a ``dep`` request or answer.
MAX_VALUE_DEPTH = 6
MAX_VALUE_NODES = 256
#: Exit status of a worker whose own machinery the learner's code broke.
WORKER_BROKEN = 70
#: How much of a cell's printed output is kept for feedback.
MAX_CELL_OUTPUT = 4000
#: Modules the worker refuses to import: the answers and the grader's own scoring code.
BLOCKED_MODULES = ("answers", "solutions", "grader.autograde", "grader.selfgrade",
                   "grader.demo")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed worker and notebook (an instructor can change each)."""

    cell_timeout: float = 30.0  # wall-clock seconds per notebook cell
    call_timeout: float | None = None  # seconds per checked call (default: the exercise's)
    memory_mb: int = 4096  # address space of the worker (RLIMIT_AS)
    cpu_seconds: int = 600  # total CPU time of the worker (RLIMIT_CPU)
    file_mb: int = 64  # largest file the worker may write (RLIMIT_FSIZE)
    scratch_mb: int = 128  # all writable places together (/tmp, /var/tmp, home …), full isolation
    scratch_files: int = 4096  # files and folders in the scratch, full isolation
    open_files: int = 256  # RLIMIT_NOFILE
    processes: int = 64  # processes in the sandbox (RLIMIT_NPROC, full isolation)
    no_network: bool = True  # private network namespace when available
    notebook_seconds: float = 900.0  # wall-clock budget of one notebook: cells + checks
    milestone_share: float = 0.25  # part of notebook_seconds kept for the checks (milestones)
    max_cells: int = 400  # code cells run per notebook; the rest are skipped and flagged
    job_file_mb: int = 64  # largest other file of a submission copied next to the notebook
    job_total_mb: int = 256  # all of a submission's other files together
    wall_factor: float = 4.0  # a cell/call may take this × its timeout of wall-clock time
    #                           while the sandbox used less than its timeout of CPU time

    @property
    def cells_seconds(self) -> float:
        """The part of the notebook budget its cells may use (the rest is for the checks)."""
        return self.notebook_seconds * (1.0 - self.milestone_share)


# --------------------------------------------------------------------------------------
# Framing: a JSON header and an optional binary payload, each length-prefixed
# --------------------------------------------------------------------------------------
def _write_frame(stream, header: dict, payload: bytes = b"") -> None:
    data = json.dumps(header).encode()
    stream.write(struct.pack("<II", len(data), len(payload)) + data + payload)
    stream.flush()


def arrays_to_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


class MalformedResult(ValueError):
    """A result payload that is not what the protocol allows (checked before reading it)."""


def bytes_to_arrays(payload: bytes, names: list[str] | None = None,
                    max_bytes: int = MAX_FRAME_BYTES) -> dict[str, np.ndarray]:
    """Read an ``.npz`` payload, bounding what it expands to *before* reading any array.

    The zip directory must list only uncompressed (stored) ``.npy`` members, exactly
    ``names`` when given, whose sizes add up to at most ``max_bytes``; each member's ``.npy``
    header must declare a numeric dtype and a shape whose size fits in the member.

    Raises:
        MalformedResult: anything else (a zip bomb, a pickle, a lying header, extra names).
    """
    if not payload:
        if names:
            raise MalformedResult("empty result")
        return {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise MalformedResult(f"not an npz archive ({type(error).__name__})") from None
    if len(members) > MAX_RESULT_ARRAYS:
        raise MalformedResult(f"{len(members)} arrays (at most {MAX_RESULT_ARRAYS})")
    if sum(m.file_size for m in members) > max_bytes:
        raise MalformedResult(f"expands to more than {max_bytes // 2**20} MB")
    found = [m.filename[:-4] for m in members if m.filename.endswith(".npy")]
    if len(found) != len(members) or len(set(found)) != len(found):
        raise MalformedResult("unexpected members in the archive")
    if names is not None and sorted(found) != sorted(names):
        raise MalformedResult(f"arrays {sorted(found)[:5]} where {sorted(names)[:5]} were expected")
    arrays = {}
    for member, name in zip(members, found):
        if member.compress_type != zipfile.ZIP_STORED:
            raise MalformedResult("compressed member (results are stored uncompressed)")
        try:
            with archive.open(member) as handle:
                version = np.lib.format.read_magic(handle)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(handle)
                if dtype.hasobject or dtype.kind not in "biufcSUMm":
                    raise MalformedResult(f"{name}: dtype {dtype} is not numeric")
                size = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if size > member.file_size:
                    raise MalformedResult(f"{name}: header declares {size} bytes, holds less")
            with archive.open(member) as handle:
                arrays[name] = np.lib.format.read_array(handle, allow_pickle=False)
        except MalformedResult:
            raise
        except Exception as error:  # a broken .npy of any kind
            raise MalformedResult(f"{name}: unreadable ({type(error).__name__})") from None
    return arrays


# --------------------------------------------------------------------------------------
# Values of dependency calls: nested tuples/lists/dicts of arrays and plain scalars
# --------------------------------------------------------------------------------------
def pack_value(value: Any, arrays: dict[str, np.ndarray], depth: int = 0) -> Any:
    """A JSON description of ``value`` whose arrays go into ``arrays`` (``v<k>`` names).

    Arrays (NumPy, PyTorch tensors, NumPy scalars) → ``{"a": name}``; ``None``, bools,
    ints, finite or not floats and short strings → ``{"v": value}``; tuples, lists and
    string-keyed dicts → ``{"t": [...]}``, ``{"l": [...]}``, ``{"d": {...}}``.
    """
    if depth > MAX_VALUE_DEPTH or len(arrays) >= MAX_RESULT_ARRAYS:
        raise TypeError("a value nested too deeply or holding too many arrays")
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)) and not isinstance(value, (np.str_, np.bytes_)):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError("an object array")
        name = f"v{len(arrays)}"
        arrays[name] = array
        return {"a": name}
    if value is None or isinstance(value, (bool, int, float)):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
            raise TypeError("an integer too large")
        return {"v": value}
    if isinstance(value, str) and len(value) <= 200:
        return {"v": value}
    if isinstance(value, (tuple, list)):
        return {"t" if isinstance(value, tuple) else "l":
                [pack_value(item, arrays, depth + 1) for item in value]}
    if isinstance(value, dict) and all(isinstance(k, str) and len(k) <= 100 for k in value):
        return {"d": {k: pack_value(v, arrays, depth + 1) for k, v in value.items()}}
    raise TypeError(f"a {type(value).__name__} cannot cross the sandbox's boundary")


def value_array_names(node: Any) -> list[str]:
    """The array names a packed value refers to, validating its shape on the way.

    Raises:
        ProtocolViolation: not a packed value (unknown node, too deep, too many nodes).
    """
    names: list[str] = []
    count = [0]

    def walk(item: Any, depth: int) -> None:
        count[0] += 1
        if depth > MAX_VALUE_DEPTH or count[0] > MAX_VALUE_NODES:
            raise ProtocolViolation("a value nested too deeply or too large")
        if not isinstance(item, dict) or len(item) != 1:
            raise ProtocolViolation("a malformed value")
        (kind, inner), = item.items()
        if kind == "a" and isinstance(inner, str) and len(inner) <= 8:
            names.append(inner)
        elif kind == "v" and (inner is None or isinstance(inner, (bool, int, float)) or
                              isinstance(inner, str) and len(inner) <= 200):
            return
        elif kind in ("t", "l") and isinstance(inner, list):
            for child in inner:
                walk(child, depth + 1)
        elif kind == "d" and isinstance(inner, dict) and all(
                isinstance(k, str) and len(k) <= 100 for k in inner):
            for child in inner.values():
                walk(child, depth + 1)
        else:
            raise ProtocolViolation("a malformed value")

    walk(node, 0)
    if len(set(names)) != len(names) or len(names) > MAX_RESULT_ARRAYS:
        raise ProtocolViolation("a value with repeated or too many arrays")
    return names


def unpack_value(node: Any, arrays: dict[str, np.ndarray], convert=None) -> Any:
    """The value :func:`pack_value` described (``convert`` applied to each array)."""
    (kind, inner), = node.items()
    if kind == "a":
        return convert(arrays[inner]) if convert else arrays[inner]
    if kind == "v":
        return inner
    if kind == "t":
        return tuple(unpack_value(child, arrays, convert) for child in inner)
    if kind == "l":
        return [unpack_value(child, arrays, convert) for child in inner]
    return {k: unpack_value(child, arrays, convert) for k, child in inner.items()}


#: What a ``dep`` request (from the worker, during a call) holds.
_DEP_KEYS = {"dep": str, "mode": str, "args": dict, "kwargs": dict, "grads": dict}


def validate_dep_request(request: dict, body: bytes) -> tuple[str, str, Any, Any, Any]:
    """``(name, mode, args, kwargs, grads)`` of a dependency request, read and validated.

    Raises:
        ProtocolViolation: anything but a request the worker's own proxy sends.
    """
    if set(request) - set(_DEP_KEYS) or not {"dep", "mode", "args", "kwargs"} <= set(request):
        raise ProtocolViolation("a malformed dependency request")
    for key, kind in _DEP_KEYS.items():
        if key in request and not isinstance(request[key], kind):
            raise ProtocolViolation("a malformed dependency request")
    if len(request["dep"]) > 100 or request["mode"] not in ("forward", "vjp"):
        raise ProtocolViolation("a malformed dependency request")
    parts = [request["args"], request["kwargs"]] + ([request["grads"]] if "grads" in request else [])
    names = [name for part in parts for name in value_array_names(part)]
    if len(set(names)) != len(names):
        raise ProtocolViolation("a dependency request with repeated arrays")
    try:
        arrays = bytes_to_arrays(body, names)
    except MalformedResult as error:
        raise ProtocolViolation(f"a malformed dependency request ({error})") from None
    args = unpack_value(request["args"], arrays)
    kwargs = unpack_value(request["kwargs"], arrays)
    grads = unpack_value(request["grads"], arrays) if "grads" in request else None
    if not isinstance(args, tuple) or not isinstance(kwargs, dict):
        raise ProtocolViolation("a malformed dependency request")
    return request["dep"], request["mode"], args, kwargs, grads


class DependencyServer:
    """The grader's side of dependency proxies for one checked call (trusted; see the module
    docstring): answers ``dep`` requests for the declared names with ``answer``.

    Args:
        answer: ``(name, mode, args, kwargs, grads) -> value``: the course's result for a
            declared callee (``mode="vjp"``: the gradients of the arguments).
        names: the callee function names the checked exercise declares.
        max_requests: most requests answered in one call.
    """

    def __init__(self, answer, names, max_requests: int = MAX_DEP_REQUESTS):
        self.answer = answer
        self.names = tuple(names)
        self.max_requests = max_requests
        self.requests = 0
        self.refused = 0

    def serve(self, request: dict, body: bytes) -> tuple[dict, bytes]:
        """The reply frame to one request (an error reply for a failed or refused one)."""
        name, mode, args, kwargs, grads = validate_dep_request(request, body)
        if name not in self.names:
            raise ProtocolViolation(f"a request for `{name[:40]}`, which this exercise does "
                                    "not call")
        self.requests += 1
        if self.requests > self.max_requests:
            self.refused += 1
            if self.refused > 10:  # still asking after being refused: stop the call
                raise DependencyFlood(f"called `{name}` more than {self.max_requests} times in "
                                   "one call (the grader answers it for you: see the hint)")
            return {"ok": False, "error": f"more than {self.max_requests} calls of "
                                          f"`{name}` in one call"}, b""
        try:
            value = self.answer(name, mode, args, kwargs, grads)
            arrays: dict[str, np.ndarray] = {}
            packed = pack_value(value, arrays)
        except Exception as error:  # the learner's arguments do not fit the callee
            return {"ok": False, "error": f"{type(error).__name__}: {str(error)[:300]}"}, b""
        return {"ok": True, "value": packed}, arrays_to_bytes(arrays)


#: What each answer must hold: key -> accepted types (missing keys take the default).
_ANSWER_SCHEMA = {
    "run": {"ok": (bool,), "error": (str,), "output": (str,)},
    "call": {"ok": (bool,), "error": (str,), "not_implemented": (bool,), "nout": (int,),
             "tuple": (bool,), "raised": (list,)},
    "inspect": {"tampered": (list,), "events": (list,)},
}
_REQUIRED = {"run": ("ok",), "call": ("ok",), "inspect": ("tampered", "events")}


def validate_answer(op: str, answer: Any, body_len: int) -> dict:
    """The worker's answer to ``op`` if it has exactly the expected shape, else raise.

    Raises:
        ProtocolViolation: not a JSON object, unknown or missing keys, wrong types, sizes.
    """
    schema = _ANSWER_SCHEMA[op]
    if not isinstance(answer, dict):
        raise ProtocolViolation(f"the answer to {op!r} is a {type(answer).__name__}, "
                                "not a JSON object")
    unknown = set(answer) - set(schema)
    missing = [key for key in _REQUIRED[op] if key not in answer]
    if unknown or missing:
        raise ProtocolViolation(f"the answer to {op!r} has unexpected keys "
                                f"{sorted(unknown)[:5]} or lacks {missing}")
    for key, value in answer.items():
        if not isinstance(value, schema[key]) or (int in schema[key] and isinstance(value, bool)):
            raise ProtocolViolation(f"the answer to {op!r} has {key} of type "
                                    f"{type(value).__name__}")
    if op == "inspect":
        items = answer["tampered"] + answer["events"]
        if len(items) > 64 or not all(isinstance(i, str) and len(i) <= 500 for i in items):
            raise ProtocolViolation("the integrity report is not a short list of strings")
    if op == "call" and not (len(answer.get("raised", ())) <= 16 and all(
            isinstance(n, str) and len(n) <= 200 for n in answer.get("raised", ()))):
        raise ProtocolViolation("the exception classes reported are not a short list of names")
    if op == "call" and not 0 <= answer.get("nout", 0) <= MAX_RESULT_ARRAYS:
        raise ProtocolViolation("the answer declares an impossible number of outputs")
    if body_len and not (op == "call" and answer.get("ok")):
        raise ProtocolViolation(f"the answer to {op!r} carries an unexpected payload")
    return answer


# --------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------
class SandboxError(CallFailed):
    """The learner's code raised, timed out or killed its worker."""


class SandboxTimeout(SandboxError):
    pass


class SandboxDied(SandboxError):
    pass


class ProtocolViolation(SandboxDied):
    """The worker sent something the protocol does not allow: learner code interfered."""


class DependencyFlood(SandboxDied):
    """The learner's code kept calling a callee the grader answers past the limit (the
    worker is stopped: nothing more is answered)."""


@dataclass
class CellOutcome:
    ok: bool
    error: str = ""
    output: str = ""
    timed_out: bool = False
    died: bool = False
    violation: bool = False


@dataclass
class Accounting:
    """What the grader measured of a sandbox from outside it (the learner cannot forge it)."""

    processes: int = 0  # processes in the sandbox besides the worker (full isolation)
    scratch_bytes: int = 0
    scratch_files: int = 0
    measured: bool = False


def _network_isolation_prefix() -> list[str]:
    """``unshare --net`` when this machine allows it, else nothing (checked once)."""
    global _NET_PREFIX
    if _NET_PREFIX is None:
        unshare = shutil.which("unshare")
        _NET_PREFIX = []
        if unshare:
            for prefix in ([unshare, "--net"], [unshare, "--user", "--map-root-user", "--net"]):
                try:
                    probe = subprocess.run(prefix + ["true"], capture_output=True, timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    continue
                if probe.returncode == 0:
                    _NET_PREFIX = prefix
                    break
    return _NET_PREFIX


_NET_PREFIX: list[str] | None = None


_LIVE: "weakref.WeakSet[Sandbox]" = weakref.WeakSet()
#: The sandbox init process (host pid, start time) of the latest fully isolated workers:
#: when it is gone, its whole PID namespace is gone (tests check that none survives).
STARTED_INITS: "collections.deque[tuple[int, int]]" = collections.deque(maxlen=10000)


def kill_all_sandboxes() -> None:
    """Kill every live worker (on Ctrl-C: their grading threads then fail fast)."""
    for sandbox in list(_LIVE):
        sandbox.kill()


def _pid_namespace(pid: int | str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def start_time(pid: int) -> int | None:
    """A process's start time (clock ticks since boot): with its pid, who it is."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def init_alive(init: tuple[int, int]) -> bool:
    """Whether a sandbox's init process (and so any process of its namespace) still runs.

    A zombie init counts as gone: the kernel ends every other process of a PID namespace
    before its init exits; only the reaping of the init by the host's pid 1 remains.
    """
    try:
        with open(f"/proc/{init[0]}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[19]) == init[1] and fields[0] not in ("Z", "X")
    except (OSError, IndexError, ValueError):
        return False


def _zombie(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def processes_in_namespace(namespace: str) -> list[int]:
    """Host pids of every live (not zombie) process in the PID namespace ``namespace``."""
    return [int(entry) for entry in os.listdir("/proc")
            if entry.isdigit() and _pid_namespace(entry) == namespace and not _zombie(entry)]


def cpu_seconds_of(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` and of their reaped children (``/proc``); a
    process that is gone counts 0."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        except (OSError, IndexError, ValueError):
            continue
    return total / _CLOCK_TICKS


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _session_processes(session: int) -> list[int]:
    """Host pids of the live processes of session ``session`` (a basic sandbox's worker)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == session and fields[0] != "Z":
                pids.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def too_many_processes_message(limit: int) -> str:
    """What a request stopped for exceeding the sandbox's process limit says (no count in
    it: a regrade must record the same words)."""
    return f"more than {limit} processes at once (the sandbox allows {limit}; a fork bomb?)"


class RequestClock:
    """When one request (a cell, a call) has used up its time.

    Its time is ``timeout`` seconds of the sandbox's CPU time, and at most ``cap`` seconds
    of wall-clock time (default ``Limits.wall_factor`` × ``timeout``). Nothing is measured
    while the wall clock is under ``timeout`` (the common case costs one ``/proc`` read at
    the start); after that, the CPU the sandbox's processes used since the start decides:
    the deadline moves on by the CPU time still left (at least ``min_step``) until the cap.
    Without a CPU reading (a process list that cannot be read), the wall clock alone
    counts, as before.
    """

    min_step = 0.1
    #: Seconds between two calls of ``watch`` (a request shorter than this never calls it).
    watch_step = 1.0

    def __init__(self, timeout: float, cap: float | None, cpu, now=time.monotonic,
                 watch: Callable[[], str | None] | None = None):
        self.timeout, self.cpu, self.now, self.watch = timeout, cpu, now, watch
        self.start = now()
        self.cap = self.start + max(timeout, timeout if cap is None else cap)
        self.check_at = self.start + timeout
        self.watch_at = self.start + self.watch_step if watch else math.inf
        self.cpu_start = cpu(False)
        self.cpu_used: float | None = None  # at the last check
        self.by_wall = False  # the cap ended it (rather than the CPU time)
        self.stopped: str | None = None  # what ``watch`` stopped it for

    def left(self) -> float:
        """Seconds to wait before asking again; 0 when the request's time is up."""
        now = self.now()
        if now >= self.watch_at:
            self.stopped = self.watch()
            if self.stopped:
                return 0.0
            self.watch_at = now + self.watch_step
        if now < self.check_at:
            return min(self.check_at, self.watch_at) - now
        if self.cpu_start is None:  # the wall clock alone
            return 0.0
        if now >= self.cap:
            self.by_wall = True
            return 0.0
        current = self.cpu(True)
        if current is None:
            return 0.0
        self.cpu_used = max(0.0, current - self.cpu_start)
        if self.cpu_used >= self.timeout:
            return 0.0
        self.check_at = min(self.cap, now + max(self.min_step, self.timeout - self.cpu_used))
        return min(self.check_at, self.watch_at) - now

    def message(self) -> str:
        """The timeout's message: one text whichever limit ended the request (its CPU time,
        or the wall-clock cap on a busy machine: see :attr:`by_wall`), with no measured
        seconds in it — it is recorded with the grade, and a regrade of the same submission,
        here or on a cluster worker under another load, must record the same words.
        A request ``watch`` stopped says why instead."""
        if self.stopped:
            return self.stopped
        return f"no answer within {self.timeout:g} s (infinite loop, or waiting for something?)"


class Sandbox:
    """One worker process running one submission's code. Use as a context manager.

    Args:
        limits: resource limits.
        files: a host folder whose regular files the worker sees, read-only, in its working
            folder (the submission's other files, staged by the grader); or None.
        isolation: ``"full"`` or ``"basic"`` (default: the best this machine offers).
    """

    def __init__(self, limits: Limits = Limits(), files: Path | None = None,
                 isolation: str | None = None):
        self.limits = limits
        self.isolation = isolation or isolation_level()
        self.files = Path(files) if files else None
        self.process: subprocess.Popen | None = None
        self.namespace: str | None = None  # the worker's PID namespace (full isolation)
        self.init: tuple[int, int] | None = None  # its init process: (host pid, start time)
        self._cpu_pids: list[int] = []  # the processes whose CPU time a request counts
        if self.isolation == "full":
            self._spec = SandboxSpec.for_course(limits.scratch_mb, limits.scratch_files,
                                                str(self.files) if self.files else None)
            self.workdir = SANDBOX_HOME
            self._own_dir = False
        else:
            self._spec = None
            self.workdir = tempfile.mkdtemp(prefix="sandbox-")
            self._own_dir = True
            if self.files:
                for path in self.files.iterdir():
                    if path.is_file() and not path.is_symlink():
                        shutil.copyfile(path, os.path.join(self.workdir, path.name))
        self._protected = [str(REPO_ROOT), str(work_dir())]
        _LIVE.add(self)
        self._start()

    # lifecycle ----------------------------------------------------------------------
    def _prepare_child(self) -> None:  # runs in the child between fork and exec
        mb = 2**20
        resource.setrlimit(resource.RLIMIT_AS, (self.limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CPU, (self.limits.cpu_seconds,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.limits.file_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.limits.open_files,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _die_with_parent()

    def _environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if key in ("LANG", "LC_ALL", "COURSE_DATA_DIR")}
        env.update(MPLBACKEND="Agg", COURSE_FAST="1", COURSE_GRADING="1", HOME=self.workdir,
                   MPLCONFIGDIR=os.path.join(self.workdir, ".matplotlib") if self._spec
                   else self.workdir, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0",
                   USER="learner", LOGNAME="learner", TMPDIR="/tmp",
                   PATH=os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),
                   COURSE_PROTECTED=os.pathsep.join(self._protected))
        if self._spec is not None:
            env["COURSE_SANDBOX_NPROC"] = str(self.limits.processes)
            env["VIRTUAL_ENV"] = sys.prefix
        elif "VIRTUAL_ENV" in os.environ:
            env["VIRTUAL_ENV"] = os.environ["VIRTUAL_ENV"]
        return env

    def _start(self) -> None:
        worker = [sys.executable, "-m", "grader.sandbox"]
        env = self._environment()
        self.namespace = None
        self._cpu_pids = []
        if self._spec is None:
            prefix = _network_isolation_prefix() if self.limits.no_network else []
            self.process = subprocess.Popen(
                prefix + worker, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, cwd=self.workdir, env=env, start_new_session=True,
                preexec_fn=self._prepare_child)
            return
        # bwrap reads its options from a pipe: the sandbox's own /proc/1/cmdline then shows
        # "bwrap --args N" and the start-up command, nothing of the grader or its paths.
        args_read, args_write = os.pipe()
        info_read, info_write = os.pipe()
        script_read, script_write = os.pipe()  # the start-up script, as data (not argv)
        arguments = ["--info-fd", str(info_write),
                     *bwrap_arguments(self._spec, worker, env, script_fd=script_read)]
        split = arguments.index("--")  # options through the pipe, the command as usual
        os.write(args_write, b"\0".join(a.encode() for a in arguments[:split]) + b"\0")
        os.close(args_write)
        os.write(script_write, startup_script(self._spec).encode())  # far below a pipe's 64 KiB
        os.close(script_write)
        try:
            self.process = subprocess.Popen(
                [tools()["bwrap"], "--args", str(args_read), *arguments[split:]],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd="/", env={},
                start_new_session=True, pass_fds=(args_read, info_write, script_read),
                preexec_fn=self._prepare_child)
        finally:
            os.close(args_read)
            os.close(info_write)
            os.close(script_read)
        self._read_namespace(info_read)
        if self.init:
            STARTED_INITS.append(self.init)

    def _read_namespace(self, fd: int) -> None:
        """The PID namespace bwrap made and its init, from bwrap's ``--info-fd`` report."""
        chunks, deadline = [], time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    break
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
                try:
                    info = json.loads(b"".join(chunks))
                    self.namespace = f"pid:[{int(info['pid-namespace'])}]"
                    pid = int(info["child-pid"])
                except (ValueError, KeyError, TypeError):
                    continue
                started = start_time(pid)
                self.init = (pid, started) if started is not None else None
                return
        finally:
            os.close(fd)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        self._wait_namespace_empty()

    def _wait_namespace_empty(self, timeout: float = 10.0) -> None:
        """Full isolation: wait until the sandbox's init, and so its PID namespace, is gone.

        Killing bwrap kills the init (``--die-with-parent``), and the kernel kills every
        process of a PID namespace whose init dies. The init is known by pid *and* start
        time, so a recycled pid is never mistaken for it (nor killed).
        """
        if not self.init:
            return
        deadline = time.monotonic() + timeout
        while init_alive(self.init) and time.monotonic() < deadline:
            time.sleep(0.01)
        if init_alive(self.init):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.init[0], signal.SIGKILL)

    def restart(self) -> None:
        self.kill()
        self._start()

    def close(self) -> None:
        self.kill()
        _LIVE.discard(self)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # accounting from outside ----------------------------------------------------------
    def accounting(self) -> Accounting:
        """Processes and scratch use of the sandbox, measured by the grader from outside."""
        result = Accounting()
        if not self.namespace or not self.alive or not self.init or not init_alive(self.init):
            return result
        pids = processes_in_namespace(self.namespace)
        stats = {}
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                stats[pid] = (int(fields[1]), int(fields[19]))  # ppid, start time
            except (OSError, IndexError, ValueError):
                continue
        inner_init = [pid for pid, (ppid, _) in stats.items() if ppid not in stats]
        workers = sorted((start, pid) for pid, (ppid, start) in stats.items()
                         if ppid in inner_init)
        result.processes = max(0, len(stats) - len(inner_init) - 1)
        if workers:
            try:
                usage = os.statvfs(f"/proc/{workers[0][1]}/root{SCRATCH}")
                result.scratch_bytes = (usage.f_blocks - usage.f_bfree) * usage.f_frsize
                result.scratch_files = usage.f_files - usage.f_ffree
            except OSError:
                pass
        result.measured = True
        return result

    # messaging ----------------------------------------------------------------------
    def cpu_seconds(self, refresh: bool = True) -> float | None:
        """CPU seconds used so far by the sandbox's processes (its PID namespace in full
        isolation, the worker's session otherwise), or None when they cannot be listed.

        The process list is kept between calls; ``refresh`` lists them again (new processes
        the learner's code started count too).
        """
        if self.process is None:
            return None
        try:
            if refresh or not self._cpu_pids:
                if self.namespace:
                    self._cpu_pids = processes_in_namespace(self.namespace)
                elif self._spec is None:
                    self._cpu_pids = _session_processes(self.process.pid)
                else:
                    return None  # full isolation without a known namespace
        except OSError:
            return None
        return cpu_seconds_of(self._cpu_pids) if self._cpu_pids else None

    def too_many_processes(self) -> str | None:
        """Why the running request must stop now, when the sandbox holds more processes than
        ``limits.processes``: Linux does not apply ``RLIMIT_NPROC`` to root, so a grader run
        as root (CI, containers) would otherwise let a fork bomb fill the host's process
        table until the request's time is up, and killing thousands of processes then
        takes longer than the notebook's budget (the fork-bomb attack lost every point)."""
        if self.cpu_seconds(True) is None:
            return None
        # the worker itself, and in full isolation the namespace's init, are not the learner's
        overhead = 2 if self.namespace else 1
        if len(self._cpu_pids) - overhead > self.limits.processes:
            return too_many_processes_message(self.limits.processes)
        return None

    def clock(self, timeout: float, cap: float | None = None) -> RequestClock:
        """The clock of one request: ``timeout`` s of CPU, at most ``cap`` s (default
        ``limits.wall_factor`` × ``timeout``) of wall-clock time, stopped early when the
        learner's code starts more processes than allowed (:meth:`too_many_processes`)."""
        wall = timeout * max(1.0, self.limits.wall_factor)
        return RequestClock(timeout, wall if cap is None else min(wall, cap), self.cpu_seconds,
                            watch=self.too_many_processes)

    def _read_exactly(self, count: int, clock: RequestClock) -> bytes:
        stream = self.process.stdout
        chunks, remaining = [], count
        with selectors.DefaultSelector() as selector:
            selector.register(stream, selectors.EVENT_READ)
            while remaining:
                left = clock.left()
                if left <= 0:
                    raise SandboxTimeout("timed out")
                if not selector.select(timeout=left):
                    continue  # the clock decides (CPU time used, wall-clock cap)
                chunk = os.read(stream.fileno(), min(remaining, 1 << 20))
                if not chunk:
                    raise SandboxDied("the worker process died")
                chunks.append(chunk)
                remaining -= len(chunk)
        return b"".join(chunks)

    def request(self, header: dict, payload: bytes = b"",
                timeout: float = 30.0, dependencies: "DependencyServer | None" = None,
                wall: float | None = None) -> tuple[dict, bytes]:
        """Send one request and wait for its (validated) answer; kill the worker on timeout,
        death or any answer the protocol does not allow.

        ``timeout`` is CPU time of the sandbox, ``wall`` (default ``limits.wall_factor`` ×
        ``timeout``) the most wall-clock time (:class:`RequestClock`).
        ``dependencies`` (a call only): ``dep`` requests that arrive before the answer are
        served by it, within the same clock."""
        if not self.alive:
            raise SandboxDied("the worker process is not running")
        deadline = self.clock(timeout, wall)
        try:
            _write_frame(self.process.stdin, header, payload)
            while True:
                head_len, body_len = struct.unpack("<II", self._read_exactly(8, deadline))
                if head_len > MAX_HEADER_BYTES or body_len > MAX_FRAME_BYTES:
                    raise ProtocolViolation(f"oversized message ({head_len} + {body_len} bytes)")
                answer = json.loads(self._read_exactly(head_len, deadline))
                if not (isinstance(answer, dict) and "dep" in answer):
                    break
                if dependencies is None or header["op"] != "call":
                    raise ProtocolViolation("a dependency request outside a call that has any")
                request_body = self._read_exactly(body_len, deadline)
                reply, reply_body = dependencies.serve(answer, request_body)
                _write_frame(self.process.stdin, reply, reply_body)
            answer = validate_answer(header["op"], answer, body_len)
            body = self._read_exactly(body_len, deadline)
        except SandboxTimeout:
            self.kill()
            raise SandboxTimeout(deadline.message()) from None
        except (ValueError, struct.error, ProtocolViolation) as error:  # JSON, framing, shape
            self.kill()
            detail = str(error) if isinstance(error, ProtocolViolation) else "garbled"
            raise ProtocolViolation(f"the kernel broke the grading protocol ({detail[:200]}: "
                                    "learner code interfered with the grader)") from None
        except DependencyFlood:
            self.kill()
            raise
        except (BrokenPipeError, SandboxDied) as error:
            self.kill()
            if self.process.returncode == WORKER_BROKEN:
                raise ProtocolViolation("the learner's code broke the grading worker (e.g. "
                                        "by replacing builtins it relies on)") from None
            raise SandboxDied(_death_reason(self.process, error)) from None
        return answer, body

    # operations ---------------------------------------------------------------------
    def run_cell(self, source: str, timeout: float | None = None,
                 wall: float | None = None) -> CellOutcome:
        """Run one cell: ``timeout`` s of CPU time, at most ``wall`` s on the clock."""
        timeout = self.limits.cell_timeout if timeout is None else timeout
        try:
            answer, _ = self.request({"op": "run", "source": source}, timeout=timeout, wall=wall)
        except SandboxTimeout as error:
            if str(error) == too_many_processes_message(self.limits.processes):
                return CellOutcome(False, f"cell stopped: {error}", timed_out=True)
            # One text whichever limit ended it (CPU time, or the wall-clock cap on a busy
            # machine): it is recorded with the grade, and a regrade must record the same.
            return CellOutcome(False, f"cell timed out after {timeout:g} s (infinite loop, or "
                               "waiting for something?)", timed_out=True)
        except SandboxDied as error:
            return CellOutcome(False, str(error), died=True,
                               violation=isinstance(error, ProtocolViolation))
        return CellOutcome(answer["ok"], answer.get("error", "")[:2000],
                           answer.get("output", "")[: MAX_CELL_OUTPUT + 200])

    def call(self, function: str, args: tuple, kwargs: dict, timeout: float,
             framework: str = "numpy", echo_inputs: bool = False,
             dependencies: DependencyServer | None = None, wall: float | None = None) -> Any:
        """Call the learner's ``function`` in the worker; return its outputs as arrays.

        With ``echo_inputs``, return ``(outputs, args_after)``: the array arguments as the
        worker holds them after the call (scalars as sent). With ``dependencies``, the
        names it serves are bound to proxies for this call (see the module docstring).

        Raises:
            NotImplementedError: the learner's stub is still there.
            SandboxError: the call raised (message names the exception), timed out or died.
            ProtocolViolation: the result was malformed (the worker is killed).
        """
        arrays = {f"arg{i}": np.asarray(arg) for i, arg in enumerate(args)}
        scalars = [not isinstance(arg, np.ndarray) for arg in args]
        header = {"op": "call", "function": function, "nargs": len(args),
                  "scalar_args": scalars, "kwargs": kwargs, "framework": framework}
        if echo_inputs:
            header["echo"] = True
        if dependencies is not None and dependencies.names:
            header["proxies"] = list(dependencies.names)
        answer, body = self.request(header, arrays_to_bytes(arrays), timeout=timeout,
                                    dependencies=dependencies, wall=wall)
        if answer.get("not_implemented"):
            raise NotImplementedError(answer.get("error", ""))
        if not answer["ok"]:  # "raised": the exception's class names (grader.check)
            raise SandboxError(answer.get("error", "failed")[:2000],
                               answer.get("raised", ()))
        nout = answer.get("nout", 0)
        if nout < 1 or (nout > 1 and not answer.get("tuple")):
            self.kill()
            raise ProtocolViolation("the kernel broke the grading protocol (a result without "
                                    "outputs: learner code interfered with the grader)")
        echoed = [f"in{i}" for i, scalar in enumerate(scalars) if not scalar] if echo_inputs \
            else []
        try:
            outputs = bytes_to_arrays(body, [f"out{i}" for i in range(nout)] + echoed)
        except MalformedResult as error:  # learner code wrote to our pipe
            self.kill()
            raise ProtocolViolation(f"the kernel broke the grading protocol (malformed "
                                    f"result: {error})") from None
        values = tuple(outputs[f"out{i}"] for i in range(nout))
        value = values if answer.get("tuple") else values[0]
        if not echo_inputs:
            return value
        after = tuple(arg if scalar else outputs[f"in{i}"]
                      for i, (arg, scalar) in enumerate(zip(args, scalars)))
        return value, after

    def inspect(self) -> tuple[list[str], list[str]]:
        """What the worker itself reports the learner's code did (evidence, not proof: the
        learner's code runs in the same process and could silence it).

        Returns:
            ``(tampered, events)``: grading-relevant objects it replaced (``np.allclose``,
            ``check``, ``sys.modules`` entries …), and audited actions it attempted (opening
            protected files, network connections, starting processes, sending signals).
        """
        try:
            answer, _ = self.request({"op": "inspect"}, timeout=10)
        except SandboxError as error:  # an honest kernel always answers: it was broken
            self.restart()
            return [f"the kernel's integrity report ({error})"], []
        return ([n for n in answer["tampered"]][:20], [e for e in answer["events"]][:20])

    def tampering(self) -> list[str]:
        """Names of grading-relevant objects the learner's code replaced."""
        return self.inspect()[0]


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process if the grader dies (no orphaned learner code)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _death_reason(process: subprocess.Popen, error: BaseException) -> str:
    code = process.poll()
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        why = {"SIGXCPU": "CPU time limit", "SIGXFSZ": "file size limit",
               "SIGKILL": "killed", "SIGSEGV": "segmentation fault"}.get(name, name)
        return f"the learner's code killed its kernel ({why})"
    if code is not None and code > 128 and code - 128 in signal.Signals._value2member_map_:
        # bwrap reports a worker killed by a signal as 128 + the signal
        name = signal.Signals(code - 128).name
        why = {"SIGXCPU": "CPU time limit", "SIGXFSZ": "file size limit",
               "SIGKILL": "killed", "SIGSEGV": "segmentation fault"}.get(name, name)
        return f"the learner's code killed its kernel ({why})"
    if code is not None:
        return f"the learner's code ended its kernel (exit status {code})"
    return f"the kernel stopped answering ({type(error).__name__})"


# --------------------------------------------------------------------------------------
# --------------------------------------------------------------------------------------
# Worker side (runs the learner's code; never trusted)
# --------------------------------------------------------------------------------------
class _BoundedText(io.TextIOBase):
    """A stdout replacement that keeps the first characters and discards the rest."""

    def __init__(self, limit: int = MAX_CELL_OUTPUT):
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        if self.size < self.limit:
            self.parts.append(text[: self.limit - self.size])
        self.size += len(text)
        return len(text)

    def getvalue(self) -> str:
        text = "".join(self.parts)
        return text + (f"\n… ({self.size - self.limit} more characters)" if self.size > self.limit else "")


class _BlockAnswers:
    """Import hook: the reference kernels are not importable from learner code."""

    def find_spec(self, name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in BLOCKED_MODULES):
            raise ImportError(f"{name} is not available while grading")
        return None


GUARDED_MODULES = ("numpy", "numpy.testing", "builtins", "grader", "grader.check", "sys", "os")


def _snapshot_guarded() -> dict[str, int]:
    import builtins

    import numpy

    import grader.check

    guarded = {
        "numpy.allclose": numpy.allclose, "numpy.isclose": numpy.isclose,
        "numpy.array_equal": numpy.array_equal, "numpy.asarray": numpy.asarray,
        "numpy.testing.assert_allclose": numpy.testing.assert_allclose,
        "grader.check.check": grader.check.check, "grader.check.compare": grader.check.compare,
        "grader.check.run_cases": grader.check.run_cases,
        "builtins.print": builtins.print, "builtins.__import__": builtins.__import__,
        "builtins.isinstance": builtins.isinstance, "builtins.AssertionError": AssertionError,
    }
    snapshot = {name: id(obj) for name, obj in guarded.items()}
    snapshot |= {f"sys.modules[{name!r}]": id(sys.modules.get(name)) for name in GUARDED_MODULES}
    return snapshot


def _current(name: str):
    if name.startswith("sys.modules["):
        return sys.modules.get(name[len("sys.modules['"):-2])
    return _resolve(name)


class _AuditLog:
    """Records attempted actions through a PEP 578 audit hook (which code cannot remove)."""

    # Direct process creation is suspicious; subprocess.Popen is also used by libraries at
    # import (matplotlib asks fontconfig), so only many of them are reported.
    SPAWN = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
             "pty.spawn")
    POPEN_ALLOWANCE = 5

    def __init__(self, protected: list[str], allowed: list[str]):
        self.protected = [p for p in protected if p]
        self.allowed = [a for a in allowed if a]
        self.events: list[str] = []
        self.active = False
        self.popens = 0

    def _note(self, text: str) -> None:
        if text not in self.events and len(self.events) < 20:
            self.events.append(text)

    def _is_protected(self, path: str) -> bool:
        path = os.path.abspath(path)
        inside = lambda root: path == root or path.startswith(root.rstrip("/") + "/")  # noqa: E731
        return any(map(inside, self.protected)) and not any(map(inside, self.allowed))

    def __call__(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if self._is_protected(path):
                self._note(f"opened a protected path: {path}")
        elif event == "import" and args and isinstance(args[0], str) and any(
                args[0] == b or args[0].startswith(b + ".") for b in BLOCKED_MODULES):
            self._note(f"tried to import {args[0]} (the reference answers)")
        elif event == "socket.connect":
            self._note(f"network connection attempted: {args[1]!r}"[:200])
        elif event.startswith(self.SPAWN):
            self._note(f"started a process ({event})")
        elif event == "subprocess.Popen":
            self.popens += 1
            if self.popens > self.POPEN_ALLOWANCE:
                self._note(f"started more than {self.POPEN_ALLOWANCE} subprocesses")
        elif event in ("os.kill", "os.killpg"):
            self._note(f"sent signal {args[1]} to process {args[0]}")


def _resolve(dotted: str) -> Any:
    module_name, _, attr = dotted.rpartition(".")
    module = sys.modules.get(module_name)
    return getattr(module, attr, None) if module is not None else None


def _worker_main() -> None:  # pragma: no cover - exercised through Sandbox in the tests
    nproc = os.environ.pop("COURSE_SANDBOX_NPROC", "")
    if nproc.isdigit():  # in its own user namespace, this counts the sandbox's processes only
        resource.setrlimit(resource.RLIMIT_NPROC, (int(nproc), int(nproc)))
    # The protocol uses the original stdout; the learner's prints go to bounded buffers.
    protocol_out = os.fdopen(os.dup(1), "wb")
    protocol_in = os.fdopen(os.dup(0), "rb")

    def orphan_forked_child() -> None:
        # A process the learner forks must never speak the protocol: without the pipes it
        # ends as soon as its copy of the learner's code returns to this loop.
        for stream in (protocol_out, protocol_in):
            try:
                os.close(stream.fileno())
            except OSError:
                pass

    os.register_at_fork(after_in_child=orphan_forked_child)
    global _PROTOCOL
    _PROTOCOL = (protocol_in, protocol_out)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    from IPython.core.interactiveshell import InteractiveShell

    import grader.check  # noqa: F401  (imported before the learner can shadow it)

    sys.meta_path.insert(0, _BlockAnswers())
    guarded = _snapshot_guarded()
    shell = InteractiveShell.instance()
    shell.showtraceback = _make_traceback_recorder(shell)
    import grader as package

    package_dir = os.path.dirname(package.__file__)
    audit = _AuditLog(os.environ.get("COURSE_PROTECTED", "").split(os.pathsep),
                      [sys.prefix, sys.base_prefix, package_dir,
                       os.environ.get("COURSE_DATA_DIR", os.path.join(os.path.dirname(
                           package_dir), "data"))])
    sys.addaudithook(audit)
    global _AUDIT
    _AUDIT = audit

    while True:
        try:
            raw = protocol_in.read(8)
            if len(raw) < 8:
                return
            head_len, body_len = struct.unpack("<II", raw)
            header = json.loads(protocol_in.read(head_len))
            body = protocol_in.read(body_len)
            _serve(header, body, shell, audit, guarded, protocol_out)
        except BaseException:  # the learner's code broke the worker's own machinery
            os._exit(WORKER_BROKEN)


def _serve(header: dict, body: bytes, shell, audit: "_AuditLog", guarded: dict[str, int],
           protocol_out) -> None:
    import grader.check

    audit.active = header["op"] in ("run", "call")  # only learner code is audited
    if header["op"] == "run":
        answer = _run_cell(shell, header["source"])
        audit.active = False
        _write_frame(protocol_out, answer)
    elif header["op"] == "call":
        answer, payload = _call(shell, header, body)
        audit.active = False
        _write_frame(protocol_out, answer, payload)
    elif header["op"] == "inspect":
        audit.active = False
        names = [name for name, ident in guarded.items() if id(_current(name)) != ident]
        if id(shell.user_ns.get("check", grader.check.check)) != guarded["grader.check.check"]:
            names.append("check (redefined in the notebook)")
        _write_frame(protocol_out, {"tampered": names, "events": audit.events})


def _make_traceback_recorder(shell):
    def record(*args, **kwargs):
        etype, value, _ = sys.exc_info()
        shell._last_error = f"{getattr(etype, '__name__', 'Error')}: {value}"
    return record


_AUDIT: "_AuditLog | None" = None
#: Printed output above this size is worth a flag (a flood, not a debugging print).
OUTPUT_FLOOD_BYTES = 2**20


def _note_outcome(error: str, buffer: _BoundedText) -> None:
    """Record exits, memory exhaustion and output floods for the instructor's flags."""
    if _AUDIT is None:
        return
    if error.startswith(("SystemExit", "raised SystemExit")):
        _AUDIT._note("called sys.exit()")
    if "MemoryError" in error:
        _AUDIT._note("ran out of memory (the sandbox's memory limit)")
    if buffer.size > OUTPUT_FLOOD_BYTES:
        _AUDIT._note(f"printed {buffer.size / 2**20:.0f} MB of output")


def _run_cell(shell, source: str) -> dict:
    buffer = _BoundedText()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = buffer
    shell._last_error = ""
    try:
        result = shell.run_cell(source, store_history=False)
        ok = bool(result.success)
    except BaseException as error:  # SystemExit and friends: the cell failed, the worker lives
        ok, shell._last_error = False, f"{type(error).__name__}: {error}"
    finally:
        sys.stdout, sys.stderr = saved
    _note_outcome(shell._last_error, buffer)
    return {"ok": ok, "error": shell._last_error, "output": buffer.getvalue()}


#: The worker's protocol streams ``(in, out)``: dependency proxies ask through them.
_PROTOCOL: tuple | None = None


class _DependencyUnavailable(RuntimeError):
    """The grader refused or could not answer a dependency request."""


def _ask_grader(name: str, mode: str, args: tuple, kwargs: dict, grads: Any = None,
                framework: str = "numpy") -> Any:
    """Send a ``dep`` request for ``name`` and wait for the grader's answer (worker side)."""
    protocol_in, protocol_out = _PROTOCOL
    arrays: dict[str, np.ndarray] = {}
    request = {"dep": name, "mode": mode, "args": pack_value(tuple(args), arrays),
               "kwargs": pack_value(dict(kwargs), arrays)}
    if grads is not None:
        request["grads"] = pack_value(grads, arrays)
    # ``arrays`` holds references into the learner's arrays: send copies' bytes only
    _write_frame(protocol_out, request, arrays_to_bytes(arrays))
    raw = protocol_in.read(8)
    if len(raw) < 8:
        raise _DependencyUnavailable("the grader did not answer")
    head_len, body_len = struct.unpack("<II", raw)
    reply = json.loads(protocol_in.read(head_len))
    body = protocol_in.read(body_len)
    if not reply.get("ok"):
        raise _DependencyUnavailable(f"`{name}` (answered by the grader): "
                                     f"{reply.get('error', 'refused')}")
    values = bytes_to_arrays(body, value_array_names(reply["value"]))
    convert = None
    if framework == "torch":
        import torch

        convert = torch.from_numpy
    return unpack_value(reply["value"], values, convert)


def _torch_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "requires_grad")


def _make_proxy(name: str, original: Any, framework: str, active: set):
    """The stand-in bound to ``name`` while a caller is checked: the grader answers it.

    Outside that call (the learner kept a reference) it is the learner's own function.
    For PyTorch, gradients flow through it: a custom autograd function whose backward
    asks the grader for the vector–Jacobian product.
    """
    def proxy(*args, **kwargs):
        if name not in active:
            return original(*args, **kwargs)
        if framework == "torch":
            import torch

            tensors = [i for i, a in enumerate(args) if _torch_tensor(a)]
            if torch.is_grad_enabled() and any(args[i].requires_grad for i in tensors):
                return _torch_through_grader(name, args, kwargs, tensors)
        return _ask_grader(name, "forward", args, kwargs, framework=framework)

    proxy.__name__ = getattr(original, "__name__", name)
    proxy.__doc__ = getattr(original, "__doc__", None)
    return proxy


def _torch_through_grader(name: str, args: tuple, kwargs: dict, positions: list[int]):
    import torch

    class ThroughGrader(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *tensors):
            call_args = list(args)
            for i, t in zip(positions, tensors):
                call_args[i] = t.detach()
            value = _ask_grader(name, "forward", tuple(call_args), kwargs, framework="torch")
            outs = value if isinstance(value, tuple) else (value,)
            if not all(_torch_tensor(o) for o in outs):
                raise TypeError(f"`{name}` returned something autograd cannot carry")
            ctx.call_args = call_args
            ctx.shapes = [tuple(o.shape) for o in outs]
            ctx.mark_non_differentiable(*[o for o in outs if not o.is_floating_point()])
            ctx.is_tuple = isinstance(value, tuple)
            return tuple(outs) if ctx.is_tuple else outs[0]

        @staticmethod
        def backward(ctx, *grad_outputs):
            grads = tuple(g.detach() if g is not None else torch.zeros(shape, dtype=torch.float64)
                          for g, shape in zip(grad_outputs, ctx.shapes))
            answer = _ask_grader(name, "vjp", tuple(ctx.call_args), kwargs, grads=grads,
                                 framework="torch")
            out = []
            for i in positions:  # the grader answers one gradient (or None) per argument
                grad, tensor = answer[i] if i < len(answer) else None, args[i]
                out.append(grad.to(tensor.dtype).reshape(tensor.shape)
                           if _torch_tensor(grad) and tensor.is_floating_point() else None)
            return tuple(out)

    return ThroughGrader.apply(*[args[i] for i in positions])


def _call(shell, header: dict, body: bytes) -> tuple[dict, bytes]:
    name = header["function"]
    function = shell.user_ns.get(name)
    if not callable(function):
        return {"ok": False, "error": f"`{name}` is not defined — did the cell that defines "
                                      "it run without errors?"}, b""
    arrays = bytes_to_arrays(body)
    args = []
    for i, scalar in enumerate(header["scalar_args"]):
        value = arrays[f"arg{i}"]
        args.append(value.item() if scalar else value)
    framework = header.get("framework", "numpy")
    # Callees the grader answers (issue 19): bound for this call only, then restored.
    active: set = set()
    saved_names, proxies = {}, {}
    for callee in header.get("proxies", []):
        if callable(shell.user_ns.get(callee)):
            saved_names[callee] = shell.user_ns[callee]
            proxies[callee] = _make_proxy(callee, saved_names[callee], framework, active)
            shell.user_ns[callee] = proxies[callee]
            active.add(callee)
    buffer = _BoundedText()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = buffer
    try:
        value = in_framework(function, framework)(*args, **header["kwargs"])
    except NotImplementedError as error:
        return {"ok": False, "not_implemented": True, "error": str(error)[:500]}, b""
    except BaseException as error:  # the learner's bug, reported back by name
        message = f"raised {type(error).__name__}: {str(error)[:500]}"
        _note_outcome(message, buffer)
        try:  # the class names, for a "must raise" case (judged by the grader)
            raised = [str(f"{c.__module__}.{c.__qualname__}")[:200]
                      for c in type(error).__mro__][:16]
        except Exception:  # noqa: BLE001 - a class that cannot even be named
            raised = []
        return {"ok": False, "error": message, "raised": raised}, b""
    finally:
        sys.stdout, sys.stderr = saved
        active.clear()
        for callee, original in saved_names.items():
            if shell.user_ns.get(callee) is proxies[callee]:  # unless the call rebound it
                shell.user_ns[callee] = original
    is_tuple = isinstance(value, tuple)
    try:
        outputs = [np.asarray(item) for item in (value if is_tuple else (value,))]
        if any(out.dtype == object for out in outputs):
            raise TypeError("an output is not a numeric array")
        result = {f"out{i}": out for i, out in enumerate(outputs)}
        if header.get("echo"):  # the arguments as they are now: compared by the grader
            result |= {f"in{i}": np.asarray(args[i])
                       for i, scalar in enumerate(header["scalar_args"]) if not scalar}
        payload = arrays_to_bytes(result)
    except Exception as error:
        return {"ok": False, "error": f"the return value is not an array or a tuple of "
                                      f"arrays ({type(error).__name__}: {error})"}, b""
    return {"ok": True, "nout": len(outputs), "tuple": is_tuple}, payload


if __name__ == "__main__":
    _worker_main()
