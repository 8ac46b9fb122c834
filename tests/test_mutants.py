"""The mutation-score benchmark (``bench/bench_mutants.py``): building and grading mutants,
timeouts, the tally, and the list of equivalent mutants.

The harness tests use hand-written mutants and run everywhere; the tests that generate
mutants with Cosmic Ray skip where it is not installed (``requirements-bench.txt``;
``make bench`` installs it).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import textwrap

import pytest

from bench import bench_mutants as bm
from answers.kernels import week01, week04

SOFTMAX = "answers.kernels.week01:softmax"


def _source(function) -> str:
    return textwrap.dedent(inspect.getsource(function))


@pytest.fixture(scope="module")
def grader():
    return bm.Grader(seeds=(1, 2))


def test_unmutated_reference_survives_every_seed(grader):
    outcome = grader.grade_source("ref", "w01_softmax", _source(week01.softmax), SOFTMAX,
                                  [SOFTMAX])
    assert outcome.status == bm.SURVIVED and outcome.seeds_failed == 0
    assert outcome.seeds_run == 2


def test_a_wrong_axis_is_killed_with_the_failing_case_named(grader):
    source = _source(week01.softmax).replace("np.sum(e, axis=-1", "np.sum(e, axis=0")
    outcome = grader.grade_source("axis", "w01_softmax", source, SOFTMAX, [SOFTMAX])
    assert outcome.status == bm.KILLED and outcome.seeds_failed == 2
    assert outcome.how in ("wrong", "raised") and outcome.first_failure.startswith("seed 1, ")


def test_mutant_sees_the_kernel_modules_other_names(grader):
    # log_softmax calls logsumexp: the mutant is built where that name is bound.
    source = _source(week01.log_softmax)
    outcome = grader.grade_source("ls", "w01_log_softmax", source,
                                  "answers.kernels.week01:log_softmax",
                                  ["answers.kernels.week01:log_softmax"])
    assert outcome.status == bm.SURVIVED


def test_thin_wrapper_is_graded_through_the_mutated_kernel(grader):
    reference = "answers.kernels.week04:affine_forward_output"
    target = bm.wrapped_kernel(reference)
    assert target == "answers.kernels.week04:affine_forward"
    assert bm.mutation_targets(reference) == (reference, target)
    assert bm.wrapped_kernel(SOFTMAX) is None
    assert bm.wrapped_kernel("answers.kernels.week04:two_layer_net") is None
    source = _source(week04.affine_forward).replace("@ w + b", "@ w - b")
    outcome = grader.grade_source("aff", "w04_affine_forward", source, target,
                                  (reference, target))
    assert outcome.status == bm.KILLED
    # ... and the real module is untouched: the reference still passes.
    fine = grader.grade_source("ok", "w04_affine_forward", _source(week04.affine_forward),
                               target, (reference, target))
    assert fine.status == bm.SURVIVED


def test_helpers_graded_nowhere_else_are_this_exercises_own(grader):
    # two_layer_net calls affine_forward/backward (graded by w04_affine_*), relu_backward and
    # softmax_cross_entropy (graded themselves) and relu_forward (graded nowhere).
    assert bm.mutation_targets("answers.kernels.week04:two_layer_net") == (
        "answers.kernels.week04:two_layer_net", "answers.kernels.week04:relu_forward")
    reference = "answers.kernels.week03:distances_no_loops"
    targets = bm.mutation_targets(reference)
    assert targets == (reference, "answers.kernels.week03:squared_distances")
    # The reference, re-defined beside the mutated helper, calls it.
    broken = "def squared_distances(X_test, X_train):\n    return 1 / 0\n"
    outcome = grader.grade_source("helper", "w03_distances_no_loops", broken, targets[1],
                                  targets)
    assert outcome.status == bm.KILLED and "ZeroDivisionError" in outcome.first_failure


def test_plumbing_listed_as_not_learner_code_is_not_mutated(monkeypatch):
    reference = "answers.kernels.week03:distances_no_loops"
    helper = "answers.kernels.week03:squared_distances"
    monkeypatch.setattr(bm, "not_learner_code", lambda: {helper: "pretend plumbing",
                                                         reference: "pretend harness"})
    bm.mutation_targets.cache_clear()
    try:
        assert bm.mutation_targets(reference) == (reference,)
        if importlib.util.find_spec("cosmic_ray"):
            assert bm.generate("w03_distances_no_loops", reference) == []
    finally:
        bm.mutation_targets.cache_clear()


def test_not_learner_code_names_existing_functions():
    for spec, reason in bm.not_learner_code().items():
        module, _, name = spec.partition(":")
        assert inspect.isfunction(getattr(importlib.import_module(module), name)), spec
        assert len(reason) > 30, spec


def test_infinite_loop_is_killed_by_timeout(grader):
    source = _source(week01.softmax).replace('    shifted =', "    while True:\n"
                                             "        pass\n    shifted =")
    outcome = grader.grade_source("loop", "w01_softmax", source, SOFTMAX, [SOFTMAX],
                                  call_timeout=0.3)
    assert outcome.status == bm.KILLED and outcome.how == "timeout"


def test_mutant_that_does_not_compile_is_an_error(grader):
    source = _source(week01.softmax).replace("return e /", "return e //=")
    outcome = grader.grade_source("bad", "w01_softmax", source, SOFTMAX, [SOFTMAX])
    assert outcome.status == bm.ERROR and "SyntaxError" in outcome.how


def _mutant(exercise_id: str, n: int) -> bm.Mutant:
    return bm.Mutant(exercise_id, "m:f", "core/Op", n, 3, "a + b", f"a - b{n}", 0, "")


def test_tally_counts_equivalents_out_and_flags_a_killed_one():
    mutants = {"w01_x": [_mutant("w01_x", i) for i in range(5)],
               "w02_y": [_mutant("w02_y", i) for i in range(2)]}
    keys = [m.key for m in mutants["w01_x"]]
    outcomes = {keys[0]: bm.Outcome(keys[0], bm.KILLED, "wrong", 2, 2),
                keys[1]: bm.Outcome(keys[1], bm.KILLED, "timeout", 2, 2),
                keys[2]: bm.Outcome(keys[2], bm.SURVIVED, "", 1, 2, "seed 2, case: bad"),
                keys[3]: bm.Outcome(keys[3], bm.SURVIVED, "", 0, 2),
                keys[4]: bm.Outcome(keys[4], bm.ERROR, "SyntaxError: x")}
    outcomes.update({m.key: bm.Outcome(m.key, bm.KILLED, "raised", 2, 2)
                     for m in mutants["w02_y"]})
    equivalent = {keys[3]: "same within the contract", keys[0]: "wrongly listed"}
    tallies = bm.tally(mutants, outcomes, equivalent)
    x = tallies["w01_x"]
    assert (x.generated, x.errors, x.equivalent, x.killed, x.survived) == (5, 1, 1, 2, 1)
    assert x.counted == 3 and x.rate == pytest.approx(200 / 3)
    assert x.seed_dependent == 1 and x.wrongly_equivalent == [keys[0]]
    assert [s["key"] for s in x.survivors] == [keys[2]]
    assert "listed as equivalent but killed" in x.notes()
    rows = bm.rows(tallies, 1.0, (1, 2), stale=["gone"])
    by_name = {r.benchmark.split(":")[0]: r for r in rows}
    assert by_name["week01"].met is False and by_name["week02"].met is True
    assert by_name["week02"].value == 100.0
    total = by_name["all weeks"]
    assert total.oracle_value == 5 and total.value == pytest.approx(80.0)
    assert "stale" in total.notes


@pytest.mark.slow
def test_pool_kills_a_worker_stuck_past_the_hard_limit():
    source = _source(week01.softmax).replace(
        '    shifted =', "    import signal, time\n"
        "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
        "    time.sleep(60)\n    shifted =")
    pool = bm.Pool(jobs=1, seeds=(1,), memory=None)
    try:
        task = {"key": "stuck", "exercise_id": "w01_softmax", "source": source,
                "target": SOFTMAX, "targets": (SOFTMAX,)}
        fine = dict(task, key="fine", source=_source(week01.softmax))
        outcomes = pool.run([task, fine], hard_limit=lambda t: 5.0)
    finally:
        pool.close()
    by_key = {o.key: o for o in outcomes}
    assert by_key["stuck"].status == bm.KILLED and by_key["stuck"].how == "timeout"
    assert by_key["fine"].status == bm.SURVIVED  # the replacement worker goes on


def test_without_the_tool_fast_mode_says_so_and_full_mode_stops(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "cosmic_ray", None)  # import fails
    monkeypatch.setenv("COURSE_FAST", "1")
    (row,) = bm.bench_mutation_score()
    assert "not installed" in row.benchmark and "requirements-bench.txt" in row.notes
    monkeypatch.delenv("COURSE_FAST")
    with pytest.raises(SystemExit, match="requirements-bench.txt"):
        bm.bench_mutation_score()


# --------------------------------------------------------------------------------------
# With the mutation tool
# --------------------------------------------------------------------------------------
def test_generated_mutants_change_only_the_body_and_have_unique_keys():
    pytest.importorskip("cosmic_ray")
    mutants = bm.generate("w01_standardize", "answers.kernels.week01:standardize")
    assert len(mutants) >= 10
    assert len({m.key for m in mutants}) == len(mutants)
    source = _source(week01.standardize)
    signature = source[:source.index('"""')]
    for m in mutants:
        assert m.source.startswith(signature), m.key  # defaults and annotations untouched
        assert m.before != m.after and m.line > 1
    operators = {m.operator for m in mutants}
    assert {"core/NumberReplacer", "core/ReplaceBinaryOperator_Sub_Add"} <= operators


@pytest.mark.slow
def test_every_listed_equivalent_mutant_exists_and_survives_the_hidden_grade():
    pytest.importorskip("cosmic_ray")
    from grader.check import all_exercises

    equivalent = bm.equivalents()
    assert all(len(reason) > 30 for reason in equivalent.values()), "give a checkable reason"
    exercises = all_exercises()
    wanted = {key.split(" | ")[0] for key in equivalent}
    grader = bm.Grader(bm.SEEDS)
    found = set()
    for exercise_id in sorted(wanted):
        reference = exercises[exercise_id].reference
        for m in bm.generate(exercise_id, reference):
            if m.key in equivalent:
                found.add(m.key)
                outcome = grader.grade_source(m.key, exercise_id, m.source, m.target,
                                              bm.mutation_targets(reference))
                assert outcome.status == bm.SURVIVED and outcome.seeds_failed == 0, \
                    f"listed as equivalent but the hidden grade fails it: {m.key}"
    assert found == set(equivalent), f"stale entries: {sorted(set(equivalent) - found)}"


def test_every_exercises_unmutated_targets_pass_their_own_hidden_grade():
    # The harness must rebuild each reference so that it passes unmutated, or every mutant of
    # the exercise is "killed" by the harness itself (a reference built by a course factory,
    # e.g. week 14's penalty_and_critic_grads, once raised TypeError for all its mutants).
    from grader.check import all_exercises

    grader = bm.Grader(seeds=(1,), cache_size=1)
    failed = []
    for exercise_id, exercise in all_exercises().items():
        if not exercise.reference:
            continue
        targets = bm.mutation_targets(exercise.reference)
        for target in targets:
            if target in bm.not_learner_code() or not bm.defined_by_def(target):
                continue
            source = bm._function_source(target)[2]
            outcome = grader.grade_source("unmutated", exercise_id, source, target, targets)
            if outcome.status != bm.SURVIVED:
                failed.append(f"{exercise_id} ({target}): {outcome.how} {outcome.first_failure}")
    assert not failed, failed


def test_a_reference_built_by_a_factory_is_rebuilt_around_the_mutant(grader):
    reference = "answers.kernels.week14:penalty_and_critic_grads"
    assert not bm.defined_by_def(reference) and bm.wrapped_kernel(reference) is None
    assert bm.mutation_targets(reference) == (reference,
                                              "answers.kernels.week14:gradient_penalty")
    target = "answers.kernels.week14:gradient_penalty"
    source = bm._function_source(target)[2].replace("create_graph=True", "create_graph=False")
    outcome = grader.grade_source("cg", "w14_gradient_penalty", source, target,
                                  bm.mutation_targets(reference))
    assert outcome.status == bm.KILLED and outcome.how == "wrong"
