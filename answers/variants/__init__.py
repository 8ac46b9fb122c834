"""Alternative correct implementations and plausible wrong ones ("mutants"), as source code.

They serve two purposes: the tests prove every check accepts each alternative and rejects
each mutant, and the demo class builds realistic partially-wrong submissions from them.
Source strings (not functions) so that the same text can be pasted into a notebook cell.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Variant:
    """One implementation of an exercise: what it does differently, and its source."""

    exercise_id: str
    label: str
    source: str

    def load(self, function_name: str) -> Callable:
        """Execute the source in a fresh namespace (with ``np``) and return the function."""
        namespace: dict = {"np": np}
        exec(compile(self.source, f"<{self.exercise_id}: {self.label}>", "exec"), namespace)
        return namespace[function_name]


@lru_cache(maxsize=None)
def solution_cell(notebook, exercise_id: str) -> str:
    """The reference solution cell ``<exercise_id>_code`` of ``notebook`` (a path), without
    the solution markers: what a whole-cell variant (milestones, capstone) starts from."""
    import nbformat

    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == f"{exercise_id}_code":
            return "\n".join(line for line in cell.source.splitlines()
                             if "### BEGIN SOLUTION" not in line
                             and "### END SOLUTION" not in line)
    raise KeyError(f"no solution cell {exercise_id}_code in {notebook}")


def cell_variant(notebook, exercise_id: str, label: str,
                 *replacements: tuple[str, str]) -> Variant:
    """The solution cell of ``exercise_id`` with each (old, new) replacement made; a
    replacement that no longer applies raises, so a changed solution cannot silently
    disable a variant."""
    source = solution_cell(notebook, exercise_id)
    for old, new in replacements:
        if old not in source:
            raise ValueError(f"{exercise_id} variant {label!r}: {old!r} is not in the solution")
        source = source.replace(old, new)
    return Variant(exercise_id, label, source)


def _collect(kind: str) -> list[Variant]:
    import answers.variants as package

    found: list[Variant] = []
    for module in pkgutil.iter_modules(package.__path__):
        found += getattr(importlib.import_module(f"answers.variants.{module.name}"), kind)
    return found


def alternatives() -> list[Variant]:
    """Every correct alternative implementation, across weeks."""
    return _collect("ALTERNATIVES")


def mutants() -> list[Variant]:
    """Every plausible wrong implementation, across weeks."""
    return _collect("MUTANTS")
