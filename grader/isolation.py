"""What a sandbox worker may see and do: an allowlist sandbox built with bubblewrap (Linux).

Two levels (:func:`isolation_level`):

``full`` (``bwrap`` works here: as root, or as any user where Linux allows unprivileged user
namespaces, the default on Debian and Ubuntu)
    The worker starts under `bubblewrap <https://github.com/containers/bubblewrap>`_ (the
    sandbox Flatpak uses) in its own user, mount, PID, network, IPC, UTS and cgroup
    namespaces (``--unshare-all``), in a new session, killed with its grader
    (``--die-with-parent``). Its filesystem is an **allowlist**; everything else on the host
    (the course checkout, other clones of the course, the work folder with the gradebook and
    every submission, ``/root``, ``/home``, ``/srv``, ``/opt`` …) is simply absent:

    * read-only: ``/usr`` (and the ``/bin``, ``/lib`` links), a few files of ``/etc`` the C
      library needs, the Python installation and the virtual environment, the data cache,
      and a *public* copy of the ``grader`` package at its usual place (no grading code;
      the answer key, :mod:`answers`, and ``solutions/`` are not there);
    * read-only: its job's own files (the submission's other regular files) in its working
      folder ``/home/learner``;
    * writable: one private ``tmpfs`` capped in size and in number of files, seen at
      ``/tmp``, ``/var/tmp``, ``/run/lock``, ``/dev/shm`` and the home folder; everything
      else is read-only (``/`` and ``/dev`` included);
    * ``/proc`` of its own PID namespace only (the grader's command line is not there), no
      ``/sys``, no network (only a loopback of its own).

    A short start-up step (``mount`` and ``setpriv`` from util-linux), run as root *inside*
    the user namespace, mounts the capped scratch and binds the job's files; it then drops
    every capability and sets ``no_new_privs`` before the worker starts, so learner code has
    no capability at all, even inside its namespaces, and cannot create further user
    namespaces (their limit in its namespace is 0) nor write to ``/proc`` (read-only).
    Its user inside the namespace is the grader's account outside (root when the grader
    runs as root: still without any capability; an ordinary account is better). Killing the outer ``bwrap`` ends the PID namespace
    and with it every process the learner started. No root is needed: instructors grade as
    themselves.

``basic`` (no working ``bwrap``, or ``COURSE_SANDBOX_ISOLATION=basic``)
    Resource limits, a private network namespace where Linux allows one, and an import
    blocker for the answer key. The worker runs with the grader's own account and sees its
    files: fine for a learner self-grading their own work on their own machine, never for
    grading other people's submissions (:func:`require_full_isolation`).
"""

from __future__ import annotations

import atexit
import compileall
import functools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from grader.config import REPO_ROOT

#: Parts of the package that must never be visible to learner code.
PRIVATE_PARTS = ("autograde.py", "demo.py", "selfgrade.py")
#: The worker's home and working folder inside the sandbox (its job's files are here).
SANDBOX_HOME = "/home/learner"
#: Mount point of the one capped scratch tmpfs inside the sandbox.
SCRATCH = "/.scratch"
#: Where the job's files are staged (read-only) before the start-up step binds them.
JOB_STAGE = "/run/job"
#: Where the start-up script lies while it runs (given as data, never on a command line: the
#: sandbox's init is bwrap, whose command line every process inside can read).
INIT_SCRIPT = "/run/sandbox-init"
#: Writable places inside the sandbox, each a folder of the one capped scratch tmpfs.
WRITABLE = {"/tmp": "tmp", "/var/tmp": "var-tmp", "/run/lock": "run-lock",
            "/dev/shm": "dev-shm", SANDBOX_HOME: "home"}
#: Files of /etc the worker may read (the dynamic loader's cache, time zone, fonts).
ETC_ALLOWLIST = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "mime.types", "fonts")
#: What a grading server needs for full isolation.
HOW_TO_FIX = ("install bubblewrap (`apt-get install bubblewrap`) and util-linux (`mount`, "
              "`setpriv`), and allow user namespaces (Debian/Ubuntu default; on Ubuntu 24.04 "
              "either run the grader as root or allow bwrap in AppArmor; elsewhere "
              "`sysctl kernel.unprivileged_userns_clone=1` and a non-zero "
              "`user.max_user_namespaces`)")


class IsolationUnavailable(RuntimeError):
    """Full isolation is required here but this machine cannot provide it."""


# --------------------------------------------------------------------------------------
# Which level is available
# --------------------------------------------------------------------------------------
def tools() -> dict[str, str | None]:
    """Paths of the programs full isolation runs (``None`` where one is missing)."""
    found = {name: shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/bin:/bin:/usr/sbin")
             for name in ("bwrap", "mount", "setpriv")}
    found["sh"] = "/bin/sh" if os.path.exists("/bin/sh") else None
    return found


@functools.lru_cache(maxsize=1)
def _probe() -> str | None:
    if sys.platform != "linux":
        return f"full isolation needs Linux (this is {sys.platform})"
    missing = [name for name, path in tools().items() if path is None]
    if missing:
        return f"{', '.join(missing)} not found"
    spec = SandboxSpec(binds=(), scratch_mb=1, scratch_files=64, job_dir=None)
    try:
        run = subprocess.run([tools()["bwrap"], *bwrap_arguments(spec, ["/bin/true"])],
                             capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap could not run ({type(error).__name__}: {error})"
    if run.returncode != 0:
        detail = run.stderr.decode(errors="replace").strip().splitlines()
        return f"bwrap cannot build the sandbox here ({detail[-1] if detail else run.returncode})"
    return None


def full_isolation_problem() -> str | None:
    """``None`` when full isolation works on this machine, else what is missing."""
    return _probe()


def isolation_level() -> str:
    """``"full"`` when bubblewrap can build the sandbox here, else ``"basic"``."""
    if os.environ.get("COURSE_SANDBOX_ISOLATION") == "basic":
        return "basic"
    return "basic" if full_isolation_problem() else "full"


def require_full_isolation(what: str) -> None:
    """Refuse ``what`` (grading other people's work) unless isolation is full.

    Raises:
        IsolationUnavailable: with what is missing and how to fix it.
    """
    if os.environ.get("COURSE_SANDBOX_ISOLATION") == "basic":
        problem = "COURSE_SANDBOX_ISOLATION=basic is set"
    else:
        problem = full_isolation_problem()
    if problem:
        raise IsolationUnavailable(
            f"refusing to {what} with basic isolation: {problem}. Submissions of other people "
            "must run in the full sandbox, or their code could read the answer key and rewrite "
            f"the gradebook with your account. To fix: {HOW_TO_FIX}. (Self-grading your own "
            "notebook, `python -m grader selfgrade`, works with basic isolation.)")


# --------------------------------------------------------------------------------------
# The public package
# --------------------------------------------------------------------------------------
_public_copy: Path | None = None
_public_lock = threading.Lock()


def public_package() -> Path:
    """A copy of ``grader/`` without the grading code (made once per process)."""
    global _public_copy
    with _public_lock:
        if _public_copy is None or not _public_copy.exists():
            target = Path(tempfile.mkdtemp(prefix="grader-public-")) / "grader"
            shutil.copytree(
                Path(__file__).resolve().parent, target, symlinks=False,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *PRIVATE_PARTS))
            # Compiled once here: the sandbox sees it read-only and would compile every start.
            compileall.compile_dir(str(target), quiet=2, workers=1)
            for path in [target.parent, *target.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            atexit.register(shutil.rmtree, target.parent, True)  # nothing left in /tmp
            _public_copy = target
        return _public_copy


# --------------------------------------------------------------------------------------
# The sandbox's view of the filesystem, as bwrap arguments
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SandboxSpec:
    """Everything a fully isolated worker sees besides ``/usr``, ``/etc`` files and ``/proc``.

    ``binds`` are (host path, path inside) pairs, read-only; ``job_dir`` is a host folder
    whose regular files appear read-only in the worker's home; the scratch tmpfs is capped at
    ``scratch_mb`` MB and ``scratch_files`` files and folders in all.
    """

    binds: tuple[tuple[str, str], ...]
    scratch_mb: int
    scratch_files: int
    job_dir: str | None = None
    masked: tuple[str, ...] = ()  # files inside that read as empty (withheld labels)

    @classmethod
    def for_course(cls, scratch_mb: int, scratch_files: int, job_dir: str | None = None
                   ) -> "SandboxSpec":
        data_dir = Path(os.environ.get("COURSE_DATA_DIR", REPO_ROOT / "data"))
        binds = [(str(Path(sys.base_prefix).resolve()), str(Path(sys.base_prefix).resolve())),
                 (str(Path(sys.prefix).resolve()), str(Path(sys.prefix).resolve())),
                 (str(Path(sys.prefix)), str(Path(sys.prefix)))]
        if data_dir.is_dir():  # under both names when the cache is reached through a link
            binds += [(str(data_dir.resolve()), str(data_dir.resolve())),
                      (str(data_dir.resolve()), str(data_dir.absolute()))]
        binds.append((str(public_package()), str(REPO_ROOT / "grader")))
        unique = tuple(dict.fromkeys((s, d) for s, d in binds if os.path.exists(s)))
        return cls(unique, scratch_mb, scratch_files, job_dir, _withheld_inside(data_dir))


def _withheld_inside(data_dir: Path) -> tuple[str, ...]:
    """The held-out label files of the data cache, under every name the sandbox has for
    them: learner code must not read the labels its milestone is scored against."""
    from grader.data import withheld_paths

    if not data_dir.is_dir():
        return ()
    found = [path for path in withheld_paths(data_dir) if path.is_file()]
    names = [str(data_dir.resolve() / p.relative_to(data_dir)) for p in found]
    names += [str(data_dir.absolute() / p.relative_to(data_dir)) for p in found]
    return tuple(dict.fromkeys(names))


#: Where binds that land inside a writable place (a checkout under /tmp) wait for the scratch.
BIND_STAGE = "/run/stage"


def _under_writable(path: str) -> bool:
    return any(path == place or path.startswith(place.rstrip("/") + "/") for place in WRITABLE)


def _late_binds(spec: SandboxSpec) -> list[tuple[str, str]]:
    """(staging path, destination) of the binds the scratch mounts would otherwise hide."""
    return [(f"{BIND_STAGE}/{index}", inside) for index, (_, inside) in enumerate(spec.binds)
            if _under_writable(inside)]


def startup_script(spec: SandboxSpec, in_file: bool = True) -> str:
    """Run as root inside the user namespace: scratch, job files, then drop everything.

    ``in_file``: the script lies at :data:`INIT_SCRIPT` (see :func:`bwrap_arguments`) and
    unmounts itself before the learner's code starts."""
    q = shlex.quote
    lines = ["set -e",
             f"mount -t tmpfs -o size={spec.scratch_mb}m,nr_inodes={spec.scratch_files},"
             f"mode=0755,nosuid,nodev tmpfs {SCRATCH}"]
    for inside, folder in WRITABLE.items():
        mode = "0700" if inside == SANDBOX_HOME else "1777"
        lines.append(f"mkdir -m {mode} {SCRATCH}/{folder}")
    lines.append("mount -o remount,bind,ro /dev")
    for inside, folder in WRITABLE.items():
        lines.append(f"mount --bind {SCRATCH}/{folder} {q(inside)}")
    for staged, inside in _late_binds(spec):  # e.g. a checkout and its venv under /tmp
        lines += [f"mkdir -p {q(inside)}", f"mount --bind -o ro {q(staged)} {q(inside)}"]
    if _late_binds(spec):
        lines.append(f"umount -l {BIND_STAGE}/* || true")
    for path in spec.masked:  # after the late binds, which would cover the mask
        lines.append(f"mount --bind /dev/null {q(path)}")
    if spec.job_dir:
        # Regular files only (the grader staged copies; symlinks were refused before).
        lines += [f'for f in {JOB_STAGE}/* {JOB_STAGE}/.[!.]*; do',
                  '  if [ -f "$f" ] && [ ! -L "$f" ]; then',
                  f'    t={SANDBOX_HOME}/"${{f##*/}}"; : > "$t"; mount --bind -o ro "$f" "$t"',
                  '  fi',
                  'done',
                  f"umount -l {JOB_STAGE}"]
    # No nested user namespace (it would bring capabilities and uncapped mounts back), and
    # /proc read-only (no sysctl, no /proc/self/* writes), then every capability dropped.
    if in_file:
        lines.append(f"umount -l {INIT_SCRIPT}")  # sh keeps it open; nothing else can read it
    lines += ["echo 0 > /proc/sys/user/max_user_namespaces",
              "mount -o remount,bind,ro /proc",
              f"cd {SANDBOX_HOME}",
              'exec setpriv --no-new-privs --bounding-set=-all --inh-caps=-all '
              '--ambient-caps=-all -- "$@"']
    return "\n".join(lines)


def bwrap_arguments(spec: SandboxSpec, command: list[str],
                    env: dict[str, str] | None = None, script_fd: int | None = None) -> list[str]:
    """bwrap's arguments (after ``bwrap``) that run ``command`` fully isolated.

    With ``script_fd`` (a pipe holding :func:`startup_script`), the start-up script reaches
    the sandbox as data, so no command line inside shows a path of the host; without it the
    script is passed with ``sh -c`` (visible in ``/proc/1/cmdline``).
    """
    args = ["--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
            "--uid", "0", "--gid", "0", "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP",
            "--cap-add", "CAP_SYS_RESOURCE", "--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
    for link in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        target = os.path.join("/", link)
        if os.path.islink(target):
            args += ["--symlink", os.readlink(target), target]
        elif os.path.isdir(target):
            args += ["--ro-bind", target, target]
    for name in ETC_ALLOWLIST:
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for index, (source, inside) in enumerate(spec.binds):
        late = _under_writable(inside)  # bound again once the scratch is mounted
        args += ["--ro-bind", source, f"{BIND_STAGE}/{index}" if late else inside]
    args += ["--proc", "/proc", "--dev", "/dev", "--dir", SCRATCH]
    args += [arg for inside in WRITABLE for arg in ("--dir", inside)]
    if spec.job_dir:
        args += ["--ro-bind", spec.job_dir, JOB_STAGE]
    if script_fd is not None:  # (before "/" turns read-only: bwrap creates the file)
        args += ["--ro-bind-data", str(script_fd), INIT_SCRIPT]
    args += ["--remount-ro", "/", "--clearenv"]
    for key, value in (env or {}).items():
        args += ["--setenv", key, value]
    if script_fd is not None:
        return args + ["--", "/bin/sh", INIT_SCRIPT, *command]
    return args + ["--", "/bin/sh", "-c", startup_script(spec, in_file=False), "sandbox-init",
                   *command]
