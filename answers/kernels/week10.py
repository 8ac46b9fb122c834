"""Week 10 reference kernels: the same maths as earlier weeks, written with PyTorch.

Graded functions take and return ``torch.Tensor``s (the checks pass float64 tensors):
:func:`linear_grads` (autograd), :func:`training_step` (one optimizer step),
:func:`lstm_cell` (Week 9's LSTM step with torch ops) and :func:`lenet_logits` (Week 7's
LeNet-5 with ``torch.nn.functional``).

The ports keep the NumPy weeks' weight layouts, so the *same arrays* can be fed to both
implementations and the outputs compared: fully connected weights are ``(in, out)`` and
multiply from the right (``nn.Linear`` stores ``(out, in)``: transpose when copying), LSTM
gates are packed i, f, g, o in ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``.
"""

from __future__ import annotations

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


@torch.no_grad()
def lstm_from_numpy(Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> nn.LSTM:
    """A one-layer, batch-first ``nn.LSTM`` with Week 9's weights.

    PyTorch multiplies from the left (``W x``) and keeps two biases whose sum is what counts,
    so: ``weight_ih = Wx.T``, ``weight_hh = Wh.T``, ``bias_ih = b``, ``bias_hh = 0``.
    """
    hidden = Wh.shape[0]
    lstm = nn.LSTM(Wx.shape[0], hidden, batch_first=True).to(torch.from_numpy(Wx).dtype)
    lstm.weight_ih_l0.copy_(torch.from_numpy(Wx.T))
    lstm.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
    lstm.bias_ih_l0.copy_(torch.from_numpy(b))
    lstm.bias_hh_l0.zero_()
    return lstm
