"""The course's importable package: checks, reference kernels, data, autograding.

Notebooks import from here; nothing in ``course/``, ``solutions/`` or ``assignments/``
defines reusable code of its own.
"""

__version__ = "0.1.0"
