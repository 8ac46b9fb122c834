"""Milestones: graded on what the learner's own model achieves (issue 15).

Fast mode (``COURSE_FAST=1``, set in conftest): the grader scores the first 1,000 test images
against the fast bars; the models are the reference checkpoints in ``answers/milestones/``
(trained full size by ``python -m bench milestones``), handed in with notebooks whose solution
cells are the reference, the untouched release, or a variant from
``answers/variants/milestones.py``.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import numpy as np
import pytest

from answers.milestones import reference_checkpoint
from answers.variants.milestones import ALTERNATIVES, MUTANTS
from grader.autograde import submitted_files, ReleaseNotebook
from grader.check import Case, all_exercises, get_exercise
from grader.demo import class_notebooks
from grader.milestone import (
    CheckpointError,
    accuracy_credit,
    credit_curve,
    gradient_errors,
    inspect_checkpoint,
    load_params,
    probe_credit,
    save_params,
    train_or_load,
)
from grader.release import ASSIGNMENTS
from tests.milestone_notebooks import LIMITS, NOTEBOOK, grade, release, solved, variant

W05, W07 = "week05-optimization", "week07-cnn"


# --------------------------------------------------------------------------------------
# The course library: saving, loading, and the scoring curves
# --------------------------------------------------------------------------------------
def _params() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"W1": rng.normal(size=(4, 3)).astype(np.float32), "b1": np.zeros(3, np.float32)}


def test_save_and_load_round_trip_with_info(tmp_path):
    path = save_params(tmp_path / "m.npz", _params(), val_acc=0.9, epochs=3)
    loaded = load_params(path, like=_params())
    assert all(np.array_equal(loaded[k], v) for k, v in _params().items())
    assert inspect_checkpoint(path) is None
    with np.load(path, allow_pickle=False) as data:  # plain arrays and one JSON string
        assert json.loads(str(data["__meta__"]))["val_acc"] == 0.9


def test_load_names_each_mismatch(tmp_path):
    path = save_params(tmp_path / "m.npz", {"W1": np.zeros((4, 5)), "extra": np.zeros(2)})
    with pytest.raises(CheckpointError) as error:
        load_params(path, like=_params())
    text = str(error.value)
    assert "W1: saved with shape (4, 5), your model expects (4, 3)" in text
    assert "b1: missing (your model expects shape (3,))" in text
    assert "extra: saved with shape (2,), but your model has no parameter" in text


def test_missing_and_pickled_files_are_refused_with_their_reason(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such checkpoint.*next to the notebook"):
        load_params(tmp_path / "absent.npz")
    pickled = tmp_path / "p.npz"
    np.savez(pickled, W1=np.zeros(2), evil=np.array([{"a": 1}], dtype=object))
    assert "pickled Python objects" in inspect_checkpoint(pickled)
    with pytest.raises(CheckpointError, match="pickled"):
        load_params(pickled)
    (tmp_path / "text.npz").write_text("not a zip")
    assert "not an .npz archive" in inspect_checkpoint(tmp_path / "text.npz")
    big = save_params(tmp_path / "big.npz", {"W": np.zeros(2**20)})
    assert "at most" in inspect_checkpoint(big, max_bytes=2**20)
    with pytest.raises(CheckpointError):
        save_params(tmp_path / "o.npz", {"W": np.array([None])})


def test_train_or_load_trains_once_then_reuses_the_file(tmp_path, capsys, monkeypatch):
    path = tmp_path / "m.npz"
    calls = []

    def train():
        calls.append(1)
        return _params(), {"val_acc": 0.5}

    train_or_load(path, train, like=_params())
    assert "saved m.npz" in capsys.readouterr().out
    train_or_load(path, train, like=_params())
    assert calls == [1] and "loaded checkpoint m.npz" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_GRADING", "1")  # the grader's sandbox never trains
    with pytest.raises(FileNotFoundError, match="does not train your model"):
        train_or_load(tmp_path / "other.npz", train, like=_params())
    assert calls == [1]


def test_credit_curves_are_documented_ramps_not_cliffs():
    assert credit_curve(0.70, 0.70, 0.88) == 0 and credit_curve(0.88, 0.70, 0.88) == 1
    assert credit_curve(0.79, 0.70, 0.88) == pytest.approx(0.5)
    assert credit_curve(float("nan"), 0.70, 0.88) == 0
    labels = np.arange(10) % 3
    scores = np.eye(3)[labels]
    assert accuracy_credit(scores, labels, 0.5, 0.9)[0] == 1
    credit, message = accuracy_credit(scores[:5], labels, 0.5, 0.9)
    assert credit == 0 and "expected class scores of shape (10" in message
    steps = 40
    falling = np.linspace(2.3, 0.2, steps)
    assert probe_credit(falling, np.full(6, 1e-9), steps)[0] == 1
    credit, message = probe_credit(np.full(steps, 2.3), np.full(6, 1e-9), steps)
    assert credit == 0.5 and "a fall of 0%" in message
    credit, message = probe_credit(falling, np.array([1e-9, 0.5, 1e-9, 1e-9]), steps)
    assert credit == pytest.approx(0.5 + 0.5 * 3 / 4) and "#2" in message
    assert probe_credit(np.full(steps, np.nan), np.zeros(6), steps)[0] == 0


def test_gradient_errors_tell_a_right_backward_pass_from_a_wrong_one():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 4)), rng.integers(0, 3, size=5)

    def loss(params, x, y, bug=False):
        scores = x @ params["W"] + params["b"]
        shifted = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        value = float(-np.log(p[np.arange(len(y)), y]).mean())
        d = p.copy()
        d[np.arange(len(y)), y] -= 1
        d /= len(y)
        return value, {"W": x.T @ d * (2 if bug else 1), "b": d.sum(axis=0)}

    params = {"W": rng.normal(size=(4, 3)), "b": np.zeros(3)}
    good = gradient_errors(loss, params, x, y)
    bad = gradient_errors(lambda p, x, y: loss(p, x, y, bug=True), params, x, y)
    assert max(good.values()) < 1e-7
    assert bad["W"] > 0.1 and bad["b"] < 1e-7


def test_milestones_are_registered_with_their_files():
    exercises = all_exercises()
    for week in ("w05", "w07"):
        milestone = exercises[f"{week}_milestone"]
        assert milestone.score and milestone.files == (f"milestone_week{week[1:]}.npz",)
        assert exercises[f"{week}_milestone_probe"].score
    release = ReleaseNotebook.read(ASSIGNMENTS / W07 / NOTEBOOK)
    assert submitted_files(release) == ["milestone_week07.npz"]


# --------------------------------------------------------------------------------------
# Grading notebooks in the sandbox
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def week05(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("w05")
    ckpt = reference_checkpoint("milestone_week05.npz")
    wrong_shapes = save_params(tmp / "milestone_week05.npz",
                               {"W1": np.zeros((784, 128), np.float32),
                                "b1": np.zeros(128, np.float32),
                                "W2": np.zeros((128, 10), np.float32),
                                "b2": np.zeros(10, np.float32)})
    pickled = tmp / "pickled.npz"
    with np.load(ckpt, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    np.savez(pickled, **arrays, note=np.array([{"trained": "elsewhere"}], dtype=object))
    return grade(tmp, W05, {
        "reference": (solved(W05), ckpt),
        "untouched": (release(W05), ckpt),
        "missing": (solved(W05), None),
        "pickled": (solved(W05), pickled),
        "shapes": (solved(W05), wrong_shapes),
        "alternatives": (solved(W05, *[v for v in ALTERNATIVES if v.exercise_id[:3] == "w05"]),
                         ckpt),
        "relu-backward": (solved(W05, variant(MUTANTS, "ReLU backward", "w05_milestone")),
                          ckpt),
        "no-relu": (solved(W05, variant(MUTANTS, "without their ReLU", "w05_milestone")),
                    ckpt),
        "sign": (solved(W05, variant(MUTANTS, "sign error", "w05_milestone_probe")), ckpt),
        "frozen": (solved(W05, variant(MUTANTS, "never stores", "w05_milestone_probe")),
                   ckpt),
        "kernel-killer": (class_notebooks(W05, NOTEBOOK)["hal-kernel-killer"], ckpt),
    })


@pytest.mark.w05_milestone
@pytest.mark.w05_milestone_probe
def test_reference_solution_and_alternatives_get_full_marks(week05):
    for student in ("reference", "alternatives"):
        for exercise in week05[student].values():
            assert exercise.score == exercise.points, exercise.report
    assert "held-out accuracy" in week05["reference"]["w05_milestone"].report


@pytest.mark.w05_milestone
def test_a_restarted_kernel_still_finds_the_checkpoint(week05):
    """After the kernel dies, the cells are replayed in a fresh worker: the file is there."""
    result = week05["kernel-killer"]
    assert all(e.score == e.points for e in result.values())
    assert len(result.cell_errors) == 1 and "ended its kernel" in result.cell_errors[0]


@pytest.mark.w05_milestone
def test_untouched_release_scores_zero_even_with_a_checkpoint(week05):
    for exercise in week05["untouched"].values():
        assert exercise.score == 0 and "not attempted" in exercise.report
    assert week05["reference"].cell_errors == []


@pytest.mark.w05_milestone
def test_missing_pickled_or_mismatched_checkpoints_score_zero_with_their_message(week05):
    missing = week05["missing"]["w05_milestone"]
    assert missing.score == 0
    assert "expected milestone_week05.npz next to the notebook" in missing.report
    assert week05["missing"]["w05_milestone_probe"].score == 3  # the probe needs no file
    pickled = week05["pickled"]["w05_milestone"]
    assert pickled.score == 0 and "pickled Python objects" in pickled.report
    shapes = week05["shapes"]["w05_milestone"]
    assert shapes.score == 0 and "does not fit your model" in shapes.report
    assert "W1: saved with shape (784, 128), your model expects (784, 256)" in shapes.report


@pytest.mark.w05_milestone
@pytest.mark.w05_milestone_probe
def test_mutant_layers_and_training_steps_fail_the_bar_or_the_probe(week05):
    for student in ("relu-backward", "no-relu", "sign", "frozen"):
        scored = week05[student]
        total = sum(e.score for e in scored.values())
        assert total < sum(e.points for e in scored.values()), student
    # A wrong backward pass does not change the checkpoint's predictions: the probe's
    # gradient check catches it.
    probe = week05["relu-backward"]["w05_milestone_probe"]
    assert probe.score < probe.points and "wrong gradients for W1" in probe.report
    # A wrong forward pass scores the checkpoint badly.
    assert week05["no-relu"]["w05_milestone"].score < 6
    assert "a fall of" in week05["sign"]["w05_milestone_probe"].report
    assert week05["frozen"]["w05_milestone_probe"].score < 3


@pytest.mark.w07_milestone
@pytest.mark.w07_milestone_probe
def test_week07_reference_passes_and_a_wrong_conv_backward_fails_the_probe(tmp_path):
    ckpt = reference_checkpoint("milestone_week07.npz")
    results = grade(tmp_path, W07, {
        "reference": (solved(W07), ckpt),
        "conv-backward": (solved(W07, variant(MUTANTS, "conv backward", "w07_milestone")),
                          ckpt),
    })
    for exercise in results["reference"].values():
        assert exercise.score == exercise.points, exercise.report
    wrong = results["conv-backward"]
    assert wrong["w07_milestone"].score == 8  # forward unchanged: the checkpoint still scores
    assert wrong["w07_milestone_probe"].score < 4
    assert "wrong gradients for conv1_w, conv2_w —" in wrong["w07_milestone_probe"].report


def test_public_check_reports_the_accuracy_in_the_learners_kernel(tmp_path, monkeypatch):
    """The check cell scores the learner's file in their own folder, outside the sandbox."""
    from grader.check import evaluate

    monkeypatch.chdir(tmp_path)
    shutil.copy(reference_checkpoint("milestone_week05.npz"), tmp_path)
    namespace: dict = {}
    for cell in solved(W05).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade_id") in (
                "setup", "w05_milestone_code", "w05_milestone_probe_code", "grade_functions"):
            exec(cell.source, namespace)
    result = evaluate("w05_milestone", namespace["milestone_predict"])
    assert result.passed and "held-out accuracy" in result.report()
    assert isinstance(get_exercise("w05_milestone").cases(0)[0], Case)


def test_demo_class_hands_in_milestones():
    students = class_notebooks(W05, NOTEBOOK)
    assert {"ada-reference", "ben-untouched", "cyd-partial"} <= set(students)
    from grader.demo import milestone_files

    files = milestone_files(W05)
    assert set(files) == {"milestone_week05.npz"}
    assert files["milestone_week05.npz"] == reference_checkpoint("milestone_week05.npz")


@pytest.mark.w05_milestone
def test_selfgrade_grades_the_checkpoint_beside_the_learners_notebook(tmp_path):
    from grader.selfgrade import selfgrade

    folder = tmp_path / "mine"
    folder.mkdir()
    nbformat.write(solved(W05), folder / NOTEBOOK)
    shutil.copy(reference_checkpoint("milestone_week05.npz"), folder)
    run = selfgrade(folder / NOTEBOOK, db=tmp_path / "progress.sqlite", work=tmp_path / "work",
                    limits=LIMITS, seed=3)
    assert {e.exercise_id: e.score for e in run.result.exercises} == {
        "w05_milestone": 6, "w05_milestone_probe": 3}


@pytest.mark.w07_milestone_probe
def test_the_reference_never_loses_probe_points_to_relu_or_pooling_kinks(tmp_path, monkeypatch):
    """A fresh LeNet-5 sits on kinks (zero biases, zero inputs): the gradient check must not
    fail a correct model there, whatever seed the grader draws (here: 12 of them)."""
    from grader.check import evaluate

    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for cell in solved(W07).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade_id") in (
                "setup", "w07_milestone_code", "w07_milestone_probe_code", "grade_functions"):
            exec(cell.source, namespace)
    for seed in range(12):
        result = evaluate("w07_milestone_probe", namespace["milestone_probe"], hidden=True,
                          seed=seed)
        assert result.passed, result.report()
