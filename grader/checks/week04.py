"""Week 4 checks: backpropagation on a graph, and layers' forward/backward passes.

The graph cases are built so that each classic mistake fails somewhere: node ids that are
not in topological order (so "visit by id" is wrong), a node used twice (gradients must
add up, not overwrite), two paths of different lengths to the same node (breadth-first
order is not topological), and nodes downstream of or unconnected to the root. These
properties are placed, not left to the draw (only the values and the ids are random), so a
mistake fails the same cases under every seed: shuffled ids always put one interior node
after a node that uses it (:func:`_shuffled_ids`), and the random graph always holds a
node that reaches the root by two paths of different lengths (:func:`_random_dag`).

The layer cases mix seeded random inputs with the lecture's edge cases: image-shaped
inputs that must be flattened, a square weight matrix (a missing transpose still has the
right shape), a batch of one, ReLU inputs that are exactly 0, saturated sigmoid/tanh
outputs, huge logits. Backward references are the analytic kernels, which the tests
validate against ``torch.autograd`` and central differences.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week04"


# --------------------------------------------------------------------------------------
# Graphs: (n_nodes, edges (E, 2) int64, local_grads (E,), root)
# --------------------------------------------------------------------------------------
def _graph(name: str, n_nodes: int, edges: list[tuple[int, int]], rng: np.random.Generator,
           root: int, relabel: np.ndarray | None = None,
           magnitudes: tuple[float, float] = (0.5, 2.0)) -> Case:
    """A case from edges between nodes in topological order, optionally renumbered.

    Local derivatives have random signs and magnitudes in ``magnitudes`` (keep them near 1 on
    long paths, whose gradients are products of thousands of them).
    """
    edge_array = np.array(edges, dtype=np.int64).reshape(-1, 2)
    if relabel is not None:
        edge_array, root = relabel[edge_array], int(relabel[root])
    local_grads = rng.uniform(*magnitudes, size=len(edge_array)) * rng.choice([-1, 1], len(edge_array))
    return Case(name, (n_nodes, edge_array, local_grads, int(root)))


def _shuffled_ids(rng: np.random.Generator, n_nodes: int, interior: int, user: int
                  ) -> np.ndarray:
    """A random renumbering of ``n_nodes`` nodes in which ``interior`` (a node with inputs)
    gets a larger id than ``user``, a node that uses it.

    Id order is then never a topological order, whatever the draw: visiting the nodes by
    decreasing id passes on ``interior``'s gradient before ``user`` has added its share.
    """
    relabel = rng.permutation(n_nodes)
    if relabel[interior] < relabel[user]:
        relabel[[interior, user]] = relabel[[user, interior]]
    return relabel


def _depths(n_nodes: int, edges: list[tuple[int, int]], root: int) -> np.ndarray:
    """Length of the shortest path from each node to ``root`` (-1: does not reach it)."""
    inputs: list[list[int]] = [[] for _ in range(n_nodes)]
    for i, j in edges:
        inputs[j].append(i)
    depth = np.full(n_nodes, -1)
    depth[root] = 0
    queue = [root]
    for node in queue:  # breadth-first: the queue grows while it is read
        for i in inputs[node]:
            if depth[i] < 0:
                depth[i] = depth[node] + 1
                queue.append(i)
    return depth


def _uneven_paths(n_nodes: int, edges: list[tuple[int, int]], root: int
                  ) -> tuple[int, int] | None:
    """An edge ``(i, j)`` where ``i`` has inputs and its shortest path to ``root`` is shorter
    than ``j``'s: breadth-first order from the root sweeps ``i`` before ``j`` has passed its
    share on (and ``i``, used by two nodes, must add the shares up). None if there is none."""
    depth = _depths(n_nodes, edges, root)
    has_inputs = {j for _, j in edges}
    return next(((i, j) for i, j in edges if i in has_inputs and depth[i] >= 0
                 and depth[j] > depth[i]), None)


def _random_dag(rng: np.random.Generator, n_nodes: int, p_edge: float
                ) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """Edges ``i -> j`` with ``i < j``; every node but the first has at least one input.

    Drawn until some node with inputs reaches the last node (the root) by two paths of
    different lengths (most draws do), so that the case always catches a sweep in
    breadth-first order and gradients that overwrite instead of adding up. Returns the
    edges and one such edge (see :func:`_uneven_paths`).
    """
    while True:
        edges = []
        for j in range(1, n_nodes):
            inputs = [i for i in range(j) if rng.random() < p_edge] or [int(rng.integers(j))]
            edges += [(i, j) for i in inputs]
        uneven = _uneven_paths(n_nodes, edges, n_nodes - 1)
        if uneven is not None:
            return edges, uneven


def _graph_cases(rng: np.random.Generator) -> list[Case]:
    # The lecture's example: e = a*b, d = e + c, L = d*f (nodes a b c e d f L = 0..6).
    example = [(0, 3), (1, 3), (3, 4), (2, 4), (4, 6), (5, 6)]
    # x feeds y = 2x and z = x**2; z feeds w = z*y; L = w + x: fan-out and a shortcut.
    fan_out = [(0, 1), (0, 2), (2, 3), (1, 3), (3, 4), (0, 4)]
    # Node 1 reaches the root 5 directly and through 2, 3, 4: breadth-first order from the
    # root visits 1 (and passes its gradient on to 0) before the long path has reached it.
    shortcut = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (1, 5)]
    n_random = 12
    random_edges, (interior, user) = _random_dag(rng, n_random, 0.3)
    return [
        _graph("the lecture's example (a·b + c)·f", 7, example, rng, root=6),
        _graph("ids numbered from the output back to the inputs (id order is not "
               "topological)", 7, example, rng, root=6, relabel=np.arange(7)[::-1]),
        _graph("a node used by three others (gradients add up)", 5, fan_out, rng, root=4),
        _graph("x·x: the same input twice in one operation", 2, [(0, 1), (0, 1)], rng, root=1),
        _graph("two paths of lengths 1 and 4 from the same node (breadth-first order is "
               "wrong)", 6, shortcut, rng, root=5, relabel=_shuffled_ids(rng, 6, 1, 2)),
        _graph("root is an interior node: nodes after it get 0", 6, shortcut, rng, root=3),
        _graph("nodes not connected to the root get 0", 6, [(0, 1), (1, 2), (3, 4), (4, 5)],
               rng, root=2, relabel=_shuffled_ids(rng, 6, 1, 2)),
        _graph("a single node, no edges", 1, [], rng, root=0),
        _graph("a long chain of 30 nodes, shuffled ids", 30, [(i, i + 1) for i in range(29)],
               rng, root=29, relabel=_shuffled_ids(rng, 30, 14, 15)),
        _graph("a chain of 1,100 nodes, shuffled ids (deeper than Python's recursion limit)",
               1100, [(i, i + 1) for i in range(1099)], rng, root=1099,
               relabel=_shuffled_ids(rng, 1100, 549, 550), magnitudes=(0.95, 1.05)),
        _graph(f"random graph of {n_random} nodes, shuffled ids, a node reaching the root by "
               "paths of different lengths", n_random, random_edges, rng, root=n_random - 1,
               relabel=_shuffled_ids(rng, n_random, interior, user)),
    ]


# --------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------
def _affine_args(rng: np.random.Generator, x_shape: tuple[int, ...], m: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = int(np.prod(x_shape[1:]))
    return rng.normal(size=x_shape), rng.normal(size=(d, m)) / np.sqrt(d), rng.normal(size=m)


def _affine_forward_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("x 4×5, w 5×3", _affine_args(rng, (4, 5), 3)),
        Case("images x 2×1×4×4 (flatten each example)", _affine_args(rng, (2, 1, 4, 4), 6)),
        Case("x 3×2×3 (flatten each example)", _affine_args(rng, (3, 2, 3), 4)),
        Case("batch of one (1×6)", _affine_args(rng, (1, 6), 2)),
        Case("a single output (w 4×1)", _affine_args(rng, (5, 4), 1)),
    ]


def _affine_backward_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x_shape: tuple[int, ...], m: int) -> Case:
        x, w, b = _affine_args(rng, x_shape, m)
        return Case(name, (rng.normal(size=(x_shape[0], m)), x, w, b))

    return [
        case("x 4×5, w 5×3", (4, 5), 3),
        case("square w 4×4 (a missing transpose keeps the shapes)", (6, 4), 4),
        case("images x 3×1×3×3: dx has x's shape", (3, 1, 3, 3), 5),
        case("batch of one (1×3)", (1, 3), 2),
        case("x 7×2, w 2×6", (7, 2), 6),
    ]


def _relu_backward_cases(rng: np.random.Generator) -> list[Case]:
    with_zeros = rng.normal(size=(4, 6))
    with_zeros[rng.random((4, 6)) < 0.4] = 0.0
    return [
        Case("random 5×4", (rng.normal(size=(5, 4)), rng.normal(size=(5, 4)))),
        Case("inputs exactly 0 (the gradient there is 0)",
             (rng.normal(size=(4, 6)), with_zeros)),
        Case("all inputs negative", (rng.normal(size=(3, 3)), -rng.random((3, 3)) - 0.1)),
        Case("4-D 2×3×2×2", (rng.normal(size=(2, 3, 2, 2)), rng.normal(size=(2, 3, 2, 2)))),
    ]


def _squashed_cases(rng: np.random.Generator, squash) -> list[Case]:
    def case(name: str, x: np.ndarray) -> Case:
        return Case(name, (rng.normal(size=x.shape), squash(x)))

    return [
        case("random 5×4", rng.normal(size=(5, 4))),
        case("saturated: |x| between 10 and 30",
             rng.uniform(10, 30, (3, 4)) * rng.choice([-1, 1], (3, 4))),
        case("near 0", 1e-3 * rng.normal(size=(4, 2))),
        case("3-D 2×3×4", 2 * rng.normal(size=(2, 3, 4))),
    ]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_backward_cases(rng: np.random.Generator) -> list[Case]:
    return _squashed_cases(rng, _sigmoid)


def _tanh_backward_cases(rng: np.random.Generator) -> list[Case]:
    return _squashed_cases(rng, np.tanh)


def _softmax_ce_cases(rng: np.random.Generator) -> list[Case]:
    def labelled(name: str, logits: np.ndarray) -> Case:
        return Case(name, (logits, rng.integers(0, logits.shape[1], size=logits.shape[0])))

    return [
        labelled("random logits 8×5", rng.normal(size=(8, 5))),
        labelled("batch of one (1×4)", rng.normal(size=(1, 4))),
        labelled("huge logits (scale 1000)", 1000 * rng.normal(size=(6, 3))),
        labelled("very negative logits (≈ -1000)", -1000 + rng.normal(size=(5, 4))),
        Case("confident and right (loss ≈ 0)", (np.array([[50.0, 0.0, 0.0], [0.0, 0.0, 60.0]]),
                                                np.array([0, 2]))),
        Case("labels use the last class", (rng.normal(size=(4, 3)), np.array([2, 2, 0, 2]))),
    ]


def _two_layer_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x_shape: tuple[int, ...], hidden: int, classes: int,
             b1_shift: float = 0.0) -> Case:
        d = int(np.prod(x_shape[1:]))
        x = rng.normal(size=x_shape)
        y = rng.integers(0, classes, size=x_shape[0])
        w1 = rng.normal(size=(d, hidden)) / np.sqrt(d)
        b1 = 0.1 * rng.normal(size=hidden) + b1_shift
        w2 = rng.normal(size=(hidden, classes)) / np.sqrt(hidden)
        b2 = 0.1 * rng.normal(size=classes)
        return Case(name, (x, y, w1, b1, w2, b2))

    return [
        case("x 6×5, 7 hidden units, 4 classes", (6, 5), 7, 4),
        case("images 4×1×3×3, 5 hidden units, 3 classes", (4, 1, 3, 3), 5, 3),
        case("batch of one", (1, 4), 6, 3),
        case("many dead ReLUs (biases ≈ -1)", (8, 3), 10, 5, b1_shift=-1.0),
        case("square layers (4→4→4)", (5, 4), 4, 4),
    ]


_LECTURE = "course/week04-backprop.ipynb"
_LAYERS = f"{_LECTURE} §4 From scalars to arrays: layers with forward and backward passes"

register(
    Exercise(
        id="w04_backprop_graph", function="backprop_graph",
        reference=f"{REFERENCE}:backprop_graph", make_cases=_graph_cases, points=3,
        hidden="answers.hidden.week04:graph_hidden",
        see=f"{_LECTURE} §1 The chain rule on a computational graph",
        hint="a node's gradient is complete only when every node that uses it has passed its "
             "share back, so the sweep needs a reverse topological order (neither node ids nor "
             "breadth-first order are one); shares from several users and from repeated edges "
             "add up. On deep graphs, a recursive traversal hits Python's recursion limit "
             "(about 1,000 calls)."),
    Exercise(
        id="w04_affine_forward", function="affine_forward",
        strategy="grader.differential:affine",
        reference=f"{REFERENCE}:affine_forward_output", make_cases=_affine_forward_cases,
        points=1, see=_LAYERS,
        hint="each example may be an image: flatten every example into one row of D features "
             "(keep the batch axis), then the matrix product and the bias, broadcast over the "
             "rows."),
    Exercise(
        id="w04_affine_backward", function="affine_backward",
        reference=f"{REFERENCE}:affine_backward_unpacked", make_cases=_affine_backward_cases,
        points=3, outputs=("dx", "dw", "db"), see=_LAYERS,
        hint="derive it with the lecture's recipe: write one output entry as a sum, find every "
             "output entry a given weight, input or bias entry appears in, and sum over those; "
             "then read the sums as matrix products whose shapes match each parameter. A square "
             "weight matrix hides a missing transpose; image-shaped x needs dx in x's shape; "
             "a bias broadcast over the batch has its gradient summed over it."),
    Exercise(
        id="w04_relu_backward", function="relu_backward",
        strategy="grader.differential:upstream_and_rows",
        reference=f"{REFERENCE}:relu_backward", make_cases=_relu_backward_cases, points=1,
        see=_LAYERS,
        hint="the gradient passes where the forward INPUT was strictly positive and is blocked "
             "elsewhere, exactly 0 included (PyTorch's convention). The mask comes from the "
             "cached input, not from dout."),
    Exercise(
        id="w04_sigmoid_backward", function="sigmoid_backward",
        reference=f"{REFERENCE}:sigmoid_backward", make_cases=_sigmoid_backward_cases,
        points=1, see=_LAYERS,
        hint="the second argument is the forward OUTPUT, already σ(x): express σ' through the "
             "output and do not apply σ again; multiply by the upstream gradient."),
    Exercise(
        id="w04_tanh_backward", function="tanh_backward",
        reference=f"{REFERENCE}:tanh_backward", make_cases=_tanh_backward_cases, points=1,
        see=_LAYERS,
        hint="the second argument is the forward OUTPUT, already tanh(x): express tanh' through "
             "the output and do not apply tanh again; multiply by the upstream gradient."),
    Exercise(
        id="w04_softmax_cross_entropy", function="softmax_cross_entropy",
        reference=f"{REFERENCE}:softmax_cross_entropy", make_cases=_softmax_ce_cases, points=2,
        outputs=("loss", "dlogits"), see=_LAYERS,
        hint="compute the loss from log-probabilities obtained stably (Week 1: shift each row), "
             "never the log of a probability that may have rounded to 0; the gradient is "
             "'predicted minus target', and the mean over the batch puts a 1/N in it too."),
    Exercise(
        id="w04_two_layer_net", function="two_layer_net",
        uses=("w04_affine_forward", "w04_affine_backward", "w04_relu_backward", "w04_softmax_cross_entropy"),
        reference=f"{REFERENCE}:two_layer_net", make_cases=_two_layer_cases, points=3,
        hidden="answers.hidden.week04:two_layer_hidden",
        outputs=("loss", "dw1", "db1", "dw2", "db2"),
        see=f"{_LECTURE} §6 A two-layer network on Fashion-MNIST",
        hint="keep what each backward pass needs during the forward pass, then run the backward "
             "passes in reverse order, each output gradient becoming the previous layer's "
             "upstream gradient; the ReLU's backward pass sits between the two affine ones. "
             "Large scores must not overflow the loss: reuse your stable loss layer."),
)
