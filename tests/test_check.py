"""The check engine: comparisons, teaching messages, fixtures, gradient checking."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from grader import check as engine
from grader.check import (Case, CheckFailed, all_exercises, check, compare, evaluate,
                          gradient_check, load_fixture, numerical_gradient,
                          numerical_gradient_array, rel_error, save_fixture)


def test_compare_accepts_equal_and_names_shape_mismatch():
    ref = (np.ones((2, 3)),)
    assert compare(np.ones((2, 3)), ref, 1e-7, 1e-9) is None
    message = compare(np.ones((3, 2)), ref, 1e-7, 1e-9)
    assert "shape (3, 2)" in message and "expected shape (2, 3)" in message


def test_compare_reports_errors_without_reference_values():
    secret = np.array([[0.123456789, 0.987654321]])
    message = compare(secret + 1e-3, (secret,), 1e-7, 1e-9)
    assert "max abs error 0.001" in message and "rel error" in message
    assert "0.1234" not in message and "0.9876" not in message


def test_compare_flags_nan_and_count_and_dtype():
    assert "nan/inf" in compare(np.array([np.nan, 1.0]), (np.array([0.5, 1.0]),), 1e-7, 1e-9)
    assert "returned 1 value" in compare(np.ones(2), (np.ones(2), np.ones(2)), 1e-7, 1e-9)
    assert "numeric" in compare(np.array(["a"]), (np.ones(1),), 1e-7, 1e-9)
    assert "integer" in compare(np.array([1.5]), (np.array([1]),), 1e-7, 1e-9)


def test_check_prints_success_and_raises_teaching_failure(capsys):
    softmax = all_exercises()["w01_softmax"].reference_function()
    check("w01_softmax", softmax)
    assert "✓ w01_softmax" in capsys.readouterr().out
    with pytest.raises(CheckFailed) as failure:
        with np.errstate(all="ignore"):
            check("w01_softmax", lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True))
    text = str(failure.value)
    assert "huge logits" in text and "nan/inf" in text and "hint:" in text
    assert "shape (3, 6)" in text  # names the case's shapes


def test_stub_reported_as_not_attempted():
    def stub(x):
        raise NotImplementedError("w01_softmax: replace this line")
    result = evaluate("w01_softmax", stub)
    assert not result.passed and "not attempted" in result.report()


def test_exceptions_fail_only_their_case():
    def picky(x):
        if x.ndim == 3:
            raise ValueError("3-D not supported")
        return all_exercises()["w01_softmax"].reference_function()(x)
    result = evaluate("w01_softmax", picky)
    failed = [c for c in result.cases if not c.passed]
    assert len(failed) == 1 and "ValueError: 3-D not supported" in failed[0].message
    assert 0 < result.fraction < 1


def test_unknown_exercise_lists_known_ids():
    with pytest.raises(KeyError, match="w01_softmax"):
        evaluate("w99_nothing", print)


def test_hidden_cases_depend_on_seed_public_do_not():
    ex = all_exercises()["w01_softmax"]
    a, b = ex.cases(1), ex.cases(2)
    assert not np.array_equal(a[0].args[0], b[0].args[0])
    assert np.array_equal(ex.cases(1)[0].args[0], a[0].args[0])


@pytest.mark.parametrize("exercise_id", [i for i, e in all_exercises().items() if not e.score])
def test_committed_fixtures_match_the_kernels(exercise_id, tmp_path):
    """The stored public fixtures are what `python -m grader fixtures` generates now."""
    fresh = save_fixture(all_exercises()[exercise_id], tmp_path / "f.npz")
    cases_a, outs_a = load_fixture(exercise_id)
    cases_b, outs_b = load_fixture(exercise_id, fresh)
    assert [c.name for c in cases_a] == [c.name for c in cases_b]
    exercise = all_exercises()[exercise_id]
    for ca, cb, oa, ob in zip(cases_a, cases_b, outs_a, outs_b):
        assert ca.kwargs == cb.kwargs
        for x, y in zip(ca.args, cb.args):
            np.testing.assert_array_equal(x, y)
        # Outputs within the exercise's own tolerance: float32 PyTorch kernels may round
        # differently with another number of threads.
        for x, y in zip(oa, ob):
            np.testing.assert_allclose(x, y, rtol=exercise.rtol, atol=exercise.atol)


def test_public_check_works_without_reference_kernels():
    """A release may ship without answers.kernels: public checks must not import it."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.startswith('answers.kernels'): raise ImportError('no kernels')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import numpy as np\n"
        "from grader.check import check\n"
        "def softmax(x):\n"
        "    e = np.exp(x - x.max(-1, keepdims=True)); return e / e.sum(-1, keepdims=True)\n"
        "check('w01_softmax', softmax)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "✓ w01_softmax" in out.stdout


def test_rel_error_scale():
    assert rel_error(1.0, 1.0) == 0.0
    assert rel_error(np.array([1.0]), np.array([1.0 + 1e-9])) == pytest.approx(5e-10, rel=1e-3)


def test_numerical_gradient_matches_torch_autograd():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    f = lambda z: float(np.sum(np.tanh(z) ** 2 * np.arange(4)))  # noqa: E731
    xt = torch.tensor(x, requires_grad=True)
    (torch.tanh(xt) ** 2 * torch.arange(4)).sum().backward()
    assert rel_error(numerical_gradient(f, x), xt.grad.numpy()) < 1e-8


def test_numerical_gradient_array_is_vector_jacobian_product():
    rng = np.random.default_rng(1)
    x, dout = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    grad = numerical_gradient_array(np.sin, x, dout)
    assert rel_error(grad, np.cos(x) * dout) < 1e-8


def test_gradient_check_passes_correct_and_names_wrong_gradient():
    x = np.random.default_rng(2).normal(size=(4,))
    f = lambda z: float(np.sum(z ** 3))  # noqa: E731
    assert gradient_check(f, x, 3 * x ** 2) < 1e-7
    with pytest.raises(CheckFailed, match="relative error"):
        gradient_check(f, x, 2 * x ** 2)
    with pytest.raises(CheckFailed, match="expected shape"):
        gradient_check(f, x, np.ones(3))


def test_registry_rejects_conflicting_duplicate():
    ex = all_exercises()["w01_softmax"]
    clone = engine.Exercise(**{**ex.__dict__, "points": 99})
    with pytest.raises(ValueError, match="registered twice"):
        engine.register(clone)


def test_case_names_are_unique_per_exercise():
    for ex in all_exercises().values():
        names = [c.name for c in ex.cases(0)]
        assert len(names) == len(set(names)), ex.id
        assert all(isinstance(c, Case) for c in ex.cases(0))


def test_torch_framework_adapter_round_trips_arrays():
    from grader.check import in_framework

    def torch_fn(x, y):
        assert isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)
        return torch.softmax(x, -1), (x * y).sum()

    probs, total = in_framework(torch_fn, "torch")(np.ones((2, 3)), np.full((2, 3), 2.0))
    assert isinstance(probs, np.ndarray) and probs.dtype == np.float64
    np.testing.assert_allclose(probs, 1 / 3)
    assert float(total) == 12.0
    with pytest.raises(ValueError, match="unknown framework"):
        in_framework(torch_fn, "jax")


def test_failed_check_shows_the_report_not_the_grader_traceback(capfd):
    """In IPython a failed check prints its report alone, without grader/check.py frames."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(colors="nocolor")
    result = shell.run_cell("import numpy as np\nfrom grader.check import check\n"
                            "with np.errstate(all='ignore'):\n"
                            "    check('w01_softmax', lambda x: np.exp(x) / np.exp(x).sum(-1, "
                            "keepdims=True))")
    shown = capfd.readouterr()
    shown = shown.out + shown.err
    assert isinstance(result.error_in_exec, CheckFailed)
    assert "CheckFailed" in shown and "hint:" in shown and "huge logits" in shown
    assert "check.py" not in shown and "Traceback" not in shown


# Hints in tiers, outputs by meaning, "not attempted yet" (issue 18 items 3 and 7) ----------
def test_hint_tiers_add_the_lecture_section_on_the_second_failure(monkeypatch):
    monkeypatch.setattr(engine, "_FAILURES", {})
    exercise = all_exercises()["w01_softmax"]
    assert exercise.see, "week 1 exercises name where their idea is taught"
    naive = lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)  # noqa: E731
    reports = []
    for _ in range(3):
        with pytest.raises(CheckFailed) as failure, np.errstate(all="ignore"):
            check("w01_softmax", naive)
        reports.append(str(failure.value))
    assert "hint:" in reports[0] and "see:" not in reports[0]
    assert f"see: {exercise.see}" in reports[1] and f"see: {exercise.see}" in reports[2]
    # Another exercise starts at the first tier; "not attempted" uses no tier at all.
    def stub(x):
        raise NotImplementedError("w01_log_softmax: replace this line")
    with pytest.raises(CheckFailed) as failure:
        check("w01_log_softmax", stub)
    assert "not attempted" in str(failure.value) and "see:" not in str(failure.value)
    assert "w01_log_softmax" not in engine._FAILURES


def test_outputs_are_named_by_meaning():
    ref = (np.ones((2, 3)), np.ones(3))
    message = compare((np.ones((2, 3)), np.zeros(3)), ref, 1e-7, 1e-9, names=("dx", "db"))
    assert message.startswith("db: values differ") and "output" not in message
    assert "expected 2 (dx, db)" in compare(np.ones((2, 3)), ref, 1e-7, 1e-9, names=("dx", "db"))
    assert compare((np.ones((2, 3)), np.zeros(3)), ref, 1e-7, 1e-9).startswith("output 1:")
    # A registered exercise with several outputs names them in its reports.
    swapped = lambda a, b: (b, a)  # noqa: E731
    result = evaluate("w01_standardize", swapped)
    failed = [c.message for c in result.cases if not c.passed]
    assert failed and all(m.startswith(("x_train_std:", "x_test_std:")) for m in failed)


def test_case_name_comes_before_the_call_signature():
    naive = lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)  # noqa: E731
    with np.errstate(all="ignore"):
        report = evaluate("w01_softmax", naive).report()
    line = next(l for l in report.splitlines() if "huge logits" in l)
    assert line.index("huge logits") < line.index("softmax(shape")


@pytest.mark.parametrize("exercise_id", [e for e, ex in all_exercises().items() if ex.see])
def test_see_points_at_an_existing_lecture_heading(exercise_id):
    """``see`` = "course/weekNN-<slug>.ipynb §K <title>": the notebook has that heading."""
    import re

    import nbformat

    from grader.config import REPO_ROOT

    see = all_exercises()[exercise_id].see
    match = re.match(r"^(course/week\d\d-[\w-]+\.ipynb) §([\d.]+) (.+)$", see)
    assert match, f"{exercise_id}: see={see!r} is not 'course/<lecture>.ipynb §K <title>'"
    path, number, title = match.groups()
    assert (REPO_ROOT / path).exists(), f"{exercise_id}: no {path}"
    plain = lambda s: re.sub(r"[`*$\\\\]", "", s).strip().lower()  # noqa: E731
    headings = [plain(line.lstrip("#").strip()) for cell in
                nbformat.read(REPO_ROOT / path, as_version=4).cells
                if cell.cell_type == "markdown" for line in cell.source.splitlines()
                if line.startswith("#")]
    wanted = plain(f"{number.rstrip('.')}. {title}")
    wanted_loose = plain(f"{number.rstrip('.')} {title}")
    assert wanted in headings or wanted_loose in headings, \
        f"{exercise_id}: no heading '{number} {title}' in {path}"


NOTEBOOK_WITHOUT_FUNCTION = {
    "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "from grader.check import check"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": 'check("w01_softmax", softmax)'},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "undefined_helper + 1"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.mark.slow
def test_check_before_its_function_cell_says_not_attempted_in_a_notebook():
    """A check run before the cell defining its function: a readable message, still an error
    (nbgrader's Validate must count it); other NameErrors keep the usual traceback."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.from_dict(NOTEBOOK_WITHOUT_FUNCTION)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    error = nb.cells[1].outputs[0]
    assert error.output_type == "error" and error.ename == "NameError"
    text = "\n".join(error.traceback)
    assert "w01_softmax: not attempted yet: run the cell that defines `softmax` first" in text
    assert "Traceback" not in text and "<module>" not in text
    other = "\n".join(nb.cells[2].outputs[0].traceback)
    assert "undefined_helper" in other and "not attempted" not in other


def test_name_error_handler_is_not_installed_outside_a_jupyter_kernel():
    assert engine.install_notebook_handlers() is False  # pytest: no IPython kernel
    assert engine.not_attempted_message("softmax").startswith("w01_softmax: not attempted yet")
    assert engine.not_attempted_message("np") is None


def test_long_message_lines_wrap_for_the_validate_dialog(monkeypatch):
    monkeypatch.setattr(engine, "_FAILURES", {})
    naive = lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)  # noqa: E731
    with pytest.raises(CheckFailed) as failure, np.errstate(all="ignore"):
        check("w01_softmax", naive)
    lines = str(failure.value).splitlines()
    assert max(map(len, lines)) <= engine.MESSAGE_WIDTH
    assert any(line.startswith("      ") for line in lines)  # continuation under its case
    flat = " ".join(line.strip() for line in lines)
    assert "hint: " + all_exercises()["w01_softmax"].hint in flat  # nothing lost
