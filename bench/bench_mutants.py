"""Mutation score of the hidden grade: how many operator mutants of the reference kernels
the hidden checks kill.

For every registered exercise, the body of its reference function is mutated, and so are
the bodies of the kernel it wraps when it is a thin graded wrapper (``affine_forward_output``
→ ``affine_forward``) and of the helpers of the same module it calls that no other
exercise grades (``distances_no_loops`` → ``squared_distances``; see
:func:`mutation_targets`). The mutations are Cosmic Ray's core operators
(``requirements-bench.txt``; https://cosmic-ray.readthedocs.io): replaced binary, unary and
comparison operators (flipped signs and comparisons), numeric constants ±1 (changed axes,
off-by-one slices and ranges), ``True``/``False`` swaps (``keepdims``), ``and``/``or``
swaps, added ``not``, loops that run zero times. Only the body is mutated: the signature
(defaults, annotations) is the release's stub, not the learner's code.

Each mutant is compiled into a fresh namespace holding the kernel module's other names (the
reference and helpers re-defined there call the mutant; the module is untouched) and
graded the way the autograder grades a submission: the hidden cases of each seed in
:data:`SEEDS` (``Exercise.cases(seed, hidden=True)``) are compared with the reference's
outputs by :func:`grader.check.run_cases`, each call under the exercise's per-call time
limit. A mutant is

* **killed** when the hidden grade fails it under *every* seed (wrong values, an exception,
  or a call over the time limit: a mutant that loops forever is killed by timeout);
* **survived** when at least one seed gives it full marks (``seed-dependent`` when other
  seeds fail it: the grade catches it only by luck of the draw);
* an **error** when it does not compile or cannot be built (not counted);
* **equivalent** when it is listed in :mod:`bench.mutants_equivalent` with the reason it
  behaves like the reference within the exercise's contract (not counted).

The kill rate is ``killed / (generated - errors - equivalent)``. Mutants run in a pool of
worker processes (one per core), each mutant under a hard wall-clock limit on top of the
per-call alarm, so a mutant stuck in C code is killed with its worker.

``python -m bench mutants`` writes the per-exercise and per-week rows; the survivors are
listed in ``bench/results/mutants.json`` (``extra.survivors`` of each row).
``python -m bench.bench_mutants w01_softmax …`` prints the survivors of some exercises
without storing anything (what a content engineer runs while adding hidden cases).
"""

from __future__ import annotations

import __future__ as future
import argparse
import ast
import difflib
import functools
import importlib
import inspect
import multiprocessing
import os
import signal
import sys
import textwrap
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from typing import Any, Callable, Iterable

from bench import Row
from grader.config import fast_mode

#: Seeds of the hidden grade each mutant is run with.
SEEDS = (1, 2, 3, 4, 5)
#: Fast mode (a smoke test of the harness): a few exercises, two seeds, few mutants each.
FAST_EXERCISES = ("w01_softmax", "w05_sgd_step", "w07_conv_output_size")
FAST_SEEDS = (1, 2)
FAST_MUTANTS_PER_EXERCISE = 12
#: Seconds a mutant may run in all, on top of its calls' own limits, before its worker is
#: killed (only reached when the per-call alarm cannot interrupt, e.g. inside C code).
HARD_LIMIT_SLACK = 60.0
#: Address-space limit of a worker (bytes): a mutant that allocates wildly fails instead
#: of swapping the machine.
WORKER_MEMORY = 8 * 2**30
TOOL = "cosmic-ray"
KILLED, SURVIVED, ERROR = "killed", "survived", "error"


# --------------------------------------------------------------------------------------
# Mutants
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mutant:
    """One mutation of one function, ready to be built and graded.

    Attributes:
        exercise_id: the exercise whose hidden grade judges it.
        target: ``"module:function"`` that is mutated (the reference or the kernel it wraps).
        operator: the tool's operator name, e.g. ``"core/NumberReplacer"``.
        occurrence: the operator's occurrence index in the target's source (the tool's
            own addressing; unstable across edits, so not part of :attr:`key`).
        line: line of the mutation, counted from the ``def`` line (1).
        before: the changed source line(s), stripped.
        after: the same line(s) after the mutation.
        duplicate: index among mutants of the same exercise with the same target,
            operator, ``before`` and ``after`` (0 for the first).
        source: the whole mutated function source.
    """

    exercise_id: str
    target: str
    operator: str
    occurrence: int
    line: int
    before: str
    after: str
    duplicate: int
    source: str = field(repr=False)

    @property
    def key(self) -> str:
        """Stable name: exercise, function, operator and the change itself (no line number,
        which moves whenever the kernel's docstring does)."""
        suffix = f" #{self.duplicate + 1}" if self.duplicate else ""
        return (f"{self.exercise_id} | {self.target} | {self.operator} | "
                f"{self.before} → {self.after}{suffix}")


def _function_source(spec: str) -> tuple[Any, Callable, str]:
    module_name, _, name = spec.partition(":")
    module = importlib.import_module(module_name)
    function = inspect.unwrap(getattr(module, name))
    return module, function, textwrap.dedent(inspect.getsource(function))


def defined_by_def(spec: str) -> bool:
    """Is ``spec`` a function defined by a ``def`` at the top level of its own module? Not,
    e.g., ``penalty_and_critic_grads = gans.penalty_runner(lambda: gradient_penalty)``: a
    check harness that a course factory builds around the module's function (its source is
    the factory's inner ``def``, whose names mean something else in the kernel module)."""
    module_name, _, name = spec.partition(":")
    function = inspect.unwrap(getattr(importlib.import_module(module_name), name))
    return (inspect.isfunction(function) and function.__module__ == module_name
            and function.__qualname__ == name)


def _binding_source(spec: str) -> str:
    """The module-level statement that binds ``spec``: its ``def``, or for a function built
    by a factory (see :func:`defined_by_def`) the assignment, so that executing it in a copy
    of the module's namespace binds a function that looks its helpers up there."""
    if defined_by_def(spec):
        return _function_source(spec)[2]
    module_name, _, name = spec.partition(":")
    module_source = inspect.getsource(importlib.import_module(module_name))
    for node in ast.parse(module_source).body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.get_source_segment(module_source, node)
    raise ValueError(f"{spec}: neither a def nor a module-level assignment binds it")


def wrapped_kernel(spec: str) -> str | None:
    """The kernel a thin graded wrapper calls, e.g. ``affine_forward_output`` →
    ``affine_forward``: a body that is one ``return f(...)`` (or ``return f(...)[i]``)
    where ``f`` is a function of the same module. ``None`` for any other function."""
    if not defined_by_def(spec):
        return None
    module, _, source = _function_source(spec)
    function_def = ast.parse(source).body[0]
    body = [s for s in function_def.body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    value = body[0].value
    if isinstance(value, ast.Subscript):
        value = value.value
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
        return None
    callee = getattr(module, value.func.id, None)
    if not inspect.isfunction(callee) or callee.__module__ != module.__name__:
        return None
    return f"{module.__name__}:{value.func.id}"


@functools.lru_cache(maxsize=None)
def graded_functions() -> frozenset[str]:
    """Every function that some exercise grades: the references and the kernels that thin
    wrappers among them call."""
    from grader.check import all_exercises

    graded = set()
    for exercise in all_exercises().values():
        if not exercise.reference:  # a milestone: scored by a metric, no reference kernel
            continue
        graded.add(exercise.reference)
        graded.add(wrapped_kernel(exercise.reference) or exercise.reference)
    return frozenset(graded)


def _helpers_called(spec: str) -> list[str]:
    """Functions of the same module that ``spec``'s body names (calls or passes on); for a
    function built by a factory, those its assignment names."""
    module = importlib.import_module(spec.partition(":")[0])
    source = _binding_source(spec)
    names = {node.id for node in ast.walk(ast.parse(source).body[0])
             if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return [f"{module.__name__}:{name}" for name in sorted(names)
            if inspect.isfunction(getattr(module, name, None))
            and getattr(module, name).__module__ == module.__name__]


@functools.lru_cache(maxsize=None)
def mutation_targets(reference: str) -> tuple[str, ...]:
    """The functions whose bodies are mutated for an exercise with this reference: the
    reference, the kernel it wraps (if it is a thin wrapper), and the helpers of the same
    module they call, transitively, unless another exercise grades them (a learner's
    ``two_layer_net`` calls their own ``affine_forward``: its mutants belong to that
    exercise, while ``relu_forward``, graded nowhere else, belongs to this one).

    Helpers listed in :data:`bench.mutants_equivalent.NOT_LEARNER_CODE` (course plumbing,
    e.g. a harness that loads the check's weights into the learner's module) are left out.
    A listed reference stays first, since mutated helpers are graded through it, but
    :func:`generate` does not mutate its body."""
    inner = wrapped_kernel(reference)
    targets = [reference] + ([inner] if inner else [])
    todo = list(targets)
    while todo:
        for helper in _helpers_called(todo.pop()):
            if helper not in graded_functions() and helper not in targets:
                targets.append(helper)
                todo.append(helper)
    plumbing = not_learner_code()
    return (targets[0],) + tuple(t for t in targets[1:] if t not in plumbing)


def operators() -> list[tuple[str, Any]]:
    """The tool's core operators that take no arguments (its default set), instantiated."""
    import cosmic_ray.plugins

    result = []
    for name in cosmic_ray.plugins.operator_names():
        cls = cosmic_ray.plugins.get_operator(name)
        if name.startswith("core/") and not cls.arguments():
            result.append((name, cls()))
    return result


def _body_positions(tree) -> Callable[[tuple[int, int]], bool]:
    """A predicate: is this ``(line, column)`` in the function body and outside every
    annotation (annotations are never evaluated: ``from __future__ import annotations``)?"""
    from cosmic_ray.ast import ast_nodes

    function_def = next(n for n in ast_nodes(tree) if n.type == "funcdef")
    body_start = function_def.children[-1].start_pos
    skip = []
    for node in ast_nodes(function_def.children[-1]):
        if node.type == "annassign":
            skip.append((node.children[1].start_pos, node.children[1].end_pos))
        if node.type in ("funcdef", "lambdef"):  # nested definitions: their signatures
            for param in node.get_params():
                if param.annotation is not None:
                    skip.append((param.annotation.start_pos, param.annotation.end_pos))
            if node.type == "funcdef" and node.annotation is not None:
                skip.append((node.annotation.start_pos, node.annotation.end_pos))
    return lambda pos: pos >= body_start and not any(a <= pos < b for a, b in skip)


def _changed_lines(before: str, after: str) -> tuple[int, str, str]:
    """``(line, old text, new text)`` of the first change, whitespace collapsed."""
    def join(lines: list[str]) -> str:
        return " ⏎ ".join(" ".join(line.split()) for line in lines)

    old, new = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            return i1 + 1, join(old[i1:i2]), join(new[j1:j2])
    return 0, "", ""


def generate(exercise_id: str, reference: str, limit: int | None = None) -> list[Mutant]:
    """Every operator mutant of the body of the exercise's mutation targets."""
    from cosmic_ray.ast import ast_nodes, get_ast
    from cosmic_ray.mutating import mutate_code

    mutants: list[Mutant] = []
    seen: Counter = Counter()
    for target in mutation_targets(reference):
        # A harness reference (listed, or built by a factory): only its helpers are mutated.
        if target in not_learner_code() or not defined_by_def(target):
            continue
        _, _, source = _function_source(target)
        tree = get_ast(source)
        in_body = _body_positions(tree)
        for name, operator in operators():
            positions = [start for node in ast_nodes(tree)
                         for start, _ in operator.mutation_positions(node)]
            for occurrence, start in enumerate(positions):
                if not in_body(start):
                    continue
                mutated = mutate_code(source, operator, occurrence)
                if mutated is None or mutated == source:
                    continue
                line, before, after = _changed_lines(source, mutated)
                name_key = (target, name, before, after)
                mutants.append(Mutant(exercise_id, target, name, occurrence, line, before,
                                      after, seen[name_key], mutated))
                seen[name_key] += 1
                if limit is not None and len(mutants) >= limit:
                    return mutants
    return mutants


@functools.lru_cache(maxsize=None)
def _compiled(spec: str):
    source = _binding_source(spec)
    return compile(source, f"<{spec}>", "exec", flags=future.annotations.compiler_flag,
                   dont_inherit=True)


def build(mutant_source: str, target: str, targets: tuple[str, ...]) -> Callable:
    """Compile a mutated ``target`` into a fresh copy of its module's namespace, with the
    other ``targets`` (``targets[0]`` is the exercise's reference) re-defined there so that
    they call the mutant (a reference built by a factory is rebuilt from its assignment),
    and return the reference from it. The module itself is left
    untouched. Raises ``SyntaxError`` or whatever the definition raises."""
    module = importlib.import_module(target.partition(":")[0])
    namespace = dict(vars(module))
    code = compile(mutant_source, f"<mutant of {target}>", "exec",
                   flags=future.annotations.compiler_flag, dont_inherit=True)
    exec(code, namespace)  # noqa: S102 - the mutants are generated from our own kernels
    for other in targets:
        if other != target:
            exec(_compiled(other), namespace)  # noqa: S102
    return namespace[targets[0].partition(":")[2]]


# --------------------------------------------------------------------------------------
# Grading one mutant (inside a worker)
# --------------------------------------------------------------------------------------
class CallTimeout(BaseException):
    """Raised by the alarm inside a call that ran past the exercise's per-call limit.

    A ``BaseException``, so that neither the mutant nor :func:`run_cases` swallow it."""


def _alarm(signum, frame):  # noqa: ARG001
    raise CallTimeout


@dataclass
class Outcome:
    """How the hidden grade judged one mutant."""

    key: str
    status: str            # killed / survived / error
    how: str = ""          # killed: "wrong" / "raised" / "timeout"; error: the exception
    seeds_failed: int = 0  # seeds whose hidden grade failed the mutant
    seeds_run: int = 0
    first_failure: str = ""  # "seed 1, case …: message" of the first failing case
    seconds: float = 0.0


class Grader:
    """Grades mutants of exercises against cached hidden cases and reference outputs,
    per seed, like :class:`grader.autograde` caches them for a class."""

    def __init__(self, seeds: Iterable[int] = SEEDS, cache_size: int = 6) -> None:
        self.seeds = tuple(seeds)
        self.cache_size = cache_size
        self._cache: dict[str, list[tuple[list, list]]] = {}

    def expected(self, exercise_id: str) -> list[tuple[list, list]]:
        import numpy as np

        from grader.check import get_exercise, reference_outputs

        if exercise_id not in self._cache:
            exercise = get_exercise(exercise_id)
            if len(self._cache) >= self.cache_size:
                self._cache.pop(next(iter(self._cache)))
            per_seed = []
            with np.errstate(all="ignore"):
                for seed in self.seeds:
                    cases = exercise.cases(seed, hidden=True)
                    per_seed.append((cases, reference_outputs(exercise, cases)))
            self._cache[exercise_id] = per_seed
        return self._cache[exercise_id]

    def grade(self, key: str, exercise_id: str, function: Callable,
              call_timeout: float | None = None) -> Outcome:
        """Run ``function`` through the hidden cases of every seed.

        Stops a seed at its first failing case (the grade is then not full marks) and the
        whole mutant at its first call over the time limit (killed by timeout)."""
        import numpy as np

        from grader.check import get_exercise, in_framework, run_cases

        exercise = get_exercise(exercise_id)
        limit = exercise.timeout if call_timeout is None else call_timeout
        call = in_framework(function, exercise.framework)
        outcome = Outcome(key, SURVIVED)
        start = time.monotonic()
        previous = signal.signal(signal.SIGALRM, _alarm)
        try:
            for seed, (cases, expected) in zip(self.seeds, self.expected(exercise_id)):
                outcome.seeds_run += 1
                for case, want in zip(cases, expected):
                    try:
                        signal.setitimer(signal.ITIMER_REAL, limit)
                        with np.errstate(all="ignore"), warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            result = run_cases(exercise, call, [case], [want])
                    except CallTimeout:
                        outcome.seeds_failed = len(self.seeds)
                        outcome.status, outcome.how = KILLED, "timeout"
                        outcome.first_failure = (f"seed {seed}, case {case.name}: a call ran "
                                                 f"over {limit:g} s")
                        return outcome
                    finally:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                    if not result.passed:
                        failed = result.cases[0]
                        outcome.seeds_failed += 1
                        if not outcome.first_failure:
                            outcome.first_failure = f"seed {seed}, {failed.name}: {failed.message}"
                            outcome.how = "raised" if failed.message.startswith("raised ") \
                                else "wrong"
                        break
        finally:
            signal.signal(signal.SIGALRM, previous)
            outcome.seconds = time.monotonic() - start
        if outcome.seeds_failed == len(self.seeds):
            outcome.status = KILLED
        return outcome

    def grade_source(self, key: str, exercise_id: str, source: str, target: str,
                     targets: tuple[str, ...] | list[str],
                     call_timeout: float | None = None) -> Outcome:
        """Build a mutated function from its source and grade it (error if it cannot)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                function = build(source, target, tuple(targets))
        except Exception as error:  # noqa: BLE001 - a mutant that does not compile
            return Outcome(key, ERROR, how=f"{type(error).__name__}: {error}")
        return self.grade(key, exercise_id, function, call_timeout)


# --------------------------------------------------------------------------------------
# A pool of worker processes with a hard limit per mutant
# --------------------------------------------------------------------------------------
def _worker(connection, seeds: tuple[int, ...], memory: int | None) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import resource

    import torch

    from grader.check import all_exercises

    torch.set_num_threads(1)
    all_exercises()  # import every check module now, not on the clock of a mutant
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    grader = Grader(seeds)
    connection.send(READY)
    while True:
        task = connection.recv()
        if task is None:
            return
        connection.send(grader.grade_source(**task))


READY = "ready"


@dataclass
class _Slot:
    process: Any
    connection: Any
    ready: bool = False
    task: dict | None = None
    deadline: float = 0.0


class Pool:
    """``jobs`` worker processes grading mutants; a worker that overruns a mutant's hard
    limit is killed (the mutant counts as killed by timeout) and replaced. A mutant's clock
    starts when it is handed to a worker that has finished starting up."""

    def __init__(self, jobs: int, seeds: tuple[int, ...], memory: int | None = WORKER_MEMORY):
        self.context = multiprocessing.get_context("spawn")
        self.seeds, self.memory = seeds, memory
        self.slots = [self._start() for _ in range(max(1, jobs))]

    def _start(self) -> _Slot:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker, args=(child, self.seeds, self.memory),
                                       daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    def run(self, tasks: list[dict], hard_limit: Callable[[dict], float],
            progress: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
        pending = list(reversed(tasks))
        outcomes: list[Outcome] = []

        def done(slot: _Slot, outcome: Outcome) -> None:
            slot.task = None
            outcomes.append(outcome)
            progress(outcome)

        while pending or any(s.task for s in self.slots):
            for slot in self.slots:
                if slot.ready and slot.task is None and pending:
                    slot.task = pending.pop()
                    slot.deadline = time.monotonic() + hard_limit(slot.task)
                    slot.connection.send(slot.task)
            waiting = {s.connection: s for s in self.slots if s.task or not s.ready}
            answered = wait(list(waiting), timeout=1.0)
            for connection in answered:
                slot = waiting[connection]
                try:
                    message = connection.recv()
                except EOFError:  # the worker died (e.g. a crash in native code)
                    if slot.task is None:
                        raise RuntimeError("a mutant-grading worker died while starting "
                                           f"(exit code {slot.process.exitcode})") from None
                    self._replace(slot)
                    done(slot, Outcome(slot.task["key"], KILLED, "raised", len(self.seeds),
                                       0, "the worker process died"))
                    continue
                if message == READY:
                    slot.ready = True
                else:
                    done(slot, message)
            now = time.monotonic()
            for slot in self.slots:
                if slot.task and slot.connection not in answered and now > slot.deadline:
                    self._replace(slot)
                    done(slot, Outcome(slot.task["key"], KILLED, "timeout", len(self.seeds), 0,
                                       "ran past the hard limit; its worker was killed"))
        return outcomes

    def _replace(self, slot: _Slot) -> None:
        slot.process.kill()
        slot.process.join()
        fresh = self._start()
        slot.process, slot.connection, slot.ready = fresh.process, fresh.connection, False

    def close(self) -> None:
        for slot in self.slots:
            try:
                slot.connection.send(None)
            except OSError:
                pass
            slot.process.join(timeout=10)
            if slot.process.is_alive():
                slot.process.kill()


# --------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------
def equivalents() -> dict[str, str]:
    from bench.mutants_equivalent import EQUIVALENT

    return EQUIVALENT


def not_learner_code() -> dict[str, str]:
    from bench.mutants_equivalent import NOT_LEARNER_CODE

    return NOT_LEARNER_CODE


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{TOOL} {version(TOOL)}"
    except PackageNotFoundError:
        return TOOL


def week_of(exercise_id: str) -> str:
    return f"week{exercise_id[1:3]}"


def run(exercise_ids: Iterable[str] | None = None, seeds: tuple[int, ...] = SEEDS,
        limit: int | None = None, jobs: int | None = None, progress: bool = True
        ) -> tuple[dict[str, list[Mutant]], dict[str, Outcome]]:
    """Generate and grade the mutants of some exercises (default: all)."""
    from tqdm.auto import tqdm

    from grader.check import all_exercises

    exercises = all_exercises()
    # Milestones are scored by a metric and have no reference kernel to mutate.
    ids = [i for i in (exercise_ids or exercises) if exercises[i].reference]
    mutants = {i: generate(i, exercises[i].reference, limit) for i in ids}
    tasks = [{"key": m.key, "exercise_id": i, "source": m.source, "target": m.target,
              "targets": mutation_targets(exercises[i].reference)}
             for i in ids for m in mutants[i]]

    def hard(task: dict) -> float:
        return len(seeds) * exercises[task["exercise_id"]].timeout + HARD_LIMIT_SLACK

    pool = Pool(jobs or os.cpu_count() or 1, seeds)
    try:
        with tqdm(total=len(tasks), desc="mutants", unit="mutant", disable=not progress,
                  mininterval=2.0) as bar:
            outcomes = pool.run(tasks, hard, lambda outcome: bar.update())
    finally:
        pool.close()
    return mutants, {o.key: o for o in outcomes}


@dataclass
class Tally:
    generated: int = 0
    errors: int = 0
    equivalent: int = 0
    killed: int = 0
    killed_by: Counter = field(default_factory=Counter)
    survived: int = 0
    seed_dependent: int = 0
    seconds: float = 0.0
    survivors: list[dict] = field(default_factory=list)
    wrongly_equivalent: list[str] = field(default_factory=list)

    @property
    def counted(self) -> int:
        return self.generated - self.errors - self.equivalent

    @property
    def rate(self) -> float | None:
        return 100.0 * self.killed / self.counted if self.counted else None

    def add(self, mutant: Mutant, outcome: Outcome, equivalent: dict[str, str]) -> None:
        self.generated += 1
        self.seconds += outcome.seconds
        if outcome.status == ERROR:
            self.errors += 1
        elif outcome.status == KILLED:  # listed as equivalent or not: the grade tells apart
            self.killed += 1
            self.killed_by[outcome.how] += 1
            if mutant.key in equivalent:
                self.wrongly_equivalent.append(mutant.key)
        elif mutant.key in equivalent:
            self.equivalent += 1
        else:
            self.survived += 1
            self.seed_dependent += outcome.seeds_failed > 0
            self.survivors.append({"key": mutant.key, "line": mutant.line,
                                   "seeds_failed": f"{outcome.seeds_failed}/{outcome.seeds_run}",
                                   **({"first_failure": outcome.first_failure}
                                      if outcome.seeds_failed else {})})

    def merge(self, other: "Tally") -> None:
        for name in ("generated", "errors", "equivalent", "killed", "survived",
                     "seed_dependent", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.killed_by.update(other.killed_by)
        self.survivors += other.survivors
        self.wrongly_equivalent += other.wrongly_equivalent

    def extra(self, with_survivors: bool = True) -> dict:
        data = {k: v for k, v in asdict(self).items() if k != "survivors"}
        data["killed_by"] = dict(self.killed_by)
        data["counted"] = self.counted
        if with_survivors:
            data["survivors"] = self.survivors
        return data

    def notes(self) -> str:
        by = ", ".join(f"{n} {how}" for how, n in sorted(self.killed_by.items()))
        text = (f"{self.generated} generated, {self.errors} do not build, {self.equivalent} "
                f"equivalent, {self.killed} killed ({by or 'none'}), {self.survived} survived")
        if self.seed_dependent:
            text += f" ({self.seed_dependent} caught by some seeds only)"
        if self.wrongly_equivalent:
            text += (f"; {len(self.wrongly_equivalent)} listed as equivalent but killed: "
                     "fix bench/mutants_equivalent.py")
        return text


def tally(mutants: dict[str, list[Mutant]], outcomes: dict[str, Outcome],
          equivalent: dict[str, str]) -> dict[str, Tally]:
    result: dict[str, Tally] = {}
    for exercise_id, items in mutants.items():
        t = result.setdefault(exercise_id, Tally())
        for mutant in items:
            t.add(mutant, outcomes[mutant.key], equivalent)
    return result


def rows(tallies: dict[str, Tally], seconds: float, seeds: tuple[int, ...],
         stale: list[str]) -> list[Row]:
    """Per-exercise rows, then one per week and the course total (target on weeks)."""
    out: list[Row] = []
    weeks: dict[str, Tally] = defaultdict(Tally)
    for exercise_id, t in tallies.items():
        weeks[week_of(exercise_id)].merge(t)
        out.append(Row(f"{exercise_id}: operator mutants killed by the hidden grade",
                       t.rate, "% killed", oracle="non-equivalent mutants",
                       oracle_value=t.counted, seconds=t.seconds, notes=t.notes(),
                       extra=t.extra()))
    total = Tally()
    for week, t in sorted(weeks.items()):
        total.merge(t)
        met = None if t.rate is None else t.rate >= 99.0
        out.append(Row(f"{week}: operator mutants killed by the hidden grade", t.rate,
                       "% killed", oracle="non-equivalent mutants", oracle_value=t.counted,
                       target="≥ 99 % (issue 19)", met=met, seconds=t.seconds,
                       notes=t.notes(),
                       extra=t.extra(with_survivors=False)))
    notes = (f"{total.notes()}; operators: {tool_version()} core set, on the body of each "
             "reference and of its own helpers; hidden grade under seeds "
             f"{', '.join(map(str, seeds))} (killed = fails under every seed)")
    if stale:
        notes += f"; {len(stale)} equivalent entries match no mutant (stale): {stale}"
    out.append(Row("all weeks: operator mutants killed by the hidden grade", total.rate,
                   "% killed", oracle="non-equivalent mutants", oracle_value=total.counted,
                   seconds=seconds, notes=notes, extra=total.extra(with_survivors=False)))
    return out


def bench_mutation_score() -> list[Row]:
    try:
        import cosmic_ray  # noqa: F401
    except ImportError:
        if fast_mode():  # the harness smoke test where the tool is not installed (CI)
            return [Row("operator mutants: skipped, cosmic-ray is not installed", None, "",
                        notes="pip install -r requirements-bench.txt "
                              "(make bench installs it)")]
        raise SystemExit("bench mutants needs cosmic-ray: `pip install -r "
                         "requirements-bench.txt` (`make bench TOPICS=mutants` does it)")
    fast = fast_mode()
    seeds = FAST_SEEDS if fast else SEEDS
    start = time.monotonic()
    mutants, outcomes = run(FAST_EXERCISES if fast else None, seeds,
                            FAST_MUTANTS_PER_EXERCISE if fast else None)
    equivalent = equivalents()
    keys = {m.key for items in mutants.values() for m in items}
    stale = [] if fast else sorted(set(equivalent) - keys)
    return rows(tally(mutants, outcomes, equivalent), time.monotonic() - start, seeds, stale)


BENCHMARKS = [bench_mutation_score]


def main(argv: list[str] | None = None) -> int:
    """Print the surviving non-equivalent mutants of some exercises (nothing is stored)."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_mutants",
                                     description=main.__doc__)
    parser.add_argument("exercises", nargs="+",
                        help="exercise ids, e.g. w01_softmax, or weeks, e.g. week03")
    parser.add_argument("--seeds", type=int, default=len(SEEDS), help="number of seeds")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--source", action="store_true", help="print each survivor's source")
    args = parser.parse_args(argv)
    seeds = tuple(range(1, args.seeds + 1))
    from grader.check import all_exercises

    ids = [i for name in args.exercises
           for i in ([e for e in all_exercises() if week_of(e) == name]
                     if name.startswith("week") else [name])]
    mutants, outcomes = run(ids, seeds, jobs=args.jobs)
    equivalent = equivalents()
    for exercise_id, t in tally(mutants, outcomes, equivalent).items():
        print(f"{exercise_id}: {t.notes()}; kill rate "
              f"{'n/a' if t.rate is None else f'{t.rate:.1f} %'}")
        by_key = {m.key: m for m in mutants[exercise_id]}
        for survivor in t.survivors:
            print(f"  survived ({survivor['seeds_failed']} seeds fail it): {survivor['key']}")
            if args.source:
                print(textwrap.indent(by_key[survivor["key"]].source, "    | "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
