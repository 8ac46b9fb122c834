"""Week 15 capstone: the numbers of the learner's report against their own checkpoints.

The learner reimplements one paper (``TRACK`` in ``solutions/week15-capstone/capstone.ipynb``:
``"dropout"``, ``"batchnorm"`` or ``"ptb"``), trains every run (≥ 3 seeds of the paper's
method and of its baseline, the same model with the paper's idea removed), saves all runs in
one plain ``.npz`` (:data:`CHECKPOINT`, arrays ``<arm>.s<seed>.<parameter>``) and writes the
numbers their written report quotes into it (the ``REPORT`` dict, a JSON string in the file's
metadata).

``w15_report``
    The grader checks the file first (present, a plain ``.npz``, no pickle, size), then calls
    the learner's ``capstone_evaluate(checkpoint, images, tokens)`` in the sandbox: it rebuilds
    every run's model **with the learner's own code**, loads its weights and returns
    ``(report_json, runs_json, outputs)``: class scores ``(R, N, 10)`` on the held-out
    Fashion-MNIST test images, or per-token negative log-likelihoods ``(R, T - 1)`` (nats) on
    the PTB test tokens. The metric of each run (test error, test perplexity) and the points
    are computed here, outside the learner's code, by :func:`score_report`.

Partial credit (the documented curve, :func:`report_credit`), as fractions of the points:

* **0.25 — seeds.** Per arm (``baseline``, ``method``): ``min(runs that evaluated, 3) / 3``.
* **0.50 — numbers.** The share of the report's numbers (every per-seed figure, plus each
  arm's mean and sample standard deviation, ``ddof=1``) equal to the grader's re-evaluation
  of the checkpoints within :data:`TOLERANCE` (test error: 0.001 absolute, i.e. 0.1
  percentage point; perplexity: 0.5 % relative). The denominator counts at least 3 seeds
  per arm, so a report with fewer seeds cannot reach full marks here either.
* **0.25 — the ablation effect.** Half: ``effect.difference`` (mean of ``method`` minus mean
  of ``baseline``) equals the re-evaluated difference within tolerance. Half:
  ``effect.better`` names the arm the re-evaluation supports under the stated rule: an arm is
  better only when the two ``mean ± sd`` intervals do not overlap, else ``"neither"``.

Grading-time bound: the notebook's cells (30 s each, the sandbox's cell limit), then one call
of at most ``timeout`` (300 s: six PTB models over 82,430 test tokens on a CPU).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

import numpy as np

from grader.check import Case, Exercise, register
from grader.config import fast_mode

CHECKPOINT = "capstone_runs.npz"
TRACKS = {"dropout": "test_error", "batchnorm": "test_error", "ptb": "test_perplexity"}
#: The arms every report compares; more arms (a second ablation) are allowed and checked too.
ARMS = ("baseline", "method")
MIN_SEEDS = 3
#: Agreement between a reported number and the grader's re-evaluation: (absolute, relative).
TOLERANCE = {"test_error": (1e-3, 0.0), "test_perplexity": (0.0, 5e-3)}
#: Shares of the points (see the module docstring).
WEIGHTS = {"seeds": 0.25, "numbers": 0.50, "effect": 0.25}


@lru_cache(maxsize=2)
def _heldout(fast: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST's 10,000 test images and labels (always all of them: the notebook reports
    on them in both modes), and the PTB test tokens (fast mode: the loader's 5,000)."""
    from grader.data import load_fashion_mnist, load_ptb

    images = load_fashion_mnist(limit=10_000)  # the whole test split, even in fast mode
    return images.X_test, images.y_test, load_ptb().test


def _cases(rng: np.random.Generator) -> list[Case]:
    x, y, tokens = _heldout(fast_mode())
    return [Case(f"your {CHECKPOINT} re-evaluated on the held-out test split "
                 f"({len(x):,} Fashion-MNIST images / {len(tokens):,} PTB tokens)",
                 (CHECKPOINT, x, tokens), target=(y, tokens))]


# --------------------------------------------------------------------------------------
# The metric (trusted side)
# --------------------------------------------------------------------------------------
def run_metric(metric: str, output: np.ndarray, target: tuple) -> float:
    """One run's figure: test error from class scores (N, C), perplexity from NLLs (T - 1,)."""
    labels, tokens = target
    output = np.asarray(output, dtype=np.float64)
    if metric == "test_error":
        return float(np.mean(output.argmax(axis=-1) != labels))
    return float(math.exp(float(np.mean(output))))


def agrees(metric: str, reported, measured: float) -> bool:
    """Whether a reported number equals a re-evaluated one within :data:`TOLERANCE`."""
    try:
        reported = float(reported)
    except (TypeError, ValueError):
        return False
    absolute, relative = TOLERANCE[metric]
    return math.isfinite(reported) and abs(reported - measured) <= absolute + relative * abs(measured)


def summary(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``; 0 for a single value)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def better_arm(baseline: tuple[float, float], method: tuple[float, float]) -> str:
    """The stated rule (lower is better): an arm wins only if the mean ± sd intervals are
    disjoint; otherwise ``"neither"``."""
    (mb, sb), (mm, sm) = baseline, method
    if mm + sm < mb - sb:
        return "method"
    if mb + sb < mm - sm:
        return "baseline"
    return "neither"


def _parse_runs(names: list[str]) -> dict[str, dict[str, int]]:
    """``["baseline.s0", ...]`` -> ``{arm: {seed: index}}``."""
    arms: dict[str, dict[str, int]] = {}
    for index, name in enumerate(names):
        arm, _, seed = str(name).partition(".s")
        if not arm or not seed.isdigit():
            raise ValueError(f"run name {name!r} is not '<arm>.s<seed>'")
        arms.setdefault(arm, {})[seed] = index
    return arms


def report_credit(report: dict, names: list[str], outputs: np.ndarray, target: tuple
                  ) -> tuple[float, str]:
    """Compare ``report`` with the re-evaluated runs → (fraction of the points, message)."""
    track = report.get("track")
    if track not in TRACKS:
        return 0.0, (f"REPORT['track'] is {track!r}; expected one of {', '.join(TRACKS)} "
                     "(the TRACK you trained)")
    metric = TRACKS[track]
    labels, tokens = target
    arms = _parse_runs(names)
    outputs = np.asarray(outputs)
    want = ((len(names), len(labels), 10) if metric == "test_error"
            else (len(names), len(tokens) - 1))
    if outputs.shape != want:
        return 0.0, (f"expected outputs of shape {want} for {len(names)} run(s) "
                     f"({'class scores per test image' if metric == 'test_error' else 'the negative log-likelihood of each next test token'}), "
                     f"got {tuple(outputs.shape)}")
    if not np.all(np.isfinite(outputs)):
        return 0.0, "some outputs are nan/inf (a diverged run, or an overflow)"
    measured = {arm: {seed: run_metric(metric, outputs[i], target) for seed, i in seeds.items()}
                for arm, seeds in arms.items()}
    lines = [f"track {track!r}, metric {metric} re-evaluated from your checkpoints:"]
    for arm, values in sorted(measured.items()):
        listed = ", ".join(f"seed {s}: {v:.4f}" for s, v in sorted(values.items()))
        lines.append(f"  {arm}: {listed}")

    # seeds
    seed_part = float(np.mean([min(len(measured.get(arm, {})), MIN_SEEDS) / MIN_SEEDS
                               for arm in ARMS]))
    missing = [arm for arm in ARMS if len(measured.get(arm, {})) < MIN_SEEDS]
    lines.append(f"seeds: {seed_part:.0%}" + (
        f" — fewer than {MIN_SEEDS} runs of {', '.join(missing)} in the checkpoint"
        if missing else f" (≥ {MIN_SEEDS} seeds of {' and '.join(ARMS)})"))

    # numbers
    runs = report.get("runs") if isinstance(report.get("runs"), dict) else {}
    summaries = report.get("summary") if isinstance(report.get("summary"), dict) else {}
    good, total, wrong = 0, 0, []
    for arm in sorted(set(ARMS) | set(measured)):
        reported = runs.get(arm) if isinstance(runs.get(arm), dict) else {}
        values = measured.get(arm, {})
        for seed in sorted(set(values) | {str(s) for s in reported}):
            total += 1
            if seed in values and agrees(metric, reported.get(seed), values[seed]):
                good += 1
            else:
                shown = reported.get(seed, "missing")
                wrong.append(f"{arm} seed {seed}: reported {shown}, re-evaluated "
                             + (f"{values[seed]:.4f}" if seed in values else "no such run"))
        total += max(0, MIN_SEEDS - len(values)) if arm in ARMS else 0
        if values:
            mean, sd = summary(list(values.values()))
            pair = summaries.get(arm)
            pair = pair if isinstance(pair, (list, tuple)) and len(pair) == 2 else (None, None)
            for label, got, expected in (("mean", pair[0], mean), ("sd", pair[1], sd)):
                total += 1
                if agrees(metric, got, expected):
                    good += 1
                else:
                    wrong.append(f"{arm} {label}: reported {got}, re-evaluated {expected:.4f}")
    number_part = good / total if total else 0.0
    tol = ("0.001 absolute" if metric == "test_error" else "0.5 % relative")
    lines.append(f"numbers: {good}/{total} of the report's numbers equal the re-evaluation "
                 f"(tolerance {tol})" + ("; disagreeing: " + "; ".join(wrong[:8]) if wrong
                                         else ""))

    # effect
    effect_part = 0.0
    effect = report.get("effect") if isinstance(report.get("effect"), dict) else {}
    if all(measured.get(arm) for arm in ARMS):
        base, meth = (summary(list(measured[arm].values())) for arm in ARMS)
        difference = meth[0] - base[0]
        ok_size = agrees(metric, effect.get("difference"), difference)
        rule = better_arm(base, meth)
        ok_sign = effect.get("better") == rule
        effect_part = 0.5 * ok_size + 0.5 * ok_sign
        lines.append(
            f"effect: method − baseline re-evaluated {difference:+.4f} "
            f"(you reported {effect.get('difference')}: {'right' if ok_size else 'WRONG'}); "
            f"better arm by the rule (mean ± sd intervals disjoint, else 'neither'): {rule!r} "
            f"(you reported {effect.get('better')!r}: {'right' if ok_sign else 'WRONG'})")
    else:
        lines.append("effect: cannot be checked without runs of both "
                     + " and ".join(ARMS))
    credit = (WEIGHTS["seeds"] * seed_part + WEIGHTS["numbers"] * number_part
              + WEIGHTS["effect"] * effect_part)
    lines.append(f"credit {credit:.0%} = 25 % seeds × {seed_part:.2f} + 50 % numbers × "
                 f"{number_part:.2f} + 25 % effect × {effect_part:.2f}")
    return credit, "\n    ".join(lines)


def score_report(case: Case, outputs: tuple[np.ndarray, ...]) -> tuple[float, str]:
    """The metric of ``w15_report``: ``(report_json, runs_json, outputs)`` → (credit, message)."""
    if len(outputs) != 3:
        return 0.0, (f"expected (report JSON, run names JSON, outputs) from "
                     f"capstone_evaluate, got {len(outputs)} value(s)")
    try:
        report = json.loads(str(outputs[0]))
        names = json.loads(str(outputs[1]))
    except ValueError as error:
        return 0.0, f"the report or the run names are not valid JSON ({error})"
    if not isinstance(report, dict) or not report:
        return 0.0, ("no REPORT in the checkpoint: run the notebook's report cell, which "
                     "writes your REPORT dict into " + CHECKPOINT)
    if not isinstance(names, list) or not names:
        return 0.0, f"{CHECKPOINT} holds no runs"
    try:
        credit, message = report_credit(report, names, outputs[2], case.target)
    except ValueError as error:
        return 0.0, str(error)
    if fast_mode():
        message += "\n    [fast mode: a subset of the test split, for tests only]"
    return credit, message


# --------------------------------------------------------------------------------------
# w15_stats: the learner's make_report on results the grader makes up
# --------------------------------------------------------------------------------------
def _stats_cases(rng: np.random.Generator) -> list[Case]:
    """Made-up results: 3-5 seeds per arm, an effect well outside the spread (both signs),
    one inside it, and one where the sample and population sd disagree on the verdict."""
    cases = []
    specs = [("method clearly lower", 0.10, -0.02, 0.002, 3),
             ("method clearly higher", 0.12, +0.015, 0.002, 4),
             ("a difference inside the seed spread", 0.11, -0.002, 0.006, 5)]
    for name, base, shift, spread, seeds in specs:
        results = {arm: {str(s): float(base + (shift if arm == "method" else 0)
                                       + spread * rng.standard_normal())
                         for s in range(seeds)} for arm in ARMS}
        cases.append(Case(f"{name} ({seeds} seeds per arm)", (json.dumps(results),),
                          target=results))
    # intervals that overlap with the sample sd (ddof=1) but not with the population sd
    results = {"baseline": {"0": 0.100, "1": 0.104, "2": 0.102},
               "method": {"0": 0.0982, "1": 0.0992, "2": 0.1002}}
    cases.append(Case("3 seeds where the sample sd decides the verdict", (json.dumps(results),),
                      target=results))
    return cases


def score_stats(case: Case, outputs: tuple[np.ndarray, ...]) -> tuple[float, str]:
    """Share of the 6 items of make_report's REPORT that are right: the two means, the two
    sample sds, the difference (1e-9 relative) and the better arm by the rule."""
    try:
        report = json.loads(str(outputs[0]))
    except ValueError as error:
        return 0.0, f"report_of did not return JSON ({error})"
    if not isinstance(report, dict):
        return 0.0, f"make_report returned {type(report).__name__}, expected a dict"
    results = case.target
    stats = {arm: summary(list(results[arm].values())) for arm in ARMS}
    got_summary = report.get("summary") if isinstance(report.get("summary"), dict) else {}
    effect = report.get("effect") if isinstance(report.get("effect"), dict) else {}
    close = lambda a, b: isinstance(a, (int, float)) and abs(a - b) <= 1e-9 * max(1, abs(b))  # noqa: E731
    wrong = []
    for arm in ARMS:
        pair = got_summary.get(arm)
        pair = pair if isinstance(pair, (list, tuple)) and len(pair) == 2 else (None, None)
        if not close(pair[0], stats[arm][0]):
            wrong.append(f"{arm} mean")
        if not close(pair[1], stats[arm][1]):
            wrong.append(f"{arm} sd")
    if not close(effect.get("difference"), stats["method"][0] - stats["baseline"][0]):
        wrong.append("effect difference")
    if effect.get("better") != better_arm(stats["baseline"], stats["method"]):
        wrong.append(f"better arm ({effect.get('better')!r})")
    credit = 1 - len(wrong) / 6
    return credit, ("means, sds, difference and better arm all right" if not wrong
                    else "wrong: " + ", ".join(wrong))


register(
    Exercise(
        id="w15_report", function="capstone_evaluate", reference="",
        make_cases=_cases, points=6, timeout=300.0,
        score="grader.checks.week15:score_report", files=(CHECKPOINT,),
        outputs=("report", "run names", "outputs per run"),
        hint=("every number in REPORT must be what your saved weights give on the test "
              "split: evaluate the checkpoint as saved (after training, after any change of "
              "precision), compute mean and sd from those per-seed values, and apply the "
              "stated rule before claiming an arm is better"),
        see="course/week15-capstone.ipynb §5 Honest reporting"),
    Exercise(
        id="w15_stats", function="report_of", reference="",
        make_cases=_stats_cases, points=2, timeout=20.0,
        score="grader.checks.week15:score_stats", outputs=("report",),
        hint=("a mean ± sd over a handful of seeds estimates the spread of the population of "
              "runs, not of these few numbers; the effect is the method's mean relative to "
              "the baseline's; and an arm is only better when the intervals say so"),
        see="course/week15-capstone.ipynb §4 Seeds, mean ± sd and the spread"),
)
