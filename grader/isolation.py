"""Filesystem, user and network isolation of a sandbox worker (Linux).

Two levels, chosen automatically (:func:`isolation_level`):

``full`` (the grader runs as root, as on a grading server or in CI)
    The worker starts in private mount and network namespaces, as its own unprivileged user
    id (one per sandbox, so sandboxes cannot signal each other or the grader), with
    ``RLIMIT_NPROC`` against fork bombs. Its view of the filesystem: the course checkout,
    its parent folder, the instructor's work folder (gradebook, submissions), ``/root`` and
    ``/home`` are replaced by empty in-memory folders; only the Python environment, the data
    cache and a *public* copy of the ``grader`` package (no grading code; the answer key,
    :mod:`answers`, lives outside it) are mounted back, read-only. ``/tmp`` is a private, size-limited scratch
    folder. No network: the namespace has no interfaces but a down loopback.

``basic`` (anyone else, e.g. a learner self-grading on a laptop)
    Resource limits, a private network namespace where Linux allows it, and an import
    blocker for the reference kernels. The learner's own files stay readable: on their own
    machine there is nothing to protect from them.

The namespace set-up runs in the child between ``fork`` and ``exec`` (``preexec_fn``), via
``libc``'s ``unshare`` and ``mount``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from grader.config import REPO_ROOT, work_dir

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 32, 4096, 16384, 1 << 18)

#: Parts of the package that must never be visible to learner code.
PRIVATE_PARTS = ("autograde.py", "demo.py", "selfgrade.py")
#: First unprivileged user id handed to sandboxes (one id per live sandbox).
FIRST_UID = 61000
_uids = itertools.count()


def isolation_level() -> str:
    """``"full"`` when this process can build namespaces (root on Linux), else ``"basic"``."""
    if os.environ.get("COURSE_SANDBOX_ISOLATION") == "basic":
        return "basic"
    return "full" if sys.platform == "linux" and os.geteuid() == 0 else "basic"


class UidClaim:
    """An unprivileged user id held by one sandbox, unique across processes.

    Sandboxes of different grading processes (two autograde runs, pytest workers, a
    self-grade beside an autograde) must never share a uid: killing one sandbox kills every
    process of its uid. Each claim holds an exclusive ``flock`` on a file named after the uid
    for as long as the sandbox lives; a crashed holder's lock vanishes with it.
    """

    LOCK_DIR = Path("/run/dlcourse-sandbox")
    SPAN = 4000

    def __init__(self):
        import fcntl

        self.LOCK_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        start = (os.getpid() * 7 + next(_uids)) % self.SPAN
        for offset in range(self.SPAN):
            uid = FIRST_UID + (start + offset) % self.SPAN
            handle = open(self.LOCK_DIR / f"{uid}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self.uid, self._handle = uid, handle
            return
        raise RuntimeError(f"all {self.SPAN} sandbox user ids are in use")

    def release(self) -> None:
        self._handle.close()


_public_copy: Path | None = None
_public_lock = threading.Lock()


def public_package() -> Path:
    """A read-only-able copy of ``grader/`` without the answers (made once per process)."""
    global _public_copy
    with _public_lock:
        if _public_copy is None or not _public_copy.exists():
            target = Path(tempfile.mkdtemp(prefix="grader-public-")) / "grader"
            shutil.copytree(
                Path(__file__).resolve().parent, target,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *PRIVATE_PARTS))
            for path in [target.parent, *target.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            _public_copy = target
        return _public_copy


@dataclass(frozen=True)
class MountPlan:
    """What the worker sees: folders hidden behind empty tmpfs, folders bound back read-only."""

    hide: tuple[str, ...]
    rebind: tuple[tuple[str, str], ...]  # (source on the host, target inside)
    scratch_mb: int

    @classmethod
    def for_course(cls, scratch_mb: int) -> "MountPlan":
        data_dir = Path(os.environ.get("COURSE_DATA_DIR", REPO_ROOT / "data")).resolve()
        python_home = Path(sys.base_prefix).resolve()
        venv = Path(sys.prefix).resolve()
        hide = [REPO_ROOT.parent, REPO_ROOT, work_dir().resolve(), Path("/root"), Path("/home")]
        hide = [p for p in dict.fromkeys(hide) if p.exists() and p != Path("/")]
        rebind = [(str(python_home), str(python_home)), (str(venv), str(venv))]
        if data_dir.exists():
            rebind.append((str(data_dir), str(data_dir)))
        rebind.append((str(public_package()), str(REPO_ROOT / "grader")))
        # Only what a hidden folder (or the private /tmp) covers needs binding back.
        covers = [*map(Path, hide), Path("/tmp")]
        rebind = [(src, dst) for src, dst in rebind
                  if any(Path(dst) == h or h in Path(dst).parents for h in covers)]
        return cls(tuple(map(str, hide)), tuple(rebind), scratch_mb)


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p]
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def enter_namespaces(plan: MountPlan, uid: int, nproc: int) -> None:
    """Child side, before exec: private namespaces, the mount plan, then drop to ``uid``."""
    import resource

    libc = _libc()

    def mount(src, dst, fstype, flags, data=None):
        enc = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
        _check(libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)), f"mount {dst}")

    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Bind sources may live under folders about to be hidden: open them first as mounts
    # elsewhere is not possible, so bind them into a staging tmpfs before hiding.
    stage = "/dev/shm" if os.path.isdir("/dev/shm") else "/mnt"
    mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=1m")
    staged = []
    for index, (src, _) in enumerate(plan.rebind):
        holder = os.path.join(stage, str(index))
        os.mkdir(holder)
        mount(src, holder, None, MS_BIND | MS_REC)
        staged.append(holder)
    # The private /tmp first: a checkout (or venv) under /tmp is then hidden and bound back
    # like any other, instead of vanishing under a tmpfs mounted after the binds.
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={plan.scratch_mb}m")
    for folder in sorted(plan.hide, key=len):
        os.makedirs(folder, mode=0o755, exist_ok=True)  # inside an outer tmpfs just mounted
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for holder, (_, dst) in zip(staged, plan.rebind):
        os.makedirs(dst, mode=0o755, exist_ok=True)
        mount(holder, dst, None, MS_BIND | MS_REC)
        mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC)
    if stage == "/dev/shm":  # the staging binds are no longer needed; a fresh, empty /dev/shm
        libc.umount2(stage.encode(), 2)  # MNT_DETACH
        mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    os.chdir("/tmp")
