"""Alternative correct implementations and plausible wrong ones ("mutants"), as source code.

They serve two purposes: the tests prove every check accepts each alternative and rejects
each mutant, and the demo class builds realistic partially-wrong submissions from them.
Source strings (not functions) so that the same text can be pasted into a notebook cell.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
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
