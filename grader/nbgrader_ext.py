"""nbgrader customisations: a stub that names its exercise.

nbgrader replaces every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region with one fixed
``code_stub``. Here the stub carries the exercise id taken from the solution cell's
``grade_id`` (``w01_softmax_code`` → ``w01_softmax``), so the first error a learner sees
already names the exercise, its check and its marker.
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearSolutions

#: Suffix of a solution cell's grade_id; the rest is the exercise id.
SOLUTION_SUFFIX = "_code"


def exercise_of(grade_id: str) -> str:
    """``"w01_softmax_code"`` → ``"w01_softmax"``; other ids are returned unchanged."""
    return grade_id[: -len(SOLUTION_SUFFIX)] if grade_id.endswith(SOLUTION_SUFFIX) else grade_id


def stub_for(exercise_id: str) -> str:
    return (f'raise NotImplementedError("{exercise_id}: replace this line with your code, '
            f'then run the check below")')


class ExerciseStubs(ClearSolutions):
    """ClearSolutions whose code stub names the exercise of each solution cell."""

    def _replace_solution_region(self, cell, language):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type == "code" and language == "python" and grade_id:
            saved = self.code_stub
            self.code_stub = {**saved, "python": stub_for(exercise_of(grade_id))}
            try:
                return super()._replace_solution_region(cell, language)
            finally:
                self.code_stub = saved
        return super()._replace_solution_region(cell, language)
