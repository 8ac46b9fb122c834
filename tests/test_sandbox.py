"""The sandbox worker: isolation of learner code, limits, and the data-only protocol."""

from __future__ import annotations

import sys
import time
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
    start = time.monotonic()
    outcome = sandbox.run_cell("while True:\n    pass")
    assert outcome.timed_out and time.monotonic() - start < 15
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
    start = time.monotonic()
    outcome = sandbox.run_cell("for _ in range(50000):\n    print('x' * 100)")
    assert outcome.ok and len(outcome.output) < 4300 and "more characters" in outcome.output
    assert time.monotonic() - start < 20


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


