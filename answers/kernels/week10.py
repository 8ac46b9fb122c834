"""Week 10 reference kernels: the same maths as earlier weeks, written with PyTorch.

Graded functions take and return ``torch.Tensor``s (the checks pass float64 tensors):
:func:`linear_grads` (autograd), :func:`logcosh_forward_backward` (a custom
``torch.autograd.Function``: a forward precise in every regime and a hand-derived backward),
:func:`training_step` (one optimizer step), :func:`lstm_cell` and :func:`lstm_layer` (Week 9's
LSTM as the learner's own ``nn.Module``s, checked on given weights), :func:`lenet_logits`
(Week 7's LeNet-5 as an ``nn.Module`` holding Week 7's weights) and :func:`fit_mlp` (a whole
training loop: SGD with momentum over mini-batches, the epoch's mean loss).

The ports keep the NumPy weeks' weight layouts, so the *same arrays* can be fed to both
implementations and the outputs compared: fully connected weights are ``(in, out)`` and
multiply from the right (``nn.Linear`` stores ``(out, in)``: transpose when copying), LSTM
gates are packed i, f, g, o in ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def linear_grads(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, dout: torch.Tensor
                 ) -> tuple[torch.Tensor, ...]:
    """``out = x @ w + b`` and the gradients autograd finds for an upstream ``dout``.

    ``out.backward(dout)`` computes the vector-Jacobian product, i.e. the gradients of
    ``sum(out * dout)``: exactly what Week 4's ``affine_backward(dout, ...)`` returns.

    Args:
        x: ``(N, D)``; w: ``(D, M)``; b: ``(M,)``; dout: ``(N, M)``.

    Returns:
        ``(out (N, M), dx (N, D), dw (D, M), db (M,))``.
    """
    x, w, b = (t.detach().clone().requires_grad_(True) for t in (x, w, b))
    out = x @ w + b
    out.backward(dout)
    return out.detach(), x.grad, w.grad, b.grad


class LogCosh(torch.autograd.Function):
    """``log(cosh(x))`` with a forward precise for every float64 ``x`` and its own backward.

    Forward, in two regimes: for ``|x| < 1``, ``log1p(2 sinh²(x/2))`` (``cosh x − 1 =
    2 sinh²(x/2)`` exactly, so nothing cancels near 0, where the value is ≈ x²/2); otherwise
    ``|x| + log1p(exp(−2|x|)) − log 2``, whose ``exp`` never overflows. Backward:
    ``d log cosh / dx = tanh(x)``, evaluated with ``torch.tanh`` (finite everywhere).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        a = x.abs()
        near_zero = torch.log1p(2 * torch.sinh(x.clamp(-1, 1) / 2) ** 2)
        far = a + torch.log1p(torch.exp(-2 * a)) - math.log(2)
        return torch.where(a < 1, near_zero, far)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output * torch.tanh(ctx.saved_tensors[0])


def logcosh_forward_backward(x: torch.Tensor, dout: torch.Tensor
                             ) -> tuple[torch.Tensor, torch.Tensor]:
    """``y = LogCosh.apply(x)`` and ``dx`` for the upstream gradient ``dout`` (any shape).

    Returns:
        ``(y, dx)``, both of the shape of ``x``.
    """
    leaf = x.detach().requires_grad_(True)
    y = LogCosh.apply(leaf)
    (dx,) = torch.autograd.grad(y, leaf, dout)
    return y.detach(), dx


def training_step(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor,
                  lr: float, momentum: float) -> tuple[torch.Tensor, ...]:
    """Two steps of ``torch.optim.SGD`` (with momentum) on softmax regression.

    The canonical loop body: ``zero_grad`` → forward → loss → ``backward`` → ``step``.
    Two steps, because the second one shows whether gradients were zeroed (they accumulate
    otherwise) and whether the momentum buffer carries over.

    Args:
        x: ``(N, D)`` features; y: ``(N,)`` labels; w: ``(D, C)``; b: ``(C,)``.
        lr, momentum: SGD hyper-parameters.

    Returns:
        ``(losses (2,), w_new (D, C), b_new (C,))``: the mean cross-entropy *before* each
        step and the parameters after both.
    """
    w, b = (t.detach().clone().requires_grad_(True) for t in (w, b))
    optimizer = torch.optim.SGD([w, b], lr=lr, momentum=momentum)
    losses = []
    for _ in range(2):
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ w + b, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return torch.stack(losses), w.detach(), b.detach()


def lstm_cell(x: torch.Tensor, prev_h: torch.Tensor, prev_c: torch.Tensor, Wx: torch.Tensor,
              Wh: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Week 9's ``lstm_step_forward`` with torch ops (so autograd gives the backward pass).

    Args:
        x: ``(N, D)``; prev_h, prev_c: ``(N, H)``; Wx: ``(D, 4H)``; Wh: ``(H, 4H)``;
        b: ``(4H,)``, gates in the order i, f, g, o.

    Returns:
        ``(next_h (N, H), next_c (N, H))``.
    """
    a_i, a_f, a_g, a_o = (x @ Wx + prev_h @ Wh + b).chunk(4, dim=-1)
    next_c = torch.sigmoid(a_f) * prev_c + torch.sigmoid(a_i) * torch.tanh(a_g)
    return torch.sigmoid(a_o) * torch.tanh(next_c), next_c


class LSTMCell(nn.Module):
    """Week 9's LSTM step as a module with parameters ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        bound = hidden_size ** -0.5
        self.Wx = nn.Parameter(torch.empty(input_size, 4 * hidden_size).uniform_(-bound, bound))
        self.Wh = nn.Parameter(torch.empty(hidden_size, 4 * hidden_size).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.zeros(4 * hidden_size))

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        return lstm_cell(x, *state, self.Wx, self.Wh, self.b)


class LSTM(nn.Module):
    """One LSTM layer over a batch-first sequence ``(N, T, D)``, built on :class:`LSTMCell`."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.cell = LSTMCell(input_size, hidden_size)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        outputs = []
        for t in range(x.shape[1]):
            state = self.cell(x[:, t], state)
            outputs.append(state[0])
        return torch.stack(outputs, dim=1), state


def lstm_layer(x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, Wx: torch.Tensor,
               Wh: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Week 9's ``lstm_forward`` as an ``nn.Module`` loaded with the given weights.

    Args:
        x: ``(N, T, D)``; h0, c0: ``(N, H)``; Wx: ``(D, 4H)``; Wh: ``(H, 4H)``; b: ``(4H,)``.

    Returns:
        ``(out (N, T, H), h_T (N, H), c_T (N, H))``: every hidden state and the final state.
    """
    lstm = LSTM(Wx.shape[0], Wh.shape[0]).to(x.dtype)
    lstm.load_state_dict({"cell.Wx": Wx, "cell.Wh": Wh, "cell.b": b})
    with torch.no_grad():
        out, (h, c) = lstm(x, (h0, c0))
    return out, h, c


def fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float, momentum: float,
        batch_size: int, epochs: int) -> list[float]:
    """Train ``model`` with SGD (momentum) on mini-batches taken in order; epoch mean losses.

    Each epoch walks the data in order, ``batch_size`` examples at a time (the last batch
    may be smaller), one optimizer step per batch. The epoch's loss is the mean cross-entropy
    over all its *examples*, each batch's loss taken before its step: batch means weighted
    by batch size, so a small last batch does not count as much as a full one.
    """
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    history = []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for start in range(0, len(y), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
        history.append(total / len(y))
    return history


def fit_mlp(x: torch.Tensor, y: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor,
            w2: torch.Tensor, b2: torch.Tensor, lr: float, momentum: float, batch_size: int,
            epochs: int) -> tuple[torch.Tensor, ...]:
    """:func:`fit` on a two-layer ReLU network holding the given (``nn.Linear``-layout) weights.

    Args:
        x: ``(N, D)``; y: ``(N,)`` labels; w1: ``(H, D)``; b1: ``(H,)``; w2: ``(C, H)``;
        b2: ``(C,)``; lr, momentum, batch_size, epochs: as in :func:`fit`.

    Returns:
        ``(epoch_losses (epochs,), w1, b1, w2, b2)`` after training.
    """
    model = nn.Sequential(nn.Linear(w1.shape[1], w1.shape[0]), nn.ReLU(),
                          nn.Linear(w2.shape[1], w2.shape[0])).to(x.dtype)
    model.load_state_dict({"0.weight": w1, "0.bias": b1, "2.weight": w2, "2.bias": b2})
    losses = fit(model, x, y, float(lr), float(momentum), int(batch_size), int(epochs))
    return (torch.tensor(losses, dtype=x.dtype),
            *(p.detach().clone() for p in model.parameters()))


def lenet_logits(x: torch.Tensor, conv1_w: torch.Tensor, conv1_b: torch.Tensor,
                 conv2_w: torch.Tensor, conv2_b: torch.Tensor, fc1_w: torch.Tensor,
                 fc1_b: torch.Tensor, fc2_w: torch.Tensor, fc2_b: torch.Tensor,
                 fc3_w: torch.Tensor, fc3_b: torch.Tensor) -> torch.Tensor:
    """Week 7's LeNet-5 forward pass with ``torch.nn.functional``, same weights and layout.

    conv 5×5 (pad 2) → ReLU → max-pool 2 → conv 5×5 → ReLU → max-pool 2 → flatten (channel,
    row, column order, as NumPy's ``reshape``) → 120 → ReLU → 84 → ReLU → 10.

    Args:
        x: ``(N, 1, 28, 28)``; conv weights ``(F, C, 5, 5)``; fully connected weights
            ``(in, out)`` as in :data:`answers.kernels.week07.LENET_SHAPES`.

    Returns:
        ``(N, 10)`` logits.
    """
    h = F.max_pool2d(F.relu(F.conv2d(x, conv1_w, conv1_b, padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, conv2_w, conv2_b)), 2).flatten(1)
    h = F.relu(h @ fc1_w + fc1_b)
    h = F.relu(h @ fc2_w + fc2_b)
    return h @ fc3_w + fc3_b


# --------------------------------------------------------------------------------------
# nn.Module versions, and loading the NumPy weeks' weights into them
# --------------------------------------------------------------------------------------

class LeNet5(nn.Module):
    """LeNet-5 as an ``nn.Module``: the same architecture as :func:`lenet_logits`."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.classifier = nn.Sequential(
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@torch.no_grad()
def lenet_from_numpy(params: dict[str, np.ndarray]) -> LeNet5:
    """A :class:`LeNet5` holding Week 7's NumPy parameters (fully connected ones transposed)."""
    model = LeNet5().to(torch.from_numpy(params["conv1_w"]).dtype)
    layers = {"conv1": model.features[0], "conv2": model.features[3],
              "fc1": model.classifier[0], "fc2": model.classifier[2], "fc3": model.classifier[4]}
    for name, layer in layers.items():
        weight = torch.from_numpy(params[f"{name}_w"])
        layer.weight.copy_(weight if name.startswith("conv") else weight.T)
        layer.bias.copy_(torch.from_numpy(params[f"{name}_b"]))
    return model
