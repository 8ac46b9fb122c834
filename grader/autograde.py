"""Trusted autograding: sandboxed execution, scores decided outside the learner's code.

For each submitted notebook:

1. **Inspect** it against the release: invalid JSON, missing notebook, deleted, duplicated
   (nbgrader #1083) or edited test cells (checksums) are reported per submission.
2. **Execute** its code cells, test cells excluded, in a :class:`grader.sandbox.Sandbox`
   with a per-cell timeout and a memory limit. A cell that hangs or kills its kernel is
   skipped and the kernel restarted: only what depends on that cell is lost.
3. **Score** each exercise here, in the trusted process: the learner's function is called in
   the sandbox on hidden cases drawn from a per-run seed; only the outputs come back and are
   compared with the reference kernels. Nothing the learner's code prints, suppresses or
   redefines can change a score (nbgrader #427 and the "no error output = pass" rule).
   Each call also sends back the arguments as they are after it: an argument changed
   against the contract fails that case (compared here). An exercise is scored on its own
   code: the graded callees it declares (``Exercise.uses``) are answered by the grader with
   the course's results while it is checked (:class:`grader.sandbox.DependencyServer`).
   Exercises with a ``strategy`` then get a short differential search
   (:mod:`grader.differential`).
4. **Record** the scores in nbgrader's gradebook (so the formgrader shows them), write an
   autograded copy of the notebook (test cells as released, with the check reports as their
   output: hidden tests never appear, #917/#1363) and, on request, feedback HTML.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
import contextlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import nbformat
import numpy as np
from nbgrader.utils import compute_checksum

from grader.check import (CheckResult, Exercise, argument_names, as_outputs, get_exercise,
                          in_framework, reference_outputs, run_cases, score_cases)
from grader import threadsafe_ast
from grader.isolation import isolation_level, require_full_isolation
from grader.gradebook import (GradingLock, manual_grades, record, record_written,  # noqa: F401
                              submitted_timestamp)
from grader.sandbox import (DependencyServer, Limits, ProtocolViolation, Sandbox, SandboxDied,
                            SandboxError, SandboxTimeout, kill_all_sandboxes)

GRADING_METADATA_KEY = "dlcourse_grading"


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
@dataclass
class ExerciseScore:
    exercise_id: str
    points: float
    score: float
    report: str


@dataclass
class NotebookResult:
    """The grade of one notebook of one student's submission."""

    student: str
    assignment: str
    notebook: str
    exercises: list[ExerciseScore] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    cell_errors: list[str] = field(default_factory=list)
    seed: int = 0
    seconds: float = 0.0
    written: list["WrittenAnswer"] = field(default_factory=list)  # graded by hand

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises)


# --------------------------------------------------------------------------------------
# Step 1: inspect the submission against the release
# --------------------------------------------------------------------------------------
def nbgrader_meta(cell) -> dict:
    """A cell's ``nbgrader`` metadata, or ``{}`` when it is missing or not a mapping."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def _grade_id(cell) -> str | None:
    grade_id = nbgrader_meta(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


@dataclass
class ReleaseNotebook:
    """What the grader trusts about a released notebook: its test cells."""

    path: Path
    grade_cells: dict[str, nbformat.NotebookNode]  # grade_id -> released test cell
    nb: nbformat.NotebookNode | None = None  # the whole released notebook, when read

    @classmethod
    def read(cls, path: Path) -> "ReleaseNotebook":
        return cls.from_notebook(path, nbformat.read(path, as_version=4))

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> "ReleaseNotebook":
        """A release notebook shipped as bytes (on a grading worker): ``path`` is only its name."""
        return cls.from_notebook(Path(name), nbformat.reads(data.decode("utf-8"), as_version=4))

    @classmethod
    def from_notebook(cls, path: Path, nb: nbformat.NotebookNode) -> "ReleaseNotebook":
        cells = {}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                cells[meta["grade_id"]] = cell
        return cls(path, cells, nb)

    def to_bytes(self) -> bytes:
        return (self.path.read_bytes() if self.nb is None
                else nbformat.writes(self.nb).encode("utf-8"))

    @property
    def test_sources(self) -> set[str]:
        return {cell.source for cell in self.grade_cells.values()}

    def points(self, grade_id: str) -> float:
        return float(self.grade_cells[grade_id].metadata["nbgrader"]["points"])


def inspect_cells(nb: nbformat.NotebookNode, release: ReleaseNotebook
                  ) -> tuple[list[str], dict[str, str]]:
    """Check the submission's test cells against the release's (nbgrader checksums).

    Returns:
        ``(flags, voided)``: messages for the instructor and the learner, and the exercises
        whose test cell was deleted or edited (scored 0: the learner changed what is graded),
        with the reason. A duplicated cell (a copy, nbgrader #1083) is reported, not voided.
    """
    flags: list[str] = []
    voided: dict[str, str] = {}
    seen: dict[str, list[nbformat.NotebookNode]] = {}
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if grade_id:
            seen.setdefault(grade_id, []).append(cell)
    for grade_id, released in release.grade_cells.items():
        copies = seen.get(grade_id, [])
        if not copies:
            voided[grade_id] = (f"test cell {grade_id} is missing (deleted, or its metadata "
                                "was removed)")
            continue
        if len(copies) > 1:
            flags.append(f"grade_id {grade_id} appears in {len(copies)} cells (a copied "
                         "cell?); graded once, with the grader's own checks")
        for copy in copies:
            try:
                edited = (copy.source != released.source
                          or compute_checksum(copy) != released.metadata.nbgrader["checksum"])
            except (KeyError, ValueError, TypeError):
                edited = True
            if edited:
                voided[grade_id] = f"test cell {grade_id} was edited (its checksum changed)"
                break
    flags += [f"{reason}: 0 points for {grade_id}" for grade_id, reason in voided.items()]
    return flags, voided


def cells_to_run(nb: nbformat.NotebookNode, release: ReleaseNotebook) -> list[tuple[int, str]]:
    """The learner's code cells in order: every code cell that is not a test cell."""
    tests = release.test_sources
    runnable = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = nbgrader_meta(cell)
        if meta.get("grade") or _grade_id(cell) in release.grade_cells:
            continue
        if not isinstance(cell.get("source"), str) or cell.source in tests:
            continue
        runnable.append((index, cell.source))
    return runnable


# --------------------------------------------------------------------------------------
# Step 1b: the submission as files (symlinks, size, markers) and what travels with it
# --------------------------------------------------------------------------------------
#: Largest notebook the grader reads.
MAX_NOTEBOOK_BYTES = 32 * 2**20
#: Markers that only the nbgrader source (``solutions/``) contains.
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS")


class SubmissionRefused(Exception):
    """The submitted file cannot be graded; the message says why (recorded as its grade)."""


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False


def read_submitted_notebook(path: Path, root: Path | None = None
                            ) -> tuple[nbformat.NotebookNode, list[str]]:
    """Read a submitted notebook as a plain file; return it and flags about the file.

    Refused (:class:`SubmissionRefused`): a symbolic link anywhere from ``root`` down to the
    notebook (a link to another student's notebook or to ``solutions/``), a file outside
    ``root``, anything but a regular file, a file over :data:`MAX_NOTEBOOK_BYTES`, and text
    that is not a valid notebook. Flagged: a file with several hard links.
    """
    flags: list[str] = []
    root = root or path.parent
    chain = [path, *path.parents]
    for part in chain[: chain.index(root) + 1 if root in chain else 1]:
        if part.is_symlink():
            target = os.readlink(part)
            raise SubmissionRefused(f"{part.name} is a symbolic link (to {target}): refused; "
                                    "submit the notebook file itself")
    if not _inside(path, root):
        raise SubmissionRefused(f"{path.name} lies outside the submission folder: refused")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise SubmissionRefused(f"{path.name} cannot be read ({error.strerror}): refused") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise SubmissionRefused(f"{path.name} is not a regular file: refused")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise SubmissionRefused(f"{path.name} is {info.st_size / 2**20:.0f} MB (at most "
                                    f"{MAX_NOTEBOOK_BYTES // 2**20} MB): refused")
        if info.st_nlink > 1:  # flagged, not refused: the other name may be the victim's
            flags.append(f"{path.name} has {info.st_nlink} hard links (it shares its content "
                         "with another file, perhaps another student's)")
        content = handle.read(MAX_NOTEBOOK_BYTES + 1)
    try:
        nb = nbformat.reads(content.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # invalid JSON, not UTF-8, or not a notebook
        raise SubmissionRefused(f"{path.name} is not a valid notebook ({type(error).__name__}); "
                                "nothing could be graded") from None
    return nb, flags


def solution_marker_flags(nb: nbformat.NotebookNode) -> list[str]:
    """Flags for nbgrader source markers in a submission (it was made from ``solutions/``)."""
    found = sorted({marker for cell in nb.cells if isinstance(cell.get("source"), str)
                    for marker in SOLUTION_MARKERS if marker in cell.source})
    return [f"the submission contains solution markers ({', '.join(found)}): made from the "
            "instructor's source notebook?"] if found else []


def timestamp_flags(folder: Path) -> list[str]:
    stamp = folder / "timestamp.txt"
    if stamp.is_symlink():
        return ["timestamp.txt is a symbolic link: ignored"]
    if stamp.exists() and submitted_timestamp(folder) is None:
        return ["timestamp.txt cannot be read as a time: ignored (no submission time recorded)"]
    return []


def collect_submission_files(folder: Path, notebook: str, limits: Limits
                             ) -> tuple[dict[str, bytes], list[str]]:
    """A submission's other regular files, as bytes, for the sandbox (step 1: read here).

    A milestone cell loads a file the learner submitted next to the notebook
    (``np.load("milestone_week07.npz")``). Symbolic links, folders and special files are
    skipped, and so is a file over ``limits.job_file_mb`` or beyond ``limits.job_total_mb``
    in all (flagged).
    """
    flags: list[str] = []
    files: dict[str, bytes] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return files, flags
    total = 0
    for entry in entries:
        if entry.name in (notebook, "timestamp.txt") or entry.suffix == ".ipynb" or \
                entry.name.endswith(".feedback.html") or entry.name.startswith("."):
            continue
        if entry.is_symlink():
            flags.append(f"{entry.name} is a symbolic link: not given to the notebook")
            continue
        try:
            fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            continue
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_size > limits.job_file_mb * 2**20:
                flags.append(f"{entry.name} is {info.st_size / 2**20:.0f} MB (at most "
                             f"{limits.job_file_mb} MB per file): not given to the notebook")
                continue
            if total + info.st_size > limits.job_total_mb * 2**20:
                flags.append(f"{entry.name}: the submission's files exceed "
                             f"{limits.job_total_mb} MB in all: not given to the notebook")
                continue
            files[entry.name] = handle.read(limits.job_file_mb * 2**20 + 1)
            total += len(files[entry.name])
    return files, flags


def stage_files(files: dict[str, bytes]) -> Path | None:
    """Write a job's files, read-only, into a private folder for the sandbox (or None)."""
    if not files:
        return None
    staged = Path(tempfile.mkdtemp(prefix="job-"))
    staged.chmod(0o755)
    for name, data in files.items():
        if "/" in name or name in ("", ".", ".."):  # a job from elsewhere: names, not paths
            continue
        with open(staged / name, "xb") as out:
            out.write(data)
        (staged / name).chmod(0o444)
    return staged


def stage_submission_files(folder: Path, notebook: str, limits: Limits
                           ) -> tuple[Path | None, list[str]]:
    """Copy a submission's other regular files into a private folder for the sandbox.

    Returns:
        ``(staged folder or None when there is nothing to copy, flags)``.
    """
    files, flags = collect_submission_files(folder, notebook, limits)
    return stage_files(files), flags


# --------------------------------------------------------------------------------------
# Step 1c: what the learner's code says about itself, read outside the sandbox
# --------------------------------------------------------------------------------------
#: Modules whose attributes learner code has no reason to replace.
GUARDED_ROOTS = ("numpy", "builtins", "grader")
#: Calls worth a flag wherever they appear (the sandbox stops them anyway).
SUSPICIOUS_CALLS = {
    "os.fork": "starts processes", "os.forkpty": "starts processes",
    "os.system": "starts processes", "os.kill": "sends signals", "os.killpg": "sends signals",
    "subprocess.Popen": "starts processes", "subprocess.run": "starts processes",
    "socket.socket": "opens network sockets", "socket.create_connection":
    "opens network sockets", "sys.addaudithook": "installs audit hooks",
    "sys.settrace": "traces the interpreter", "ctypes.CDLL": "loads C libraries",
    "exec": "runs code built at run time", "eval": "runs code built at run time",
    "compile": "runs code built at run time",
}
#: Names in string constants that point at the answer key or the instructor's files.
PRIVATE_NAMES = re.compile(r"answers/|solutions/|\.grading-secret|gradebook\.db|^/proc/")
ANSWER_KEY_MODULES = ("answers", "solutions")


def _strip_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


# Grading threads must not build syntax trees at once (CPython 3.11): every ast.parse of the
# process, NumPy's .npy header reads included, holds one lock (grader.threadsafe_ast).
threadsafe_ast.install()
_PARSE_LOCK = threadsafe_ast.AST_LOCK


def source_findings(sources: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Read the learner's cells (as text, never run here) for tampering and attempts.

    Returns:
        ``(tampering, suspicious, answer_key)``: replaced grading objects (assignments to
        ``numpy``/``builtins``/``grader`` attributes or to ``sys.modules``, a redefined
        ``check``), suspicious calls, and imports of the answer key. This is evidence the
        learner's code cannot silence; it is never the only defence (scores are computed
        outside the sandbox whatever the code does).
    """
    tampering: list[str] = []
    suspicious: list[str] = []
    answer_key: list[str] = []
    aliases: dict[str, str] = {}

    def dotted(node) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            parts.append(aliases.get(node.id, node.id))
            return ".".join(reversed(parts))
        return None

    def note(found: list[str], text: str) -> None:
        if text not in found and len(found) < 10:
            found.append(text)

    for source in sources:
        try:
            with _PARSE_LOCK:  # CPython 3.11's AST recursion counter is not thread-safe
                tree = ast.parse(_strip_magics(source))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    aliases[(alias.asname or alias.name).split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0])
                    if alias.name.split(".")[0] in ANSWER_KEY_MODULES:
                        note(answer_key, f"import {alias.name}")
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                if node.module.split(".")[0] in ANSWER_KEY_MODULES:
                    note(answer_key, f"from {node.module} import …")
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                targets = (node.targets if isinstance(node, (ast.Assign, ast.Delete))
                           else [node.target])
                for target in targets:
                    name = dotted(target) if isinstance(target, ast.Attribute) else None
                    if name and name.split(".")[0] in GUARDED_ROOTS and "." in name:
                        note(tampering, f"assigns {name}")
                    if isinstance(target, ast.Subscript) and dotted(target.value) == "sys.modules":
                        note(tampering, "changes sys.modules")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    PRIVATE_NAMES.search(node.value):
                note(suspicious, f"names a private path ({PRIVATE_NAMES.search(node.value)[0]})")
            elif isinstance(node, ast.Call):
                name = dotted(node.func)
                if name in SUSPICIOUS_CALLS:
                    note(suspicious, f"{SUSPICIOUS_CALLS[name]} ({name})")
                elif name in ("setattr", "builtins.setattr") and node.args and \
                        (dotted(node.args[0]) or "").split(".")[0] in GUARDED_ROOTS:
                    note(tampering, f"setattr on {dotted(node.args[0])}")
                elif name in ("__import__", "importlib.import_module") and node.args and \
                        isinstance(node.args[0], ast.Constant) and \
                        str(node.args[0].value).split(".")[0] in ANSWER_KEY_MODULES:
                    note(answer_key, f"{name}({node.args[0].value!r})")
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "check":
                note(tampering, "redefines check")
    return tampering, suspicious, answer_key


# --------------------------------------------------------------------------------------
# Step 2 and 3: execute in the sandbox, score outside it
# --------------------------------------------------------------------------------------
class NotebookRunner:
    """Executes a notebook's cells in a sandbox and can restore its state after a crash.

    Time is bounded per cell (``limits.cell_timeout`` of the sandbox's CPU time, at most
    ``limits.wall_factor`` times that on the clock: :class:`grader.sandbox.RequestClock`) and
    per notebook, on the clock: the cells may use ``limits.cells_seconds`` of
    ``limits.notebook_seconds``; the checks get the rest (milestone evaluations included)
    and whatever the cells left over. No cell or call waits past the notebook's budget.
    """

    def __init__(self, sandbox: Sandbox, start: float | None = None):
        self.sandbox = sandbox
        self.limits = sandbox.limits
        self.start = time.monotonic() if start is None else start
        self.replay: list[str] = []  # cells that ran without hanging or killing the kernel
        self.errors: list[str] = []  # every failing cell, for the feedback
        self.faults: list[str] = []  # hangs and kernel deaths, flagged for the instructor
        self.violations: list[str] = []  # garbled protocol: treated as tampering
        self.budget_flags: list[str] = []  # limits of the notebook as a whole that were hit

    def left(self, phase: str = "checks") -> float:
        """Seconds left of the notebook's budget for ``phase`` ("cells" or "checks")."""
        total = self.limits.cells_seconds if phase == "cells" else self.limits.notebook_seconds
        return total - (time.monotonic() - self.start)
        self.submission: Path | None = None  # the submission's folder (milestone files)

    def run(self, cells: Iterable[tuple[int, str]]) -> None:
        cells = list(cells)
        if len(cells) > self.limits.max_cells:
            skipped = len(cells) - self.limits.max_cells
            self.budget_flags.append(f"{len(cells)} code cells (at most {self.limits.max_cells}"
                                     f"): the last {skipped} were not run")
            cells = cells[: self.limits.max_cells]
        for position, (index, source) in enumerate(cells):
            left = self.left("cells")
            if left <= 0:
                self.budget_flags.append(
                    f"the notebook's cells used up their {self.limits.cells_seconds:g} s "
                    f"(of {self.limits.notebook_seconds:g} s per notebook): cells from "
                    f"{index + 1} on ({len(cells) - position} cells) were not run")
                return
            timeout = min(self.limits.cell_timeout, left)
            outcome = self.sandbox.run_cell(source, timeout=timeout, wall=left)
            if outcome.violation:
                self.violations.append(f"cell {index + 1}: {outcome.error}")
            if outcome.timed_out or outcome.died:
                self.errors.append(f"cell {index + 1}: {outcome.error}; skipped")
                self.faults.append(f"cell {index + 1}: {outcome.error}")
                self.recover()
                continue
            if not outcome.ok and outcome.error:
                self.errors.append(f"cell {index + 1}: {outcome.error}")
            self.replay.append(source)

    def recover(self) -> None:
        """Restart the kernel and replay the cells that had run (within the budget)."""
        self.sandbox.restart()
        for source in self.replay:
            left = self.left("checks")
            if left <= 0:
                break
            outcome = self.sandbox.run_cell(source, timeout=min(self.limits.cell_timeout, left),
                                            wall=left)
            if outcome.timed_out or outcome.died:  # not deterministic: give up on state
                self.sandbox.restart()
                break


def dependency_answers(exercise: Exercise) -> DependencyServer | None:
    """The grader's answers to the callees ``exercise`` declares (``Exercise.uses``): the
    course's result on the learner's arguments, computed here (never in the sandbox)."""
    if not exercise.uses:
        return None
    callees = {}
    for callee_id in exercise.uses:
        callee = get_exercise(callee_id)
        callees[callee.function] = callee

    def answer(name: str, mode: str, args: tuple, kwargs: dict, grads):
        callee = callees[name]
        reference = callee.reference_function()
        if mode == "forward":
            return in_framework(reference, callee.framework)(*args, **kwargs)
        if callee.framework != "torch":
            raise ValueError("gradients are answered for PyTorch callees only")
        return _reference_vjp(reference, args, kwargs, grads)

    return DependencyServer(answer, tuple(callees))


def _reference_vjp(reference: Callable, args: tuple, kwargs: dict, grads) -> tuple:
    """Gradients of ``Σ grads · reference(args)`` with respect to each floating argument
    (``None`` for the others): what autograd needs from a proxied PyTorch callee."""
    import torch

    tensors = [torch.from_numpy(np.array(a)).requires_grad_(a.dtype.kind == "f")
               if isinstance(a, np.ndarray) else a for a in args]
    with torch.enable_grad():
        value = reference(*tensors, **kwargs)
    outs = value if isinstance(value, tuple) else (value,)
    grads = grads if isinstance(grads, (tuple, list)) else (grads,)
    pairs = [(o, torch.as_tensor(np.asarray(g)).to(o.dtype).reshape(o.shape))
             for o, g in zip(outs, grads)
             if isinstance(o, torch.Tensor) and o.requires_grad and isinstance(g, np.ndarray)]
    wanted = [t for t in tensors if isinstance(t, torch.Tensor) and t.requires_grad]
    found = torch.autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                                allow_unused=True) if pairs and wanted else [None] * len(wanted)
    by_id = {id(t): g for t, g in zip(wanted, found)}
    return tuple(by_id.get(id(t)).numpy() if by_id.get(id(t)) is not None else None
                 for t in tensors)


def remote_function(runner: NotebookRunner, exercise: Exercise) -> Callable:
    """A stand-in for the learner's function that calls it inside the sandbox.

    ``call_with_inputs`` also returns the arguments as the worker holds them after the call
    (for :func:`grader.check.run_cases` to compare here); the exercise's declared callees
    are answered by the grader during each call (:func:`dependency_answers`).
    """
    failure: list[str] = []
    timeout = runner.sandbox.limits.call_timeout or exercise.timeout
    dependencies = dependency_answers(exercise)

    def call_with_inputs(*args, **kwargs):
        if failure:
            raise SandboxError(f"skipped: {failure[0]}")
        left = runner.left("checks")
        if left <= 0:
            message = (f"the notebook's time budget ({runner.limits.notebook_seconds:g} s) "
                       "was used up before this check")
            if message not in runner.budget_flags:
                runner.budget_flags.append(message)
            failure.append(message)
            raise SandboxError(f"skipped: {message}")
        try:
            if exercise.score:  # a milestone: scored on its outputs; its (large) held-out
                return runner.sandbox.call(  # inputs are not sent back
                    exercise.function, args, kwargs, min(timeout, left),
                    exercise.framework, wall=left), args, kwargs
            value, after = runner.sandbox.call(exercise.function, args, kwargs,
                                               min(timeout, left), exercise.framework,
                                               echo_inputs=True, dependencies=dependencies,
                                               wall=left)
            return value, after, kwargs
        except (SandboxTimeout, SandboxDied) as error:
            runner.faults.append(f"{exercise.function}(): {error}")
            if isinstance(error, ProtocolViolation):
                runner.violations.append(f"{exercise.function}(): {error}")
            failure.append(f"an earlier case {error}" if isinstance(error, SandboxTimeout)
                           else f"an earlier case: {error}")
            runner.recover()
            raise SandboxError(str(error)) from None

    def call(*args, **kwargs):
        return call_with_inputs(*args, **kwargs)[0]

    call.call_with_inputs = call_with_inputs
    return call


class ReferenceCache:
    """Hidden cases and reference outputs, computed once per exercise and seed (thread-safe).

    ``seed`` is the default seed (a per-run seed, or the one self-grade draws); a grading run
    passes each submission's own seed to :meth:`get`.
    """

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._cache: dict[tuple[str, int], tuple] = {}
        self._lock = threading.Lock()

    def get(self, exercise: Exercise, seed: int | None = None) -> tuple:
        key = (exercise.id, self.seed if seed is None else seed)
        with self._lock:
            if key not in self._cache:
                cases = exercise.cases(key[1], hidden=True)
                expected = None if exercise.score else reference_outputs(exercise, cases)
                self._cache[key] = (cases, expected)
            return self._cache[key]


# --------------------------------------------------------------------------------------
# Stable regrades: one seed per (student, assignment)
# --------------------------------------------------------------------------------------
SECRET_FILE = ".grading-secret"


def course_secret(work: Path) -> bytes:
    """The course's grading secret, created once in the work folder (never in a sandbox).

    It keys the hidden-case seeds of all submissions: learners cannot predict their seed,
    and a regrade of an unchanged submission draws the same cases.
    """
    path = work / SECRET_FILE
    work.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd) as handle:
        secret = handle.read().strip()
    if len(secret) < 32:
        raise RuntimeError(f"{path} is not a grading secret (delete it to make a new one; "
                           "seeds of later regrades then change)")
    return secret.encode()


def submission_seed(secret: bytes, student: str, assignment: str) -> int:
    """The hidden-case seed of one student's submission of one assignment."""
    digest = hmac.new(secret, f"{student}\0{assignment}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % 2**31


def recorded_seed(graded: Path) -> int | None:
    """The seed recorded in an autograded notebook by an earlier grade, if any."""
    try:
        if graded.is_symlink() or not graded.is_file():
            return None
        seed = json.loads(graded.read_text())["metadata"][GRADING_METADATA_KEY]["seed"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else None


# --------------------------------------------------------------------------------------
# Grading one notebook
# --------------------------------------------------------------------------------------
@dataclass
class GradeJob:
    """One notebook to grade, as plain data: step 1's output, what travels to a worker.

    Everything a grading host needs and nothing more: no paths, no gradebook. The release's
    test cells and points travel with it (the worker's own ``assignments/`` is never read);
    the hidden cases come from ``seed`` on the worker, whose course version must match
    ``fingerprint`` (:func:`grader.cluster.course_fingerprint`).
    """

    student: str
    assignment: str
    notebook: str  # the released notebook's file name
    release: bytes  # the released notebook
    seed: int
    limits: Limits = field(default_factory=Limits)
    submission: bytes | None = None  # the notebook as read; None when refused
    refused: str | None = None  # why nothing can be graded (recorded as its grade)
    flags: list[str] = field(default_factory=list)  # about the file, found when reading it
    files: dict[str, bytes] = field(default_factory=dict)  # other files given to the sandbox
    files_flags: list[str] = field(default_factory=list)
    zero_on_tampering: bool = True
    isolation: str | None = None
    fingerprint: str = ""

    def to_bytes(self) -> bytes:
        """JSON (bytes base64-encoded): no pickle, so a job is data and nothing else."""
        data = asdict(self)
        for key in ("release", "submission"):
            data[key] = None if data[key] is None else base64.b64encode(data[key]).decode()
        data["files"] = {k: base64.b64encode(v).decode() for k, v in self.files.items()}
        return json.dumps(data).encode()

    @classmethod
    def from_bytes(cls, blob: bytes) -> "GradeJob":
        data = json.loads(blob)
        for key in ("release", "submission"):
            data[key] = None if data[key] is None else base64.b64decode(data[key])
        data["files"] = {k: base64.b64decode(v) for k, v in data["files"].items()}
        data["limits"] = Limits(**data["limits"])
        return cls(**data)


def prepare_job(path: Path, release: ReleaseNotebook, student: str, assignment: str,
                seed: int, limits: Limits = Limits(), zero_on_tampering: bool = True,
                root: Path | None = None, isolation: str | None = None,
                files_from: Path | None = None, fingerprint: str = "") -> GradeJob:
    """Step 1: read a submission (on the instructor's machine) into a :class:`GradeJob`.

    The file-level checks happen here, where the files are: a missing notebook (with the
    names found instead), a symbolic link, a file outside ``root``, an oversized or invalid
    notebook are *refused* (the job then carries only the reason); the other regular files
    of ``files_from`` (default: the notebook's folder) travel with it as bytes.
    """
    job = GradeJob(student, assignment, release.path.name, release.to_bytes(), seed, limits,
                   zero_on_tampering=zero_on_tampering, isolation=isolation,
                   fingerprint=fingerprint)
    if not path.exists() and not path.is_symlink():
        others = sorted(p.name for p in path.parent.glob("*.ipynb")) if path.parent.exists() else []
        hint = f"; found {', '.join(others)} instead (renamed?)" if others else ""
        job.refused = f"notebook {release.path.name} was not submitted{hint}"
        return job
    try:
        nb, file_flags = read_submitted_notebook(path, root)
    except SubmissionRefused as error:
        job.refused = str(error)
        return job
    job.submission = nbformat.writes(nb).encode("utf-8")
    job.flags = file_flags + solution_marker_flags(nb) + timestamp_flags(path.parent)
    job.files, job.files_flags = collect_submission_files(files_from or path.parent, path.name,
                                                          limits)
    return job


def run_job(job: GradeJob, references: ReferenceCache | None = None
            ) -> tuple[NotebookResult, nbformat.NotebookNode | None]:
    """Steps 2 and 3: run a job's cells in a sandbox and score it (on any grading host).

    Returns the result and the autograded notebook (None for a refused submission). Needs
    no file of the submission: only the job. ``references`` defaults to a cache of this job.
    """
    start = time.monotonic()
    release = ReleaseNotebook.from_bytes(job.notebook, job.release)
    references = references or ReferenceCache(job.seed)
    seed, limits, zero_on_tampering, isolation = (job.seed, job.limits, job.zero_on_tampering,
                                                  job.isolation)
    result = NotebookResult(job.student, job.assignment, job.notebook, seed=seed)
    result.written = written_answers(None, release.nb)  # unanswered until read

    def zero_all(reason: str) -> None:
        result.flags.append(reason)
        result.exercises = [ExerciseScore(gid, release.points(gid), 0.0, f"{gid}: 0 — {reason}")
                            for gid in release.grade_cells]

    if job.refused is not None or job.submission is None:
        zero_all(job.refused or "nothing was submitted")
        return result, None
    nb = nbformat.reads(job.submission.decode("utf-8"), as_version=4)
    result.flags += job.flags
    cell_flags, voided = inspect_cells(nb, release)
    result.flags += cell_flags
    result.written = written_answers(nb, release.nb)
    cells = cells_to_run(nb, release)
    static_tampering, static_suspicious, answer_key = source_findings([s for _, s in cells])
    from grader.milestone import scrambled_files  # grader-made copies win over same names

    staged = stage_files({**job.files, **scrambled_files(release.grade_cells, job.files, seed)})
    result.flags += job.files_flags
    try:
        with Sandbox(limits, files=staged, isolation=isolation) as sandbox:
            runner = NotebookRunner(sandbox, start)
            # milestone files are checked in the job's copies (staged from the submission)
            runner.submission = staged or Path(tempfile.gettempdir()) / "no-submitted-files"
            runner.run(cells)
            result.cell_errors = runner.errors
            for grade_id in release.grade_cells:
                if grade_id in voided:
                    result.exercises.append(ExerciseScore(
                        grade_id, release.points(grade_id), 0.0,
                        f"{grade_id}: 0 — {voided[grade_id]}; restore the cell from the release"))
                else:
                    result.exercises.append(
                        _score_exercise(grade_id, release, runner, references, seed))
            accounting = sandbox.accounting()  # measured outside, before the report
            tampered, events = sandbox.inspect()  # after the calls: they run learner code too
    finally:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
    result.flags += [f"limit: {flag}" for flag in runner.budget_flags]
    result.flags += [f"fault: {fault}" for fault in runner.faults]
    if answer_key:
        result.cell_errors.append(
            "the answer key (answers/, solutions/) is not available while grading: "
            f"{', '.join(answer_key)} failed, and the attempt is flagged for your instructor")
    tampering = list(runner.violations)
    if static_tampering:
        tampering.append("the notebook's code " + ", ".join(static_tampering))
    if answer_key:
        tampering.append("tried to import the answer key (" + ", ".join(answer_key) + ")")
    if tampered:
        tampering.append("replaced grading-related objects: " + ", ".join(tampered))
    is_tampering = lambda e: e.startswith(("opened a protected path", "tried to import"))  # noqa: E731
    tampering += [e for e in events if is_tampering(e)]
    suspicious = [f"the notebook's code {s}" for s in static_suspicious]
    suspicious += _accounting_flags(accounting, limits)
    suspicious += [e for e in events if not is_tampering(e)]
    result.flags += [f"suspicious: {e}" for e in dict.fromkeys(suspicious)]
    if tampering:
        reason = "tampering detected (" + "; ".join(dict.fromkeys(tampering)) + ")"
        result.flags.append(reason + ": score set to 0 for review")
        if zero_on_tampering:
            result.exercises = [ExerciseScore(e.exercise_id, e.points, 0.0,
                                              f"{e.exercise_id}: 0 — {reason}")
                                for e in result.exercises]
    result.seconds = time.monotonic() - start
    return result, autograded_notebook(nb, release, result)


def grade_notebook(path: Path, release: ReleaseNotebook, student: str, assignment: str,
                   references: ReferenceCache, limits: Limits = Limits(),
                   zero_on_tampering: bool = True, seed: int | None = None,
                   root: Path | None = None, isolation: str | None = None,
                   files_from: Path | None = None
                   ) -> tuple[NotebookResult, nbformat.NotebookNode | None]:
    """Grade one submitted notebook here; return its result and the autograded notebook.

    :func:`prepare_job` then :func:`run_job`, the steps a cluster runs on two machines.
    Tampering (replacing ``np.allclose``, ``check``, ``sys.modules`` entries …, importing the
    answer key, or opening the course's protected files) scores 0 and is flagged for the
    instructor to review; ``zero_on_tampering=False`` only flags it. Other suspicious actions
    (network, processes, signals, a full scratch) are flagged; they cannot succeed in the
    sandbox anyway. ``root`` is the folder the notebook must lie in (default: its own);
    the regular files of ``files_from`` (default: the notebook's folder) are given to the
    worker, read-only, in its working folder.
    """
    seed = references.seed if seed is None else seed
    job = prepare_job(path, release, student, assignment, seed, limits, zero_on_tampering,
                      root, isolation, files_from)
    return run_job(job, references)


def _accounting_flags(accounting, limits: Limits) -> list[str]:
    """Flags from what the grader measured of the sandbox from outside."""
    flags = []
    if accounting.processes:
        flags.append(f"left {accounting.processes} process(es) running in the sandbox "
                     "(killed with it)")
    if accounting.scratch_bytes >= 0.9 * limits.scratch_mb * 2**20:
        flags.append(f"filled its scratch space ({accounting.scratch_bytes / 2**20:.0f} of "
                     f"{limits.scratch_mb} MB)")
    if accounting.scratch_files >= 0.9 * limits.scratch_files:
        flags.append(f"filled its scratch space ({accounting.scratch_files} of "
                     f"{limits.scratch_files} files)")
    return flags


def failed_result(student: str, assignment: str, release: ReleaseNotebook, seed: int,
                  reason: str) -> NotebookResult:
    """The grade of a notebook whose grading failed: 0 points, flagged with the reason."""
    result = NotebookResult(student, assignment, release.path.name, seed=seed)
    result.flags.append(f"grading failed: {reason}")
    result.exercises = [ExerciseScore(gid, release.points(gid), 0.0,
                                      f"{gid}: 0 — grading failed ({reason}); ask your "
                                      "instructor to look at it")
                        for gid in release.grade_cells]
    return result


def _score_exercise(grade_id: str, release: ReleaseNotebook, runner: NotebookRunner,
                    references: ReferenceCache, seed: int | None = None) -> ExerciseScore:
    points = release.points(grade_id)
    try:
        exercise = get_exercise(grade_id)
    except KeyError:
        return ExerciseScore(grade_id, points, 0.0,
                             f"{grade_id}: no check is registered for this test cell "
                             "(course error: tell your instructor)")
    if exercise.score:
        return _score_milestone(exercise, points, runner, references.get(exercise, seed)[0])
    cases, expected = references.get(exercise, seed)
    names = argument_names(exercise.reference_function(), max((len(c.args) for c in cases),
                                                               default=0))
    function = remote_function(runner, exercise)
    check: CheckResult = run_cases(exercise, function, cases, expected, arg_names=names)
    if exercise.strategy and check.passed:  # the fixed cases found nothing: search on
        from grader.differential import search

        check.cases.append(search(exercise, function, seed or 0, arg_names=names))
    return ExerciseScore(grade_id, points, round(points * check.fraction, 4),
                         check.report(exercise.hint))


# --------------------------------------------------------------------------------------
# Milestones: the learner's model, their saved parameters, a metric computed here
# --------------------------------------------------------------------------------------
def submitted_files(release: ReleaseNotebook) -> list[str]:
    """Files beside the notebook that its exercises need (milestone checkpoints)."""
    names: list[str] = []
    for grade_id in release.grade_cells:
        try:
            names += [n for n in get_exercise(grade_id).files if n not in names]
        except KeyError:
            continue
    return names


def _file_problem(folder: Path, name: str) -> str | None:
    """Why the submitted file ``name`` cannot be used, checked before any learner code."""
    from grader.milestone import inspect_checkpoint

    path = folder / name
    if "/" in name or name.startswith("."):
        return f"{name} is not a plain file name (course error: tell your instructor)"
    if path.is_symlink():
        return f"{name} is a symbolic link; submit the file itself"
    if not path.is_file():
        return (f"expected {name} next to the notebook, but it was not submitted: train the "
                f"model in the notebook (its training cell saves {name}) and submit the "
                "file with the notebook")
    return inspect_checkpoint(path)


def _score_milestone(exercise: Exercise, points: float, runner: NotebookRunner,
                     cases: list) -> ExerciseScore:
    """Score a milestone: check its files here, call the learner's code in the sandbox on
    the held-out cases, compute the metric here (``exercise.score``)."""
    folder = runner.submission
    for name in exercise.files:
        problem = _file_problem(folder, name) if folder else f"{name}: no submission folder"
        if problem:
            return ExerciseScore(exercise.id, points, 0.0, f"{exercise.id}: 0 — {problem}")
    check = score_cases(exercise, remote_function(runner, exercise), cases)
    ignored = _weights_ignored(exercise, runner, cases) if check.fraction > 0 else None
    if ignored:
        return ExerciseScore(exercise.id, points, 0.0, f"{exercise.id}: 0 — {ignored}")
    return ExerciseScore(exercise.id, points, round(points * check.fraction, 4),
                         check.report(exercise.hint))


def _weights_ignored(exercise: Exercise, runner: NotebookRunner, cases: list) -> str | None:
    """One more call in the same sandbox, on the grader's scrambled copy of the checkpoint
    (:class:`grader.milestone.WeightsCheck`): the message that zeroes the milestone, or None."""
    from dataclasses import replace

    from grader.milestone import WEIGHTS_CHECKS, scrambled_case, weights_ignored

    check = WEIGHTS_CHECKS.get(exercise.id)
    if check is None or not cases:
        return None
    case = scrambled_case(check, cases[0])
    call = remote_function(runner, replace(exercise, timeout=check.timeout))
    try:
        outputs = as_outputs(call(*case.args, **case.kwargs))
    except Exception:  # raised, timed out: nothing to conclude from the copy
        return None
    return weights_ignored(check, case, outputs, exercise.function)


# --------------------------------------------------------------------------------------
# Step 4: autograded notebook, gradebook, feedback
# --------------------------------------------------------------------------------------
#: Attachment types kept in an autograded copy (raster images: no script can hide in them).
SAFE_ATTACHMENTS = ("image/png", "image/jpeg", "image/gif")
#: Notebook metadata kept in an autograded copy (anything else could carry markup).
KEPT_METADATA = ("kernelspec", "language_info")
#: Inline and display maths of a markdown cell ($…$, $$…$$).
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.DOTALL)
_TAG_OPENING = re.compile(r"<(?=[A-Za-z!/?])")
_TAG = re.compile(r"<[A-Za-z!/?]|javascript:|data:text/html|vbscript:", re.IGNORECASE)


_CHAR_REF = re.compile(r"&(#\d+|#[xX][0-9a-fA-F]+|colon|Tab|NewLine);?")
_SCHEME = re.compile(r"(?i)(j\s*a\s*v\s*a|v\s*b)\s*s\s*c\s*r\s*i\s*p\s*t\s*:|"
                     r"d\s*a\s*t\s*a\s*:\s*text/html")


def sanitize_html(text: str) -> str:
    """Text with HTML removed of scripts, event handlers and dangerous URLs (``nh3``).

    Markdown links cannot carry a ``javascript:``/``vbscript:``/``data:text/html`` target
    either (character references are decoded first: markdown decodes them in links).
    Markdown without markup is otherwise unchanged (``nh3`` would escape its ``>`` quotes).
    """
    import nh3

    if _CHAR_REF.search(text):
        text = _CHAR_REF.sub(lambda m: html.unescape(m[0] if m[0].endswith(";")
                                                     else m[0] + ";"), text)
    text = _SCHEME.sub("blocked:", text)
    # A "<" before a letter in maths ($\prod_{m<l}$) would open a tag for the HTML parser,
    # which then drops the rest of the paragraph: TeX's own \lt says the same and is no markup.
    text = _MATH.sub(lambda m: _TAG_OPENING.sub(r"\\lt ", m[0]), text)
    if not _TAG.search(text):
        return text
    return nh3.clean(text, url_schemes={"http", "https", "mailto"})


def sanitize_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Make a learner's notebook safe to render for the instructor and in feedback pages.

    Markdown and raw cells are cleaned with ``nh3`` (no ``<script>``, no ``onerror=``, no
    ``javascript:`` links), attachments other than raster images (an SVG can carry script)
    and code outputs are dropped, and only known notebook metadata is kept (a notebook
    title could carry markup too).
    """
    for cell in nb.cells:
        if cell.cell_type in ("markdown", "raw"):
            source = cell.source if isinstance(cell.source, str) else ""
            kept = {}
            attachments = cell.get("attachments")
            for name, bundle in (attachments.items() if isinstance(attachments, dict) else ()):
                images = {mime: data for mime, data in bundle.items()
                          if mime in SAFE_ATTACHMENTS and isinstance(data, str)} \
                    if isinstance(bundle, dict) and isinstance(name, str) else {}
                if images:
                    kept[name] = images
            # A reference to an attachment that is gone would break the page: point it nowhere.
            source = re.sub(r"attachment:([^)\s\"']+)", lambda m: m[0] if m[1] in kept
                            else "#attachment-removed", source)
            cell.source = sanitize_html(source)
            cell.pop("attachments", None)
            if kept and cell.cell_type == "markdown":
                cell["attachments"] = kept
            if cell.cell_type == "raw":
                cell.metadata.pop("format", None)
                cell.metadata.pop("raw_mimetype", None)
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata = nbformat.NotebookNode(
        {key: nb.metadata[key] for key in KEPT_METADATA if key in nb.metadata})
    return nb


def autograded_notebook(nb: nbformat.NotebookNode, release: ReleaseNotebook,
                        result: NotebookResult) -> nbformat.NotebookNode:
    """The submission (sanitized) with released test cells whose output is the report."""
    graded = sanitize_notebook(nbformat.from_dict(json.loads(json.dumps(nb))))
    reports = {e.exercise_id: e for e in result.exercises}
    for cell in graded.cells:
        if cell.cell_type != "code":
            continue
        grade_id = _grade_id(cell)
        if grade_id in release.grade_cells:
            cell.source = release.grade_cells[grade_id].source
            score = reports[grade_id]
            text = f"[{score.score:g} / {score.points:g} points]\n{score.report}\n"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    graded.metadata[GRADING_METADATA_KEY] = {
        "score": result.score, "max_score": result.max_score, "seed": result.seed,
        "flags": result.flags, "cell_errors": result.cell_errors,
        "exercises": [asdict(e) for e in result.exercises],
        "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return graded


# --------------------------------------------------------------------------------------
# Written answers: manually graded in the formgrader, never scored automatically
# --------------------------------------------------------------------------------------
@dataclass
class WrittenAnswer:
    """A manually graded answer cell (markdown, ``grade`` and ``solution``) of a submission."""

    grade_id: str
    points: float
    answered: bool  # False while the cell still holds the release's text


def written_answers(nb: nbformat.NotebookNode | None,
                    release: Path | nbformat.NotebookNode) -> list[WrittenAnswer]:
    """The submission's written answers, in release order; a missing cell (or notebook,
    ``nb=None``) is unanswered. ``release``: the released notebook or its path."""
    released = {}
    release_nb = release if isinstance(release, dict) else nbformat.read(release, as_version=4)
    for cell in release_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "markdown":
            released[meta["grade_id"]] = (cell.source.strip(), float(meta.get("points", 0)))
    submitted = {}
    for cell in nb.cells if nb is not None else []:
        grade_id = _grade_id(cell)  # (a submission's metadata may be any JSON at all)
        source = cell.get("source")
        if grade_id in released and cell.get("cell_type") == "markdown" and isinstance(source, str):
            submitted.setdefault(grade_id, source.strip())
    return [WrittenAnswer(grade_id, points, bool(submitted.get(grade_id))
                          and submitted[grade_id] != text)
            for grade_id, (text, points) in released.items()]


def _written_rows(written: list[dict]) -> str:
    rows = []
    for w in written:
        score = (f"{w['score']:g} / {w['points']:g}" if w["graded"]
                 else f"– / {w['points']:g}")
        what = (html.escape(w["comment"]) if w["comment"]
                else "graded by your instructor" if w["graded"] else "awaiting manual grading")
        rows.append(f"<tr class='written'><td><code>{html.escape(w['grade_id'])}</code> "
                    f"(written)</td><td>{score}</td><td><pre>{what}</pre></td></tr>")
    return "".join(rows)


def feedback_html(graded: nbformat.NotebookNode, written: list[dict] | None = None) -> str:
    """Render an autograded notebook as a self-contained feedback page; ``written`` (from
    :func:`manual_grades`) adds the manual scores and comments of written answers."""
    info = graded.metadata.get(GRADING_METADATA_KEY, {})
    written = written or []
    manual = sum(w["score"] or 0 for w in written if w["graded"])
    rows = "".join(
        f"<tr><td><code>{html.escape(e['exercise_id'])}</code></td>"
        f"<td>{e['score']:g} / {e['points']:g}</td>"
        f"<td><pre>{html.escape(e['report'])}</pre></td></tr>"
        for e in info.get("exercises", [])) + _written_rows(written)
    flags = "".join(f"<li>{html.escape(flag)}</li>" for flag in info.get("flags", []))
    errors = "".join(f"<li>{html.escape(err)}</li>" for err in info.get("cell_errors", []))
    summary = (
        # Long report lines wrap instead of widening the page (issue 18, item 7).
        "<style>.feedback-summary pre { white-space: pre-wrap; overflow-wrap: anywhere; }</style>"
        f"<h1>Score: {info.get('score', 0) + manual:g} / "
        f"{info.get('max_score', 0) + sum(w['points'] for w in written):g}</h1>"
        f"<p>Graded {html.escape(str(info.get('graded_at', '')))} with hidden cases from seed "
        f"{info.get('seed', '')}.</p>"
        f"<table border='1' cellpadding='4'><tr><th>exercise</th><th>points</th>"
        f"<th>what the checks found</th></tr>{rows}</table>"
        + (f"<h2>Flags</h2><ul>{flags}</ul>" if flags else "")
        + (f"<h2>Cells that failed when the grader ran your notebook</h2><ul>{errors}</ul>"
           if errors else ""))
    shown = sanitize_notebook(nbformat.from_dict(json.loads(json.dumps(graded))))
    for cell, original in zip(shown.cells, graded.cells):  # the grader's reports stay
        if cell.cell_type == "code" and _grade_id(cell):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=str(
                out.get("text", ""))) for out in original.get("outputs", [])
                if out.get("output_type") == "stream"]
    from grader.pages import feedback_exporter  # MathJax without a CDN (issue 20)

    body, _ = feedback_exporter().from_notebook_node(shown)
    return body.replace("<body", "<body data-feedback='1'", 1).replace(
        "<main>", f"<main><div class='feedback-summary'>{summary}</div>", 1)


# --------------------------------------------------------------------------------------
# The same steps on a grading worker of a cluster: bytes in, bytes out
# --------------------------------------------------------------------------------------
def grade_job_bytes(blob: bytes) -> bytes:
    """Grade one :class:`GradeJob` (serialised) here; return the result serialised.

    A grading failure is this notebook's grade (as in the local pool); a job of another
    course version raises :class:`FingerprintMismatch`, which is never recorded.
    """
    from grader.cluster import FingerprintMismatch, course_fingerprint

    job = GradeJob.from_bytes(blob)
    mine = course_fingerprint()
    if job.fingerprint and job.fingerprint != mine:
        raise FingerprintMismatch(
            f"worker {socket.gethostname()} (pid {os.getpid()}) grades course version "
            f"{mine[:12]}, the instructor's is {job.fingerprint[:12]}: update it and restart")
    try:
        result, graded = run_job(job)
    except Exception as error:  # one submission never stops the class run
        release = ReleaseNotebook.from_bytes(job.notebook, job.release)
        result, graded = failed_result(job.student, job.assignment, release, job.seed,
                                       f"{type(error).__name__}: {str(error)[:300]}"), None
    return result_to_bytes(result, graded, f"{socket.gethostname()}:{os.getpid()}")


def result_to_bytes(result, graded, host: str) -> bytes:
    return json.dumps({"result": asdict(result), "host": host,
                       "notebook": None if graded is None else nbformat.writes(graded)}).encode()


def result_from_bytes(blob: bytes):
    """``(NotebookResult, autograded notebook or None, grading host)`` from a worker's reply."""
    data = json.loads(blob)
    fields = data["result"]
    fields["exercises"] = [ExerciseScore(**e) for e in fields["exercises"]]
    fields["written"] = [WrittenAnswer(**w) for w in fields["written"]]
    graded = None if data["notebook"] is None else nbformat.reads(data["notebook"], as_version=4)
    return NotebookResult(**fields), graded, data["host"]


# --------------------------------------------------------------------------------------
# A whole class
# --------------------------------------------------------------------------------------
def submitted_students(submitted_dir: Path, assignment: str) -> list[str]:
    return sorted(p.name for p in submitted_dir.iterdir()
                  if p.is_dir() and (p / assignment).is_dir()) if submitted_dir.exists() else []


def write_no_follow(path: Path, data: bytes) -> None:
    """Write ``path`` atomically without following a symbolic link planted there.

    The data goes to a fresh file beside it (``O_EXCL``), which then replaces the path: a
    symlink at ``path`` is replaced, never written through. Parent folders that are
    symbolic links are refused.
    """
    for parent in [path.parent, *path.parent.parents][:3]:
        if parent.is_symlink():
            raise OSError(f"refusing to write {path}: {parent} is a symbolic link")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_atomically(nb: nbformat.NotebookNode, path: Path) -> None:
    write_no_follow(path, nbformat.writes(nb).encode())


def already_graded(submission: Path, graded: Path) -> bool:
    """True when ``graded`` exists and is newer than ``submission`` (for ``resume``)."""
    try:
        if graded.is_symlink() or not graded.exists():
            return False
        return not submission.exists() or graded.stat().st_mtime >= submission.lstat().st_mtime
    except OSError:
        return False


@contextmanager
def _ctrl_c_as_flag():
    """Turn Ctrl-C (SIGINT) into an event the grading loop checks between results.

    Python raises KeyboardInterrupt wherever the main thread happens to be, and when that
    is a finalizer (``__del__``) the exception is printed and dropped: the run would go on
    as if nothing happened. Checked in one place instead, a Ctrl-C always stops the run
    after the results already finished are recorded. (Only the main thread can set a
    signal handler; elsewhere the event is never set and Ctrl-C behaves as usual.)
    """
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def _grade_contained(submission: Path, release: ReleaseNotebook, student: str, name: str,
                     references: ReferenceCache, limits: Limits, seed: int, root: Path,
                     isolation: str = "full"
                     ) -> tuple[NotebookResult, nbformat.NotebookNode | None]:
    """:func:`grade_notebook`, with any failure recorded as this submission's grade."""
    try:
        return grade_notebook(submission, release, student, name, references, limits,
                              seed=seed, root=root, isolation=isolation)
    except Exception as error:  # one submission never stops the class run
        return failed_result(student, name, release, seed,
                             f"{type(error).__name__}: {str(error)[:300]}"), None


def _record_contained(result: NotebookResult, graded_nb, graded_path: Path,
                      db_url: str | None, submitted_dir: Path) -> None:
    """Record one result, then write its autograded copy; a failure of either is flagged on
    the result (and recorded when the gradebook still accepts it), never raised."""
    if db_url:
        try:
            record([result], db_url, submitted_dir)
        except Exception as error:
            result.flags.append(f"recording failed: {type(error).__name__}: {str(error)[:300]}")
            with contextlib.suppress(Exception):  # the gradebook row at least says so
                record([failed_result(result.student, result.assignment,
                                      ReleaseNotebook(Path(result.notebook), {}),
                                      result.seed, "recording failed")], db_url, submitted_dir)
    if graded_nb is None:
        graded_nb = nbformat.v4.new_notebook()
        graded_nb.metadata[GRADING_METADATA_KEY] = {
            "score": result.score, "max_score": result.max_score, "seed": result.seed,
            "flags": result.flags, "cell_errors": result.cell_errors,
            "exercises": [asdict(e) for e in result.exercises],
            "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    try:
        _write_atomically(graded_nb, graded_path)
    except Exception as error:
        result.flags.append(f"writing the autograded copy failed: {type(error).__name__}: "
                            f"{str(error)[:300]}")


def autograde(assignment: str | list[str], submitted_dir: Path, autograded_dir: Path,
              release_dir: Path, db_url: str | None = None, students: list[str] | None = None,
              jobs: int = 2, limits: Limits = Limits(), seed: int | None = None,
              progress: bool = True, resume: bool = False,
              lock_path: Path | None = None, work: Path | None = None,
              require_full: bool = True, scheduler: str | None = None) -> list[NotebookResult]:
    """Grade every submission of one or more assignments in parallel and record the scores.

    Each (student, notebook) runs in its own fully isolated sandbox (refused otherwise:
    :func:`grader.isolation.require_full_isolation`); a submission that hangs, crashes or
    cannot be read costs only its own points and is recorded with the reason; the run always
    goes on. Several assignments share one pool of workers. Each result is recorded in the
    gradebook as soon as it is ready, *then* its autograded copy is written (atomically,
    also for a submission that could not be graded): after an interruption, ``resume=True``
    skips exactly the notebooks whose autograded copy exists.

    ``require_full=False`` (the demo's simulated class only) grades with the best isolation
    available instead of refusing.

    Hidden cases: ``seed`` when given; otherwise each (student, assignment) has its own
    seed, the one recorded in its autograded copy by an earlier grade, else one derived from
    the course secret in ``work`` (default: the parent of ``autograded_dir``). A regrade of
    an unchanged submission therefore gets the same score.

    ``scheduler`` (default: ``$COURSE_SCHEDULER``): grade on a Dask cluster
    (:mod:`grader.cluster`) instead of the local pool; ``jobs`` is then ignored. Jobs and
    results travel as bytes, and this process stays the only gradebook writer. A notebook the
    cluster could not grade (lost, or another course version) is not recorded and the run
    raises :class:`grader.cluster.ClusterError` ("rerun with --resume").
    """
    from tqdm.auto import tqdm

    scheduler = scheduler if scheduler is not None else os.environ.get("COURSE_SCHEDULER") or None

    if require_full:
        require_full_isolation("autograde submissions")
    isolation = "full" if require_full else isolation_level()
    assignments = [assignment] if isinstance(assignment, str) else list(assignment)
    secret = course_secret(work or autograded_dir.parent) if seed is None else b""
    references = ReferenceCache(seed or 0)
    releases: dict[str, list[ReleaseNotebook]] = {}
    for name in assignments:
        releases[name] = [ReleaseNotebook.read(p)
                          for p in sorted((release_dir / name).glob("*.ipynb"))]
        if not releases[name]:
            raise FileNotFoundError(f"no released notebooks in {release_dir / name}")
    with GradingLock(lock_path or autograded_dir.parent / ".grading.lock", db_url):
        todo = []
        for name in assignments:
            for student in (students if students is not None
                            else submitted_students(submitted_dir, name)):
                for release in releases[name]:
                    submission = submitted_dir / student / name / release.path.name
                    graded = autograded_dir / student / name / release.path.name
                    if not (resume and already_graded(submission, graded)):
                        own = seed if seed is not None else recorded_seed(graded)
                        own = submission_seed(secret, student, name) if own is None else own
                        todo.append((student, name, release, submission, graded, own))
        results: list[NotebookResult] = []
        remote = None
        if scheduler and todo:
            from grader.cluster import ClusterPool

            remote = ClusterPool(scheduler)  # refuses another course version: nothing recorded
            pool = remote.executor
            futures = {remote.submit(grade_job_bytes, prepare_job(
                submission, release, student, name, own, limits, root=submitted_dir,
                isolation=isolation)):
                       (graded, student, name, release, own)
                       for student, name, release, submission, graded, own in todo}
        else:
            pool = ThreadPoolExecutor(max_workers=max(1, jobs))
            futures = {pool.submit(_grade_contained, submission, release, student, name,
                                   references, limits, own, submitted_dir, isolation):
                       (graded, student, name, release, own)
                       for student, name, release, submission, graded, own in todo}
        bar = tqdm(total=len(todo), desc=f"autograde {', '.join(assignments)}"[:60],
                   unit="notebook", disable=not progress)
        recorded: set[tuple[str, str, str]] = set()
        not_graded: list[str] = []
        try:
            with _ctrl_c_as_flag() as interrupted:
                pending = set(futures)
                last_check = time.monotonic()
                while pending:
                    done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        graded, student, name, release, own = futures[future]
                        host = None
                        try:
                            if remote is not None:
                                result, graded_nb, host = result_from_bytes(future.result())
                            else:
                                result, graded_nb = future.result()
                        except Exception as error:
                            if remote is not None:  # the cluster's failure, not a grade
                                not_graded.append(f"{student}/{name}/{release.path.name}: "
                                                  f"{type(error).__name__}: {str(error)[:200]}")
                                bar.update()
                                continue
                            # _grade_contained already catches
                            result, graded_nb = failed_result(
                                student, name, release, own, f"{type(error).__name__}"), None
                        key = (result.student, result.assignment, result.notebook)
                        if key in recorded:  # delivered twice: recorded once
                            continue
                        recorded.add(key)
                        if host and graded_nb is not None:
                            graded_nb.metadata[GRADING_METADATA_KEY]["graded_on"] = host
                        _record_contained(result, graded_nb, graded, db_url, submitted_dir)
                        results.append(result)
                        bar.set_postfix_str(f"{result.student}: "
                                            f"{result.score:g}/{result.max_score:g}")
                        bar.update()
                    if interrupted.is_set():
                        raise KeyboardInterrupt
                    if remote is not None and time.monotonic() - last_check > 2:
                        last_check = time.monotonic()
                        if pending and remote.lost():
                            not_graded += [f"{futures[f][1]}/{futures[f][2]}/"
                                           f"{futures[f][3].path.name}: cluster lost"
                                           for f in pending]
                            for future in pending:
                                future.cancel()
                            pending = set()
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            if remote is not None:
                remote.kill_sandboxes()
                remote.close()
            else:
                kill_all_sandboxes()
                pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
            print(f"\ninterrupted: {len(results)} of {len(todo)} notebooks graded and recorded; "
                  "run again with --resume to grade the rest", flush=True)
            raise
        if remote is not None:
            remote.close()
        else:
            pool.shutdown(wait=True)
        bar.close()
        if not_graded:
            from grader.cluster import ClusterError

            raise ClusterError(
                f"{len(results)} of {len(todo)} notebooks graded and recorded; the cluster "
                f"could not grade {len(not_graded)} (nothing recorded for them):\n  "
                + "\n  ".join(not_graded[:20]) + "\nrerun with --resume to grade the rest")
    return sorted(results, key=lambda r: (r.assignment, r.student, r.notebook))


def write_feedback(assignment: str, autograded_dir: Path, feedback_dir: Path,
                   db_url: str | None = None, submitted_dir: Path | None = None,
                   students: list[str] | None = None) -> list[Path]:
    """Feedback HTML for every autograded notebook of ``assignment``; with ``db_url``, the
    manual grades and comments of written answers from the gradebook too.

    Only ``students`` when given. Beside each student's pages go the submission's
    ``timestamp.txt`` and ``submission_secret.txt`` (``submitted_dir``, default: the
    ``submitted`` folder beside ``autograded_dir``): ``nbgrader release_feedback`` reads both
    to name the released page after the student's own submission. A submission without a
    secret (written straight into ``submitted/``, as the demo does) gets a fresh one.
    """
    submitted_dir = submitted_dir or autograded_dir.parent / "submitted"
    written = []
    for graded_path in sorted(autograded_dir.glob(f"*/{assignment}/*.ipynb")):
        student = graded_path.parent.parent.name
        if students is not None and student not in students:
            continue
        out = feedback_dir / student / assignment / graded_path.with_suffix(".html").name
        if graded_path.is_symlink():
            continue
        try:  # one page that cannot be rendered never stops the others
            manual = (manual_grades(db_url, student, assignment, graded_path.stem)
                      if db_url else None)
            page = feedback_html(nbformat.read(graded_path, as_version=4), manual)
        except Exception as error:
            page = (f"<!DOCTYPE html><html><body><h1>Feedback unavailable</h1><p>The grader "
                    f"could not render this notebook ({html.escape(type(error).__name__)}); "
                    "ask your instructor for the autograded copy.</p></body></html>")
        write_no_follow(out, page.encode())
        submission = submitted_dir / student / assignment
        for name in ("timestamp.txt", "submission_secret.txt"):
            source = submission / name
            if source.is_file() and not source.is_symlink():
                write_no_follow(out.parent / name, source.read_bytes())
            elif not (out.parent / name).is_file():
                write_no_follow(out.parent / name, (
                    datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
                    if name == "timestamp.txt" else secrets.token_hex(16)).encode())
        written.append(out)
    return written
