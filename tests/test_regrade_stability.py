"""A regrade of an unchanged submission gets the same score on a busy machine (issue 19, 6).

Cells and checked calls are timed in the sandbox's CPU time within a wall-clock cap
(:class:`grader.sandbox.RequestClock`): code that is slow only because the machine is busy
keeps its points; an infinite loop or a wait still ends within the cap. A busy machine is
simulated by *throttling* the sandbox's processes (SIGSTOP/SIGCONT, a small duty cycle):
the learner's code then gets a tenth of a core, as on a 2-core machine at load ~20.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager

import pytest

from grader.sandbox import (Limits, RequestClock, Sandbox, SandboxTimeout, _session_processes,
                            processes_in_namespace)

#: Code that needs 0.4 s of CPU time (whatever the clock says meanwhile).
BURN = ("import time\n_t = time.process_time()\n"
        "while time.process_time() - _t < 0.4:\n    pass\n")


@contextmanager
def throttled(sandbox: Sandbox, duty: float = 0.1, period: float = 0.1):
    """Let ``sandbox``'s processes run ``duty`` of each ``period`` (stopped the rest)."""
    stop = threading.Event()

    def pids() -> list[int]:
        if sandbox.namespace:
            return processes_in_namespace(sandbox.namespace)
        return _session_processes(sandbox.process.pid)

    def loop() -> None:
        while not stop.is_set():
            found = pids()
            for sig, pause in ((signal.SIGSTOP, period * (1 - duty)), (signal.SIGCONT, period * duty)):
                for pid in found:
                    try:
                        os.kill(pid, sig)
                    except OSError:
                        pass
                time.sleep(pause)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        for pid in pids():
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass


# --------------------------------------------------------------------------------------
# The clock's bookkeeping, on a fake clock and a fake CPU reading
# --------------------------------------------------------------------------------------
class Fake:
    def __init__(self):
        self.wall, self.cpu_used = 0.0, 0.0

    def now(self) -> float:
        return self.wall

    def cpu(self, refresh: bool) -> float:
        return 100.0 + self.cpu_used


def test_clock_extends_while_the_sandbox_got_less_than_its_cpu_time():
    fake = Fake()
    clock = RequestClock(2.0, 8.0, fake.cpu, now=fake.now)
    assert clock.left() == pytest.approx(2.0)
    fake.wall, fake.cpu_used = 2.0, 0.5  # a busy machine: a quarter of a core
    assert clock.left() == pytest.approx(1.5)  # the CPU time it still has
    fake.wall, fake.cpu_used = 3.5, 1.0
    assert clock.left() == pytest.approx(1.0)
    fake.wall, fake.cpu_used = 4.5, 2.0  # its CPU time is used up: time is up
    assert clock.left() == 0.0 and not clock.by_wall
    assert clock.message() == "no answer within 2 s (infinite loop, or waiting for something?)"


def test_clock_never_waits_past_its_wall_clock_cap():
    fake = Fake()
    clock = RequestClock(2.0, 8.0, fake.cpu, now=fake.now)
    for wall in (2.0, 4.0, 6.0, 7.9):  # a wait (sleep, blocked read) uses no CPU
        fake.wall = wall
        assert 0 < clock.left() <= 8.0 - wall + 1e-9
    fake.wall = 8.0
    assert clock.left() == 0.0 and clock.by_wall
    # the same words as a request that used up its CPU time: a regrade records the same
    assert clock.message() == "no answer within 2 s (infinite loop, or waiting for something?)"


def test_clock_without_a_cpu_reading_is_the_wall_clock():
    fake = Fake()
    clock = RequestClock(2.0, 8.0, lambda refresh: None, now=fake.now)
    fake.wall = 2.0
    assert clock.left() == 0.0
    assert clock.message() == "no answer within 2 s (infinite loop, or waiting for something?)"


def test_clock_asks_its_watch_every_second_and_stops_when_it_objects():
    fake, objection = Fake(), []
    clock = RequestClock(10.0, 40.0, fake.cpu, now=fake.now,
                         watch=lambda: objection[0] if objection else None)
    assert clock.left() == pytest.approx(1.0)  # the next look, well before the CPU check
    fake.wall = 1.0
    assert clock.left() == pytest.approx(1.0)
    objection.append("more than 64 processes at once")
    fake.wall = 2.0
    assert clock.left() == 0.0
    assert clock.message() == "more than 64 processes at once"


def test_a_fork_bomb_is_stopped_early_with_every_process_it_started():
    """Root is exempt from RLIMIT_NPROC (CI grades as root): the clock's watch is what keeps
    the sandbox within ``Limits.processes`` there, and the bomb ends in about a second
    instead of at the request's wall-clock cap."""
    from grader.sandbox import too_many_processes_message

    with Sandbox(Limits(cell_timeout=30.0, processes=16)) as sandbox:
        outcome = sandbox.run_cell("import os\nwhile True:\n    os.fork()", timeout=30)
        assert outcome.timed_out
        assert outcome.error == f"cell stopped: {too_many_processes_message(16)}"
        sandbox.restart()  # what the grader does after a cell that hung or died
        assert sandbox.run_cell("x = 1").ok
        assert sandbox.accounting().processes == 0  # nothing of the bomb is left


# --------------------------------------------------------------------------------------
# A real sandbox on a (simulated) busy machine
# --------------------------------------------------------------------------------------
def test_a_cell_slow_only_because_the_machine_is_busy_keeps_running():
    with Sandbox(Limits(cell_timeout=1.0, wall_factor=60)) as sandbox:
        assert sandbox.run_cell("x = 1", timeout=60).ok  # the worker has started
        with throttled(sandbox):
            outcome = sandbox.run_cell(BURN + "y = 2")
        assert outcome.ok, outcome.error
        assert sandbox.run_cell("assert y == 2").ok


def test_wall_clock_timing_would_have_cut_that_cell_off():
    """The same cell with a cap equal to its timeout: the behaviour before the fix."""
    with Sandbox(Limits(cell_timeout=1.0, wall_factor=1)) as sandbox:
        assert sandbox.run_cell("x = 1", timeout=60).ok  # the worker has started
        with throttled(sandbox):
            outcome = sandbox.run_cell(BURN)
        assert outcome.timed_out


def test_a_call_slow_only_because_the_machine_is_busy_keeps_its_answer():
    import numpy as np

    with Sandbox(Limits(wall_factor=60)) as sandbox:
        assert sandbox.run_cell("import numpy as np\ndef double(x):\n"
                                + "".join("    " + line + "\n" for line in BURN.splitlines())
                                + "    return 2 * x\n").ok
        with throttled(sandbox):
            value = sandbox.call("double", (np.arange(3.0),), {}, timeout=1.0)
        assert np.array_equal(value, [0.0, 2.0, 4.0])


def test_an_infinite_loop_on_a_busy_machine_still_ends_within_the_cap():
    with Sandbox(Limits(cell_timeout=0.5, wall_factor=4)) as sandbox:
        assert sandbox.run_cell("x = 1", timeout=60).ok  # the worker has started
        with throttled(sandbox):
            outcome = sandbox.run_cell("while True:\n    pass")
        assert outcome.timed_out and "timed out after 0.5 s" in outcome.error
        sandbox.restart()  # (the grader restarts a worker it killed)
        assert sandbox.run_cell("x = 1", timeout=60).ok


def test_a_wait_that_uses_no_cpu_ends_at_the_cap():
    with Sandbox(Limits(wall_factor=4)) as sandbox:
        assert sandbox.run_cell("import time", timeout=60).ok
        with pytest.raises(SandboxTimeout, match="no answer within 0.5 s"):
            sandbox.request({"op": "run", "source": "time.sleep(60)"}, timeout=0.5)


def test_the_notebook_budget_caps_a_request_below_its_own_cap():
    with Sandbox(Limits(wall_factor=100)) as sandbox:
        assert sandbox.run_cell("import time", timeout=60).ok
        outcome = sandbox.run_cell("time.sleep(60)", timeout=0.5, wall=1.0)
        assert outcome.timed_out
