"""Week 15 capstone: the report checks (w15_report, w15_stats) and the graded notebook.

Fast mode (``COURSE_FAST=1``, set in conftest). The metric is tested on synthetic runs; the
notebook-level tests execute the solution notebook once in fast mode (it trains the six
dropout-track runs for seconds and writes its REPORT into ``capstone_runs.npz``), then grade
notebooks built from the reference, the untouched release and the variants of
``answers/variants/week15.py`` in the sandbox, with that file, a tampered copy of it, a stale
one, a pickled one, or none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from answers.variants.week15 import ALTERNATIVES, MUTANTS, solution_cell
from grader.autograde import ReleaseNotebook, submitted_files
from grader.check import Case, get_exercise
from grader.checks.week15 import (
    CHECKPOINT,
    _stats_cases,
    better_arm,
    report_credit,
    score_report,
    score_stats,
    summary,
)
from grader.milestone import checkpoint_info, load_params, save_params
from grader.release import ASSIGNMENTS, SOLUTIONS
from tests.milestone_notebooks import grade, release, solved, variant

W15 = "week15-capstone"
NOTEBOOK = "capstone.ipynb"


# --------------------------------------------------------------------------------------
# The metric on synthetic runs
# --------------------------------------------------------------------------------------
def _synthetic(errors: dict[str, list[float]], n: int = 200, seed: int = 0):
    """Class scores whose test error is exactly each run's error, and a report of them."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n)
    names, outputs = [], []
    for arm, values in errors.items():
        for s, error in enumerate(values):
            wrong = int(round(error * n))
            predicted = labels.copy()
            predicted[:wrong] = (labels[:wrong] + 1) % 10
            names.append(f"{arm}.s{s}")
            outputs.append(np.eye(10, dtype=np.float32)[predicted])
    measured = {arm: [round(v * n) / n for v in values] for arm, values in errors.items()}
    stats = {arm: summary(values) for arm, values in measured.items()}
    report = {"track": "dropout", "metric": "test_error",
              "runs": {arm: {str(s): v for s, v in enumerate(values)}
                       for arm, values in measured.items()},
              "summary": {arm: list(pair) for arm, pair in stats.items()},
              "effect": {"difference": stats["method"][0] - stats["baseline"][0],
                         "better": better_arm(stats["baseline"], stats["method"])}}
    return report, names, np.stack(outputs), (labels, np.zeros(3, np.int64))


ERRORS = {"baseline": [0.20, 0.21, 0.205], "method": [0.15, 0.155, 0.16]}


@pytest.mark.w15_report
def test_a_report_equal_to_its_runs_gets_full_credit():
    report, names, outputs, target = _synthetic(ERRORS)
    credit, message = report_credit(report, names, outputs, target)
    assert credit == 1.0, message
    assert "10/10 of the report's numbers" in message and "'method'" in message


@pytest.mark.w15_report
def test_a_number_that_disagrees_with_its_checkpoint_loses_its_share():
    report, names, outputs, target = _synthetic(ERRORS)
    report["runs"]["baseline"]["1"] += 0.01  # quoted from an earlier run, say
    credit, message = report_credit(report, names, outputs, target)
    assert credit == pytest.approx(1 - 0.5 / 10)
    assert "baseline seed 1: reported 0.22" in message and "re-evaluated 0.2100" in message
    report["runs"]["baseline"]["1"] -= 0.0005  # within the 0.001 tolerance again
    assert report_credit(report, names, outputs, target)[0] == pytest.approx(1 - 0.5 / 10)
    report["runs"]["baseline"]["1"] = 0.2104
    assert report_credit(report, names, outputs, target)[0] == 1.0


@pytest.mark.w15_report
def test_fewer_than_three_seeds_and_a_wrong_verdict_follow_the_documented_curve():
    report, names, outputs, target = _synthetic({"baseline": [0.2, 0.21], "method": [0.15]})
    credit, message = report_credit(report, names, outputs, target)
    # seeds (2/3 + 1/3) / 2; numbers: the 3 missing seeds count as wrong: 7 of 10; effect
    assert credit == pytest.approx(0.25 * 0.5 + 0.5 * 7 / 10 + 0.25 * 1.0)
    assert "fewer than 3 runs of baseline, method" in message
    report, names, outputs, target = _synthetic(ERRORS)
    report["effect"]["better"] = "neither"
    report["effect"]["difference"] *= -1
    credit, message = report_credit(report, names, outputs, target)
    assert credit == pytest.approx(0.75) and message.count("WRONG") == 2
    report["track"] = "resnet"
    assert report_credit(report, names, outputs, target)[0] == 0


@pytest.mark.w15_report
def test_perplexity_is_recomputed_from_the_negative_log_likelihoods():
    tokens = np.arange(11)
    nll = {"baseline": [np.log(120.0), np.log(118.0), np.log(125.0)],
           "method": [np.log(100.0), np.log(101.0), np.log(99.0)]}
    names = [f"{arm}.s{s}" for arm in nll for s in range(3)]
    outputs = np.stack([np.full(10, v) for arm in nll for v in nll[arm]])
    ppl = {arm: [float(np.exp(v)) for v in values] for arm, values in nll.items()}
    stats = {arm: summary(v) for arm, v in ppl.items()}
    report = {"track": "ptb", "runs": {a: {str(s): round(v, 1) for s, v in enumerate(vals)}
                                       for a, vals in ppl.items()},
              "summary": {a: list(p) for a, p in stats.items()},
              "effect": {"difference": stats["method"][0] - stats["baseline"][0],
                         "better": "method"}}
    credit, message = report_credit(report, names, outputs, (np.zeros(2), tokens))
    assert credit == 1.0, message
    report["runs"]["method"]["0"] = 101.0  # 1 % off: beyond the 0.5 % tolerance
    assert report_credit(report, names, outputs, (np.zeros(2), tokens))[0] < 1
    bad = report_credit(report, names, outputs[:, :5], (np.zeros(2), tokens))
    assert bad[0] == 0 and "expected outputs of shape (6, 10)" in bad[1]


@pytest.mark.w15_report
def test_score_report_explains_unreadable_or_missing_reports():
    case = Case("c", (), target=(np.zeros(3), np.zeros(3)))
    assert "expected (report JSON" in score_report(case, (np.array("{}"),))[1]
    assert "no REPORT in the checkpoint" in score_report(
        case, (np.array("{}"), np.array('["baseline.s0"]'), np.zeros((1, 3, 10))))[1]
    assert score_report(case, (np.array("{"), np.array("[]"), np.zeros(1)))[0] == 0


def _make_report(source: str, track: str = "dropout"):
    namespace = {"np": np, "TRACK": track,
                 "TRACK_METRIC": {"dropout": "test_error", "batchnorm": "test_error",
                                  "ptb": "test_perplexity"}}
    exec(compile(source, "<make_report>", "exec"), namespace)
    return lambda results_json: json.dumps(namespace["make_report"](json.loads(results_json)))


def _stats_credit(report_of, seed: int = 3) -> float:
    cases = get_exercise("w15_stats").cases(seed, hidden=True)
    return float(np.mean([score_stats(case, (np.array(report_of(*case.args)),))[0]
                          for case in cases]))


@pytest.mark.w15_stats
def test_make_report_reference_and_alternatives_pass_mutants_fail():
    assert _stats_credit(_make_report(solution_cell("w15_stats"))) == 1.0
    for variant in (v for v in ALTERNATIVES if v.exercise_id == "w15_stats"):
        assert _stats_credit(_make_report(variant.source)) == 1.0, variant.label
    mutants = [v for v in MUTANTS if v.exercise_id == "w15_stats"]
    assert len(mutants) >= 3
    for variant in mutants:
        assert _stats_credit(_make_report(variant.source)) < 1.0, variant.label


@pytest.mark.w15_stats
def test_stats_cases_include_a_verdict_that_only_the_sample_sd_gets_right():
    case = _stats_cases(np.random.default_rng(0))[-1]
    values = {arm: list(case.target[arm].values()) for arm in ("baseline", "method")}
    sample = better_arm(summary(values["baseline"]), summary(values["method"]))
    population = better_arm(*((np.mean(v), np.std(v)) for v in values.values()))
    assert (sample, population) == ("neither", "method")


# --------------------------------------------------------------------------------------
# Grading notebooks in the sandbox
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """The solution notebook executed in fast mode: its capstone_runs.npz (with REPORT)."""
    folder = tmp_path_factory.mktemp("w15_run")
    shutil.copy(SOLUTIONS / W15 / NOTEBOOK, folder / NOTEBOOK)
    jupyter = str(Path(sys.executable).with_name("jupyter"))
    subprocess.run([jupyter, "nbconvert", "--to", "notebook", "--execute", "--inplace",
                    NOTEBOOK], cwd=folder, check=True, capture_output=True, timeout=900,
                   env={**os.environ, "COURSE_FAST": "1"})
    return folder / CHECKPOINT


def _release() -> nbformat.NotebookNode:
    return release(W15, NOTEBOOK)


def _solved(*variants) -> nbformat.NotebookNode:
    return solved(W15, *variants, notebook=NOTEBOOK)


def _tampered(source: Path, target: Path, change) -> Path:
    """A copy of ``source`` with its arrays or its REPORT changed by ``change(arrays, info)``."""
    arrays, info = load_params(source), checkpoint_info(source)
    info.pop("saved_at", None)
    change(arrays, info)
    return save_params(target, arrays, **info)


@pytest.fixture(scope="module")
def graded(trained, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("w15_grade")

    def edit_report(arrays, info):
        info["report"]["runs"]["method"]["1"] += 0.05

    def stale_weights(arrays, info):  # seed 0's weights replaced by seed 2's
        for key in [k for k in arrays if k.startswith("baseline.s0.")]:
            arrays[key] = arrays[key.replace("baseline.s0.", "baseline.s2.")]

    pickled = tmp / "pickled.npz"
    np.savez(pickled, **load_params(trained), note=np.array([{"a": 1}], dtype=object))
    students = {
        "reference": (_solved(), trained),
        "untouched": (_release(), trained),
        "edited-report": (_solved(), _tampered(trained, tmp / "e.npz", edit_report)),
        "stale-weights": (_solved(), _tampered(trained, tmp / "s.npz", stale_weights)),
        "missing": (_solved(), None),
        "pickled": (_solved(), pickled),
        "alternatives": (_solved(*ALTERNATIVES), trained),
        "train-mode": (_solved(variant(MUTANTS, "training mode")), trained),
        "ignores-arm": (_solved(variant(MUTANTS, "ignores the arm")), trained),
        "standardized": (_solved(variant(MUTANTS, "standardizes the test images")), trained),
        "ddof0": (_solved(variant(MUTANTS, "population sd")), trained),
    }
    return grade(tmp, W15, students, checkpoint=CHECKPOINT, seed=4, notebook=NOTEBOOK)


@pytest.mark.w15_report
@pytest.mark.w15_stats
def test_reference_and_alternatives_get_full_marks(graded):
    assert submitted_files(ReleaseNotebook.read(ASSIGNMENTS / W15 / NOTEBOOK)) == [CHECKPOINT]
    for student in ("reference", "alternatives"):
        for exercise in graded[student].values():
            assert exercise.score == exercise.points, exercise.report


@pytest.mark.w15_report
@pytest.mark.w15_stats
def test_untouched_release_scores_zero(graded):
    for exercise in graded["untouched"].values():
        assert exercise.score == 0 and "not attempted" in exercise.report


@pytest.mark.w15_report
def test_a_report_that_disagrees_with_its_checkpoint_loses_the_points(graded):
    edited = graded["edited-report"]["w15_report"]
    assert edited.score == pytest.approx(6 * (1 - 0.5 / 10)), edited.report
    assert "method seed 1: reported" in edited.report
    stale = graded["stale-weights"]["w15_report"]  # the runs changed after the report
    assert stale.score < 6 and "baseline seed 0: reported" in stale.report


@pytest.mark.w15_report
def test_missing_or_pickled_checkpoint_scores_zero_with_its_message(graded):
    missing = graded["missing"]["w15_report"]
    assert missing.score == 0 and f"expected {CHECKPOINT} next to the notebook" in missing.report
    assert graded["missing"]["w15_stats"].score == 2  # make_report needs no file
    pickled = graded["pickled"]["w15_report"]
    assert pickled.score == 0 and "pickled Python objects" in pickled.report


@pytest.mark.w15_report
@pytest.mark.w15_stats
def test_mutants_lose_points(graded):
    assert graded["train-mode"]["w15_report"].score < 6  # dropout active at test time
    assert graded["ignores-arm"]["w15_report"].score == 0  # the method's weights do not load
    assert graded["standardized"]["w15_report"].score < 6  # inputs unlike the training's
    assert graded["ddof0"]["w15_stats"].score < 2
    assert graded["ddof0"]["w15_report"].score == 6
