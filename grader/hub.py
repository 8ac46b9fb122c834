"""``python -m grader hub``: a small JupyterHub for the course on one machine.

Students log in to a JupyterHub (``DummyAuthenticator`` with one shared class password, the
default ``LocalProcessSpawner``: every student is a real local user, course-prefixed), fetch
and submit through nbgrader's Assignment List and a course exchange every user can reach
(``COURSE_EXCHANGE_ROOT``). The instructor works from the course checkout as the machine's
owner: ``nbgrader release_assignment``, ``nbgrader collect``, ``python -m grader autograde``,
``python -m grader feedback``, ``nbgrader release_feedback`` (README: "Running a class on a
hub").

Subcommands::

    install                   hub venv (Debian's /usr/bin/python3) + configurable-http-proxy
    setup STUDENT ...         local users dlc-STUDENT, their homes, the exchange
    start [--port P]          run the hub in the foreground (Ctrl-C stops it)
    teardown                  remove every course user (and home) and the hub state

Layout under the hub folder (``COURSE_HUB_DIR``, default ``/srv/dlcourse-hub``), which every
user must be able to traverse (a venv on a Python under ``/root``, mode 0700, cannot run
as a student: "Permission denied")::

    venv/          jupyterhub, nbgrader, JupyterLab (and the course's packages unless minimal)
    proxy/         configurable-http-proxy (npm install --prefix)
    exchange/      the nbgrader exchange (1777; nbgrader makes inbound/ 2733)
    distribution/  what a student's home is filled with: the learner distribution
    state/         (0700) hub database, cookie secret, config, service token, users
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from grader.config import REPO_ROOT, work_dir
from grader.nbgrader_setup import COURSE_ID

#: Versions the hub venv and proxy are installed at (nbgrader matches the course's).
JUPYTERHUB_VERSION = "6.1.1"
NBGRADER_VERSION = "0.9.6"
PROXY_VERSION = "5.3.0"
#: Every local user the hub command creates starts with this; teardown removes exactly these.
USER_PREFIX = "dlc-"
#: nbgrader's instructor screens, switched off in students' servers.
INSTRUCTOR_ONLY_SERVER = ("nbgrader.server_extensions.formgrader",
                          "nbgrader.server_extensions.course_list")
INSTRUCTOR_ONLY_LAB = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                       "@jupyter/nbgrader:course-list")
#: What a fresh JupyterLab would otherwise ask on first start (the news toast) or fetch.
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {
    "fetchNews": "false", "checkForUpdates": False}}


def hub_dir() -> Path:
    return Path(os.environ.get("COURSE_HUB_DIR", "/srv/dlcourse-hub"))


def exchange_root(base: Path | None = None) -> Path:
    return (base or hub_dir()) / "exchange"


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.run(list(map(str, cmd)), check=True, **kwargs)


def write_lab_overrides(prefix: str | os.PathLike) -> Path:
    """JupyterLab settings overrides for the environment at ``prefix``: no news toast."""
    path = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.is_file() else {}
    for plugin, settings in LAB_OVERRIDES.items():
        current.setdefault(plugin, {}).update(settings)
    path.write_text(json.dumps(current, indent=2) + "\n")
    return path


def student_nbgrader_config(base: Path) -> str:
    """nbgrader settings of every student server: the course's exchange and id."""
    return (f"c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
            f"c.Exchange.root = {str(exchange_root(base))!r}\n"
            f"c.Exchange.path_includes_course = True\n")


# ------------------------------------------------------------------------------------------
# install
# ------------------------------------------------------------------------------------------
def _pinned(name: str) -> str:
    """``name==version`` at the version the course venv runs (the hub serves the same Lab)."""
    return f"{name}=={metadata.version(name)}"


def install(base: Path, minimal: bool = False) -> None:
    """The hub venv on Debian's Python and the proxy, each only when missing or outdated."""
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    venv = base / "venv"
    packages = [f"jupyterhub=={JUPYTERHUB_VERSION}", f"nbgrader=={NBGRADER_VERSION}",
                _pinned("jupyterlab"), "ipykernel", _pinned("numpy"),
                # MathJax served by every server: feedback pages render maths offline
                _pinned("jupyter-server-mathjax")]
    wanted = " ".join(packages) + ("" if minimal else " +course")
    stamp = venv / ".course-hub-installed"
    if not (stamp.is_file() and stamp.read_text() == wanted):
        python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
        _run([python, "-m", "venv", venv])
        pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
        _run(pip + packages)
        if not minimal:  # what students' kernels import
            _run(pip + ["-r", REPO_ROOT / "requirements.txt"])
        stamp.write_text(wanted)
    proxy = base / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    if not proxy.exists():
        if not shutil.which("npm"):
            _run(["apt-get", "install", "-y", "-qq", "nodejs", "npm"])
        _run(["npm", "install", "--silent", "--no-fund", "--no-audit", "--prefix",
              base / "proxy", f"configurable-http-proxy@{PROXY_VERSION}"])
    (venv / "etc" / "jupyter").mkdir(parents=True, exist_ok=True)
    (venv / "etc" / "jupyter" / "nbgrader_config.py").write_text(student_nbgrader_config(base))
    write_lab_overrides(venv)
    # Students get the Assignment List and Validate, not the instructor's screens.
    jupyter = venv / "bin" / "jupyter"
    for extension in INSTRUCTOR_ONLY_SERVER:
        _run([jupyter, "server", "extension", "disable", "--sys-prefix", extension],
             capture_output=True)
    _run([jupyter, "labextension", "disable", "--level=sys_prefix", *INSTRUCTOR_ONLY_LAB],
         capture_output=True)
    for folder in (venv, base / "proxy"):  # every student runs these
        _run(["chmod", "-R", "a+rX", folder])


# ------------------------------------------------------------------------------------------
# setup / teardown
# ------------------------------------------------------------------------------------------
def build_distribution(out: Path, repo: Path = REPO_ROOT) -> Path:
    """What a student's home starts with: the learner distribution (``python -m grader
    distribute``: lectures, releases, the course library without grading code, no answer
    key, no solutions), readable by every student."""
    from grader.distribute import build

    build(out, answers_through=0, repo=repo)
    _run(["chmod", "-R", "a+rX", out])
    return out


def hub_users(base: Path) -> list[str]:
    """The users ``setup`` made for the hub at ``base`` (who may log in)."""
    path = base / "state" / "users.json"
    return json.loads(path.read_text()) if path.is_file() else []


def course_users() -> list[str]:
    return sorted(p.pw_name for p in pwd.getpwall() if p.pw_name.startswith(USER_PREFIX))


def user_name(student: str) -> str:
    return student if student.startswith(USER_PREFIX) else USER_PREFIX + student


def setup(base: Path, students: list[str], repo: Path = REPO_ROOT,
          work: Path | None = None) -> list[str]:
    """Local users for ``students`` with homes holding the learner distribution, the shared
    exchange, and the instructor's checkout closed to them (answer key, solutions, work)."""
    work = work or work_dir()
    exchange = exchange_root(base)
    exchange.mkdir(parents=True, exist_ok=True)
    exchange.chmod(0o1777)  # nbgrader: everyone writes; inbound/ and outbound/ it makes itself
    state = base / "state"
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)
    distribution = build_distribution(base / "distribution", repo)
    for folder in (repo / "answers", repo / "solutions", work):  # the instructor's side
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
    users = []
    for student in students:
        name = user_name(student)
        if name not in course_users():
            _run(["useradd", "--create-home", "--shell", "/bin/bash", name])
        home = Path(pwd.getpwnam(name).pw_dir)
        home.chmod(0o700)
        for item in distribution.iterdir():
            if not (home / item.name).exists():
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, home / item.name)
        _run(["chown", "-R", f"{name}:{name}", home])
        users.append(name)
    (state / "users.json").write_text(json.dumps(sorted(set(hub_users(base)) | set(users))))
    return users


def teardown(base: Path, users: list[str] | None = None) -> list[str]:
    """Remove the course-prefixed local users (``users``, default: all of them) with their
    homes, and the hub's state."""
    removed = []
    for name in course_users():
        if users is not None and name not in users:
            continue
        for _ in range(40):  # userdel refuses while the user still has processes
            subprocess.run(["pkill", "-KILL", "-u", name], check=False)  # that user's only
            done = subprocess.run(["userdel", "--remove", name], check=False,
                                  capture_output=True, text=True)
            if name not in course_users():
                removed.append(name)
                break
            time.sleep(0.25)
        else:
            print(f"could not remove user {name}: {done.stderr.strip()}", file=sys.stderr)
    shutil.rmtree(base / "state", ignore_errors=True)
    return removed


# ------------------------------------------------------------------------------------------
# start
# ------------------------------------------------------------------------------------------
def hub_config(base: Path, port: int, password: str, token: str, users: list[str]) -> str:
    """jupyterhub_config.py of the course hub (127.0.0.1 only)."""
    venv, state = base / "venv", base / "state"
    proxy = base / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    return f"""\
# Written by `python -m grader hub start`; edit grader/hub.py instead.
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {port + 1}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{port + 2}"
c.ConfigurableHTTPProxy.command = [{str(proxy)!r}]
c.JupyterHub.db_url = "sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(state / 'jupyterhub_cookie_secret')!r}
c.JupyterHub.pid_file = {str(state / 'jupyterhub.pid')!r}
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = {set(users)!r}
c.Authenticator.allow_existing_users = False
# The default LocalProcessSpawner: each student's server runs as that local user.
c.Spawner.cmd = [{str(venv / 'bin' / 'jupyterhub-singleuser')!r}]
# Kernels import the course library of the learner distribution (no grading code, no key).
c.Spawner.environment = {{
    "PATH": {f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"!r},
    "PYTHONPATH": {str(base / 'distribution')!r},
}}
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180
c.JupyterHub.services = [{{"name": "course", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "course-service", "services": ["course"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "tokens"],
}}]
"""


def start(base: Path, port: int, password: str | None) -> int:
    """Write the hub's config and run it in the foreground (as root: it spawns users)."""
    state = base / "state"
    users = hub_users(base)
    if not users:
        print("no course users: run `python -m grader hub setup STUDENT ...` first",
              file=sys.stderr)
        return 2
    token_file = state / "service_token"
    if not token_file.is_file():
        token_file.write_text(secrets.token_hex(32))
    token_file.chmod(0o600)
    password = password or os.environ.get("COURSE_HUB_PASSWORD") or secrets.token_urlsafe(9)
    config = state / "jupyterhub_config.py"
    config.write_text(hub_config(base, port, password, token_file.read_text(), users))
    print(f"course hub on http://127.0.0.1:{port}/ for {', '.join(users)} "
          f"(password: {password}); service token in {token_file}", flush=True)
    os.chdir(state)
    # The hub replaces this process: a signal to it (Ctrl-C, a test's terminate) reaches the
    # hub itself, which stops the proxy and the students' servers; nothing is left orphaned.
    jupyterhub = str(base / "venv" / "bin" / "jupyterhub")
    os.execv(jupyterhub, [jupyterhub, "-f", str(config)])


# ------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------
def add_parser(sub) -> None:
    p = sub.add_parser("hub", help="a JupyterHub for the course on this machine")
    hub_sub = p.add_subparsers(dest="hub_command", required=True)
    q = hub_sub.add_parser("install", help="hub venv (Debian's Python) and proxy")
    q.add_argument("--minimal", action="store_true",
                   help="hub and nbgrader only, not the course's packages (tests)")
    q = hub_sub.add_parser("setup", help="course users, their homes, the exchange")
    q.add_argument("students", nargs="+", help=f"student names (users {USER_PREFIX}NAME)")
    q = hub_sub.add_parser("start", help="run the hub in the foreground")
    q.add_argument("--port", type=int, default=8000)
    q.add_argument("--password", default=None,
                   help="the class password (default: $COURSE_HUB_PASSWORD or a fresh one)")
    hub_sub.add_parser("teardown", help=f"remove every {USER_PREFIX}* user and the hub state")
    p.set_defaults(func=cmd_hub)


def cmd_hub(args: argparse.Namespace) -> int:
    base = hub_dir()
    if os.geteuid() != 0:
        print("the hub creates local users and spawns servers as them: run it as root",
              file=sys.stderr)
        return 2
    if args.hub_command == "install":
        install(base, minimal=args.minimal)
    elif args.hub_command == "setup":
        print("users:", ", ".join(setup(base, args.students)))
        print(f"exchange: {exchange_root(base)} (instructor: export "
              f"COURSE_EXCHANGE_ROOT={exchange_root(base)})")
    elif args.hub_command == "start":
        return start(base, args.port, args.password)
    elif args.hub_command == "teardown":
        print("removed:", ", ".join(teardown(base)) or "nobody")
    return 0
