"""Week 4 alternatives (must pass) and mutants (must fail)."""

from answers.variants import Variant

ALTERNATIVES = [
    Variant("w04_backprop_graph", "Kahn's algorithm: a node is ready once its users are done", '''
def backprop_graph(n_nodes, edges, local_grads, root):
    edges = np.asarray(edges).reshape(-1, 2)
    users_left = np.zeros(n_nodes, dtype=int)
    for i, _ in edges:
        users_left[i] += 1
    grad = np.zeros(n_nodes)
    grad[root] = 1.0
    ready = [n for n in range(n_nodes) if users_left[n] == 0]
    while ready:
        node = ready.pop()
        for e in np.flatnonzero(edges[:, 1] == node):
            i = edges[e, 0]
            grad[i] += grad[node] * local_grads[e]
            users_left[i] -= 1
            if users_left[i] == 0:
                ready.append(i)
    return grad
'''),
    Variant("w04_backprop_graph", "iterative post-order with an explicit stack of (node, expanded)", '''
def backprop_graph(n_nodes, edges, local_grads, root):
    edges = np.asarray(edges).reshape(-1, 2)
    inputs = [[] for _ in range(n_nodes)]
    for e, (i, j) in enumerate(edges):
        inputs[j].append(e)
    order, seen, stack = [], set(), [(int(root), False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((int(edges[e, 0]), False) for e in inputs[node])
    grad = np.zeros(n_nodes)
    grad[root] = 1.0
    for node in reversed(order):
        for e in inputs[node]:
            grad[edges[e, 0]] += grad[node] * local_grads[e]
    return grad
'''),
    Variant("w04_backprop_graph", "linear algebra: solve (I - L) g = e_root", '''
def backprop_graph(n_nodes, edges, local_grads, root):
    L = np.zeros((n_nodes, n_nodes))
    for (i, j), local in zip(np.asarray(edges).reshape(-1, 2), local_grads):
        L[i, j] += local
    e_root = np.zeros(n_nodes)
    e_root[root] = 1.0
    return np.linalg.solve(np.eye(n_nodes) - L, e_root)
'''),
    Variant("w04_affine_forward", "reshape(-1, D) with D from w, then einsum", '''
def affine_forward(x, w, b):
    return np.einsum("nd,dm->nm", x.reshape(-1, w.shape[0]), w) + b[None, :]
'''),
    Variant("w04_affine_backward", "loops over the batch for dw and db", '''
def affine_backward(dout, x, w, b):
    x_flat = x.reshape(len(x), -1)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for n in range(len(x)):
        dw += np.outer(x_flat[n], dout[n])
        db += dout[n]
    dx = np.reshape(dout @ w.T, x.shape)
    return dx, dw, db
'''),
    Variant("w04_relu_backward", "np.where", '''
def relu_backward(dout, x):
    return np.where(x > 0, dout, 0.0)
'''),
    Variant("w04_sigmoid_backward", "s - s² form", '''
def sigmoid_backward(dout, out):
    return dout * (out - out * out)
'''),
    Variant("w04_tanh_backward", "(1 - t)(1 + t) form", '''
def tanh_backward(dout, out):
    return dout * (1 - out) * (1 + out)
'''),
    Variant("w04_softmax_cross_entropy", "one-hot matrix, probabilities from a shifted softmax", '''
def softmax_cross_entropy(logits, y):
    n, c = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_z
    one_hot = np.eye(c)[y]
    loss = -(one_hot * log_p).sum() / n
    return loss, (np.exp(log_p) - one_hot) / n
'''),
    Variant("w04_two_layer_net", "ReLU mask taken from the hidden output (h > 0)", '''
def two_layer_net(x, y, w1, b1, w2, b2):
    n = x.shape[0]
    x_flat = x.reshape(n, -1)
    h = np.maximum(x_flat @ w1 + b1, 0)
    scores = h @ w2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    log_p = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    dscores = np.exp(log_p)
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dh = dscores @ w2.T
    dh[h <= 0] = 0
    return loss, x_flat.T @ dh, dh.sum(axis=0), h.T @ dscores, dscores.sum(axis=0)
'''),
]

MUTANTS = [
    # backprop_graph
    Variant("w04_backprop_graph", "visits nodes by decreasing id instead of topological order", '''
def backprop_graph(n_nodes, edges, local_grads, root):
    grad = np.zeros(n_nodes)
    grad[root] = 1.0
    for node in range(n_nodes - 1, -1, -1):
        for (i, j), local in zip(edges, local_grads):
            if j == node:
                grad[i] += grad[node] * local
    return grad
'''),
    Variant("w04_backprop_graph", "overwrites (=) instead of accumulating (+=)", '''
def backprop_graph(n_nodes, edges, local_grads, root):
    topo, visited = [], set()
    def build(v):
        if v not in visited:
            visited.add(v)
            for i, j in edges:
                if j == v:
                    build(int(i))
            topo.append(v)
    build(int(root))
    grad = np.zeros(n_nodes)
    grad[root] = 1.0
    for v in reversed(topo):
        for (i, j), local in zip(edges, local_grads):
            if j == v:
                grad[i] = grad[v] * local
    return grad
'''),
    Variant("w04_backprop_graph", "breadth-first order from the root (not topological)", '''
def backprop_graph(n_nodes, edges, local_grads, root):
    grad = np.zeros(n_nodes)
    grad[root] = 1.0
    queue, seen = [int(root)], {int(root)}
    while queue:
        node = queue.pop(0)
        for (i, j), local in zip(edges, local_grads):
            if j == node:
                grad[i] += grad[node] * local
                if int(i) not in seen:
                    seen.add(int(i))
                    queue.append(int(i))
    return grad
'''),
    Variant("w04_backprop_graph", "walks the topological order forwards (not reversed)", '''
def backprop_graph(n_nodes, edges, local_grads, root):
    topo, visited = [], set()
    def build(v):
        if v not in visited:
            visited.add(v)
            for i, j in edges:
                if j == v:
                    build(int(i))
            topo.append(v)
    build(int(root))
    grad = np.zeros(n_nodes)
    grad[root] = 1.0
    for v in topo:
        for (i, j), local in zip(edges, local_grads):
            if j == v:
                grad[i] += grad[v] * local
    return grad
'''),
    Variant("w04_backprop_graph", "inputs get the local gradient alone (no chain rule)", '''
def backprop_graph(n_nodes, edges, local_grads, root):
    grad = np.zeros(n_nodes)
    grad[root] = 1.0
    for (i, j), local in zip(edges, local_grads):
        grad[i] += local
    return grad
'''),
    # affine_forward
    Variant("w04_affine_forward", "no flattening (breaks on image-shaped x)", '''
def affine_forward(x, w, b):
    return x @ w + b
'''),
    Variant("w04_affine_forward", "forgets the bias", '''
def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w
'''),
    Variant("w04_affine_forward", "reshape (D, N) then transpose: right shape, scrambled rows", '''
def affine_forward(x, w, b):
    return x.reshape(w.shape[0], -1).T @ w + b
'''),
    # affine_backward
    Variant("w04_affine_backward", "dx = dout @ w (missing transpose)", '''
def affine_backward(dout, x, w, b):
    x_flat = x.reshape(len(x), -1)
    return (dout @ w).reshape(x.shape), x_flat.T @ dout, dout.sum(axis=0)
'''),
    Variant("w04_affine_backward", "db averaged over the batch instead of summed", '''
def affine_backward(dout, x, w, b):
    x_flat = x.reshape(len(x), -1)
    return (dout @ w.T).reshape(x.shape), x_flat.T @ dout, dout.mean(axis=0)
'''),
    Variant("w04_affine_backward", "dx left flat (N, D) instead of x's shape", '''
def affine_backward(dout, x, w, b):
    x_flat = x.reshape(len(x), -1)
    return dout @ w.T, x_flat.T @ dout, dout.sum(axis=0)
'''),
    Variant("w04_affine_backward", "dw = doutᵀ x, transposed", '''
def affine_backward(dout, x, w, b):
    x_flat = x.reshape(len(x), -1)
    return (dout @ w.T).reshape(x.shape), (dout.T @ x_flat).reshape(w.shape), dout.sum(axis=0)
'''),
    # relu_backward
    Variant("w04_relu_backward", "mask x >= 0 (gradient 1 at exactly 0)", '''
def relu_backward(dout, x):
    return dout * (x >= 0)
'''),
    Variant("w04_relu_backward", "masks on dout instead of the input", '''
def relu_backward(dout, x):
    return np.maximum(dout, 0)
'''),
    Variant("w04_relu_backward", "multiplies by the ReLU output instead of its derivative", '''
def relu_backward(dout, x):
    return dout * np.maximum(x, 0)
'''),
    # sigmoid_backward
    Variant("w04_sigmoid_backward", "applies the sigmoid again to the cached output", '''
def sigmoid_backward(dout, out):
    s = 1 / (1 + np.exp(-out))
    return dout * s * (1 - s)
'''),
    Variant("w04_sigmoid_backward", "forgets the upstream gradient", '''
def sigmoid_backward(dout, out):
    return out * (1 - out)
'''),
    Variant("w04_sigmoid_backward", "dout · (1 - s) only", '''
def sigmoid_backward(dout, out):
    return dout * (1 - out)
'''),
    # tanh_backward
    Variant("w04_tanh_backward", "applies tanh again to the cached output", '''
def tanh_backward(dout, out):
    return dout * (1 - np.tanh(out) ** 2)
'''),
    Variant("w04_tanh_backward", "1 - t instead of 1 - t²", '''
def tanh_backward(dout, out):
    return dout * (1 - out)
'''),
    Variant("w04_tanh_backward", "(1 - t)² instead of 1 - t²", '''
def tanh_backward(dout, out):
    return dout * (1 - out) ** 2
'''),
    # softmax_cross_entropy
    Variant("w04_softmax_cross_entropy", "gradient not divided by N", '''
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dlogits = np.exp(log_p)
    dlogits[np.arange(n), y] -= 1
    return -log_p[np.arange(n), y].mean(), dlogits
'''),
    Variant("w04_softmax_cross_entropy", "unstable softmax (no max shift)", '''
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    p[np.arange(n), y] -= 1
    return loss, p / n
'''),
    Variant("w04_softmax_cross_entropy", "gradient softmax / N, the one-hot forgotten", '''
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(n), y].mean(), np.exp(log_p) / n
'''),
    Variant("w04_softmax_cross_entropy", "loss summed over the batch, gradient averaged", '''
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dlogits = np.exp(log_p)
    dlogits[np.arange(n), y] -= 1
    return -log_p[np.arange(n), y].sum(), dlogits / n
'''),
    # two_layer_net
    Variant("w04_two_layer_net", "forgets the ReLU in the backward pass", '''
def two_layer_net(x, y, w1, b1, w2, b2):
    n = x.shape[0]
    x_flat = x.reshape(n, -1)
    h = np.maximum(x_flat @ w1 + b1, 0)
    scores = h @ w2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    dscores = p.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dh = dscores @ w2.T
    return loss, x_flat.T @ dh, dh.sum(axis=0), h.T @ dscores, dscores.sum(axis=0)
'''),
    Variant("w04_two_layer_net", "dw2 from the pre-activation z instead of h = relu(z)", '''
def two_layer_net(x, y, w1, b1, w2, b2):
    n = x.shape[0]
    x_flat = x.reshape(n, -1)
    z = x_flat @ w1 + b1
    h = np.maximum(z, 0)
    scores = h @ w2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    dscores = p.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dz = (dscores @ w2.T) * (z > 0)
    return loss, x_flat.T @ dz, dz.sum(axis=0), z.T @ dscores, dscores.sum(axis=0)
'''),
    Variant("w04_two_layer_net", "gradients not divided by N", '''
def two_layer_net(x, y, w1, b1, w2, b2):
    n = x.shape[0]
    x_flat = x.reshape(n, -1)
    z = x_flat @ w1 + b1
    h = np.maximum(z, 0)
    scores = h @ w2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    dscores = p.copy()
    dscores[np.arange(n), y] -= 1
    dz = (dscores @ w2.T) * (z > 0)
    return loss, x_flat.T @ dz, dz.sum(axis=0), h.T @ dscores, dscores.sum(axis=0)
'''),
    Variant("w04_backprop_graph", "recursive depth-first sort, micrograd style (RecursionError on deep graphs)", '''
def backprop_graph(n_nodes, edges, local_grads, root):
    topo, visited = [], set()
    def build(v):
        if v not in visited:
            visited.add(v)
            for i, j in edges:
                if j == v:
                    build(int(i))
            topo.append(v)
    build(int(root))
    grad = np.zeros(n_nodes)
    grad[root] = 1.0
    for v in reversed(topo):
        for (i, j), local in zip(edges, local_grads):
            if j == v:
                grad[i] += local * grad[v]
    return grad
'''),
    Variant("w04_two_layer_net", "[hidden only] unshifted softmax inside the network", '''
def two_layer_net(x, y, w1, b1, w2, b2):
    n = x.shape[0]
    xf = x.reshape(n, -1)
    z = xf @ w1 + b1
    h = np.maximum(z, 0)
    s = h @ w2 + b2
    e = np.exp(s)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    ds = p.copy()
    ds[np.arange(n), y] -= 1
    ds /= n
    dw2, db2 = h.T @ ds, ds.sum(axis=0)
    dz = (ds @ w2.T) * (z > 0)
    return loss, xf.T @ dz, dz.sum(axis=0), dw2, db2
'''),
    Variant("w04_two_layer_net", "[hidden only] log of a shifted softmax probability (−inf on confident mistakes)", '''
def two_layer_net(x, y, w1, b1, w2, b2):
    n = x.shape[0]
    x_flat = x.reshape(n, -1)
    h = np.maximum(x_flat @ w1 + b1, 0)
    scores = h @ w2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    dscores = p.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dh = dscores @ w2.T
    dh[h <= 0] = 0
    return loss, x_flat.T @ dh, dh.sum(axis=0), h.T @ dscores, dscores.sum(axis=0)
'''),
    # Issue 19, item 3: the upstream gradient zeroed in place (right values, caller's dout lost).
    Variant("w04_relu_backward", "zeroes the caller's upstream gradient in place", '''
def relu_backward(dout, cache):
    dout[cache <= 0] = 0
    return dout.copy()
'''),
]
