"""One syntax tree at a time per process: CPython 3.11 cannot build ``ast`` trees in two threads.

Turning a parsed tree into Python objects (``ast.parse``, and everything built on it:
``ast.literal_eval``, which NumPy calls to read the header of every ``.npy`` file, ``inspect``,
Hypothesis describing a strategy) keeps a recursion counter in state shared by the whole
interpreter. When a thread switch lands inside that conversion (a garbage collection that runs
a finaliser is enough) and another thread parses meanwhile, the first one fails with
``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905 and its
reports). The local grading pool grades in threads: at ``--jobs 2`` a 200-submission benchmark
had a result file read as "malformed" (its submission flagged for tampering) and a submission
fail with that error — one submission's grading harming another's.

:func:`install` wraps ``ast.parse`` in one re-entrant lock for the process (``literal_eval``
looks ``parse`` up in the ``ast`` module, so it is covered too). Parsing is a small part of
grading, so serialising it costs little. The grader's own parses and Hypothesis searches hold
:data:`AST_LOCK` the same way.
"""

from __future__ import annotations

import ast
import functools
import threading

#: Held while a syntax tree is built (re-entrant: Hypothesis parses while a search holds it).
AST_LOCK = threading.RLock()


def install() -> None:
    """Make ``ast.parse`` (and so ``ast.literal_eval``) hold :data:`AST_LOCK`; idempotent."""
    if getattr(ast.parse, "__grader_locked__", False):
        return
    unlocked = ast.parse

    @functools.wraps(unlocked)
    def parse(*args, **kwargs):
        with AST_LOCK:
            return unlocked(*args, **kwargs)

    parse.__grader_locked__ = True  # type: ignore[attr-defined]
    ast.parse = parse
