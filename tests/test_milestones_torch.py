"""PyTorch milestones (weeks 10 and 11): checkpoints, metrics, and grading in the sandbox.

Fast mode (``COURSE_FAST=1``, set in conftest). Week 10's notebooks are graded with the
reference checkpoint in ``answers/milestones/`` (trained full size by ``python -m bench
milestones_torch``); week 11's with a checkpoint the reference solution trains here in fast
mode (the same model, a minute of training on the PTB subset), so that these tests do not
depend on the hour-long full run. Notebooks hold the reference solution, the untouched
release, or a variant of ``answers/variants/milestones_torch.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from answers.kernels import milestones_torch as ref
from answers.variants.milestones_torch import ALTERNATIVES, MUTANTS
from grader.check import Case, all_exercises, get_exercise
from grader.checks import milestones_torch as mt
from grader.milestone import (CheckpointError, inspect_checkpoint, load_torch, save_torch,
                              train_or_load_torch)
from grader.sandbox import Limits
from tests.milestone_notebooks import NOTEBOOK, grade, release, solved, variant

W10, W11 = "week10-pytorch", "week11-language-model"
LIMITS = Limits(cell_timeout=180, memory_mb=4096)


# --------------------------------------------------------------------------------------
# PyTorch checkpoints: saved, loaded, inspected before any learner code
# --------------------------------------------------------------------------------------
def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))


def test_torch_checkpoint_round_trip_with_info(tmp_path):
    net, other = _net(), torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(),
                                             torch.nn.Linear(3, 2))
    path = save_torch(tmp_path / "m.pt", net, val_acc=0.5)
    assert inspect_checkpoint(path) is None
    info = load_torch(path, other)
    assert info["val_acc"] == 0.5 and "saved_at" in info
    for a, b in zip(net.parameters(), other.parameters()):
        assert torch.equal(a, b)
    bare = tmp_path / "bare.pt"  # a plain torch.save(model.state_dict()) is accepted too
    torch.save(net.state_dict(), bare)
    assert inspect_checkpoint(bare) is None and load_torch(bare, other) == {}


def test_unsafe_or_mismatched_torch_checkpoints_are_refused_with_their_reason(tmp_path):
    whole = tmp_path / "whole.pt"  # the whole module pickled: weights_only refuses it
    torch.save(_net(), whole)
    assert "torch.load(weights_only=True)" in inspect_checkpoint(whole)
    extra = tmp_path / "extra.pt"
    torch.save({"0.weight": torch.zeros(3, 4), "note": [1, 2]}, extra)
    assert "not tensors: note" in inspect_checkpoint(extra)
    text = tmp_path / "text.pt"
    text.write_text("not a checkpoint")
    assert "not a PyTorch checkpoint" in inspect_checkpoint(text)
    big = tmp_path / "big.pt"
    torch.save({"w": torch.zeros(2**20)}, big)
    from grader.milestone import inspect_torch_checkpoint

    assert "at most 1 MB" in inspect_torch_checkpoint(big, max_bytes=2**20)
    wrong = tmp_path / "wrong.pt"
    torch.save({"0.weight": torch.zeros(5, 4)}, wrong)
    with pytest.raises(CheckpointError) as error:
        load_torch(wrong, _net())
    message = str(error.value)
    assert "0.weight: saved with shape (5, 4), your model expects (3, 4)" in message
    assert "0.bias: missing" in message
    with pytest.raises(FileNotFoundError):
        load_torch(tmp_path / "absent.pt", _net())


def test_train_or_load_torch_trains_once_then_reuses_the_file(tmp_path, capsys):
    calls = []

    def train():
        calls.append(1)
        return {"epochs": 1}

    net = _net()
    train_or_load_torch(tmp_path / "m.pt", train, net)
    info = train_or_load_torch(tmp_path / "m.pt", train, _net())
    assert calls == [1] and info["epochs"] == 1 and info["fast_mode"] is True
    assert "skipping training" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# The metrics (computed outside the learner's code)
# --------------------------------------------------------------------------------------
def test_milestones_are_registered_with_their_files():
    exercises = all_exercises()
    assert exercises["w10_milestone"].files == ("milestone_week10.pt",)
    assert exercises["w11_milestone"].files == ("milestone_week11.pt",)
    for exercise_id in ("w10_milestone_probe", "w11_milestone", "w11_milestone_probe"):
        assert exercises[exercise_id].score
    for exercise_id in ("w10_milestone_port_lenet", "w10_milestone_port_lstm"):
        assert exercises[exercise_id].reference and not exercises[exercise_id].score


def _lm_case(n: int = 400, vocab: int = 50, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, n)
    positions = np.array([3, 10, 99])
    logits = rng.normal(size=(n - 1, vocab))
    log_softmax = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    log_probs = log_softmax[np.arange(n - 1), ids[1:]]
    return Case("stream", ("milestone_week11.pt", ids, positions), target=(ids, 0)), \
        log_probs, log_softmax[positions]


@pytest.mark.w11_milestone
def test_perplexity_curve_and_the_checks_of_the_returned_log_probabilities(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "0")
    case, log_probs, rows = _lm_case()
    got, message = mt.score_w11_perplexity(case, (log_probs, rows))
    ppl = float(np.exp(-log_probs.mean()))  # about 50 · e^0.5 for random logits over 50 words
    assert got == pytest.approx(mt.credit_curve(-ppl, -200, -110))
    assert f"test perplexity {ppl:.2f}" in message
    logits_back = log_probs + 5.0
    assert "are these logits" in mt.score_w11_perplexity(case, (logits_back, rows))[1]
    assert "sums to" in mt.score_w11_perplexity(case, (log_probs, rows + 0.1))[1]
    assert "expected 399 log-probabilities" in mt.score_w11_perplexity(
        case, (log_probs[:-1], rows))[1]
    assert "nan/inf" in mt.score_w11_perplexity(case, (log_probs * np.nan, rows))[1]
    other = rows.copy()  # a distribution that disagrees with the returned log-probability
    other[0] = np.roll(other[0], 1)
    assert "the state must be carried" in mt.score_w11_perplexity(case, (log_probs, other))[1]


@pytest.mark.w11_milestone
def test_a_model_that_sees_the_next_token_scores_zero(monkeypatch):
    """The grader appends random words: a model whose predictions saw their targets gives
    them a high probability (here: all of it) and loses the milestone; an honest one cannot."""
    monkeypatch.setenv("COURSE_FAST", "0")
    rng = np.random.default_rng(1)
    case = mt._w11_cases(rng)[0]
    ids, tail = case.target
    assert tail == mt.W11_TAIL and len(ids) == len(mt._ptb(False).test) + tail
    positions = case.args[2]
    vocab = len(mt._ptb(False).vocab)
    peeking_rows = np.full((len(positions), vocab), -1e9)
    peeking_rows[np.arange(len(positions)), ids[positions + 1]] = 0.0
    got, message = mt.score_w11_perplexity(case, (np.zeros(len(ids) - 1), peeking_rows))
    assert got == 0.0 and "saw the tokens they predict" in message
    uniform = np.full(len(ids) - 1, -np.log(vocab))  # an honest (if useless) model
    rows = np.full((len(positions), vocab), -np.log(vocab))
    got, message = mt.score_w11_perplexity(case, (uniform, rows))
    assert f"test perplexity {vocab:.2f} on {len(ids) - 1 - tail:,}" in message


@pytest.mark.w11_milestone
def test_perplexity_credit_is_a_ramp_not_a_cliff():
    from grader.milestone import credit_curve

    bars = mt.W11_BARS
    values = [credit_curve(-p, -bars[0], -bars[1]) for p in (90, 110, 132.5, 155, 177.5, 200, 250)]
    assert values == pytest.approx([1, 1, 0.75, 0.5, 0.25, 0, 0])


@pytest.mark.w11_milestone_probe
def test_probe_replay_tells_a_carried_state_from_a_restarted_one():
    case = mt._w11_probe_cases(np.random.default_rng(4))[0]
    kw = case.kwargs
    carried = mt.w11_replay(case.args[0], case.args[1:], kw["frozen"], kw["bptt"], kw["batch"], True)
    reset = mt.w11_replay(case.args[0], case.args[1:], kw["frozen"], kw["bptt"], kw["batch"], False)
    assert carried[0] == reset[0]  # the first window starts from zero either way
    # the drawn weights make the state matter far beyond the match tolerance
    assert np.max(np.abs(carried - reset) / carried) > 50 * mt.W11_PROBE_RTOL
    falling = np.linspace(9.2, 6.0, kw["steps"])
    assert mt.score_w11_probe(case, (falling, carried))[0] == 1.0
    credit, message = mt.score_w11_probe(case, (falling, reset))
    assert credit == 0.5 and "restarted at zero in every window" in message
    credit, message = mt.score_w11_probe(case, (falling[::-1], carried * 2))
    assert credit == 0.0 and "match neither" in message


@pytest.mark.w10_milestone_probe
def test_week10_probe_names_the_tensors_that_never_moved():
    case = mt._w10_probe_cases(np.random.default_rng(0))[0]
    losses = np.linspace(2.3, 0.5, 40)
    assert mt.score_w10_probe(case, (losses, np.ones(10)))[0] == 1.0
    moved = np.ones(10)
    moved[[6, 7]] = 0
    credit, message = mt.score_w10_probe(case, (losses, moved))
    assert credit == pytest.approx(0.9) and "never updated: fc2.weight, fc2.bias" in message


@pytest.mark.w10_milestone_port_lenet
@pytest.mark.w10_milestone_port_lstm
def test_port_references_are_the_numpy_weeks_and_agree_with_pytorch():
    """The references (Week 7 / Week 9 NumPy) against an independent oracle: torch.nn.functional
    and nn.LSTM with the transposed weights, in float64."""
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    case = mt._port_lenet_cases(rng)[0]
    x, *p = (torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in case.args)
    h = F.max_pool2d(F.relu(F.conv2d(x, p[0], p[1], padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p[2], p[3])), 2).flatten(1)
    h = F.relu(F.relu(h @ p[4] + p[5]) @ p[6] + p[7])
    oracle = (h @ p[8] + p[9]).numpy()
    np.testing.assert_allclose(ref.reference_port_lenet(*case.args), oracle, rtol=1e-10)
    for case in mt._port_lstm_cases(rng):
        x, h0, c0, Wx, Wh, b = (torch.from_numpy(np.asarray(a, dtype=np.float64))
                                for a in case.args)
        lstm = torch.nn.LSTM(Wx.shape[0], Wh.shape[0], batch_first=True).double()
        with torch.no_grad():
            lstm.weight_ih_l0.copy_(Wx.T)
            lstm.weight_hh_l0.copy_(Wh.T)
            lstm.bias_ih_l0.copy_(b)
            lstm.bias_hh_l0.zero_()
            out, (hT, cT) = lstm(x, (h0[None], c0[None]))
        ref_out = ref.reference_port_lstm(*case.args)
        np.testing.assert_allclose(ref_out[0], out.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ref_out[1], hT[0].numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ref_out[2], cT[0].numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------------------
# Grading notebooks in the sandbox
# --------------------------------------------------------------------------------------
def _bad_files(folder: Path, like: Path) -> tuple[Path, Path]:
    """A whole pickled module (refused by weights_only) and a state dict of wrong shapes."""
    pickled = folder / "pickled.pt"
    torch.save(torch.nn.Linear(2, 2), pickled)
    state = torch.load(like, weights_only=True)
    first = next(k for k in state if k != "__meta__")
    state[first] = torch.zeros(3, 3)
    shapes = folder / "shapes.pt"
    torch.save(state, shapes)
    return pickled, shapes


@pytest.fixture(scope="module")
def week10(tmp_path_factory):
    from answers.milestones import reference_checkpoint

    tmp = tmp_path_factory.mktemp("w10")
    ckpt = reference_checkpoint("milestone_week10.pt")
    pickled, shapes = _bad_files(tmp, ckpt)
    return grade(tmp, W10, checkpoint="milestone_week10.pt", limits=LIMITS, students={
        "reference": (solved(W10), ckpt),
        "untouched": (release(W10), ckpt),
        "missing": (solved(W10), None),
        "pickled": (solved(W10), pickled),
        "shapes": (solved(W10), shapes),
        "alternatives": (solved(W10, *[v for v in ALTERNATIVES if v.exercise_id[:3] == "w10"]),
                         ckpt),
        "nhwc": (solved(W10, variant(MUTANTS, "channels-last", "w10_milestone")), ckpt),
        "no-forget": (solved(W10, variant(MUTANTS, "forget", "w10_milestone_port_lstm")), ckpt),
        "sign": (solved(W10, variant(MUTANTS, "ascent", "w10_milestone_probe")), ckpt),
    })


@pytest.mark.w10_milestone
@pytest.mark.w10_milestone_probe
@pytest.mark.w10_milestone_port_lenet
@pytest.mark.w10_milestone_port_lstm
def test_week10_reference_and_alternatives_get_full_marks(week10):
    for student in ("reference", "alternatives"):
        for exercise in week10[student].values():
            assert exercise.score == exercise.points, (student, exercise.report)
    assert "held-out accuracy" in week10["reference"]["w10_milestone"].report


@pytest.mark.w10_milestone
def test_week10_untouched_missing_pickled_or_mismatched_score_zero(week10):
    for exercise in week10["untouched"].values():
        assert exercise.score == 0 and "not attempted" in exercise.report, exercise.report
    missing = week10["missing"]["w10_milestone"]
    assert missing.score == 0 and "expected milestone_week10.pt next to the notebook" in missing.report
    assert week10["missing"]["w10_milestone_probe"].score == 3  # the probe needs no file
    pickled = week10["pickled"]["w10_milestone"]
    assert pickled.score == 0 and "weights_only=True" in pickled.report
    shapes = week10["shapes"]["w10_milestone"]
    assert shapes.score == 0 and "does not fit your model" in shapes.report


@pytest.mark.w10_milestone
@pytest.mark.w10_milestone_probe
@pytest.mark.w10_milestone_port_lstm
def test_week10_mutants_fail_the_port_the_bar_or_the_probe(week10):
    nhwc = week10["nhwc"]
    assert nhwc["w10_milestone_port_lenet"].score == 0
    assert nhwc["w10_milestone"].score < 8  # the checkpoint scored through a wrong flatten
    assert week10["no-forget"]["w10_milestone_port_lstm"].score == 0
    assert "values differ" in week10["no-forget"]["w10_milestone_port_lstm"].report
    sign = week10["sign"]["w10_milestone_probe"]
    assert sign.score < sign.points and "loss over 40 train_steps" in sign.report


@pytest.fixture(scope="module")
def week11_checkpoint(tmp_path_factory) -> Path:
    """The reference solution's own training cell, fast mode: milestone_week11.pt."""
    import os

    folder = tmp_path_factory.mktemp("w11_train")
    namespace: dict = {}
    here = os.getcwd()
    os.chdir(folder)
    try:
        for cell in solved(W11).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if cell.cell_type == "code" and grade_id in (
                    "setup", "w11_milestone_code", "w11_milestone_probe_code", "run"):
                exec(cell.source, namespace)
    finally:
        os.chdir(here)
    return folder / "milestone_week11.pt"


@pytest.fixture(scope="module")
def week11(tmp_path_factory, week11_checkpoint):
    tmp = tmp_path_factory.mktemp("w11")
    ckpt = week11_checkpoint
    pickled, shapes = _bad_files(tmp, ckpt)
    return grade(tmp, W11, checkpoint="milestone_week11.pt", limits=LIMITS, students={
        "reference": (solved(W11), ckpt),
        "untouched": (release(W11), ckpt),
        "pickled": (solved(W11), pickled),
        "shapes": (solved(W11), shapes),
        "alternatives": (solved(W11, *[v for v in ALTERNATIVES if v.exercise_id[:3] == "w11"]),
                         ckpt),
        "logits": (solved(W11, variant(MUTANTS, "logits", "w11_milestone")), ckpt),
        "stream-reset": (solved(W11, variant(MUTANTS, "every window of the", "w11_milestone")),
                         ckpt),
        "train-reset": (solved(W11, variant(MUTANTS, "every training", "w11_milestone_probe")),
                        ckpt),
        "no-detach": (solved(W11, variant(MUTANTS, "not detached", "w11_milestone_probe")),
                      ckpt),
    })


@pytest.mark.w11_milestone
@pytest.mark.w11_milestone_probe
def test_week11_reference_and_alternatives_get_full_marks(week11):
    for student in ("reference", "alternatives"):
        for exercise in week11[student].values():
            assert exercise.score == exercise.points, (student, exercise.report)
    assert "test perplexity" in week11["reference"]["w11_milestone"].report


@pytest.mark.w11_milestone
def test_week11_untouched_pickled_or_mismatched_score_zero(week11):
    for exercise in week11["untouched"].values():
        assert exercise.score == 0 and "not attempted" in exercise.report, exercise.report
    assert week11["pickled"]["w11_milestone"].score == 0
    assert "weights_only=True" in week11["pickled"]["w11_milestone"].report
    shapes = week11["shapes"]["w11_milestone"]
    assert shapes.score == 0 and "does not fit your model" in shapes.report


@pytest.mark.w11_milestone
@pytest.mark.w11_milestone_probe
def test_week11_mutants_fail_with_a_message_naming_the_mistake(week11):
    logits = week11["logits"]["w11_milestone"]
    assert logits.score == 0 and "logits" in logits.report
    reset = week11["stream-reset"]["w11_milestone"]
    assert reset.score == 0 and "the state must be carried" in reset.report
    train_reset = week11["train-reset"]["w11_milestone_probe"]
    assert train_reset.score < 4 and "restarted at zero in every window" in train_reset.report
    no_detach = week11["no-detach"]["w11_milestone_probe"]
    assert no_detach.score == 0 and "backward through the graph a second time" in no_detach.report


def test_demo_class_hands_in_the_pytorch_milestones():
    from grader.demo import class_notebooks, milestone_files

    students = class_notebooks(W10, NOTEBOOK)
    assert {"ada-reference", "ben-untouched", "cyd-partial"} <= set(students)
    assert set(milestone_files(W10)) == {"milestone_week10.pt"}
