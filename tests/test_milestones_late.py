"""Milestones of weeks 12 and 13 (issue 15): graded on what the learner's PyTorch model achieves.

Fast mode (``COURSE_FAST=1``, set in conftest): the grader scores fewer target test images /
shorter fresh sequences against the fast bars; the models are the reference checkpoints in
``answers/milestones/`` (trained full size by ``python -m bench milestones_late``), handed in
with notebooks whose solution cells are the reference, the untouched release, or a mutant
built here from the reference solution.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from answers.milestones import reference_checkpoint
from grader.autograde import ReleaseNotebook, submitted_files
from grader.check import Case, all_exercises, get_exercise
from grader.checks import milestones_late as ml
from grader.config import REPO_ROOT
from grader.demo import class_notebooks, milestone_files, solution_sources
from grader.milestone import CheckpointError, load_module, module_params, save_params
from grader.release import ASSIGNMENTS
from grader.seq2seq import AttentionSeq2Seq, greedy_decode, reversal_batch
from grader.transfer import SmallResNet
from tests.test_milestones import NOTEBOOK, _grade, _release, _solved

W12, W13 = "week12-transfer", "week13-seq2seq"


@dataclass(frozen=True)
class Mutant:
    exercise_id: str
    label: str
    source: str


def _mutant(assignment: str, exercise_id: str, label: str, *replacements: tuple[str, str]
            ) -> Mutant:
    source = solution_sources(assignment, NOTEBOOK)[exercise_id]
    for old, new in replacements:
        assert old in source, f"{label}: {old!r} is not in the reference solution"
        source = source.replace(old, new)
    return Mutant(exercise_id, label, source)


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
W13_MUTANTS = {
    # Wrong attention normalisation: the softmax runs over the batch, not the positions.
    "softmax-over-batch": ("w13_milestone", ("torch.softmax(scores, dim=1)",
                                             "torch.softmax(scores, dim=0)")),
    # A loss that averages over every position, padding included.
    "loss-counts-padding": ("w13_milestone", ("return -(picked * real).sum() / real.sum()",
                                              "return -picked.mean()")),
    # Teacher forcing not shifted: the decoder reads the token it must predict.
    "no-shift": ("w13_milestone", (
        "inputs = torch.cat([torch.full((n, 1), bos_id), body[:, :-1]], dim=1)",
        "inputs = body.clone()")),
}

#: A predictor that hard-codes the task: greedy decoding replaced by the reversal itself,
#: whatever the model (its checkpoint loads, its weights are never used).
HARD_CODED = '''def greedy_decode(model, source, lengths, max_len):
    """The reversal, written out: no model needed."""
    tokens = torch.full((source.shape[0], max_len), PAD)
    for row, length in enumerate(lengths.tolist()):
        tokens[row, :length] = source[row, :length].flip(0)
        tokens[row, length] = EOS
    return tokens, None


'''
W13_MUTANTS["hard-coded"] = ("w13_milestone", ("def sequence_loss(",
                                               HARD_CODED + "def sequence_loss("))


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
    students = {
        "reference": (_solved(W13), ckpt),
        "untouched": (_release(W13), ckpt),
        "missing": (_solved(W13), None),
        "pickled": (_solved(W13), pickled),
        "shapes": (_solved(W13), wrong_shapes),
    }
    for name, (exercise_id, *replacements) in W13_MUTANTS.items():
        students[name] = (_solved(W13, _mutant(W13, exercise_id, name, *replacements)), ckpt)
    return _grade(tmp, W13, students)


@pytest.mark.w13_milestone
@pytest.mark.w13_milestone_probe
def test_week13_reference_gets_full_marks_and_the_untouched_release_zero(week13):
    for exercise in week13["reference"].values():
        assert exercise.score == exercise.points, exercise.report
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
    hard = week13["hard-coded"]["w13_milestone"]
    assert hard.score == 0 and "do not depend on the trained weights" in hard.report
    assert "milestone_week13.scrambled.npz" in hard.report and "exact match 1.000" in hard.report
    assert week13["hard-coded"]["w13_milestone_probe"].score == 3  # training code untouched
    assert "scrambled" not in week13["reference"]["w13_milestone"].report


@pytest.mark.w13_milestone
@pytest.mark.w13_milestone_probe
def test_week13_mutants_fail_the_bar_or_the_probe(week13):
    # A wrong attention normalisation wrecks the trained model's decoding: the bar.
    assert week13["softmax-over-batch"]["w13_milestone"].score < 6
    # The checkpoint decodes fine with a wrong loss or shift; the probe catches them.
    for student in ("loss-counts-padding", "no-shift"):
        probe = week13[student]["w13_milestone_probe"]
        assert probe.score < probe.points, (student, probe.report)
    assert "✗ (check the shifted targets" \
        in week13["loss-counts-padding"]["w13_milestone_probe"].report
    assert "differ from the targets shifted behind BOS" \
        in week13["no-shift"]["w13_milestone_probe"].report


NEW_HEAD = ("    model.head = nn.Linear(model.head.in_features, n_classes)"
            ".to(model.head.weight.dtype)\n")
W12_MUTANTS = {
    # Frozen batch norm thaws: every stage back in training mode before each step.
    "all-train": ("w12_milestone", ("stage.train(index >= n_frozen)", "stage.train()")),
    # The new head is created after the optimizer's groups: the optimizer trains the old one.
    "head-after-optimizer": ("w12_milestone", (f"{NEW_HEAD}    groups = []\n", "    groups = []\n"),
                             ("    return torch.optim.Adam(groups)",
                              f"{NEW_HEAD}    return torch.optim.Adam(groups)")),
}


@pytest.fixture(scope="module")
def week12(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("w12")
    ckpt = reference_checkpoint("milestone_week12.npz")
    wrong_shapes = save_params(tmp / "milestone_week12.npz",
                               module_params(SmallResNet(n_classes=10)))
    students = {
        "reference": (_solved(W12), ckpt),
        "untouched": (_release(W12), ckpt),
        "missing": (_solved(W12), None),
        "shapes": (_solved(W12), wrong_shapes),
    }
    for name, (exercise_id, *replacements) in W12_MUTANTS.items():
        students[name] = (_solved(W12, _mutant(W12, exercise_id, name, *replacements)), ckpt)
    return _grade(tmp, W12, students)


@pytest.mark.w12_milestone
@pytest.mark.w12_milestone_probe
def test_week12_reference_full_marks_untouched_zero_files_refused(week12):
    for exercise in week12["reference"].values():
        assert exercise.score == exercise.points, exercise.report
    assert "held-out accuracy" in week12["reference"]["w12_milestone"].report
    for exercise in week12["untouched"].values():
        assert exercise.score == 0 and "not attempted" in exercise.report
    assert week12["missing"]["w12_milestone"].score == 0
    assert "expected milestone_week12.npz next to the notebook" \
        in week12["missing"]["w12_milestone"].report
    shapes = week12["shapes"]["w12_milestone"]
    assert shapes.score == 0 and "head.weight: saved with shape (10, 32)" in shapes.report


@pytest.mark.w12_milestone_probe
def test_week12_thawed_batch_norm_or_an_untrained_head_fail_the_probe(week12):
    for student in W12_MUTANTS:
        probe = week12[student]["w12_milestone_probe"]
        assert probe.score < probe.points, (student, probe.report)
        assert week12[student]["w12_milestone"].score == 6  # the checkpoint still scores
    assert "stem: rate 0 but it changed" in week12["all-train"]["w12_milestone_probe"].report
    assert "head: rate 0.001 but it did not change" \
        in week12["head-after-optimizer"]["w12_milestone_probe"].report
