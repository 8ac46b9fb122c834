"""A differential search in the hidden grade: further inputs drawn within each contract.

The fixed cases (public and hidden) test what their authors thought of. For exercises whose
contract is easy to state (elementwise and row-wise functions of Weeks 1–4, layers), the
grader also draws further inputs from a *property strategy* (shapes, scales, dtypes within
the contract) with Hypothesis, calls the learner's function on them (in the sandbox, through
the same stand-in as the fixed cases), compares with the reference kernel here, and, when
one differs, lets Hypothesis shrink it: the feedback names the **smallest** failing input
found and what differs — never the reference output.

Budget: Hypothesis draws at most half the budget (then stops at the first failure and
shrinks it with the rest); at most :data:`BUDGET_CALLS` calls of the learner's function per exercise, search
and shrinking together (about half a second per exercise on the course's 2-core grading machine, Hypothesis' own work included); the
bookkeeping is :class:`Budget`, and a call beyond it is never made. The draw is seeded by
the submission's seed (and the exercise id), so a regrade of an unchanged submission finds
the same input — in any process, whatever it has imported (:class:`ReproducibleProvider`),
with the Hypothesis version ``requirements.txt`` pins. The search runs only when every fixed case passed (a bug they show is not
charged twice, and a wrong function costs no search time); it is then one more case of the
exercise: a failure costs ``1/(n+1)`` of its points.

Each exercise declares its strategy by name (``Exercise.strategy =
"grader.differential:rows"``); a strategy returns a Hypothesis strategy of argument tuples.
This module lives in the course library (the grader imports it; the strategies of the week
tests are in ``tests/strategies.py``).
"""

from __future__ import annotations

import random
import threading
import zlib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from grader import threadsafe_ast
from grader.check import (Case, CaseResult, Exercise, _copy_args, _import_attribute, as_outputs,
                          in_framework, run_cases)

#: Most calls of the learner's function one exercise's search may make (search + shrink).
BUDGET_CALLS = 20
#: One search at a time in a process (grading threads share it): Hypothesis' engine keeps
#: per-process state and is not documented as thread-safe. Its own ``ast`` parses (describing
#: strategies) hold the process's ``ast`` lock (:mod:`grader.threadsafe_ast`) one at a time,
#: so another thread reading results or parsing a notebook waits for a parse, not a search.
_SEARCH_LOCK = threading.Lock()


def _search_lock() -> threading.Lock:
    threadsafe_ast.install()
    return _SEARCH_LOCK


#: How a search case is named in the feedback.
CASE_NAME = "differential search (random inputs within the contract)"


#: The name the course's Hypothesis provider is registered under (``settings(backend=...)``).
_BACKEND = "course-reproducible"


def _register_backend() -> None:
    """Register :class:`ReproducibleProvider` with Hypothesis (once; under the search lock)."""
    from hypothesis.internal.conjecture.providers import AVAILABLE_PROVIDERS

    AVAILABLE_PROVIDERS.setdefault(_BACKEND, f"{__name__}.ReproducibleProvider")


def _provider_class():
    from hypothesis.internal.conjecture.providers import (GLOBAL_CONSTANTS, HypothesisProvider,
                                                          choice_constraints_key,
                                                          choice_permitted)

    class ReproducibleProvider(HypothesisProvider):
        """Hypothesis' own provider, less the constants it harvests from every *local* module
        that happens to be imported (``_get_local_constants``): which modules those are
        depends on the process (a notebook's imports, the test order, the checkout's path), so
        the same seed drew different inputs in CI than here, and a regrade of an unchanged
        submission could find another input. Only Hypothesis' fixed global constants remain
        (cached here: its own cache mixes in the local ones)."""

        _pools: dict = {}

        def _maybe_draw_constant(self, choice_type, constraints, *, p: float = 0.05):
            if self._random.random() > p:
                return None
            key = (choice_type, choice_constraints_key(choice_type, constraints))
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = tuple(
                    choice for choice in GLOBAL_CONSTANTS.set_for_type(choice_type)
                    if choice_permitted(choice, constraints))
            return self._random.choice(pool) if pool else None

    return ReproducibleProvider


def __getattr__(name: str):
    # Hypothesis imports the provider by its dotted name; built lazily so that importing this
    # module does not import Hypothesis' internals.
    if name == "ReproducibleProvider":
        cls = _provider_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


class _OutOfBudget(BaseException):
    """Raised through Hypothesis when the budget is spent (not an ``Exception``: Hypothesis
    lets it through instead of shrinking it as a failure)."""


@dataclass
class Budget:
    """Calls of the learner's function allowed and made by one search."""

    calls: int = BUDGET_CALLS
    made: int = 0
    examples: int = 0  # inputs drawn (those the reference rejects cost no call)

    @property
    def left(self) -> int:
        return self.calls - self.made


# --------------------------------------------------------------------------------------
# Strategies (each returns a Hypothesis strategy of argument tuples)
# --------------------------------------------------------------------------------------
def _floats(bound: float):
    from hypothesis import strategies as st

    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=64)


def _shape(min_dims: int = 1, max_dims: int = 3, max_side: int = 5):
    from hypothesis.extra.numpy import array_shapes

    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def _array(shape, bound: float = 1e3):
    from hypothesis.extra.numpy import arrays

    return arrays(np.float64, shape, elements=_floats(bound))


def rows():
    """``(x,)``: float64, 1 to 3 axes of 1 to 5, values up to ±1000 (softmax territory:
    rows of one column, overflow of an unshifted ``exp``)."""
    from hypothesis import strategies as st

    return st.tuples(_shape().flatmap(_array))


def elementwise():
    """``(x,)``: float64 of any small shape, values up to ±1000 (``exp`` overflows at 710)."""
    return rows()


def upstream_and_rows():
    """``(dout, x)``: an upstream gradient and an input of the same shape."""
    from hypothesis import strategies as st

    return _shape().flatmap(lambda shape: st.tuples(_array(shape, 1e2), _array(shape)))


def logits_and_labels():
    """``(logits (N, C), y (N,))``: labels in ``[0, C)``, logits up to ±1000."""
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    def build(nc):
        n, c = nc
        return st.tuples(_array((n, c)), arrays(np.int64, (n,), elements=st.integers(0, c - 1)))

    return st.tuples(st.integers(1, 5), st.integers(1, 5)).flatmap(build)


def affine():
    """``(x (N, d_1..d_k), w (D, M), b (M,))``: 1 to 3 feature axes, values up to ±10."""
    from hypothesis import strategies as st

    def build(dims):
        n, feature_shape, m = dims
        d = int(np.prod(feature_shape))
        return st.tuples(_array((n, *feature_shape), 10), _array((d, m), 10), _array((m,), 10))

    return st.tuples(st.integers(1, 4), _shape(1, 3, 3), st.integers(1, 4)).flatmap(build)


def _between(low: float, high: float, exclude_high: bool = False):
    """A float in ``[low, high]`` (or ``[low, high)``), Hypothesis' shrinking towards ``low``."""
    from hypothesis import strategies as st

    return st.floats(low, high, exclude_max=exclude_high, allow_nan=False, width=64)


def _nonnegative(shape, bound: float = 1e3):
    from hypothesis.extra.numpy import arrays

    return arrays(np.float64, shape, elements=_between(0.0, bound))


# Week 5: optimizer steps. The hyperparameters are drawn too: a step that ignores one (a
# hard-coded default) or mixes two up passes fixed cases that use the defaults.
def momentum():
    """``(w, dw, velocity, lr, momentum)``: any small shape, ``lr`` in [0, 1], ``μ`` in
    [0, 1) (also the form of ``nesterov_step``)."""
    from hypothesis import strategies as st

    return _shape().flatmap(lambda shape: st.tuples(
        _array(shape), _array(shape, 1e2), _array(shape, 1e2), _between(0.0, 1.0),
        _between(0.0, 1.0, exclude_high=True)))


def rmsprop():
    """``(w, dw, square_avg ≥ 0, lr, alpha in [0.5, 1), eps in [1e-10, 1e-2])``.

    ``alpha`` stays at 0.5 or more, as in training: near 0, the correct rewrite
    ``s + (1 - α)(dw² - s)`` loses ``dw²`` to cancellation when ``s ≫ dw²``."""
    from hypothesis import strategies as st

    return _shape().flatmap(lambda shape: st.tuples(
        _array(shape), _array(shape, 1e2), _nonnegative(shape, 1e4), _between(0.0, 1.0),
        _between(0.5, 1.0, exclude_high=True), _between(1e-10, 1e-2)))


def adam():
    """``(w, dw, m, v ≥ 0, t ≥ 1, lr, beta1, beta2, eps)``: the step number and both decays
    drawn (bias correction matters most at small ``t``), decays in training's ranges
    (``beta1`` in [0.5, 0.999], ``beta2`` in [0.9, 0.9999]: see :func:`rmsprop`)."""
    from hypothesis import strategies as st

    return _shape().flatmap(lambda shape: st.tuples(
        _array(shape), _array(shape, 1e2), _array(shape, 1e2), _nonnegative(shape, 1e4),
        st.integers(1, 10_000), _between(0.0, 1.0), _between(0.5, 0.999),
        _between(0.9, 0.9999), _between(1e-10, 1e-2)))


# Week 6: dropout with a fixed mask, normalization layers.
def dropout():
    """``(x, u, p, train)``: ``u`` uniform in [0, 1) (draws land exactly on ``p``: the
    ``u >= p`` boundary), ``p`` in [0, 0.99], both modes."""
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    p = st.sampled_from([0.0, 0.25, 0.5, 0.75]) | _between(0.0, 0.99)
    return _shape().flatmap(lambda shape: st.tuples(
        _array(shape), arrays(np.float64, shape, elements=st.sampled_from([0.0, 0.25, 0.5])
                              | _between(0.0, 1.0, exclude_high=True)), p, st.booleans()))


def _features(min_rows: int = 2):
    """``(N, D)`` with ``N`` in [min_rows, 5], ``D`` in [1, 4]."""
    from hypothesis import strategies as st

    return st.tuples(st.integers(min_rows, 5), st.integers(1, 4))


#: Normalization layers: inputs up to ±100 (forward) and ±10 (backward), ``eps`` from 1e-5.
#: A column of equal values (Hypothesis draws many) has variance 0, and the rounding error
#: of its mean, divided by ``√eps``, is what two correct implementations may differ by: at
#: these scales it stays far below ``atol``. Large offsets are the fixed hidden cases' job.
_EPS = (1e-5, 1e-3, 1e-4)


def batchnorm():
    """``(x (N, D), gamma, beta, running_mean, running_var ≥ 0, train, momentum, eps)``."""
    from hypothesis import strategies as st

    def build(shape):
        d = shape[1:]
        return st.tuples(_array(shape, 1e2), _array(d, 10.0), _array(d, 10.0),
                         _array(d, 1e2), _nonnegative(d, 1e2), st.booleans(),
                         _between(0.0, 1.0), st.sampled_from(_EPS))

    return _features().flatmap(build)


def norm_backward():
    """``(dout (N, D), x (N, D), gamma (D,), eps)``: batch norm's and layer norm's backward."""
    from hypothesis import strategies as st

    return _features().flatmap(lambda shape: st.tuples(
        _array(shape, 10.0), _array(shape, 10.0), _array(shape[1:], 10.0),
        st.sampled_from(_EPS)))


def layernorm():
    """``(x (N, D), gamma, beta, eps)``: rows of one feature (variance 0) included."""
    from hypothesis import strategies as st

    return _features(1).flatmap(lambda shape: st.tuples(
        _array(shape, 1e2), _array(shape[1:], 10.0), _array(shape[1:], 10.0),
        st.sampled_from(_EPS)))


def layernorm_backward():
    """``(dout, x, gamma, eps)`` with ``N`` from 1."""
    from hypothesis import strategies as st

    return _features(1).flatmap(lambda shape: st.tuples(
        _array(shape, 10.0), _array(shape, 10.0), _array(shape[1:], 10.0),
        st.sampled_from(_EPS)))


def _maps(min_rows: int = 1):
    """``(N, C, H, W)``: each side 1 to 3 (``N·H·W >= 2`` for batch statistics)."""
    from hypothesis import strategies as st

    return st.tuples(st.integers(min_rows, 2), st.integers(1, 3), st.integers(1, 3),
                     st.integers(1, 3)).filter(lambda s: s[0] * s[2] * s[3] >= 2)


def spatial_batchnorm():
    """``(x (N, C, H, W), gamma, beta, running_mean, running_var, train, momentum, eps)``."""
    from hypothesis import strategies as st

    def build(shape):
        c = (shape[1],)
        return st.tuples(_array(shape, 1e2), _array(c, 10.0), _array(c, 10.0), _array(c, 1e2),
                         _nonnegative(c, 1e2), st.booleans(), _between(0.0, 1.0),
                         st.sampled_from(_EPS))

    return _maps().flatmap(build)


def spatial_norm_backward():
    """``(dout, x (N, C, H, W), gamma (C,), eps)``."""
    from hypothesis import strategies as st

    return _maps().flatmap(lambda shape: st.tuples(
        _array(shape, 10.0), _array(shape, 10.0), _array((shape[1],), 10.0),
        st.sampled_from(_EPS)))


# Week 7: convolution and pooling. Geometry first (the window fits the padded input), then
# the arrays; values small and often tied (Hypothesis draws many zeros).
def _conv_geometry():
    """``(N, C, H, W, F, kh, kw, stride, pad)`` with the kernel inside the padded input."""
    from hypothesis import strategies as st

    def build(shape):
        n, c, h, w, f, stride, pad = shape
        return st.tuples(st.integers(1, h + 2 * pad), st.integers(1, w + 2 * pad)).map(
            lambda k: (n, c, h, w, f, k[0], k[1], stride, pad))

    return st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5),
                     st.integers(1, 3), st.integers(1, 3), st.integers(0, 2)).flatmap(build)


def _conv_out(n, f, h, w, kh, kw, stride, pad):
    return n, f, (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1


def conv_forward():
    """``(x, w, b, stride, pad)``: any fitting geometry, values up to ±10."""
    from hypothesis import strategies as st

    return _conv_geometry().flatmap(lambda g: st.tuples(
        _array(g[:4], 10.0), _array((g[4], g[1], g[5], g[6]), 10.0), _array((g[4],), 10.0),
        st.just(g[7]), st.just(g[8])))


def conv_backward():
    """``(dout, x, w, b, stride, pad)``: ``dout`` of the forward pass's output shape."""
    from hypothesis import strategies as st

    def build(g):
        n, c, h, w, f, kh, kw, stride, pad = g
        return st.tuples(_array(_conv_out(n, f, h, w, kh, kw, stride, pad), 10.0),
                         _array((n, c, h, w), 10.0), _array((f, c, kh, kw), 10.0),
                         _array((f,), 10.0), st.just(stride), st.just(pad))

    return _conv_geometry().flatmap(build)


def _pool_geometry():
    """``((N, C, H, W), pool, stride)`` with the window inside the input."""
    from hypothesis import strategies as st

    def build(t):
        pool, stride, n, c, extra_h, extra_w = t
        return ((n, c, pool + extra_h, pool + extra_w), pool, stride)

    return st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(1, 2),
                     st.integers(0, 3), st.integers(0, 3)).map(build)


def _pool_out(shape, pool, stride):
    return shape[:2] + tuple((side - pool) // stride + 1 for side in shape[2:])


def _tied(shape):
    """Values in a few levels (ties inside windows, as after a ReLU) or anywhere in ±10."""
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    return arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, -1.0])
                  | _floats(10.0))


def maxpool_forward():
    """``(x, pool, stride)``: overlapping, tiling and gapped windows; tied values."""
    from hypothesis import strategies as st

    return _pool_geometry().flatmap(lambda g: st.tuples(_tied(g[0]), st.just(g[1]),
                                                        st.just(g[2])))


def maxpool_backward():
    """``(dout, x, pool, stride)``: ties go to the first maximum of a window."""
    from hypothesis import strategies as st

    return _pool_geometry().flatmap(lambda g: st.tuples(
        _array(_pool_out(*g), 10.0), _tied(g[0]), st.just(g[1]), st.just(g[2])))


def _order():
    """The ``p`` of Lp pooling: 1, 2, a large power, or any value in [1, 50]."""
    from hypothesis import strategies as st

    return st.sampled_from([1.0, 2.0, 3.0, 200.0]) | _between(1.0, 50.0)


def lp_pool_forward():
    """``(x, p, pool, stride)``: windows of zeros, ties, large ``p``."""
    from hypothesis import strategies as st

    return _pool_geometry().flatmap(lambda g: st.tuples(_tied(g[0]), _order(), st.just(g[1]),
                                                        st.just(g[2])))


def lp_pool_backward():
    """``(dout, x, p, pool, stride)``."""
    from hypothesis import strategies as st

    return _pool_geometry().flatmap(lambda g: st.tuples(
        _array(_pool_out(*g), 10.0), _tied(g[0]), _order(), st.just(g[1]), st.just(g[2])))


# --------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------
def _render(name: str, value) -> str:
    if isinstance(value, np.ndarray):
        body = np.array2string(value, precision=6, threshold=40, separator=", ")
        return f"{name}=array({body}, dtype={value.dtype})".replace("\n", " ")
    return f"{name}={value!r}"


def describe_input(exercise: Exercise, args: tuple, names: Sequence[str] = ()) -> str:
    """``softmax(x=array([[701.]], dtype=float64))``: the input, never an output."""
    parts = [_render(names[i] if i < len(names) else f"arg{i + 1}", a)
             for i, a in enumerate(args)]
    return f"{exercise.function}({', '.join(parts)})"


def search(exercise: Exercise, function: Callable, seed: int,
           arg_names: Sequence[str] = (), budget: Budget | None = None) -> CaseResult:
    """Search for an input within ``exercise.strategy`` on which ``function`` differs from
    the reference; return one case: passed, or failed with the smallest such input found.

    ``function`` is the learner's (local, or the sandboxed stand-in of the hidden grade).
    At most ``budget.calls`` calls of it are made (``budget`` is filled in as it goes).
    """
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample, Unsatisfiable

    budget = budget or Budget()
    with _search_lock():  # strategies are built under the same lock as searches
        _register_backend()
        strategy = _import_attribute(exercise.strategy)()
    reference = in_framework(exercise.reference_function(), exercise.framework)
    seen: dict[bytes, bool] = {}  # an input asked about again costs no call
    smallest: list = [None, None, ""]  # (size key, args, message) of the smallest failure

    def key(args: tuple) -> bytes:
        return repr([(a.shape, a.dtype.str, a.tobytes()) if isinstance(a, np.ndarray) else a
                     for a in args]).encode()

    def size(args: tuple) -> tuple:
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        scalars = [abs(float(a)) for a in args if isinstance(a, (bool, int, float))]
        return (sum(a.size for a in arrays), sum(a.ndim for a in arrays),
                float(sum(np.abs(a.astype(np.float64)).sum() for a in arrays)), sum(scalars))

    def fails(args: tuple) -> bool:
        budget.examples += 1
        known = seen.get(key(args))
        if known is not None:
            return known
        if budget.left <= 0:
            raise _OutOfBudget  # nothing more is called, and Hypothesis stops here
        case = Case("differential", tuple(args))
        try:
            ref_args, ref_kwargs = _copy_args(case)
            with np.errstate(all="ignore"):
                expected = as_outputs(reference(*ref_args, **ref_kwargs))
        except Exception:  # outside the reference's contract after all: not the learner's
            seen[key(args)] = False
            return False
        budget.made += 1
        with np.errstate(all="ignore"):
            result = run_cases(exercise, function, [case], [expected], arg_names=arg_names)
        seen[key(args)] = not result.passed
        if not result.passed and (smallest[0] is None or size(args) < smallest[0]):
            message = result.cases[0].message if result.cases else result.note
            smallest[:] = [size(args), tuple(args), message]
        return not result.passed

    options = settings(database=None, max_examples=max(1, budget.calls // 2), deadline=None,
                       backend=_BACKEND,
                       phases=(Phase.generate, Phase.shrink), derandomize=False,
                       suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    salt = zlib.crc32(exercise.id.encode())
    try:
        with _search_lock():
            find(strategy, fails, settings=options,
                 random=random.Random((int(seed) * 1_000_003 + salt) % 2**32))
    except (NoSuchExample, Unsatisfiable, _OutOfBudget):
        pass
    except Exception:  # noqa: BLE001 - e.g. Hypothesis' Flaky when the budget ran out
        pass          # while it replayed; what was found (below) stands
    name = f"{CASE_NAME}: {budget.made} inputs"
    if smallest[1] is None:
        return CaseResult(name, True, "")
    return CaseResult(name, False, "smallest failing input found: "
                      f"{describe_input(exercise, smallest[1], arg_names)} — {smallest[2]}")
