"""Week 4 reference kernels: backpropagation on a graph, and modular layers.

Two views of the same algorithm:

* :func:`backprop_graph` is reverse-mode differentiation on an explicit computational graph
  (what a scalar autodiff engine's ``backward()`` does): visit the nodes in reverse
  topological order and add each node's gradient, times the local derivative, into its
  inputs.
* The layers apply it to whole arrays. Each ``x_forward`` returns ``(out, cache)``; each
  ``x_backward(dout, cache)`` takes the upstream gradient ``dout = dL/dout`` and what the
  forward pass cached, and returns ``dL/d(input)`` (and the parameters' gradients).

Later weeks build their networks from these layers (``affine_*``, ``relu_*``,
``softmax_cross_entropy``). Exercises are checked on hidden inputs, where only arrays can be
passed, so the last section gives the graded forms with the cache tuple unpacked.
"""

from __future__ import annotations

import numpy as np

from answers.kernels.week01 import log_softmax
from answers.kernels.week02 import sigmoid

AffineCache = tuple[np.ndarray, np.ndarray, np.ndarray]


# --------------------------------------------------------------------------------------
# Backpropagation on an explicit graph
# --------------------------------------------------------------------------------------
def topological_order(n_nodes: int, edges: np.ndarray, root: int) -> list[int]:
    """The nodes ``root`` depends on (itself included), every node after all its inputs.

    Depth-first search from ``root`` over input edges; a node is appended once all its
    inputs are (post-order). Iterative, so deep graphs do not hit Python's recursion limit.

    Args:
        n_nodes: nodes are numbered ``0 .. n_nodes - 1``.
        edges: ``(E, 2)`` integer array; row ``(i, j)`` means node ``i`` is an input of ``j``.
        root: the node whose ancestors are ordered.

    Returns:
        Node ids, inputs before the nodes that use them, ``root`` last.
    """
    inputs: list[list[int]] = [[] for _ in range(n_nodes)]
    for i, j in np.asarray(edges, dtype=np.int64).reshape(-1, 2):
        inputs[j].append(int(i))
    order: list[int] = []
    visited = {root}
    stack = [(root, iter(inputs[root]))]
    while stack:
        node, pending = stack[-1]
        child = next((c for c in pending if c not in visited), None)
        if child is None:
            stack.pop()
            order.append(node)
        else:
            visited.add(child)
            stack.append((child, iter(inputs[child])))
    return order


def backprop_graph(n_nodes: int, edges: np.ndarray, local_grads: np.ndarray,
                   root: int) -> np.ndarray:
    """Gradient of node ``root`` with respect to every node of a computational graph.

    Reverse-mode accumulation: ``grad[root] = 1``; walking the nodes in *reverse*
    topological order, a node's gradient is final when it is visited (every node that
    uses it has already passed its share on), and it sends ``grad[j] * ∂v_j/∂v_i`` to each
    input ``i``. A node used several times receives the *sum* of its shares (the
    multivariable chain rule).

    Args:
        n_nodes: nodes are numbered ``0 .. n_nodes - 1``, in any order.
        edges: ``(E, 2)`` integer array; row ``(i, j)`` means node ``i`` is an input of
            node ``j``. The same pair may appear twice (e.g. ``v_j = v_i * v_i``).
        local_grads: ``(E,)`` the local derivative ``∂v_j/∂v_i`` of each edge.
        root: the output node (the loss).

    Returns:
        ``(n_nodes,)`` float array of ``d v_root / d v_k``; 0 for nodes ``root`` does not
        depend on.
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    incoming: list[list[int]] = [[] for _ in range(n_nodes)]  # edge indices into each node
    for e, (_, j) in enumerate(edges):
        incoming[j].append(e)
    grad = np.zeros(n_nodes)
    grad[root] = 1.0
    for node in reversed(topological_order(n_nodes, edges, root)):
        for e in incoming[node]:
            grad[edges[e, 0]] += grad[node] * local_grads[e]
    return grad


# --------------------------------------------------------------------------------------
# Layers: x_forward(...) -> (out, cache), x_backward(dout, cache) -> gradients
# --------------------------------------------------------------------------------------
def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray
                   ) -> tuple[np.ndarray, AffineCache]:
    """Fully connected layer ``out = x_flat @ w + b``.

    Args:
        x: ``(N, d_1, ..., d_k)`` inputs; each example is flattened to ``D = d_1 ⋯ d_k``
            values (so images or conv feature maps can be fed directly).
        w: ``(D, M)`` weights.
        b: ``(M,)`` biases.

    Returns:
        ``out (N, M)`` and ``cache = (x, w, b)``.
    """
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout: np.ndarray, cache: AffineCache
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`affine_forward`.

    With ``out = X w + b`` (``X`` the flattened ``x``): ``dX = dout wᵀ``, ``dw = Xᵀ dout``
    and ``db = Σ_n dout[n]`` (the bias is broadcast over the batch, so its gradient sums).

    Args:
        dout: ``(N, M)`` upstream gradient.
        cache: ``(x, w, b)`` from the forward pass.

    Returns:
        ``dx`` with ``x``'s shape ``(N, d_1, ..., d_k)``, ``dw (D, M)``, ``db (M,)``.
    """
    x, w, _ = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``max(0, x)`` elementwise; the cache is ``x``. Any shape."""
    return np.maximum(x, 0), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Pass ``dout`` where the input was positive, 0 elsewhere (also at exactly 0).

    The subgradient at 0 is taken as 0, as in PyTorch. Any shape.

    Args:
        dout: upstream gradient, same shape as the input.
        cache: the input ``x`` of :func:`relu_forward`.
    """
    return dout * (cache > 0)


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``σ(x) = 1 / (1 + e^{-x})``, overflow-free; the cache is the *output* ``σ(x)``."""
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """``dx = dout · σ(x)(1 - σ(x))``, computed from the cached output ``σ(x)``.

    Caching the output instead of ``x`` saves recomputing the exponential.
    """
    return dout * cache * (1 - cache)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``tanh(x)`` elementwise; the cache is the output."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """``dx = dout · (1 - tanh(x)²)``, computed from the cached output ``tanh(x)``."""
    return dout * (1 - cache**2)


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of integer labels and its gradient with respect to the logits.

    ``L = -1/N Σ_n log softmax(s_n)[y_n]`` and ``dL/ds = (softmax(s) - onehot(y)) / N``:
    the loss layer and the output nonlinearity have a simple joint gradient, and the
    log-softmax keeps both finite for any logits.

    Args:
        logits: ``(N, C)`` scores ``s``.
        y: ``(N,)`` integer labels in ``[0, C)``.

    Returns:
        ``(loss, dlogits)``: a float and an ``(N, C)`` array.
    """
    n = logits.shape[0]
    log_probs = log_softmax(logits)
    loss = float(-np.mean(log_probs[np.arange(n), y]))
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), y] -= 1
    return loss, dlogits / n


def two_layer_net(x: np.ndarray, y: np.ndarray, w1: np.ndarray, b1: np.ndarray,
                  w2: np.ndarray, b2: np.ndarray
                  ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Loss and gradients of ``affine → ReLU → affine → softmax cross-entropy``.

    Args:
        x: ``(N, d_1, ..., d_k)`` inputs, flattened to ``D`` features.
        y: ``(N,)`` integer labels in ``[0, C)``.
        w1: ``(D, H)``, b1: ``(H,)``: the hidden layer.
        w2: ``(H, C)``, b2: ``(C,)``: the output layer.

    Returns:
        ``(loss, dw1, db1, dw2, db2)``, each gradient shaped like its parameter.
    """
    z, cache1 = affine_forward(x, w1, b1)
    h, cache_relu = relu_forward(z)
    logits, cache2 = affine_forward(h, w2, b2)
    loss, dlogits = softmax_cross_entropy(logits, y)
    dh, dw2, db2 = affine_backward(dlogits, cache2)
    _, dw1, db1 = affine_backward(relu_backward(dh, cache_relu), cache1)
    return loss, dw1, db1, dw2, db2


# --------------------------------------------------------------------------------------
# Graded forms: the checker passes arrays only, so the cache tuple is unpacked
# --------------------------------------------------------------------------------------
def affine_forward_output(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``affine_forward(x, w, b)[0]`` (exercise ``w04_affine_forward``)."""
    return affine_forward(x, w, b)[0]


def affine_backward_unpacked(dout: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``affine_backward(dout, (x, w, b))`` (exercise ``w04_affine_backward``)."""
    return affine_backward(dout, (x, w, b))
