"""Milestone alternatives (must reach full marks) and mutants (must fail the bar or the probe).

A milestone's solution cells hold a whole model (layers, initialization, loss) or a whole
training loop, so each variant is the *entire* solution cell of the reference with one
plausible change, built from ``solutions/weekNN-*/milestone.ipynb`` (a replacement that no
longer applies raises, so a changed solution cannot silently disable a mutant).

They are not checked one function at a time like the other weeks' variants
(``tests/test_variants.py`` skips milestone exercises): ``tests/test_milestones.py`` grades
notebooks built from them with the reference checkpoint in ``answers/milestones/``, and the
demo class hands some of them in.
"""

from __future__ import annotations

from pathlib import Path

from answers.variants import Variant, cell_variant
from answers.variants import solution_cell as _solution_cell

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
NOTEBOOKS = {"w05": SOLUTIONS / "week05-optimization" / "milestone.ipynb",
             "w07": SOLUTIONS / "week07-cnn" / "milestone.ipynb"}


def solution_cell(exercise_id: str) -> str:
    """``exercise_id``'s reference solution cell (:func:`answers.variants.solution_cell`)."""
    return _solution_cell(NOTEBOOKS[exercise_id[:3]], exercise_id)


def _variant(exercise_id: str, label: str, *replacements: tuple[str, str]) -> Variant:
    return cell_variant(NOTEBOOKS[exercise_id[:3]], exercise_id, label, *replacements)


_RELU = ("    return dout * (x > 0)", "    return dout * (dout > 0)")
_SOFTMAX_N = ("    return loss, dlogits / n", "    return loss, dlogits")
_BIAS_MEAN = ("    return dx, dw, dout.sum(axis=0)", "    return dx, dw, dout.mean(axis=0)")
_SIGN = ("    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
         "    return w + lr * m_hat / (np.sqrt(v_hat) + eps), m, v")
_NO_STEP_COUNT = ('    state["t"] += 1\n', "")
_NOT_IN_PLACE = ('        params[name], state["m"][name], state["v"][name] = adam_step(',
                 '        _, state["m"][name], state["v"][name] = adam_step(')
_ADAM_FOLDED = (
    "    m_hat = m / (1 - beta1**t)\n    v_hat = v / (1 - beta2**t)\n"
    "    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
    "    step = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)\n"
    "    return w - step * m / (np.sqrt(v) + eps * np.sqrt(1 - beta2**t)), m, v")


def _training_variants(exercise_id: str) -> tuple[list[Variant], list[Variant]]:
    right = [_variant(exercise_id, "Adam with the bias corrections folded into the step",
                      _ADAM_FOLDED)]
    wrong = [_variant(exercise_id, "Adam climbs the gradient (sign error)", _SIGN),
             _variant(exercise_id, "the step count t is never incremented (1 - β^0 = 0)",
                      _NO_STEP_COUNT),
             _variant(exercise_id, "train_step computes the update but never stores it",
                      _NOT_IN_PLACE)]
    return right, wrong


def _build() -> tuple[list[Variant], list[Variant]]:
    alternatives = [
        _variant("w05_milestone", "ReLU as a product with its mask",
                 ("            h = np.maximum(z, 0)", "            h = z * (z > 0)")),
        _variant("w07_milestone", "2×2 max pooling through a reshape",
                 ("    out = None\n    for p in range(pool):",
                  "    if pool == stride == 2 and x.shape[2] % 2 == 0 == x.shape[3] % 2:\n"
                  "        n, c, h, w = x.shape\n"
                  "        return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))\n"
                  "    out = None\n    for p in range(pool):")),
    ]
    mutants = [
        _variant("w05_milestone", "ReLU backward masks on dout instead of the input", _RELU),
        _variant("w05_milestone", "softmax gradient without the 1/N of the mean", _SOFTMAX_N),
        _variant("w05_milestone", "bias gradient averaged instead of summed", _BIAS_MEAN),
        _variant("w05_milestone", "hidden layers without their ReLU in the forward pass",
                 ("            h = np.maximum(z, 0)", "            h = z")),
        _variant("w07_milestone", "conv backward: dw from the first image only",
                 ("    dw = (dout_cols @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)",
                  "    dw = (dout_cols @ cols.transpose(0, 2, 1))[0].reshape(w.shape)")),
        _variant("w07_milestone", "col2im overwrites overlapping windows instead of adding",
                 ("q:q + stride * out_w:stride] += blocks[:, :, p, q]",
                  "q:q + stride * out_w:stride] = blocks[:, :, p, q]")),
        _variant("w07_milestone", "max pooling backward spreads the gradient over the window",
                 ("            winner = unclaimed & (x[:, :, rows, cols] == out)",
                  "            winner = np.ones(out.shape, dtype=bool)")),
        _variant("w07_milestone", "softmax gradient without the 1/N of the mean", _SOFTMAX_N),
    ]
    for exercise_id in ("w05_milestone_probe", "w07_milestone_probe"):
        right, wrong = _training_variants(exercise_id)
        alternatives += right
        mutants += wrong
    return alternatives, mutants


ALTERNATIVES, MUTANTS = _build()
