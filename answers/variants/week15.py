"""Week 15 capstone: alternatives (must keep full marks) and mutants (must lose points).

``w15_report``'s solution cell holds the learner's whole reimplementation (models, training,
``run_outputs``) and ``w15_stats``'s their ``make_report``, so each variant is an entire cell
with one plausible change, built from ``solutions/week15-capstone/capstone.ipynb`` (a
replacement that no longer applies raises). Like the milestones' variants they are not
checked function by function (``tests/test_variants.py`` skips scored exercises):
``tests/test_week15.py`` grades notebooks built from them in the sandbox with a trained
checkpoint, and the demo class hands some of them in.
"""

from __future__ import annotations

from pathlib import Path

from answers.variants import Variant, cell_variant
from answers.variants import solution_cell as _solution_cell

NOTEBOOK = Path(__file__).resolve().parents[2] / "solutions" / "week15-capstone" / "capstone.ipynb"


def solution_cell(exercise_id: str) -> str:
    """``exercise_id``'s reference solution cell (:func:`answers.variants.solution_cell`)."""
    return _solution_cell(NOTEBOOK, exercise_id)


def _variant(exercise_id: str, label: str, *replacements: tuple[str, str]) -> Variant:
    return cell_variant(NOTEBOOK, exercise_id, label, *replacements)


_SUMMARY = ("    summary = {arm: [float(np.mean(list(v.values()))), "
            "float(np.std(list(v.values()), ddof=1))]\n               for arm, v in results.items()}")
_BETTER = ('    better = "method" if mm + sm < mb - sb else "baseline" if mb + sb < mm - sm '
           'else "neither"')
_IMAGE_OUTPUTS = ("            return np.concatenate([model(torch.from_numpy(images[i:i + 1000])).numpy()\n"
                  "                                   for i in range(0, len(images), 1000)])")


def _build() -> tuple[list[Variant], list[Variant]]:
    alternatives = [
        _variant("w15_stats", "make_report with the statistics module (mean, stdev: the sample sd)",
                 (_SUMMARY, "    import statistics\n"
                            "    summary = {arm: [statistics.mean(v.values()), "
                            "statistics.stdev(v.values())]\n"
                            "               for arm, v in results.items()}")),
        _variant("w15_report", "run_outputs returns log-probabilities (log_softmax) instead of raw scores",
                 (_IMAGE_OUTPUTS,
                  "            return np.concatenate([F.log_softmax(model(torch.from_numpy(\n"
                  "                images[i:i + 1000])), dim=1).numpy()\n"
                  "                for i in range(0, len(images), 1000)])")),
    ]
    mutants = [
        _variant("w15_stats", "make_report: population sd (ddof=0) where the report promises the sample sd",
                 ("float(np.std(list(v.values()), ddof=1))", "float(np.std(list(v.values())))")),
        _variant("w15_stats", "make_report: the better arm from the sign of the difference alone, "
                 "ignoring the seed spread",
                 (_BETTER, '    better = "method" if mm < mb else "baseline"')),
        _variant("w15_stats", "make_report: the effect as baseline minus method (sign flipped)",
                 ('"effect": {"difference": mm - mb,', '"effect": {"difference": mb - mm,')),
        _variant("w15_report", "run_outputs evaluates in training mode (dropout still active at test time)",
                 ("    model.eval()\n    with torch.no_grad():\n        if track != \"ptb\":",
                  "    model.train()\n    with torch.no_grad():\n        if track != \"ptb\":")),
        _variant("w15_report", "run_outputs standardizes the test images although the "
                 "models were trained on raw pixels",
                 (_IMAGE_OUTPUTS, _IMAGE_OUTPUTS.replace(
                     "torch.from_numpy(images[i:i + 1000])",
                     "torch.from_numpy((images[i:i + 1000] - 0.2860) / 0.3530)"))),
        _variant("w15_report", "build_model ignores the arm: every run is rebuilt as the baseline",
                 ('        with_idea = arm == "method"', "        with_idea = False")),
    ]
    return alternatives, mutants


ALTERNATIVES, MUTANTS = _build()
