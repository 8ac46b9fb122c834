"""Does a mistake's partial credit depend on the draw? (issue 19, item 6)

    python -m bench.credit_stability [--seeds 5] [EXERCISE_ID ...]

Every hand-written mutant of a NumPy function exercise (``answers.variants``; milestones and
PyTorch exercises left out) is checked, here and not sandboxed, against the public and hidden
cases drawn under each seed (``Exercise.cases(seed, hidden=True)``; the differential search,
which only runs once every fixed case passes, is not included), and its share of cases passed
is compared across seeds. A grade is already stable for one submission (its seed is recorded
and reused on regrade); this measures whether two learners with the same mistake get the same
partial credit. Prints one line per mutant whose credit varies, then the count.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def credit_by_seed(variant, exercise, seeds: range) -> list[float | str]:
    """The share of cases ``variant`` passes under each seed ("error" where a draw failed)."""
    from grader.check import reference_outputs, run_cases

    namespace = {"np": np}
    exec(variant.source, namespace)
    function = namespace[exercise.function]
    credits: list[float | str] = []
    for seed in seeds:
        try:
            cases = exercise.cases(seed, hidden=True)
            expected = reference_outputs(exercise, cases)
            with np.errstate(all="ignore"):
                credits.append(round(run_cases(exercise, function, cases, expected).fraction, 4))
        except Exception:  # noqa: BLE001 - a draw the mutant cannot even be run on
            credits.append("error")
    return credits


def main(argv: list[str] | None = None) -> int:
    from answers.variants import mutants
    from grader.check import get_exercise

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("exercises", nargs="*")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    start, checked, varying = time.monotonic(), 0, 0
    for variant in mutants():
        if args.exercises and variant.exercise_id not in args.exercises:
            continue
        try:
            exercise = get_exercise(variant.exercise_id)
        except KeyError:
            continue
        if exercise.score or exercise.framework != "numpy" or not exercise.function:
            continue
        credits = credit_by_seed(variant, exercise, range(args.seeds))
        checked += 1
        if len(set(credits)) > 1:
            varying += 1
            print(f"{variant.exercise_id}: {variant.label}: {sorted(set(map(str, credits)))}")
    print(f"{varying} of {checked} mistakes get a partial credit that depends on the seed "
          f"({args.seeds} seeds, {time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
