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
