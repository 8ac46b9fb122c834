"""The course library: checks, data, plots, training helpers, autograding.

The answer key (reference kernels, variants) is the separate package :mod:`answers`.

Notebooks import from here; nothing in ``course/``, ``solutions/`` or ``assignments/``
defines reusable code of its own.
"""

__version__ = "0.1.0"
