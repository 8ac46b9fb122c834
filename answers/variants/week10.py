"""Week 10 alternatives (must pass) and mutants (must fail); arguments are torch tensors."""

from answers.variants import Variant

ALTERNATIVES = [
    Variant("w10_linear_grads", "torch.autograd.grad of sum(out * dout)", '''
import torch

def linear_grads(x, w, b, dout):
    x, w, b = (t.clone().requires_grad_() for t in (x, w, b))
    out = x @ w + b
    dx, dw, db = torch.autograd.grad((out * dout).sum(), (x, w, b))
    return out.detach(), dx, dw, db
'''),
    Variant("w10_linear_grads", "the Week 4 formulas, no autograd", '''
def linear_grads(x, w, b, dout):
    return x @ w + b, dout @ w.T, x.T @ dout, dout.sum(dim=0)
'''),
    Variant("w10_training_step", "manual softmax gradient and momentum buffer", '''
import torch

def training_step(x, y, w, b, lr, momentum):
    w, b = w.clone(), b.clone()
    onehot = torch.nn.functional.one_hot(y, w.shape[1]).to(x.dtype)
    buffers, losses = None, []
    for _ in range(2):
        scores = x @ w + b
        log_probs = scores - torch.logsumexp(scores, dim=1, keepdim=True)
        losses.append(-(log_probs * onehot).sum() / len(y))
        dscores = (log_probs.exp() - onehot) / len(y)
        grads = (x.T @ dscores, dscores.sum(dim=0))
        buffers = grads if buffers is None else tuple(
            momentum * v + g for v, g in zip(buffers, grads))
        w, b = w - lr * buffers[0], b - lr * buffers[1]
    return torch.stack(losses), w, b
'''),
    Variant("w10_training_step", "nn.Linear module and a fresh graph each step", '''
import torch

def training_step(x, y, w, b, lr, momentum):
    layer = torch.nn.Linear(w.shape[0], w.shape[1]).double()
    with torch.no_grad():
        layer.weight.copy_(w.T)
        layer.bias.copy_(b)
    optimizer = torch.optim.SGD(layer.parameters(), lr=lr, momentum=momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(2):
        loss = loss_fn(layer(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return torch.tensor(losses), layer.weight.detach().T, layer.bias.detach()
'''),
    Variant("w10_lstm_cell", "torch.nn.LSTMCell with the weights copied in", '''
import torch

def lstm_cell(x, prev_h, prev_c, Wx, Wh, b):
    cell = torch.nn.LSTMCell(Wx.shape[0], Wh.shape[0]).double()
    with torch.no_grad():
        cell.weight_ih.copy_(Wx.T)
        cell.weight_hh.copy_(Wh.T)
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
    return cell(x, (prev_h, prev_c))
'''),
    Variant("w10_lstm_cell", "slicing the pre-activations by hand", '''
import torch

def lstm_cell(x, prev_h, prev_c, Wx, Wh, b):
    h = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f = torch.sigmoid(a[:, :h]), torch.sigmoid(a[:, h:2 * h])
    g, o = torch.tanh(a[:, 2 * h:3 * h]), torch.sigmoid(a[:, 3 * h:])
    c = f * prev_c + i * g
    return o * torch.tanh(c), c
'''),
    Variant("w10_lenet", "nn.Sequential with the weights copied in", '''
import torch
from torch import nn

def lenet_logits(x, conv1_w, conv1_b, conv2_w, conv2_b, fc1_w, fc1_b, fc2_w, fc2_b,
                 fc3_w, fc3_b):
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)).double()
    weights = [(conv1_w, conv1_b), (conv2_w, conv2_b), (fc1_w.T, fc1_b), (fc2_w.T, fc2_b),
               (fc3_w.T, fc3_b)]
    layers = [m for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        for layer, (w, b) in zip(layers, weights):
            layer.weight.copy_(w)
            layer.bias.copy_(b)
        return model(x)
'''),
    Variant("w10_lenet", "pool before ReLU (max and ReLU commute)", '''
import torch.nn.functional as F

def lenet_logits(x, conv1_w, conv1_b, conv2_w, conv2_b, fc1_w, fc1_b, fc2_w, fc2_b,
                 fc3_w, fc3_b):
    h = F.relu(F.max_pool2d(F.conv2d(x, conv1_w, conv1_b, padding=2), 2))
    h = F.relu(F.max_pool2d(F.conv2d(h, conv2_w, conv2_b), 2))
    h = F.relu(F.linear(h.reshape(len(x), -1), fc1_w.T, fc1_b))
    h = F.relu(F.linear(h, fc2_w.T, fc2_b))
    return F.linear(h, fc3_w.T, fc3_b)
'''),
]

MUTANTS = [
    # linear_grads
    Variant("w10_linear_grads", "out.sum().backward(): ignores the upstream gradient", '''
def linear_grads(x, w, b, dout):
    x, w, b = (t.clone().requires_grad_() for t in (x, w, b))
    out = x @ w + b
    out.sum().backward()
    return out.detach(), x.grad, w.grad, b.grad
'''),
    Variant("w10_linear_grads", "(out * dout).mean(): gradients divided by N·M", '''
def linear_grads(x, w, b, dout):
    x, w, b = (t.clone().requires_grad_() for t in (x, w, b))
    out = x @ w + b
    (out * dout).mean().backward()
    return out.detach(), x.grad, w.grad, b.grad
'''),
    Variant("w10_linear_grads", "manual dw with the wrong transpose (dout.T @ x)", '''
def linear_grads(x, w, b, dout):
    return x @ w + b, dout @ w.T, dout.T @ x, dout.sum(dim=0)
'''),
    Variant("w10_linear_grads", "db averaged over the batch", '''
def linear_grads(x, w, b, dout):
    return x @ w + b, dout @ w.T, x.T @ dout, dout.mean(dim=0)
'''),
    # training_step
    Variant("w10_training_step", "no zero_grad: the second step adds both gradients", '''
import torch

def training_step(x, y, w, b, lr, momentum):
    w, b = (t.clone().requires_grad_() for t in (w, b))
    optimizer = torch.optim.SGD([w, b], lr=lr, momentum=momentum)
    losses = []
    for _ in range(2):
        loss = torch.nn.functional.cross_entropy(x @ w + b, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return torch.stack(losses), w.detach(), b.detach()
'''),
    Variant("w10_training_step", "softmax before cross_entropy (which applies its own)", '''
import torch

def training_step(x, y, w, b, lr, momentum):
    w, b = (t.clone().requires_grad_() for t in (w, b))
    optimizer = torch.optim.SGD([w, b], lr=lr, momentum=momentum)
    losses = []
    for _ in range(2):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(torch.softmax(x @ w + b, dim=1), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return torch.stack(losses), w.detach(), b.detach()
'''),
    Variant("w10_training_step", "summed loss (reduction='sum')", '''
import torch

def training_step(x, y, w, b, lr, momentum):
    w, b = (t.clone().requires_grad_() for t in (w, b))
    optimizer = torch.optim.SGD([w, b], lr=lr, momentum=momentum)
    losses = []
    for _ in range(2):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ w + b, y, reduction="sum")
        loss.backward()
        optimizer.step()
        losses.append(loss.detach() / len(y))
    return torch.stack(losses), w.detach(), b.detach()
'''),
    Variant("w10_training_step", "a new optimizer each step (momentum buffer lost)", '''
import torch

def training_step(x, y, w, b, lr, momentum):
    w, b = (t.clone().requires_grad_() for t in (w, b))
    losses = []
    for _ in range(2):
        optimizer = torch.optim.SGD([w, b], lr=lr, momentum=momentum)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ w + b, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return torch.stack(losses), w.detach(), b.detach()
'''),
    # lstm_cell
    Variant("w10_lstm_cell", "gates in the order i, f, o, g", '''
import torch

def lstm_cell(x, prev_h, prev_c, Wx, Wh, b):
    i, f, o, g = (x @ Wx + prev_h @ Wh + b).chunk(4, dim=1)
    c = torch.sigmoid(f) * prev_c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
'''),
    Variant("w10_lstm_cell", "no tanh on the cell in the output", '''
import torch

def lstm_cell(x, prev_h, prev_c, Wx, Wh, b):
    i, f, g, o = (x @ Wx + prev_h @ Wh + b).chunk(4, dim=1)
    c = torch.sigmoid(f) * prev_c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * c, c
'''),
    Variant("w10_lstm_cell", "sigmoid on the candidate g", '''
import torch

def lstm_cell(x, prev_h, prev_c, Wx, Wh, b):
    i, f, g, o = torch.sigmoid(x @ Wx + prev_h @ Wh + b).chunk(4, dim=1)
    c = f * prev_c + i * g
    return o * torch.tanh(c), c
'''),
    Variant("w10_lstm_cell", "forget gate on the candidate, input gate on the old cell", '''
import torch

def lstm_cell(x, prev_h, prev_c, Wx, Wh, b):
    i, f, g, o = (x @ Wx + prev_h @ Wh + b).chunk(4, dim=1)
    c = torch.sigmoid(i) * prev_c + torch.sigmoid(f) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
'''),
    # lenet
    Variant("w10_lenet", "channels-last flatten (permute before reshape)", '''
import torch.nn.functional as F

def lenet_logits(x, conv1_w, conv1_b, conv2_w, conv2_b, fc1_w, fc1_b, fc2_w, fc2_b,
                 fc3_w, fc3_b):
    h = F.max_pool2d(F.relu(F.conv2d(x, conv1_w, conv1_b, padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, conv2_w, conv2_b)), 2)
    h = h.permute(0, 2, 3, 1).reshape(len(x), -1)
    h = F.relu(h @ fc1_w + fc1_b)
    h = F.relu(h @ fc2_w + fc2_b)
    return h @ fc3_w + fc3_b
'''),
    Variant("w10_lenet", "average pooling instead of max pooling", '''
import torch.nn.functional as F

def lenet_logits(x, conv1_w, conv1_b, conv2_w, conv2_b, fc1_w, fc1_b, fc2_w, fc2_b,
                 fc3_w, fc3_b):
    h = F.avg_pool2d(F.relu(F.conv2d(x, conv1_w, conv1_b, padding=2)), 2)
    h = F.avg_pool2d(F.relu(F.conv2d(h, conv2_w, conv2_b)), 2).flatten(1)
    h = F.relu(h @ fc1_w + fc1_b)
    h = F.relu(h @ fc2_w + fc2_b)
    return h @ fc3_w + fc3_b
'''),
    Variant("w10_lenet", "flipped filters (true convolution, not cross-correlation)", '''
import torch
import torch.nn.functional as F

def lenet_logits(x, conv1_w, conv1_b, conv2_w, conv2_b, fc1_w, fc1_b, fc2_w, fc2_b,
                 fc3_w, fc3_b):
    flip = lambda w: torch.flip(w, dims=(2, 3))
    h = F.max_pool2d(F.relu(F.conv2d(x, flip(conv1_w), conv1_b, padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, flip(conv2_w), conv2_b)), 2).flatten(1)
    h = F.relu(h @ fc1_w + fc1_b)
    h = F.relu(h @ fc2_w + fc2_b)
    return h @ fc3_w + fc3_b
'''),
    Variant("w10_lenet", "ReLU on the logits too", '''
import torch.nn.functional as F

def lenet_logits(x, conv1_w, conv1_b, conv2_w, conv2_b, fc1_w, fc1_b, fc2_w, fc2_b,
                 fc3_w, fc3_b):
    h = F.max_pool2d(F.relu(F.conv2d(x, conv1_w, conv1_b, padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, conv2_w, conv2_b)), 2).flatten(1)
    h = F.relu(h @ fc1_w + fc1_b)
    h = F.relu(h @ fc2_w + fc2_b)
    return F.relu(h @ fc3_w + fc3_b)
'''),
]
