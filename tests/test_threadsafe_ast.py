"""Grading threads build syntax trees one at a time (grader.threadsafe_ast).

CPython 3.11 fails with ``SystemError: AST constructor recursion depth mismatch`` when two
threads build ``ast`` trees at once and a thread switch lands inside one (a garbage collection
running a finaliser is enough). The local pool grades in threads, and NumPy parses the header of
every result ``.npy`` with ``ast.literal_eval``: at ``--jobs 2`` a 200-submission benchmark had
a result read as "malformed" and its submission flagged. Without the lock the stress below
failed in 3 runs of 3 on the course's machine; with it, in none of 3.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from grader.config import REPO_ROOT

STRESS = textwrap.dedent("""
    import ast, io, sys, threading
    import numpy as np
    import grader.autograde  # installs the lock, as every grading process does

    source = "\\n".join(f"def f{i}(x):\\n    return [" + "+".join(f"(x*{j})" for j in range(30))
                        + "]" for i in range(200))
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((3, 4)))
    header = buffer.getvalue()
    errors = []

    class Finaliser:  # garbage whose collection runs Python code: a thread switch inside parse
        def __del__(self):
            sum(range(50))

    def parse():
        for _ in range(30):
            try:
                ast.parse(source)
            except SystemError as error:
                errors.append(repr(error))

    def load():
        for _ in range(3000):
            try:
                np.load(io.BytesIO(header))
            except SystemError as error:
                errors.append(repr(error))

    def garbage():
        for _ in range(200_000):
            a, b = Finaliser(), Finaliser()
            a.other, b.other = b, a

    sys.setswitchinterval(1e-6)
    threads = [threading.Thread(target=f) for f in (parse, parse, load, load, garbage)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(len(errors), errors[:1])
""")


def test_grading_threads_parse_one_tree_at_a_time():
    run = subprocess.run([sys.executable, "-c", STRESS], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("0 "), (
        f"ast trees built in two threads at once failed: {run.stdout.strip()}")


def test_literal_eval_goes_through_the_locked_parse():
    import ast

    import grader.autograde  # noqa: F401 - installs the lock
    from grader import threadsafe_ast

    assert getattr(ast.parse, "__grader_locked__", False)
    threadsafe_ast.install()  # idempotent: still one wrapper
    assert ast.parse.__wrapped__.__name__ == "parse"
    assert not hasattr(ast.parse.__wrapped__, "__grader_locked__")
    assert ast.literal_eval("{'descr': '<f8', 'shape': (3, 4)}")["shape"] == (3, 4)
