"""Weeks 4–5: the NumPy backprop layers and update rules against PyTorch, side by side.

* Update rules: 100 steps of each rule (``answers.kernels.week05``) and of its
  ``torch.optim`` counterpart on the same logistic-regression problem, same
  hyperparameters, same gradient at every step; the figure is the largest parameter
  difference along the trajectory (float64).
* Training: the same network trained on full Fashion-MNIST twice, once with the course's
  NumPy kernels, once with ``torch.nn`` + ``torch.optim``: same initial weights, same
  mini-batches in the same order, float32, 2 threads each (NumPy's BLAS limited with
  threadpoolctl). Figures: test accuracy and wall-clock per epoch. The two runs are not
  bit-identical (different matrix-product kernels round differently), so accuracies agree
  to within noise, not exactly.

Run: ``python -m bench week05`` (``--fast`` for tiny sizes that only test the harness).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from bench import Row
from grader.config import pick
from grader.data import load_fashion_mnist, minibatches
from answers.kernels import week05 as k5
from answers.kernels.week04 import two_layer_net

THREADS = 2
ACCURACY_POINTS = 1.0  # target: within this many percentage points of PyTorch


# --------------------------------------------------------------------------------------
# Update rules against torch.optim
# --------------------------------------------------------------------------------------
def _logistic_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(64, 5))
    y = (X @ rng.normal(size=5) + 0.5 * rng.normal(size=64) > 0).astype(float)
    return (lambda w: X.T @ (1 / (1 + np.exp(-(X @ w))) - y) / len(y)), 0.1 * rng.normal(size=5)


RULES = [  # (name, our rule, our hyperparameters, n_state, torch optimizer, its options)
    ("SGD", k5.sgd_step, {"lr": 0.5}, 0, torch.optim.SGD, {"lr": 0.5}),
    ("momentum", k5.momentum_step, {"lr": 0.1, "momentum": 0.9}, 1, torch.optim.SGD,
     {"lr": 0.1, "momentum": 0.9}),
    ("Nesterov", k5.nesterov_step, {"lr": 0.1, "momentum": 0.9}, 1, torch.optim.SGD,
     {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("RMSProp", k5.rmsprop_step, {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}, 1,
     torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}),
    ("Adam", k5.adam_step, {"lr": 0.05, "beta1": 0.8, "beta2": 0.99}, 2, torch.optim.Adam,
     {"lr": 0.05, "betas": (0.8, 0.99)}),
]


def update_rules_vs_torch_optim() -> list[Row]:
    rows = []
    for name, rule, hyper, n_state, optimizer, options in RULES:
        start = time.perf_counter()
        grad, w = _logistic_problem()
        p = torch.tensor(w.copy(), requires_grad=True)
        opt = optimizer([p], **options)
        state, largest = [np.zeros_like(w)] * n_state, 0.0
        for t in range(1, 101):
            dw = grad(p.detach().numpy())
            out = rule(w, dw, *state, t, **hyper) if rule is k5.adam_step else \
                rule(w, dw, *state, **hyper)
            w, *state = out if isinstance(out, tuple) else (out,)
            p.grad = torch.from_numpy(dw)
            opt.step()
            largest = max(largest, float(np.abs(w - p.detach().numpy()).max()))
        rows.append(Row(f"{name}: largest parameter difference over 100 steps", largest,
                        "abs", oracle=f"torch.optim.{optimizer.__name__}", oracle_value=0.0,
                        target="≤ 1e-12", met=largest <= 1e-12,
                        seconds=time.perf_counter() - start,
                        notes="logistic regression, 5 weights of size ~1, float64, the same "
                              "gradient fed to both at every step"))
    return rows


# --------------------------------------------------------------------------------------
# Training on Fashion-MNIST, NumPy kernels against torch.nn + torch.optim
# --------------------------------------------------------------------------------------
def _fashion():
    data = load_fashion_mnist()
    flat = lambda x: x.reshape(len(x), -1)  # noqa: E731
    mean, std = flat(data.X_train).mean(axis=0), flat(data.X_train).std(axis=0) + 1e-8
    return ((flat(data.X_train) - mean) / std, data.y_train,
            (flat(data.X_test) - mean) / std, data.y_test)


def _he_init(sizes: list[int], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = [k5.he_normal_init(i, o, rng).astype(np.float32) for i, o in zip(sizes, sizes[1:])]
    return weights + [np.zeros(o, np.float32) for o in sizes[1:]]


def _torch_mlp(params: list[np.ndarray]) -> torch.nn.Sequential:
    n = len(params) // 2
    layers: list[torch.nn.Module] = []
    for i, (w, b) in enumerate(zip(params[:n], params[n:])):
        linear = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear] + ([torch.nn.ReLU()] if i < n - 1 else [])
    return torch.nn.Sequential(*layers)


def _numpy_accuracy(params: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
    n = len(params) // 2
    h = X
    for i, (w, b) in enumerate(zip(params[:n], params[n:])):
        h = h @ w + b
        h = np.maximum(h, 0) if i < n - 1 else h
    return float(np.mean(h.argmax(axis=1) == y))


def _torch_accuracy(model: torch.nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(torch.from_numpy(X)).argmax(dim=1).numpy() == y).mean())


def _rows(name: str, epochs: int, numpy_acc: float, torch_acc: float, numpy_s: float,
          torch_s: float, notes: str) -> list[Row]:
    gap = 100 * abs(numpy_acc - torch_acc)
    return [
        Row(f"{name}: test accuracy", numpy_acc, "accuracy", oracle="same model in PyTorch",
            oracle_value=torch_acc, target=f"within {ACCURACY_POINTS:g} point of PyTorch",
            met=gap <= ACCURACY_POINTS, seconds=numpy_s + torch_s, notes=notes),
        Row(f"{name}: seconds per epoch", numpy_s / epochs, "s", oracle="same model in PyTorch",
            oracle_value=torch_s / epochs, seconds=numpy_s + torch_s,
            notes=f"{THREADS} threads each; informational (no target)"),
    ]


def two_layer_sgd_fashion_mnist() -> list[Row]:
    """Week 4's ``two_layer_net`` (784-256-10) with plain SGD, as in the lecture."""
    X, y, X_test, y_test = _fashion()
    epochs, lr, batch = pick(10, 1), 0.05, 128
    init = _he_init([X.shape[1], 256, 10], seed=0)
    with threadpool_limits(THREADS):
        params, start = list(init), time.perf_counter()
        for epoch in range(epochs):
            for xb, yb in minibatches(X, y, batch, seed=epoch):
                w1, w2, b1, b2 = params
                _, dw1, db1, dw2, db2 = two_layer_net(xb, yb, w1, b1, w2, b2)
                params = [k5.sgd_step(p, g, lr) for p, g in zip(params, (dw1, dw2, db1, db2))]
        numpy_s = time.perf_counter() - start
        numpy_acc = _numpy_accuracy(params, X_test, y_test)

    torch.set_num_threads(THREADS)
    model = _torch_mlp(init)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    start = time.perf_counter()
    for epoch in range(epochs):
        for xb, yb in minibatches(X, y, batch, seed=epoch):
            opt.zero_grad()
            F.cross_entropy(model(torch.from_numpy(xb)), torch.from_numpy(yb)).backward()
            opt.step()
    torch_s = time.perf_counter() - start
    return _rows("Week 4 two-layer net 784-256-10, SGD lr 0.05", epochs, numpy_acc,
                 _torch_accuracy(model, X_test, y_test), numpy_s, torch_s,
                 f"{len(X)} training images, {epochs} epochs, batch {batch}, He init, "
                 "float32, same batches")


def mlp_adam_cosine_fashion_mnist() -> list[Row]:
    """A 784-256-256-10 MLP, Adam with a per-step cosine schedule (Week 5)."""
    X, y, X_test, y_test = _fashion()
    epochs, lr, batch = pick(5, 1), 1e-3, 128
    total_steps = epochs * -(-len(X) // batch)
    init = _he_init([X.shape[1], 256, 256, 10], seed=0)
    rates = k5.cosine_lr(np.arange(total_steps), lr, total_steps)
    n = len(init) // 2
    with threadpool_limits(THREADS):
        params, start, t = list(init), time.perf_counter(), 0
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        for epoch in range(epochs):
            for xb, yb in minibatches(X, y, batch, seed=epoch):
                _, dws, dbs = k5.mlp_gradients(xb, yb, params[:n], params[n:], "relu")
                t += 1
                for i, g in enumerate(dws + dbs):
                    params[i], m[i], v[i] = k5.adam_step(params[i], g, m[i], v[i], t,
                                                         lr=float(rates[t - 1]))
        numpy_s = time.perf_counter() - start
        numpy_acc = _numpy_accuracy(params, X_test, y_test)

    torch.set_num_threads(THREADS)
    model = _torch_mlp(init)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    start = time.perf_counter()
    for epoch in range(epochs):
        for xb, yb in minibatches(X, y, batch, seed=epoch):
            opt.zero_grad()
            F.cross_entropy(model(torch.from_numpy(xb)), torch.from_numpy(yb)).backward()
            opt.step()
            scheduler.step()
    torch_s = time.perf_counter() - start
    return _rows("Week 5 MLP 784-256-256-10, Adam + cosine", epochs, numpy_acc,
                 _torch_accuracy(model, X_test, y_test), numpy_s, torch_s,
                 f"{len(X)} training images, {epochs} epochs, batch {batch}, lr 1e-3 "
                 "annealed per step, He init, float32, same batches")


BENCHMARKS = [update_rules_vs_torch_optim, two_layer_sgd_fashion_mnist,
              mlp_adam_cosine_fashion_mnist]
