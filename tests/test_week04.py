"""Week 4: backprop and layer kernels against torch.autograd and central differences.

Oracles, never the kernels themselves: ``torch.autograd`` (relative error ≤ 1e-10 in
float64), central differences (relative error ≤ 1e-7) and, for the graph, the standard
library's ``graphlib`` for the order plus PyTorch for the gradients.
"""

from __future__ import annotations

import graphlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.check import numerical_gradient
from answers.kernels import week04 as k
from tests.conftest import exercise_param
from tests.strategies import dags

AUTOGRAD_TOL = 1e-10
NUMERIC_TOL = 1e-7
SEEDS = range(4)


def leaf(array: np.ndarray) -> torch.Tensor:
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


def assert_matches(mine, theirs, atol: float = 1e-14) -> None:
    """Relative error ≤ 1e-10, except for values at float64 rounding level (|v| ≲ atol):
    a saturated tanh's ``1 - t²`` is pure rounding noise in any implementation."""
    assert np.shape(mine) == np.shape(theirs)
    np.testing.assert_allclose(mine, theirs, rtol=AUTOGRAD_TOL, atol=atol)


def gradient_check(f, x: np.ndarray, analytic: np.ndarray, tolerance: float = NUMERIC_TOL):
    """Central differences (h = 1e-5) against ``analytic``: ``‖a - n‖ / (‖a‖ + ‖n‖)``.

    Normwise, because an entry of size 1e-5 carries the differences' absolute error of
    ~1e-11 as a relative error of 1e-6 whatever the analytic gradient's quality.
    """
    numeric = numerical_gradient(f, x)
    assert analytic.shape == numeric.shape
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    error = np.linalg.norm(analytic - numeric) / scale
    assert error <= tolerance, f"relative error {error:.3g} > {tolerance:g}"


def sizes(max_side: int = 6):
    return st.tuples(*(st.integers(1, max_side) for _ in range(4)), st.integers(0, 2**16))


# Backpropagation on a graph ------------------------------------------------------------
def torch_graph_gradients(n_nodes, edges, local_grads, root) -> np.ndarray:
    """Each node is ``v_j = Σ_{edges i→j} local · v_i`` (its local derivatives are exactly
    the edge values); PyTorch differentiates ``v_root`` with respect to every node."""
    inputs = {j: [] for j in range(n_nodes)}
    for (i, j), local in zip(edges, local_grads):
        inputs[int(j)].append((int(i), float(local)))
    order = graphlib.TopologicalSorter({j: {i for i, _ in ins} for j, ins in inputs.items()})
    values = {}
    for node in order.static_order():
        if inputs[node]:
            values[node] = sum(local * values[i] for i, local in inputs[node])
            values[node].retain_grad()
        else:
            values[node] = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    values[root].backward()
    return np.array([0.0 if values[j].grad is None else values[j].grad.item()
                     for j in range(n_nodes)])


@pytest.mark.w04_backprop_graph
@given(dags())
@settings(max_examples=60, deadline=None)
def test_backprop_graph_matches_torch(graph):
    np.testing.assert_allclose(k.backprop_graph(*graph), torch_graph_gradients(*graph),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.w04_backprop_graph
@given(dags())
@settings(max_examples=60, deadline=None)
def test_topological_order_puts_inputs_first(graph):
    n_nodes, edges, _, root = graph
    order = k.topological_order(n_nodes, edges, root)
    position = {node: p for p, node in enumerate(order)}
    assert order[-1] == root and len(position) == len(order)
    for i, j in edges:
        if j in position:  # an ancestor of the root: its inputs are too, and come first
            assert position[i] < position[j]


@pytest.mark.w04_backprop_graph
def test_backprop_graph_handles_a_deep_chain():
    n = 5000  # far beyond Python's default recursion limit of 1000
    edges = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
    grads = k.backprop_graph(n, edges, np.full(n - 1, 1.0), n - 1)
    assert np.all(grads == 1.0)


# Layers against torch.autograd --------------------------------------------------------
@pytest.mark.w04_affine_forward
@pytest.mark.w04_affine_backward
@given(sizes())
@settings(max_examples=40, deadline=None)
def test_affine_matches_torch(dims):
    n, c, d, m, seed = dims
    rng = np.random.default_rng(seed)
    x, w, b, dout = (rng.normal(size=s) for s in [(n, c, d), (c * d, m), (m,), (n, m)])
    out, cache = k.affine_forward(x, w, b)
    xt, wt, bt = leaf(x), leaf(w), leaf(b)
    out_t = F.linear(xt.flatten(1), wt.T, bt)
    out_t.backward(torch.from_numpy(dout))
    assert_matches(out, out_t.detach().numpy())
    for mine, theirs in zip(k.affine_backward(dout, cache), (xt, wt, bt)):
        assert_matches(mine, theirs.grad.numpy())


ACTIVATIONS = {
    "relu": (k.relu_forward, k.relu_backward, torch.relu),
    "sigmoid": (k.sigmoid_forward, k.sigmoid_backward, torch.sigmoid),
    "tanh": (k.tanh_forward, k.tanh_backward, torch.tanh),
}


@pytest.mark.parametrize("name", [
    exercise_param("w04_relu_backward", "relu"),
    exercise_param("w04_sigmoid_backward", "sigmoid"),
    exercise_param("w04_tanh_backward", "tanh"),
])
@given(sizes(), st.sampled_from([1.0, 5.0, 40.0]))
@settings(max_examples=30, deadline=None)
def test_activation_matches_torch(name, dims, scale):
    n, c, d, _, seed = dims
    rng = np.random.default_rng(seed)
    x = scale * rng.normal(size=(n, c, d))
    x[rng.random(x.shape) < 0.1] = 0.0  # the ReLU kink: PyTorch's gradient there is 0
    dout = rng.normal(size=x.shape)
    forward, backward, torch_fn = ACTIVATIONS[name]
    out, cache = forward(x)
    xt = leaf(x)
    out_t = torch_fn(xt)
    out_t.backward(torch.from_numpy(dout))
    assert_matches(out, out_t.detach().numpy())
    assert_matches(backward(dout, cache), xt.grad.numpy())


@pytest.mark.w04_softmax_cross_entropy
@given(sizes(), st.sampled_from([1.0, 30.0, 1000.0]))
@settings(max_examples=40, deadline=None)
def test_softmax_cross_entropy_matches_torch(dims, scale):
    n, c, _, _, seed = dims
    rng = np.random.default_rng(seed)
    logits, y = scale * rng.normal(size=(n, c)), rng.integers(0, c, size=n)
    loss, dlogits = k.softmax_cross_entropy(logits, y)
    lt = leaf(logits)
    loss_t = F.cross_entropy(lt, torch.from_numpy(y))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=AUTOGRAD_TOL, abs=1e-12)
    # Logits of size s are only known to s·eps, and so are probabilities near 0 or 1.
    assert_matches(dlogits, lt.grad.numpy(), atol=1e-15 * (1 + np.abs(logits).max()))


@pytest.mark.w04_two_layer_net
@given(sizes())
@settings(max_examples=30, deadline=None)
def test_two_layer_net_matches_torch(dims):
    n, d, h, c, seed = dims
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in [(2 * d, h), (h,), (h, c), (c,)]]
    x, y = rng.normal(size=(n, 2, d)), rng.integers(0, c, size=n)
    loss, *grads = k.two_layer_net(x, y, *params)
    w1, b1, w2, b2 = (leaf(p) for p in params)
    logits = torch.relu(torch.from_numpy(x).flatten(1) @ w1 + b1) @ w2 + b2
    loss_t = F.cross_entropy(logits, torch.from_numpy(y))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=AUTOGRAD_TOL)
    for mine, theirs in zip(grads, (w1, b1, w2, b2)):
        assert_matches(mine, theirs.grad.numpy())


def test_sigmoid_forward_is_finite_and_exact_in_the_tails():
    x = np.array([-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0])
    with np.errstate(over="raise"):
        out, _ = k.sigmoid_forward(x)
    np.testing.assert_allclose(out, torch.sigmoid(torch.from_numpy(x)).numpy(), rtol=1e-15)


# Layers against central differences ---------------------------------------------------
@pytest.mark.w04_affine_backward
@pytest.mark.parametrize("seed", SEEDS)
def test_affine_backward_numerically(seed):
    rng = np.random.default_rng(seed)
    x, w, b, dout = (rng.normal(size=s) for s in [(3, 2, 2), (4, 5), (5,), (3, 5)])
    dx, dw, db = k.affine_backward(dout, (x, w, b))
    loss = lambda out: float(np.sum(out * dout))  # noqa: E731
    gradient_check(lambda v: loss(k.affine_forward(v, w, b)[0]), x, dx)
    gradient_check(lambda v: loss(k.affine_forward(x, v, b)[0]), w, dw)
    gradient_check(lambda v: loss(k.affine_forward(x, w, v)[0]), b, db)


@pytest.mark.parametrize("name", [
    exercise_param("w04_relu_backward", "relu"),
    exercise_param("w04_sigmoid_backward", "sigmoid"),
    exercise_param("w04_tanh_backward", "tanh"),
])
@pytest.mark.parametrize("seed", SEEDS)
def test_activation_backward_numerically(name, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 5))
    x += np.sign(x) * 0.01  # keep a ReLU input within the finite-difference step off its kink
    dout = rng.normal(size=x.shape)
    forward, backward, _ = ACTIVATIONS[name]
    dx = backward(dout, forward(x)[1])
    gradient_check(lambda v: float(np.sum(forward(v)[0] * dout)), x, dx)


@pytest.mark.w04_softmax_cross_entropy
@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_cross_entropy_numerically(seed):
    rng = np.random.default_rng(seed)
    logits, y = 3 * rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    _, dlogits = k.softmax_cross_entropy(logits, y)
    gradient_check(lambda v: k.softmax_cross_entropy(v, y)[0], logits, dlogits)


@pytest.mark.w04_two_layer_net
@pytest.mark.parametrize("seed", SEEDS)
def test_two_layer_net_numerically(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(5, 4)), rng.integers(0, 3, size=5)
    params = [rng.normal(size=s) for s in [(4, 6), (6,), (6, 3), (3,)]]
    _, *grads = k.two_layer_net(x, y, *params)
    for index, (param, grad) in enumerate(zip(params, grads)):
        def loss(value, index=index):
            trial = list(params)
            trial[index] = value
            return k.two_layer_net(x, y, *trial)[0]
        gradient_check(loss, param, grad)
