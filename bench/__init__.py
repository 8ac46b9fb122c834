"""Benchmark harness: figures measured side by side with their oracle, in one run.

Each ``bench/bench_<topic>.py`` module defines ``BENCHMARKS``: a list of functions taking no
arguments and returning a list of :class:`Row`. ``python -m bench [topic ...]`` runs them,
prints a table, writes ``bench/results/<topic>.json`` (with the machine description and the
command) and regenerates ``bench/RESULTS.md`` from every stored result. Results are
committed; each row says what was measured, its oracle's figure from the same run, the
target and whether it was met.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field


@dataclass
class Row:
    """One measured figure.

    Attributes:
        benchmark: short name, e.g. ``"kNN accuracy (k=5), Fashion-MNIST test"``.
        value: the course's figure.
        unit: ``"accuracy"``, ``"s"``, ``"×"``, ``"perplexity"``, ...
        oracle: what it is compared with, e.g. ``"sklearn KNeighborsClassifier"``.
        oracle_value: the oracle's figure from the same run (``None`` if there is none).
        target: the target in words, e.g. ``"within 1 point of sklearn"``.
        met: whether the target was met (``None`` when there is no target).
        seconds: wall-clock of the measurement.
        notes: anything a reader needs (data size, epochs, seeds).
        command: the command that measured it, when not this run's (a row kept from an
            earlier run); ``python -m bench`` fills in its own otherwise.
    """

    benchmark: str
    value: float
    unit: str
    oracle: str = ""
    oracle_value: float | None = None
    target: str = ""
    met: bool | None = None
    seconds: float = 0.0
    notes: str = ""
    extra: dict = field(default_factory=dict)
    command: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def interleaved_best(functions: dict[str, Callable[[], object]], repeats: int
                     ) -> dict[str, float]:
    """Minimum wall-clock of each function, alternating between them on every repeat.

    Alternating spreads slow spells of a shared machine over every contender instead of
    penalizing whichever function happened to run during one.
    """
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best
