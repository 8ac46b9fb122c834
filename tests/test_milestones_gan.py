"""Week 14 milestone: the learner's generator graded on its images, their WGAN-GP loop probed.

Fast mode (``COURSE_FAST=1``, set in conftest): 500 samples against the 500 fast test images,
the fast feature classifier and :data:`grader.checks.milestones_gan.FAST_BARS`; the model is
the reference checkpoint ``answers/milestones/milestone_week14.pt`` (trained full size by
``python -m bench milestones_gan``), handed in with notebooks whose solution cells are the
reference, the untouched release, or a variant from ``answers/variants/milestones_gan.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from answers.milestones import reference_checkpoint
from answers.variants.milestones_gan import ALTERNATIVES, MUTANTS
from grader.check import Case, evaluate, get_exercise
from grader.checks import milestones_gan as m
from grader.gans import load_generator, train_or_load_generator
from grader.milestone import CheckpointError, inspect_checkpoint
from grader.sandbox import Limits
from tests.milestone_notebooks import grade, release, solved

W14, NOTEBOOK = "week14-gans", "milestone.ipynb"
LIMITS = Limits(cell_timeout=180, memory_mb=4096)
CELLS = ("setup", "w14_milestone_code", "w14_milestone_probe_code", "grade_functions")

pytestmark = [pytest.mark.w14_milestone, pytest.mark.w14_milestone_probe]


def _release() -> nbformat.NotebookNode:
    return release(W14)


def _solved(*variants) -> nbformat.NotebookNode:
    return solved(W14, *variants)


@pytest.fixture(scope="module")
def setup_namespace() -> dict:
    namespace: dict = {}
    for cell in _release().cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "setup":
            exec(cell.source, namespace)
    return namespace


def _functions(setup_namespace: dict, nb: nbformat.NotebookNode) -> dict:
    """The notebook's solution cells and grade functions, run on top of the setup cell."""
    namespace = dict(setup_namespace)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade_id") in \
                CELLS[1:]:
            exec(cell.source, namespace)
    return namespace


@pytest.fixture()
def in_folder(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copy(reference_checkpoint(m.CHECKPOINT), tmp_path / m.CHECKPOINT)
    return tmp_path


# --------------------------------------------------------------------------------------
# The grader's side: validation, memorisation, the curve, the probe's judgement
# --------------------------------------------------------------------------------------
def test_distance_credit_is_a_documented_ramp_not_a_cliff():
    full, zero = m.BARS
    assert m.distance_credit(full, full, zero) == 1 and m.distance_credit(zero, full, zero) == 0
    assert m.distance_credit((full + zero) / 2, full, zero) == pytest.approx(0.5)
    assert m.distance_credit(float("nan"), full, zero) == 0


def _case() -> Case:
    return m._sample_cases(np.random.default_rng(0))[0]


def test_images_are_validated_outside_the_learners_code():
    case = _case()
    n = len(case.args[1])
    good = np.zeros((n, 1, 28, 28), np.float32)
    for images, words in [(good[:-1], f"expected images of shape ({n}, 1, 28, 28)"),
                          (good.astype(np.int64), "floating-point"),
                          (np.where(np.arange(n)[:, None, None, None] == 3, np.nan, good),
                           "1 of"),
                          (good + 1.5, "must lie in [-1, 1]")]:
        credit, message = m.score_w14_frechet(case, (images,))
        assert credit == 0 and words in message, message


def test_a_sampler_that_ignores_z_fails_the_repeated_vectors():
    case = _case()
    rng = np.random.default_rng(1)
    images = np.tanh(rng.normal(size=(len(case.args[1]), 1, 28, 28))).astype(np.float32)
    credit, message = m.score_w14_frechet(case, (images,))
    assert credit == 0 and "the same latent vector gave different images" in message


def _as_z_function(case: Case, per_vector: np.ndarray) -> np.ndarray:
    """Images that depend on z only (the repeated vectors get the same image)."""
    z = case.args[1]
    key = np.abs((z[:, :8] * 1000).astype(np.int64)).sum(axis=1)
    return per_vector[key % len(per_vector)]


def test_memorised_training_images_score_zero():
    case = _case()
    train = m._real_images(True)[0]
    credit, message = m.score_w14_frechet(case, (_as_z_function(case, train),))
    assert credit == 0 and "returns stored real images" in message
    noisy = np.clip(train + 0.02 * np.random.default_rng(0).normal(size=train.shape), -1, 1)
    assert m.score_w14_frechet(case, (_as_z_function(case, noisy.astype(np.float32)),))[0] == 0


def test_a_collapsed_generator_scores_far_worse_than_the_reference(in_folder, setup_namespace):
    case = _case()
    sample = _functions(setup_namespace, _solved())["milestone_sample"]
    images = sample(m.CHECKPOINT, torch.from_numpy(case.args[1])).numpy()
    good, good_message = m.score_w14_frechet(case, (images,))
    assert good == 1, good_message
    collapsed = np.broadcast_to(images[:1], images.shape).copy()
    credit, message = m.score_w14_frechet(case, (collapsed,))
    # Fast mode's classifier cannot grade quality (see FAST_BARS); the distance still rises,
    # and bench/results/milestones_gan.json measures the collapse with the course's classifier.
    assert "1 of 10 classes hold ≥ 2%" in message
    distance = lambda text: float(text.split("Fréchet distance ")[1].split()[0])  # noqa: E731
    assert distance(message) > 10 * distance(good_message)


def _record(steps=20, n=32, seed=0, penalty_scale=1.0, critic_sign=1.0, generator_sign=1.0):
    rng = np.random.default_rng(seed)
    norms = np.linspace(0.1, 0.6, steps)[:, None] + 0.01 * rng.random((steps, n))
    gp = 10 * ((norms - 1) ** 2).mean(axis=1) * penalty_scale
    before = np.linspace(0.0, 2.0, steps)
    after = before + critic_sign * 0.1
    fake_before = rng.normal(size=steps)
    record = np.stack([gp - before, before, gp, before, after, -fake_before, fake_before,
                       fake_before + generator_sign * 0.05], axis=1)
    return record, norms


def test_probe_judgement_names_each_failure():
    steps = m.PROBE_STEPS
    assert m.probe_credit(*_record(), steps)[0] == 1
    credit, message = m.probe_credit(*_record(penalty_scale=2.0), steps)
    assert credit == pytest.approx(0.8) and "0/20 rounds match" in message
    credit, message = m.probe_credit(*_record(critic_sign=-1.0), steps)
    assert credit == pytest.approx(0.8) and "estimate on their batch in 0%" in message
    credit, message = m.probe_credit(*_record(generator_sign=-1.0), steps)
    assert credit == pytest.approx(0.8) and "their samples in 0%" in message
    record, norms = _record()
    assert m.probe_credit(record, norms[::-1] + 2.5, steps)[0] < 1  # moving away from 1
    record[3, 0] = np.nan
    assert m.probe_credit(record, norms, steps)[0] == 0
    assert m.probe_credit(record[:5], norms, steps)[0] == 0


# --------------------------------------------------------------------------------------
# Checkpoint files: format, size, pickles, shapes
# --------------------------------------------------------------------------------------
def test_torch_checkpoints_are_inspected_before_learner_code(tmp_path):
    assert inspect_checkpoint(reference_checkpoint(m.CHECKPOINT)) is None
    torch.save({"state_dict": {"w": torch.zeros(2)}, "note": object()}, tmp_path / "p.pt")
    assert "pickled Python objects" in inspect_checkpoint(tmp_path / "p.pt")
    (tmp_path / "t.pt").write_text("not a zip")
    assert "not a PyTorch checkpoint" in inspect_checkpoint(tmp_path / "t.pt")
    torch.save({"state_dict": {"w": torch.zeros(2**18)}}, tmp_path / "big.pt")
    assert "at most" in inspect_checkpoint(tmp_path / "big.pt", max_bytes=2**20)
    torch.save({"state_dict": {"w": [1, 2]}}, tmp_path / "l.pt")
    assert "not tensors" in inspect_checkpoint(tmp_path / "l.pt")


def test_a_checkpoint_of_another_generator_names_each_mismatch(tmp_path, setup_namespace):
    ns = _functions(setup_namespace, _solved())
    torch.save({"state_dict": ns["MLPGenerator"]().state_dict()}, tmp_path / "mlp.pt")
    with pytest.raises(CheckpointError, match="does not fit the generator the notebook builds"):
        load_generator(tmp_path / "mlp.pt", ns["make_generator"]())
    with pytest.raises(FileNotFoundError, match="next to the notebook"):
        load_generator(tmp_path / "absent.pt", ns["make_generator"]())


def test_train_or_load_generator_trains_once_and_never_in_the_sandbox(tmp_path, monkeypatch,
                                                                        capsys):
    calls = []
    model = torch.nn.Linear(2, 2)
    train = lambda: calls.append(1) or {"steps": 3}  # noqa: E731
    assert train_or_load_generator(tmp_path / "g.pt", model, train)["steps"] == 3
    assert train_or_load_generator(tmp_path / "g.pt", model, train)["steps"] == 3
    assert calls == [1] and "skipping training" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_GRADING", "1")
    with pytest.raises(FileNotFoundError, match="does not train your generator"):
        train_or_load_generator(tmp_path / "other.pt", model, train)


# --------------------------------------------------------------------------------------
# The learner's code, in process: reference, alternatives, mutants
# --------------------------------------------------------------------------------------
def _grade_in_process(namespace: dict, seed: int) -> dict[str, float]:
    out = {}
    for exercise_id, function in (("w14_milestone", "milestone_sample"),
                                  ("w14_milestone_probe", "milestone_probe")):
        result = evaluate(exercise_id, namespace[function], hidden=True, seed=seed)
        out[exercise_id] = result.cases[0].credit if result.cases else 0.0
    return out


def test_reference_and_alternatives_get_full_marks(in_folder, setup_namespace):
    for nb in (_solved(), _solved(*ALTERNATIVES)):
        ns = _functions(setup_namespace, nb)
        for seed in (1, 2):
            assert _grade_in_process(ns, seed) == {"w14_milestone": 1.0,
                                                   "w14_milestone_probe": 1.0}


@pytest.mark.parametrize("variant", MUTANTS, ids=lambda v: v.label)
def test_each_mutant_fails_the_bar_or_the_probe(in_folder, setup_namespace, variant):
    ns = _functions(setup_namespace, _solved(variant))
    try:
        credits = _grade_in_process(ns, seed=3)
    except Exception:  # noqa: BLE001  (a mismatched generator raises in milestone_sample)
        credits = {"w14_milestone": 0.0}
    assert min(credits.values()) < 1, credits


# --------------------------------------------------------------------------------------
# Grading notebooks in the sandbox: the untouched release, missing and unusable files
# --------------------------------------------------------------------------------------
def test_sandbox_grades_reference_untouched_missing_pickled_and_mismatched(tmp_path):
    ckpt = reference_checkpoint(m.CHECKPOINT)
    pickled = tmp_path / "pickled.pt"
    state = torch.load(ckpt, weights_only=True)
    torch.save({**state, "note": object()}, pickled)
    mlp = tmp_path / "mlp.pt"
    from answers.kernels.week14 import MLPGenerator

    torch.save({"state_dict": MLPGenerator().state_dict()}, mlp)
    students = {"reference": (_solved(), ckpt), "untouched": (_release(), ckpt),
                "missing": (_solved(), None), "pickled": (_solved(), pickled),
                "shapes": (_solved(), mlp)}
    graded = grade(tmp_path, W14, students, checkpoint=m.CHECKPOINT, limits=LIMITS)
    for exercise in graded["reference"].values():
        assert exercise.score == exercise.points, exercise.report
    for exercise in graded["untouched"].values():
        assert exercise.score == 0 and "not attempted" in exercise.report
    missing = graded["missing"]["w14_milestone"]
    assert missing.score == 0 and "expected milestone_week14.pt next to the notebook" in \
        missing.report
    assert graded["missing"]["w14_milestone_probe"].score == 4  # the probe needs no file
    assert graded["pickled"]["w14_milestone"].score == 0
    assert "pickled Python objects" in graded["pickled"]["w14_milestone"].report
    shapes = graded["shapes"]["w14_milestone"]
    assert shapes.score == 0 and "does not fit the generator the notebook builds" in \
        shapes.report
