"""Run a learner's notebook code in a separate, resource-limited process.

The trusted grader (:mod:`grader.autograde`) never imports or executes learner code itself.
It starts one worker process per submission (``python -m grader.sandbox``), sends it the
notebook's code cells one at a time, then asks it to *call* the learner's functions on
inputs the grader chose. Only data comes back: NumPy arrays in ``.npz`` form, loaded with
``allow_pickle=False``. Whatever the learner's code redefines (``np.allclose``, ``check``,
``assert``, ``sys.modules``) lives and dies in the worker and cannot touch the score.

Limits (all per worker, see :class:`Limits`): wall-clock per cell and per call (enforced by
the parent, which kills the worker's whole process group), address space, CPU seconds,
file size and open files (``setrlimit``), and no network where Linux lets us make a private
network namespace. A worker that dies or hangs is restarted and the cells that had run are
replayed, so one bad cell costs only what depends on it.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import resource
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.check import CallFailed, in_framework
from grader.config import REPO_ROOT, work_dir
from grader.isolation import MountPlan, UidClaim, enter_namespaces, isolation_level

#: Largest message a worker may send back (a learner's output array, say).
MAX_FRAME_BYTES = 256 * 2**20
#: Exit status of a worker whose own machinery the learner's code broke.
WORKER_BROKEN = 70
#: How much of a cell's printed output is kept for feedback.
MAX_CELL_OUTPUT = 4000
#: Modules the worker refuses to import: the answers and the grader's own scoring code.
BLOCKED_MODULES = ("answers", "grader.autograde")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed worker (an instructor can change each one)."""

    cell_timeout: float = 30.0  # wall-clock seconds per notebook cell
    call_timeout: float | None = None  # seconds per checked call (default: the exercise's)
    memory_mb: int = 4096  # address space of the worker (RLIMIT_AS)
    cpu_seconds: int = 600  # total CPU time of the worker (RLIMIT_CPU)
    file_mb: int = 64  # largest file the worker may write (RLIMIT_FSIZE)
    open_files: int = 256  # RLIMIT_NOFILE
    processes: int = 64  # RLIMIT_NPROC of the sandbox's own user id (full isolation)
    no_network: bool = True  # private network namespace when available


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


def bytes_to_arrays(payload: bytes) -> dict[str, np.ndarray]:
    if not payload:
        return {}
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


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


@dataclass
class CellOutcome:
    ok: bool
    error: str = ""
    output: str = ""
    timed_out: bool = False
    died: bool = False
    violation: bool = False


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


def kill_all_sandboxes() -> None:
    """Kill every live worker (on Ctrl-C: their grading threads then fail fast)."""
    for sandbox in list(_LIVE):
        sandbox.kill()


class Sandbox:
    """One worker process running one submission's code. Use as a context manager."""

    def __init__(self, limits: Limits = Limits()):
        self.limits = limits
        self.isolation = isolation_level()
        self.process: subprocess.Popen | None = None
        if self.isolation == "full":
            self._plan = MountPlan.for_course(limits.file_mb * 2)
            self._uid_claim = UidClaim()
            self.uid = self._uid_claim.uid
            _kill_uid(self.uid)  # leftovers of a previous holder that crashed
            self.workdir = "/tmp"  # the private scratch tmpfs inside the namespaces
            self._own_dir = False
        else:
            self._plan, self.uid, self._uid_claim = None, os.getuid(), None
            self.workdir = tempfile.mkdtemp(prefix="sandbox-")
            self._own_dir = True
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
        if self._plan is not None:
            enter_namespaces(self._plan, self.uid, self.limits.processes)
        _die_with_parent()

    def _start(self) -> None:
        env = {key: value for key, value in os.environ.items()
               if key in ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "COURSE_DATA_DIR")}
        env.update(MPLBACKEND="Agg", COURSE_FAST="1", COURSE_GRADING="1", HOME=self.workdir,
                   MPLCONFIGDIR=self.workdir, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0",
                   COURSE_PROTECTED=os.pathsep.join(self._protected))
        prefix = []
        if self._plan is None and self.limits.no_network:
            prefix = _network_isolation_prefix()
        self.process = subprocess.Popen(
            prefix + [sys.executable, "-m", "grader.sandbox"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=self.workdir, env=env, start_new_session=True,
            preexec_fn=self._prepare_child)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self._uid_claim is not None:  # only while the uid is still ours
            _kill_uid(self.uid)  # children that left the process group (setsid, fork bombs)

    def restart(self) -> None:
        self.kill()
        self._start()

    def close(self) -> None:
        self.kill()
        if self._uid_claim is not None:
            self._uid_claim.release()
            self._uid_claim = None
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

    # messaging ----------------------------------------------------------------------
    def _read_exactly(self, count: int, deadline: float) -> bytes:
        stream = self.process.stdout
        chunks, remaining = [], count
        with selectors.DefaultSelector() as selector:
            selector.register(stream, selectors.EVENT_READ)
            while remaining:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(timeout=left):
                    raise SandboxTimeout("timed out")
                chunk = os.read(stream.fileno(), min(remaining, 1 << 20))
                if not chunk:
                    raise SandboxDied("the worker process died")
                chunks.append(chunk)
                remaining -= len(chunk)
        return b"".join(chunks)

    def request(self, header: dict, payload: bytes = b"",
                timeout: float = 30.0) -> tuple[dict, bytes]:
        """Send one request and wait for its answer; kill the worker on timeout or death."""
        if not self.alive:
            raise SandboxDied("the worker process is not running")
        deadline = time.monotonic() + timeout
        try:
            _write_frame(self.process.stdin, header, payload)
            head_len, body_len = struct.unpack("<II", self._read_exactly(8, deadline))
            if head_len > 2**20 or body_len > MAX_FRAME_BYTES:
                raise ProtocolViolation("oversized message")
            answer = json.loads(self._read_exactly(head_len, deadline))
            body = self._read_exactly(body_len, deadline)
        except SandboxTimeout:
            self.kill()
            raise SandboxTimeout(f"no answer within {timeout:g} s (infinite loop?)") from None
        except (ValueError, struct.error, ProtocolViolation):  # JSON, framing, size
            self.kill()
            raise ProtocolViolation("the kernel broke the grading protocol (its answer was "
                                    "garbled: learner code interfered with the grader)") from None
        except (BrokenPipeError, SandboxDied) as error:
            self.kill()
            if self.process.returncode == WORKER_BROKEN:
                raise ProtocolViolation("the learner's code broke the grading worker (e.g. "
                                        "by replacing builtins it relies on)") from None
            raise SandboxDied(_death_reason(self.process, error)) from None
        return answer, body

    # operations ---------------------------------------------------------------------
    def run_cell(self, source: str) -> CellOutcome:
        try:
            answer, _ = self.request({"op": "run", "source": source},
                                     timeout=self.limits.cell_timeout)
        except SandboxTimeout:
            return CellOutcome(False, f"cell timed out after {self.limits.cell_timeout:g} s",
                               timed_out=True)
        except SandboxDied as error:
            return CellOutcome(False, str(error), died=True,
                               violation=isinstance(error, ProtocolViolation))
        return CellOutcome(bool(answer.get("ok")), str(answer.get("error", ""))[:2000],
                           str(answer.get("output", ""))[: MAX_CELL_OUTPUT + 200])

    def call(self, function: str, args: tuple, kwargs: dict, timeout: float,
             framework: str = "numpy") -> Any:
        """Call the learner's ``function`` in the worker; return its outputs as arrays.

        Raises:
            NotImplementedError: the learner's stub is still there.
            SandboxError: the call raised (message names the exception), timed out or died.
        """
        arrays = {f"arg{i}": np.asarray(arg) for i, arg in enumerate(args)}
        scalars = [not isinstance(arg, np.ndarray) for arg in args]
        header = {"op": "call", "function": function, "nargs": len(args),
                  "scalar_args": scalars, "kwargs": kwargs, "framework": framework}
        answer, body = self.request(header, arrays_to_bytes(arrays), timeout=timeout)
        if answer.get("not_implemented"):
            raise NotImplementedError(answer.get("error", ""))
        if not answer.get("ok"):
            raise SandboxError(str(answer.get("error", "failed"))[:2000])
        try:
            outputs = bytes_to_arrays(body)
        except Exception as error:  # malformed payload: the learner's code wrote to our pipe
            raise SandboxError(f"unreadable result ({type(error).__name__})") from None
        values = tuple(outputs[f"out{i}"] for i in range(int(answer.get("nout", 0))))
        return values if answer.get("tuple") else values[0]

    def inspect(self) -> tuple[list[str], list[str]]:
        """What the learner's code did that grading cares about.

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
        return ([str(n) for n in answer.get("tampered", [])][:20],
                [str(e) for e in answer.get("events", [])][:20])

    def tampering(self) -> list[str]:
        """Names of grading-relevant objects the learner's code replaced."""
        return self.inspect()[0]


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` (each fully isolated sandbox has its own uid)."""
    pid = os.fork()
    if pid == 0:  # child: become the uid, so kill(-1) reaches exactly its processes
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


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
    if code is not None:
        return f"the learner's code ended its kernel (exit status {code})"
    return f"the kernel stopped answering ({type(error).__name__})"


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
    buffer = _BoundedText()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = buffer
    try:
        value = in_framework(function, header.get("framework", "numpy"))(*args, **header["kwargs"])
    except NotImplementedError as error:
        return {"ok": False, "not_implemented": True, "error": str(error)[:500]}, b""
    except BaseException as error:  # the learner's bug, reported back by name
        message = f"raised {type(error).__name__}: {str(error)[:500]}"
        _note_outcome(message, buffer)
        return {"ok": False, "error": message}, b""
    finally:
        sys.stdout, sys.stderr = saved
    is_tuple = isinstance(value, tuple)
    try:
        outputs = [np.asarray(item) for item in (value if is_tuple else (value,))]
        if any(out.dtype == object for out in outputs):
            raise TypeError("an output is not a numeric array")
        payload = arrays_to_bytes({f"out{i}": out for i, out in enumerate(outputs)})
    except Exception as error:
        return {"ok": False, "error": f"the return value is not an array or a tuple of "
                                      f"arrays ({type(error).__name__}: {error})"}, b""
    return {"ok": True, "nout": len(outputs), "tuple": is_tuple}, payload


if __name__ == "__main__":
    _worker_main()
