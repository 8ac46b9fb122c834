"""The sandbox worker: isolation of learner code, limits, and the data-only protocol."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.isolation import SandboxSpec, isolation_level
from grader.sandbox import Limits, Sandbox, SandboxDied, SandboxError, SandboxTimeout


@pytest.fixture
def sandbox():
    with Sandbox(Limits(cell_timeout=20, memory_mb=1024)) as box:
        yield box


def test_cells_share_state_and_calls_return_arrays(sandbox):
    assert sandbox.run_cell("import numpy as np\nscale = 3").ok
    assert sandbox.run_cell("def f(x, k=1):\n    return x * scale * k, float(x.sum())").ok
    doubled, total = sandbox.call("f", (np.arange(3.0),), {"k": 2}, timeout=5)
    np.testing.assert_array_equal(doubled, [0.0, 6.0, 12.0])
    assert total.shape == () and float(total) == 3.0
    assert sandbox.run_cell("g = lambda: 7").ok
    assert int(sandbox.call("g", (), {}, timeout=5)) == 7


def test_errors_are_reported_by_name(sandbox):
    outcome = sandbox.run_cell("1 / 0")
    assert not outcome.ok and "ZeroDivisionError" in outcome.error
    sandbox.run_cell("def bad(x):\n    raise ValueError('nope')")
    with pytest.raises(SandboxError, match="raised ValueError: nope"):
        sandbox.call("bad", (np.ones(1),), {}, timeout=5)
    with pytest.raises(SandboxError, match="not defined"):
        sandbox.call("missing", (), {}, timeout=5)
    sandbox.run_cell("def obj(x):\n    return {'a': 1}")
    with pytest.raises(SandboxError, match="not an array"):
        sandbox.call("obj", (np.ones(1),), {}, timeout=5)


def test_stub_raises_not_implemented(sandbox):
    sandbox.run_cell("def f(x):\n    raise NotImplementedError('w01_softmax: todo')")
    with pytest.raises(NotImplementedError, match="w01_softmax"):
        sandbox.call("f", (np.ones(1),), {}, timeout=5)


def test_cell_timeout_kills_and_restart_works():
    sandbox = Sandbox(Limits(cell_timeout=2))
    outcome = sandbox.run_cell("while True:\n    pass")
    assert outcome.timed_out and "timed out after 2 s" in outcome.error
    assert not sandbox.alive
    sandbox.restart()
    assert sandbox.run_cell("x = 1").ok
    sandbox.close()


def test_call_timeout(sandbox):
    sandbox.run_cell("def spin(x):\n    while True:\n        pass")
    with pytest.raises(SandboxTimeout):
        sandbox.call("spin", (np.ones(1),), {}, timeout=1)


def test_exit_variants(sandbox):
    outcome = sandbox.run_cell("import sys; sys.exit(3)")
    assert not outcome.ok and sandbox.alive  # SystemExit fails the cell, not the kernel
    outcome = sandbox.run_cell("import os; os._exit(3)")
    assert outcome.died and "exit status 3" in outcome.error
    sandbox.restart()
    sandbox.run_cell("import os, signal\ndef die(x):\n    os.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(SandboxDied, match="killed"):
        sandbox.call("die", (np.ones(1),), {}, timeout=5)


def test_memory_limit(sandbox):
    outcome = sandbox.run_cell("block = bytearray(4 * 2**30)")
    assert not outcome.ok and "MemoryError" in outcome.error
    assert sandbox.alive


def test_output_is_bounded(sandbox):
    outcome = sandbox.run_cell("for _ in range(50000):\n    print('x' * 100)")
    assert outcome.ok and len(outcome.output) < 4300 and "more characters" in outcome.output


def test_reference_kernels_are_not_importable(sandbox):
    for module in ("answers.kernels.week01", "answers.variants", "grader.autograde"):
        outcome = sandbox.run_cell(f"import {module}")
        assert not outcome.ok and "not available while grading" in outcome.error


def test_network_is_unreachable(sandbox):
    from grader.sandbox import _network_isolation_prefix

    if not _network_isolation_prefix():
        pytest.skip("this machine cannot create a private network namespace")
    outcome = sandbox.run_cell(
        "import socket\ns = socket.create_connection(('127.0.0.1', 22), timeout=2)")
    assert not outcome.ok and ("unreachable" in outcome.error or "refused" in outcome.error)


def test_tampering_is_detected(sandbox):
    assert sandbox.tampering() == []
    sandbox.run_cell("import numpy as np\nnp.allclose = lambda *a, **k: True\n"
                     "def check(*a, **k):\n    pass")
    names = sandbox.tampering()
    assert "numpy.allclose" in names and any(n.startswith("check") for n in names)




# --------------------------------------------------------------------------------------
# Full isolation: what the worker sees, what it can write, what survives it
# --------------------------------------------------------------------------------------
full_only = pytest.mark.skipif(isolation_level() != "full", reason="bubblewrap is not usable here")


@full_only
def test_the_worker_sees_an_allowlist_only(tmp_path):
    from grader.config import REPO_ROOT

    (tmp_path / "milestone_week07.npz").write_bytes(b"weights")
    with Sandbox(Limits(cell_timeout=20), files=tmp_path) as box:
        probe = box.run_cell(
            "import os\n"
            "root = sorted(os.listdir('/'))\n"
            f"repo = sorted(os.listdir({str(REPO_ROOT)!r}))\n"
            "home = sorted(os.listdir('.'))\n"
            "cmdline = open('/proc/1/cmdline', 'rb').read()\n"
            "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
            "raise SystemExit(repr((root, repo, home, os.getcwd(), len(pids), b'pytest' in "
            f"cmdline, os.path.exists('/root/.bashrc'), os.listdir({str(REPO_ROOT.parent)!r}))))")
        root, repo, home, cwd, npids, cmdline_leak, root_home, other_clone = eval(
            probe.error.split(": ", 1)[1])
    assert set(root) <= {"bin", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "proc",
                         "run", "sbin", "tmp", "usr", "var", ".scratch"} | {
                             Path(p).parts[1] for p in (sys.prefix, sys.base_prefix,
                                                        str(REPO_ROOT))}
    assert "answers" not in repo and "solutions" not in repo and "grader" in repo
    assert "milestone_week07.npz" in home and cwd == "/home/learner"
    # beside the checkout, nothing of its parent folder (other clones, worktrees, data)
    assert npids <= 3 and not cmdline_leak and not root_home and other_clone == [REPO_ROOT.name]


@full_only
def test_scratch_is_capped_in_size_and_files_and_shared_by_every_writable_place():
    with Sandbox(Limits(cell_timeout=30, scratch_mb=8, scratch_files=200)) as box:
        outcome = box.run_cell(
            "import os\nwritten = 0\n"
            "for folder in ('/tmp', '/var/tmp', '/run/lock', '/dev/shm', os.path.expanduser('~')):\n"
            "    try:\n        open(folder + '/f', 'wb').write(b'x' * 3 * 2**20); written += 1\n"
            "    except OSError:\n        pass\n"
            "n = 0\nwhile True:\n    try:\n        open(f'/tmp/n{n}', 'w').close(); n += 1\n"
            "    except OSError:\n        break\n"
            "ro = []\nfor path in ('/x', '/usr/x', '/dev/x', '/etc/x', '/run/x'):\n"
            "    try:\n        open(path, 'w')\n        ro.append(path)\n    except OSError:\n"
            "        pass\nraise SystemExit(repr((written, n, ro)))")
        written, files, writable = eval(outcome.error.split(": ", 1)[1])
        usage = box.accounting()
    assert written == 2  # 8 MB: two 3 MB files, wherever they are written
    assert files < 200 and writable == []
    assert usage.measured and usage.scratch_files >= 190


@full_only
def test_no_capability_no_nested_namespace_and_nothing_survives():
    from grader.sandbox import init_alive, processes_in_namespace

    box = Sandbox(Limits(cell_timeout=20))
    outcome = box.run_cell(
        "import ctypes, subprocess\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]\n"
        "nested = libc.unshare(0x10000000)\n"
        "subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        "raise SystemExit(repr((caps, nested)))")
    caps, nested = eval(outcome.error.split(": ", 1)[1])
    assert int(caps, 16) == 0 and nested == -1
    assert box.accounting().processes >= 1  # the sleeper, seen from outside
    namespace, init = box.namespace, box.init
    assert len(processes_in_namespace(namespace)) >= 3  # init, worker, sleeper
    box.close()
    assert not init_alive(init)  # and with its init, the whole namespace
    assert processes_in_namespace(namespace) == []


def test_result_payloads_are_bounded_before_they_are_read():
    import io
    import zipfile

    from grader.sandbox import MalformedResult, arrays_to_bytes, bytes_to_arrays

    good = arrays_to_bytes({"out0": np.arange(3.0)})
    assert bytes_to_arrays(good, ["out0"])["out0"].tolist() == [0.0, 1.0, 2.0]
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        raw = io.BytesIO()
        np.save(raw, np.zeros(2**20))
        archive.writestr("out0.npy", raw.getvalue())
    with pytest.raises(MalformedResult, match="compressed"):
        bytes_to_arrays(bomb.getvalue(), ["out0"])
    with pytest.raises(MalformedResult, match="expands"):
        bytes_to_arrays(bomb.getvalue(), ["out0"], max_bytes=2**20)
    with pytest.raises(MalformedResult, match="expected"):
        bytes_to_arrays(good, ["out0", "out1"])
    with pytest.raises(MalformedResult):
        bytes_to_arrays(b"PK\x03\x04 not a zip", ["out0"])
    with pytest.raises(MalformedResult, match="not numeric"):
        bytes_to_arrays(arrays_to_bytes({"out0": np.array([None, 1], dtype=object)}), ["out0"])


@pytest.mark.parametrize("op, answer, why", [
    ("run", [1, 2], "not a JSON object"), ("run", "ok", "not a JSON object"),
    ("run", {"ok": "yes"}, "of type str"), ("run", {"error": ""}, "lacks"),
    ("run", {"ok": True, "extra": 1}, "unexpected keys"),
    ("call", {"ok": True, "nout": 10**9}, "impossible"),
    ("call", {"ok": True, "nout": True}, "of type bool"),
    ("inspect", {"tampered": [], "events": [1]}, "short list of strings"),
    ("inspect", {"ok": True}, "unexpected keys"),
])
def test_every_frame_is_validated(op, answer, why):
    from grader.sandbox import ProtocolViolation, validate_answer

    with pytest.raises(ProtocolViolation, match=why):
        validate_answer(op, answer, 0)
    assert validate_answer("run", {"ok": True, "error": "", "output": ""}, 0)
    with pytest.raises(ProtocolViolation, match="payload"):
        validate_answer("run", {"ok": True}, 10)


def _local_user() -> str | None:
    import pwd
    import shutil
    import subprocess

    try:
        pwd.getpwnam("dlcourse-rootless")
        return "dlcourse-rootless"
    except KeyError:
        pass
    if os.geteuid() != 0 or not shutil.which("useradd"):
        return None
    made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/false",
                           "dlcourse-rootless"], capture_output=True)
    return "dlcourse-rootless" if made.returncode == 0 else None


@full_only
def test_full_isolation_needs_no_root(tmp_path):
    """The same sandbox, started by an ordinary local user (user namespaces, no root)."""
    import shutil
    import subprocess

    from grader.isolation import SandboxSpec, bwrap_arguments

    user = _local_user()
    python = shutil.which("python3", path="/usr/bin:/bin")
    if user is None or python is None or not shutil.which("setpriv"):
        pytest.skip("needs root to create a local user, and a system python3")
    import tempfile

    job = Path(tempfile.mkdtemp(prefix="rootless-job-"))  # reachable by the local user
    (job / "given.txt").write_text("submitted")
    job.chmod(0o755)
    (job / "given.txt").chmod(0o644)
    spec = SandboxSpec(binds=(), scratch_mb=4, scratch_files=100, job_dir=str(job))
    program = ("import os\nprint(os.getuid(), open('given.txt').read(), sorted(os.listdir('/')))\n"
               "try:\n    open('/tmp/big', 'wb').write(b'x' * 5 * 2**20)\nexcept OSError as e:\n"
               "    print('capped', e.errno)\n"
               "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])")
    args = bwrap_arguments(spec, [python, "-c", program], {"PATH": "/usr/bin:/bin"})
    run = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
                          "--", shutil.which("bwrap"), *args],
                         capture_output=True, text=True, timeout=300, cwd="/")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("0 submitted") and "'root'" not in lines[0]
    assert lines[1] == "capped 28" and int(lines[2], 16) == 0
    shutil.rmtree(job)


@full_only
def test_a_checkout_under_tmp_stays_visible_over_the_private_tmp(monkeypatch, tmp_path):
    """A checkout or venv under /tmp (a mktemp -d clone) is bound back over the scratch."""
    from grader.isolation import bwrap_arguments

    fake = tmp_path / "clone" / ".venv"
    fake.mkdir(parents=True)
    (fake / "marker.txt").write_text("venv")
    spec = SandboxSpec(binds=((str(fake), str(fake)),), scratch_mb=4, scratch_files=100)
    import shutil
    import subprocess

    args = bwrap_arguments(spec, ["/bin/cat", str(fake / "marker.txt")], {"PATH": "/usr/bin"})
    run = subprocess.run([shutil.which("bwrap"), *args], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and run.stdout == "venv", run.stderr
