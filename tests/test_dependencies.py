"""Each exercise is scored on its own code (issue 19, item 4).

While exercise E is checked in the sandbox, the graded callees E declares
(``Exercise.uses``) are bound to proxies that the grader answers, outside the sandbox, with
the course's results: a bug in the callee costs only the callee's points. The learner's own
``check()`` names the callee to fix first. Requests for names E does not declare, and floods,
get nothing and are bounded.
"""

from __future__ import annotations

import contextlib
import textwrap

import nbformat
import numpy as np
import pytest

from grader.autograde import dependency_answers, remote_function
from grader.check import (CheckFailed, argument_names, check, get_exercise, reference_outputs,
                          run_cases)
from grader.config import REPO_ROOT
from grader.isolation import isolation_level
from grader.sandbox import (MAX_DEP_REQUESTS, DependencyFlood, DependencyServer, Limits,
                            ProtocolViolation, Sandbox, SandboxError)

pytestmark = pytest.mark.skipif(isolation_level() == "none", reason="needs a sandbox")


class Runner:
    """The part of :class:`grader.autograde.NotebookRunner` a checked call uses."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox, self.limits = sandbox, sandbox.limits
        self.faults: list[str] = []
        self.violations: list[str] = []
        self.budget_flags: list[str] = []

    def left(self, phase: str = "checks") -> float:
        return 60.0

    def recover(self) -> None:
        self.sandbox.restart()

    def check(self, exercise, seed: int = 1):
        """The hidden grade's check of ``exercise`` (as ``_score_exercise`` runs it)."""
        cases = exercise.cases(seed, hidden=True)
        names = argument_names(exercise.reference_function(),
                               max(len(c.args) for c in cases))
        with np.errstate(all="ignore"):
            return run_cases(exercise, remote_function(self, exercise), cases,
                             reference_outputs(exercise, cases), arg_names=names)


@contextlib.contextmanager
def sandboxed(*sources: str):
    with Sandbox(Limits(call_timeout=20)) as sandbox:
        for source in sources:
            outcome = sandbox.run_cell(source)
            assert outcome.ok, outcome.error
        yield sandbox, Runner(sandbox)


RNN = '''
import numpy as np

def rnn_step_forward(x, prev_h, Wx, Wh, b):
    return np.tanh(x @ Wx + prev_h @ Wh)          # the bias is forgotten: a wrong step

def rnn_forward(x, h0, Wx, Wh, b):
    h, states = h0, []
    for t in range(x.shape[1]):
        h = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        states.append(h)
    return np.stack(states, axis=1)
'''


def test_a_caller_keeps_its_points_when_its_callee_is_wrong():
    with sandboxed(RNN) as (sandbox, runner):
        step = runner.check(get_exercise("w09_rnn_step_forward"))
        forward = runner.check(get_exercise("w09_rnn_forward"))
        assert step.fraction == 0.0  # the callee's own bug costs the callee
        assert forward.passed, forward.report()  # … and nothing else
        assert not runner.faults and not runner.violations
        # outside the checked call, the learner's own step is back in their namespace
        outcome = sandbox.run_cell("assert rnn_step_forward.__module__ != 'grader.sandbox'\n"
                                   "import numpy as np\n"
                                   "out = rnn_step_forward(np.zeros((1, 1)), np.zeros((1, 1)),"
                                   " np.eye(1), np.eye(1), np.ones(1))\n"
                                   "assert float(out[0, 0]) == 0.0  # the bias still missing")
        assert outcome.ok, outcome.error


def test_a_wrong_caller_still_fails_with_the_course_callee():
    wrong_caller = RNN.replace("states.append(h)", "states.append(np.tanh(h))")
    with sandboxed(wrong_caller) as (_, runner):
        assert runner.check(get_exercise("w09_rnn_forward")).fraction == 0.0


def test_the_learners_own_check_names_the_callee_to_fix_first():
    namespace: dict = {}
    exec(RNN, namespace)
    with pytest.raises(CheckFailed) as failure:
        check("w09_rnn_forward", namespace["rnn_forward"])
    assert "fix first: `rnn_forward` calls your `rnn_step_forward`" in str(failure.value) \
        .replace("\n      ", " ")
    good = RNN.replace("prev_h @ Wh)", "prev_h @ Wh + b)")
    exec(good, namespace)
    check("w09_rnn_forward", namespace["rnn_forward"])  # no failure, nothing to name


def _solution_cell(notebook: str, grade_id: str) -> str:
    nb = nbformat.read(REPO_ROOT / "solutions" / notebook, as_version=4)
    source = next(c.source for c in nb.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "\n".join(line for line in source.splitlines() if "### " not in line) + "\n"


def test_gradients_flow_through_a_proxied_pytorch_callee():
    """GAN training calls the learner's losses inside autograd: the proxy answers the
    forward values *and* the vector–Jacobian products, so a wrong loss costs only itself."""
    imports = "import torch\nimport torch.nn.functional as F\n"
    losses = _solution_cell("week14-gans/gans.ipynb", "w14_gan_losses_code")
    step = _solution_cell("week14-gans/gans.ipynb", "w14_gan_training_step_code")
    wrong_losses = losses.replace("F.softplus(-fake_logits).mean()\n",
                                  "-F.softplus(fake_logits).mean()  # saturating\n")
    assert wrong_losses != losses
    with sandboxed(imports + wrong_losses, step) as (_, runner):
        assert runner.check(get_exercise("w14_gan_losses")).fraction < 1.0
        training = runner.check(get_exercise("w14_gan_training_step"))
        assert training.passed, training.report()
        assert not runner.violations


def test_without_the_declaration_the_callee_bug_cascades():
    """The counterfactual: the same notebook, its caller checked with no ``uses``."""
    from dataclasses import replace

    with sandboxed(RNN) as (_, runner):
        exercise = replace(get_exercise("w09_rnn_forward"), uses=())
        assert runner.check(exercise).fraction == 0.0


def test_every_declared_callee_is_a_graded_function_of_the_same_week():
    from grader.check import all_exercises

    for exercise in all_exercises().values():
        for callee_id in exercise.uses:
            callee = get_exercise(callee_id)
            assert callee_id[:3] == exercise.id[:3], (exercise.id, callee_id)
            if not exercise.score:  # a milestone's callees are not proxied (its docstring)
                assert callee.framework == exercise.framework
        assert dependency_answers(exercise) is None or exercise.uses


def _solution_cells() -> dict[str, str]:
    """Every exercise's solution cell (``<id>_code``) in ``solutions/``, by exercise id."""
    cells = {}
    for path in sorted((REPO_ROOT / "solutions").glob("week*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if cell.cell_type == "code" and grade_id.endswith("_code"):
                cells[grade_id.removesuffix("_code")] = cell.source
    return cells


def graded_calls(exercise_id: str, source: str) -> set[str]:
    """Ids of the other graded exercises of the same week whose functions ``source`` (a
    solution cell) names: called, or passed on to be called."""
    import ast

    from grader.check import all_exercises

    exercises = all_exercises()
    week = {e.function: e.id for e in exercises.values()
            if e.id[:3] == exercise_id[:3] and e.id != exercise_id
            and e.function != exercises[exercise_id].function}
    code = "\n".join(line for line in source.splitlines()
                     if not line.lstrip().startswith(("%", "!")))
    return {week[node.id] for node in ast.walk(ast.parse(code))
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in week}


def test_every_call_between_graded_functions_is_declared():
    """The call graph of the course's solutions: an exercise whose solution calls another
    graded function of its week declares it (``uses``), milestones included (their check
    then names the callee to fix first)."""
    from grader.check import all_exercises

    cells = _solution_cells()
    exercises = all_exercises()
    assert set(exercises) <= set(cells), sorted(set(exercises) - set(cells))
    missing = {exercise_id: sorted(graded_calls(exercise_id, cells[exercise_id]) -
                                   set(exercise.uses))
               for exercise_id, exercise in exercises.items()}
    assert not {k: v for k, v in missing.items() if v}
    # the exercises that arrived in session 23 are covered, and the graph is not empty
    assert {"w03_zca_whiten", "w05_classify_critical_point", "w07_milestone"} <= set(cells)
    assert graded_calls("w07_milestone", cells["w07_milestone"]) >= {"w07_conv2d_forward",
                                                                      "w07_maxpool_forward"}
    assert graded_calls("w09_rnn_forward", cells["w09_rnn_forward"]) == {"w09_rnn_step_forward"}


def test_a_milestones_check_names_its_callee_without_promising_a_proxy():
    from grader.check import callees_to_fix_first

    namespace: dict = {}
    exec("import numpy as np\n"
         "def adam_step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
         "    return w - lr * dw, m, v\n"
         "def milestone_probe(*args):\n"
         "    return adam_step(*args)\n", namespace)
    text = callees_to_fix_first(get_exercise("w05_milestone_probe"), namespace["milestone_probe"])
    assert "fix first: `milestone_probe` calls your `adam_step`" in text
    assert "your `adam_step` runs when grading too" in text and "course's" not in text


# --------------------------------------------------------------------------------------
# Attacks: the proxy's channel gives nothing beyond the declared callees, and is bounded
# --------------------------------------------------------------------------------------
WORKER = ("import gc\nworker = next(d for d in gc.get_objects() if isinstance(d, dict) "
          "and '_serve' in d and '_worker_main' in d)\n")


def test_asking_for_an_undeclared_function_is_a_protocol_violation():
    """The course's ``lstm_step_forward`` asked for while ``rnn_forward`` is checked: only a
    forged request can do that; the worker is killed, the case gets nothing."""
    attack = WORKER + textwrap.dedent('''
        import numpy as np
        def rnn_forward(x, h0, Wx, Wh, b):
            return worker["_ask_grader"]("lstm_step_forward", "forward",
                                        (x[:, 0], h0, h0, Wx, Wh, b), {})
    ''')
    with sandboxed(attack) as (_, runner):
        result = runner.check(get_exercise("w09_rnn_forward"))
        assert result.fraction == 0.0
        assert runner.violations and "does not call" in runner.violations[0]


def test_a_flood_of_requests_is_refused_and_bounded():
    attack = textwrap.dedent('''
        import numpy as np
        def rnn_step_forward(x, prev_h, Wx, Wh, b):
            return np.zeros((x.shape[0], Wh.shape[0]))
        def rnn_forward(x, h0, Wx, Wh, b):
            out = None
            for _ in range(10 ** 6):
                try:
                    out = rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
                except Exception:
                    pass
            return np.stack([out] * x.shape[1], axis=1)
    ''')
    with sandboxed(attack) as (sandbox, runner):
        exercise = get_exercise("w09_rnn_forward")
        server = dependency_answers(exercise)
        server.max_requests = 50  # the same rule as MAX_DEP_REQUESTS, quicker to reach
        case = exercise.cases(1, hidden=True)[0]
        with pytest.raises(DependencyFlood):
            sandbox.call("rnn_forward", case.args, {}, 20, dependencies=server)
        assert server.requests <= server.max_requests + 11  # answered ≤ 50, refused ≤ 11
        assert not sandbox.alive  # stopped: nothing more is answered
    assert MAX_DEP_REQUESTS >= 1000  # a real RNN over long sequences stays well inside


def test_a_request_outside_a_call_with_dependencies_is_a_violation():
    attack = WORKER + textwrap.dedent('''
        import numpy as np
        def softmax(x):
            return worker["_ask_grader"]("logsumexp", "forward", (x,), {})
    ''')
    with sandboxed(attack) as (_, runner):
        result = runner.check(get_exercise("w01_softmax"))  # declares no callee
        assert result.fraction == 0.0 and runner.violations


def test_a_malformed_request_is_a_violation():
    server = DependencyServer(lambda *a: 0, ("rnn_step_forward",))
    for request in ({"dep": "rnn_step_forward"}, {"dep": 1, "mode": "forward", "args": {},
                                                  "kwargs": {}},
                    {"dep": "rnn_step_forward", "mode": "forward", "args": {"t": [{"x": 1}]},
                     "kwargs": {"d": {}}},
                    {"dep": "rnn_step_forward", "mode": "forward",
                     "args": {"t": [{"t": [{"t": [{"t": [{"t": [{"t": [{"t": [{"t": []}]}]}]}]}]}]}]},
                     "kwargs": {"d": {}}}):
        with pytest.raises(ProtocolViolation):
            server.serve(request, b"")
    reply, _ = server.serve({"dep": "rnn_step_forward", "mode": "forward",
                             "args": {"t": []}, "kwargs": {"d": {}}}, b"")
    assert reply == {"ok": True, "value": {"v": 0}}
    assert isinstance(SandboxError("x"), Exception)
