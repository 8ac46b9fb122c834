"""Milestones of weeks 12 and 13 (issue 15): graded on what the learner's PyTorch model achieves.

Fast mode (``COURSE_FAST=1``, set in conftest): the grader scores fewer target test images /
shorter fresh sequences against the fast bars; the models are the reference checkpoints in
``answers/milestones/`` (trained full size by ``python -m bench milestones_late``), handed in
with notebooks whose solution cells are the reference, the untouched release, or a mutant
built here from the reference solution.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from answers.milestones import reference_checkpoint
from answers.variants.milestones_late import ALTERNATIVES, MUTANTS
from grader.autograde import ReleaseNotebook, submitted_files
from grader.check import Case, all_exercises, get_exercise
from grader.checks import milestones_late as ml
from grader.config import REPO_ROOT
from grader.demo import class_notebooks, milestone_files
from grader.milestone import CheckpointError, load_module, module_params, save_params
from grader.release import ASSIGNMENTS
from grader.seq2seq import AttentionSeq2Seq, greedy_decode, reversal_batch
from grader.transfer import SmallResNet
from tests.milestone_notebooks import NOTEBOOK, grade, release, solved

W12, W13 = "week12-transfer", "week13-seq2seq"


def _variants(variants, week: str) -> dict:
    """The week's variants by label."""
    return {v.label: v for v in variants if v.exercise_id.startswith(week)}


def _class(assignment: str, checkpoint: Path, **bad_files: Path) -> dict[str, tuple]:
    """The students of a week: the reference (with its checkpoint, without, and with each of
    ``bad_files``), the untouched release, all the alternatives together, each mutant."""
    week = f"w{assignment[4:6]}"
    students = {"reference": (solved(assignment), checkpoint),
                "untouched": (release(assignment), checkpoint),
                "missing": (solved(assignment), None),
                **{name: (solved(assignment), path) for name, path in bad_files.items()},
                "alternatives": (solved(assignment, *_variants(ALTERNATIVES, week).values()),
                                 checkpoint)}
    for label, mutant in _variants(MUTANTS, week).items():
        students[label] = (solved(assignment, mutant), checkpoint)
    return students


# --------------------------------------------------------------------------------------
# The course library and the grader's metrics (no notebook)
# --------------------------------------------------------------------------------------
def test_week12_bar_is_the_committed_scratch_figure_plus_three_points():
    rows = json.loads((REPO_ROOT / "bench" / "results" / "week12.json").read_text())["rows"]
    scratch = next(r for r in rows if r["benchmark"] == "scratch, 10 labels/class")
    assert ml.W12_SCRATCH_10 == pytest.approx(scratch["value"], abs=5e-5)
    assert ml.W12_FULL == pytest.approx(scratch["value"] + 0.03, abs=5e-5)
    assert ml.W12_FLOOR < ml.W12_SCRATCH_10 < ml.W12_FULL


def test_module_checkpoints_round_trip_and_name_each_mismatch(tmp_path):
    torch.manual_seed(0)
    model = SmallResNet(n_classes=5)
    model.stages[0][1].running_mean.fill_(0.5)  # buffers travel too
    path = save_params(tmp_path / "m.npz", module_params(model))
    copy = load_module(SmallResNet(n_classes=5), path)
    for name, tensor in model.state_dict().items():
        assert torch.equal(copy.state_dict()[name], tensor), name
    with pytest.raises(CheckpointError, match="head.weight: saved with shape \\(5, 32\\), "
                                              "your model expects \\(10, 32\\)"):
        load_module(SmallResNet(n_classes=10), path)


@pytest.mark.parametrize("name", ["milestone_week13.npz", "milestone_week10.pt"])
def test_scrambled_copy_keeps_the_format_and_shuffles_every_float_array(tmp_path, name):
    from grader.milestone import (WEIGHTS_CHECKS, inspect_checkpoint, scramble_checkpoint,
                                  scrambled_files, scrambled_name)

    data = reference_checkpoint(name).read_bytes()
    files = scrambled_files(["w13_milestone", "w10_milestone", "w13_milestone_probe"],
                            {name: data}, seed=3)
    assert list(files) == [scrambled_name(name)]
    assert files[scrambled_name(name)] == scramble_checkpoint(data, Path(name).suffix, 3 + 7919)
    copy = tmp_path / scrambled_name(name)
    copy.write_bytes(files[copy.name])
    assert inspect_checkpoint(copy) is None  # the same safe format the learner's code reads
    (tmp_path / name).write_bytes(data)
    if name.endswith(".pt"):
        load = lambda p: {k: v.numpy() for k, v in torch.load(  # noqa: E731
            p, weights_only=True).items() if isinstance(v, torch.Tensor)}
    else:
        load = lambda p: dict(np.load(p, allow_pickle=False))  # noqa: E731
    before, after = load(tmp_path / name), load(copy)
    assert before.keys() == after.keys()
    for key, array in before.items():
        assert after[key].shape == array.shape and after[key].dtype == array.dtype, key
        if np.issubdtype(array.dtype, np.floating) and array.size > 1 and np.ptp(array) > 0:
            assert not np.array_equal(after[key], array), key
            assert np.array_equal(np.sort(after[key], axis=None), np.sort(array, axis=None))
    assert WEIGHTS_CHECKS["w13_milestone"].bar > WEIGHTS_CHECKS["w13_milestone"].chance


def test_scrambled_case_renames_the_checkpoint_and_judges_against_the_bar():
    from grader.milestone import WEIGHTS_CHECKS, scrambled_case, weights_ignored

    check = WEIGHTS_CHECKS["w13_milestone"]
    case = get_exercise("w13_milestone").cases(4, hidden=True)[0]
    copy = scrambled_case(check, case)
    assert copy.args[0] == "milestone_week13.scrambled.npz"
    rows = min(check.rows, len(case.target))
    assert copy.args[1].shape[0] == rows == len(copy.target)
    source, lengths, target = copy.args[1], copy.args[2], copy.target
    perfect = np.zeros((rows, source.shape[1] + 1), dtype=np.int64)
    perfect[:, :-1] = target
    perfect[np.arange(rows), lengths] = 2  # EOS
    message = weights_ignored(check, copy, (perfect,))
    assert message and "exact match 1.000" in message and "at chance" in message
    assert weights_ignored(check, copy, (np.zeros_like(perfect),)) is None


def test_library_seq2seq_takes_any_attention_function():
    """The lecture's model: attention is an argument (a module with weights, or a function)."""
    calls = []

    def uniform(query, keys, values, mask):  # a weight-free attention: the mean of the values
        calls.append(query.shape)
        weights = mask.float() / mask.float().sum(dim=1, keepdim=True)
        return (weights[:, :, None] * values).sum(dim=1), weights

    source, lengths, target = reversal_batch(4, 1, 6, torch.Generator().manual_seed(0))
    model = AttentionSeq2Seq(uniform, hidden=16)
    tokens, weights = greedy_decode(model, source, lengths, 7)
    assert tokens.shape == (4, 7) and weights.shape == (4, 7, 6) and len(calls) == 7
    assert torch.allclose(weights.sum(dim=2), torch.ones(4, 7))
    assert torch.all(weights[torch.arange(6)[None, None, :].expand(4, 7, 6)
                             >= lengths[:, None, None]] == 0)  # padding gets no weight
    plain = AttentionSeq2Seq(None, hidden=16)
    assert not plain.attention and greedy_decode(plain, source, lengths, 7)[1].numel() == 0
    assert sum(p.numel() for p in plain.parameters()) < sum(p.numel() for p in model.parameters())


def test_week13_metrics_are_computed_outside_from_tokens_and_logits():
    source, lengths, target = ml._reversals(50, (1, 8), seed=3)
    case = Case("c", ("milestone_week13.npz", source, lengths), target=target)
    perfect = np.zeros((50, 9), dtype=np.int64)
    perfect[:, :8] = target
    perfect[np.arange(50), lengths] = 2  # EOS right after the digits
    assert ml.score_w13_exact(case, (perfect,))[0] == 1
    wrong = perfect.copy()
    wrong[:25, 0] = (wrong[:25, 0] - 3 + 1) % 10 + 3  # half the rows start with a wrong digit
    credit, message = ml.score_w13_exact(case, (wrong,))
    assert "exact match 0.5000" in message and credit < 1
    assert ml.score_w13_exact(case, (perfect[:, :5],))[0] == 0  # too short to hold EOS
    assert ml.score_w13_exact(case, (perfect.astype(float),))[0] == 0
    # The probe's loss check: the grader's cross-entropy counts the L digits and EOS, no PAD.
    logits = np.random.default_rng(0).normal(size=(50, 9, 13))
    want = ml.reference_sequence_loss(logits, target, lengths)
    probe = Case("p", (source, lengths, target), {"steps": 30, "seed": 0})
    falling = np.linspace(2.5, 0.5, 30)
    from answers.kernels.week13 import teacher_forcing_batch  # the independent reference

    inputs = teacher_forcing_batch(torch.from_numpy(target), torch.from_numpy(lengths),
                                   1, 2, 0)[0].numpy()
    assert np.array_equal(ml.reference_decoder_inputs(target, lengths), inputs)
    assert ml.score_w13_probe(probe, (falling, inputs, logits, np.array([want])))[0] == 1
    everywhere = float(-(torch.log_softmax(torch.from_numpy(logits), -1)
                         .gather(-1, torch.from_numpy(np.pad(target, ((0, 0), (0, 1))))[..., None])
                         ).mean())
    credit, message = ml.score_w13_probe(probe, (falling, inputs, logits,
                                                 np.array([everywhere])))
    assert credit == 0.75 and "✗" in message
    unshifted = np.pad(target, ((0, 0), (0, 1)))  # the decoder reads what it must predict
    credit, message = ml.score_w13_probe(probe, (falling, unshifted, logits, np.array([want])))
    assert credit == 0.75 and "differ from the targets shifted behind BOS" in message
    assert ml.score_w13_probe(probe, (falling, inputs, logits[:, :8], np.array([want])))[0] \
        == 0.75


def test_week12_probe_judges_frozen_and_trained_stages():
    case = Case("p", (), {"steps": 20, "seed": 0})
    falling = np.linspace(1.6, 0.4, 20)
    rates = np.array([0, 1e-3, 1e-3, 1e-3, 1e-3])
    assert ml.score_w12_probe(case, (falling, rates, np.array([0, .1, .1, .1, .1])))[0] == 1
    credit, message = ml.score_w12_probe(case, (falling, rates, np.array([1e-3, .1, .1, .1, .1])))
    assert credit == pytest.approx(0.9) and "stem: rate 0 but it changed" in message
    credit, message = ml.score_w12_probe(case, (falling, rates, np.array([0, 0, .1, .1, .1])))
    assert "block 1: rate 0.001 but it did not change" in message
    assert ml.score_w12_probe(case, (np.full(20, 1.6), rates, np.array([0, .1, .1, .1, .1])))[0] \
        == 0.5


def test_milestones_are_registered_with_their_files():
    exercises = all_exercises()
    for week in ("w12", "w13"):
        milestone = exercises[f"{week}_milestone"]
        assert milestone.score and milestone.files == (f"milestone_week{week[1:]}.npz",)
        assert exercises[f"{week}_milestone_probe"].score
        assert milestone.framework == "torch"
    for assignment, name in ((W12, "milestone_week12.npz"), (W13, "milestone_week13.npz")):
        release = ReleaseNotebook.read(ASSIGNMENTS / assignment / NOTEBOOK)
        assert submitted_files(release) == [name]


def test_hidden_sequences_are_drawn_per_grading_run_never_stored():
    exercise = get_exercise("w13_milestone")
    first, second = exercise.cases(11, hidden=True)[0], exercise.cases(12, hidden=True)[0]
    assert first.args[1].shape == (ml.FAST_W13_SEQUENCES, ml.FAST_W13_LENGTH)
    assert not np.array_equal(first.args[1], second.args[1])
    assert not (REPO_ROOT / "grader" / "fixtures" / "w13_milestone.npz").exists()


def test_demo_class_hands_in_the_milestones():
    for assignment, name in ((W12, "milestone_week12.npz"), (W13, "milestone_week13.npz")):
        students = class_notebooks(assignment, NOTEBOOK)
        assert {"ada-reference", "ben-untouched"} <= set(students)
        assert milestone_files(assignment) == {name: reference_checkpoint(name)}


# --------------------------------------------------------------------------------------
# Grading notebooks in the sandbox (fast mode)
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def week13(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("w13")
    ckpt = reference_checkpoint("milestone_week13.npz")
    small = AttentionSeq2Seq(None, hidden=8)
    wrong_shapes = save_params(tmp / "milestone_week13.npz", module_params(small))
    pickled = tmp / "pickled.npz"
    with np.load(ckpt, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    np.savez(pickled, **arrays, note=np.array([{"trained": "elsewhere"}], dtype=object))
    return grade(tmp, W13, _class(W13, ckpt, pickled=pickled, shapes=wrong_shapes))


@pytest.mark.w13_milestone
@pytest.mark.w13_milestone_probe
def test_week13_reference_and_alternatives_get_full_marks_untouched_zero(week13):
    for student in ("reference", "alternatives"):
        for exercise in week13[student].values():
            assert exercise.score == exercise.points, (student, exercise.report)
    assert "exact match" in week13["reference"]["w13_milestone"].report
    assert week13["reference"].cell_errors == []
    for exercise in week13["untouched"].values():
        assert exercise.score == 0 and "not attempted" in exercise.report


@pytest.mark.w13_milestone
def test_week13_missing_pickled_or_mismatched_checkpoints_score_zero(week13):
    missing = week13["missing"]["w13_milestone"]
    assert missing.score == 0 and "expected milestone_week13.npz next to the notebook" \
        in missing.report
    assert week13["missing"]["w13_milestone_probe"].score == 3  # the probe needs no file
    pickled = week13["pickled"]["w13_milestone"]
    assert pickled.score == 0 and "pickled Python objects" in pickled.report
    shapes = week13["shapes"]["w13_milestone"]
    assert shapes.score == 0 and "does not fit your model" in shapes.report


@pytest.mark.w13_milestone
def test_week13_a_hard_coded_reversal_scores_zero(week13):
    """Predictions must come from the submitted weights: the grader's scrambled copy of the
    checkpoint decodes perfectly with a hard-coded reversal, and the milestone scores 0."""
    hard_coded = week13["decoding hard-codes the reversal (weights unused)"]
    hard = hard_coded["w13_milestone"]
    assert hard.score == 0 and "do not depend on the trained weights" in hard.report
    assert "milestone_week13.scrambled.npz" in hard.report and "exact match 1.000" in hard.report
    assert hard_coded["w13_milestone_probe"].score == 3  # training code untouched
    assert "scrambled" not in week13["reference"]["w13_milestone"].report


@pytest.mark.w13_milestone
@pytest.mark.w13_milestone_probe
def test_week13_mutants_fail_the_bar_or_the_probe(week13):
    for label in _variants(MUTANTS, "w13"):
        total = sum(e.score for e in week13[label].values())
        assert total < sum(e.points for e in week13[label].values()), label
    # A wrong attention normalisation wrecks the trained model's decoding: the bar.
    assert week13["attention softmax over the batch"]["w13_milestone"].score < 6
    # The checkpoint decodes fine with a wrong loss or shift; the probe catches them.
    assert "✗ (check the shifted targets" \
        in week13["loss averaged over padding too"]["w13_milestone_probe"].report
    no_shift = week13["decoder reads the token it must predict (no shift)"]
    assert "differ from the targets shifted behind BOS" in no_shift["w13_milestone_probe"].report
    for label in ("gradient ascent (minus the loss)", "no optimizer step",
                  "gradients zeroed between backward and step"):
        probe = week13[label]["w13_milestone_probe"]
        assert probe.score < probe.points and "full marks for a fall" in probe.report, label


@pytest.fixture(scope="module")
def week12(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("w12")
    ckpt = reference_checkpoint("milestone_week12.npz")
    wrong_shapes = save_params(tmp / "milestone_week12.npz",
                               module_params(SmallResNet(n_classes=10)))
    return grade(tmp, W12, _class(W12, ckpt, shapes=wrong_shapes))


@pytest.mark.w12_milestone
@pytest.mark.w12_milestone_probe
def test_week12_reference_full_marks_untouched_zero_files_refused(week12):
    for student in ("reference", "alternatives"):
        for exercise in week12[student].values():
            assert exercise.score == exercise.points, (student, exercise.report)
    assert "held-out accuracy" in week12["reference"]["w12_milestone"].report
    assert "your fine_tune run by the grader (40 steps" \
        in week12["reference"]["w12_milestone"].report
    for exercise in week12["untouched"].values():
        assert exercise.score == 0 and "not attempted" in exercise.report
    assert week12["missing"]["w12_milestone"].score == 0
    assert "expected milestone_week12.npz next to the notebook" \
        in week12["missing"]["w12_milestone"].report


@pytest.mark.w12_milestone
def test_week12_points_come_from_the_graders_run_not_the_file(week12):
    """The budget is the grader's: a file that does not fit earns nothing by itself (the run
    cell says so), and the reference file does not rescue a loop that does not train."""
    shapes = week12["shapes"]
    assert shapes["w12_milestone"].score == 6, shapes["w12_milestone"].report
    assert any("head.weight: saved with shape (10, 32)" in e for e in shapes.cell_errors)
    epochs = week12["steps read as epochs of the labelled images"]["w12_milestone"]
    assert epochs.score == 0 and "held-out accuracy" in epochs.report


@pytest.mark.w12_milestone
@pytest.mark.w12_milestone_probe
def test_week12_mutants_fail_the_bar_or_the_probe(week12):
    for label in _variants(MUTANTS, "w12"):
        total = sum(e.score for e in week12[label].values())
        assert total < sum(e.points for e in week12[label].values()), label
    probe = lambda label: week12[label]["w12_milestone_probe"].report  # noqa: E731
    assert "stem: rate 0 but it changed" \
        in probe("frozen batch norm thaws (every stage in training mode)")
    assert "head: rate 0.001 but it did not change" \
        in probe("new head created after the optimizer's groups")
