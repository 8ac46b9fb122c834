"""Week 10 alternatives (must pass) and mutants (must fail); arguments are torch tensors.

The module exercises are checked through the assignment's locked harness functions (the
``*_HARNESS`` strings below, the same text as in the notebook): a variant is the learner's
class or loop followed by that harness, exactly what the autograder runs.
"""

from answers.variants import Variant

#: The assignment's locked harness cells (the checked functions of the module exercises).
LOGCOSH_HARNESS = '''

def logcosh_forward_backward(x, dout):
    """Run your LogCosh forward and backward on x with upstream gradient dout."""
    x = x.detach().clone().requires_grad_(True)
    y = LogCosh.apply(x)
    y.backward(dout)
    return y.detach(), x.grad
'''

LSTM_CELL_HARNESS = '''

def lstm_cell(x, prev_h, prev_c, Wx, Wh, b):
    """Your LSTMCell holding the given weights, applied to one step."""
    cell = LSTMCell(Wx.shape[0], Wh.shape[0]).to(x.dtype)
    cell.load_state_dict({"Wx": Wx, "Wh": Wh, "b": b})
    with torch.no_grad():
        next_h, next_c = cell(x, (prev_h, prev_c))
    return next_h, next_c
'''

LSTM_LAYER_HARNESS = '''

def lstm_layer(x, h0, c0, Wx, Wh, b):
    """Your LSTM layer holding the given weights, run over the sequences x."""
    layer = LSTM(Wx.shape[0], Wh.shape[0]).to(x.dtype)
    layer.load_state_dict({"cell.Wx": Wx, "cell.Wh": Wh, "cell.b": b})
    with torch.no_grad():
        out, (h, c) = layer(x, (h0, c0))
    return out, h, c
'''

LENET_HARNESS = '''

def lenet_logits(x, conv1_w, conv1_b, conv2_w, conv2_b, fc1_w, fc1_b, fc2_w, fc2_b, fc3_w, fc3_b):
    """The logits of the module your lenet_from_week7 returns for Week 7's weights."""
    weights = dict(conv1_w=conv1_w, conv1_b=conv1_b, conv2_w=conv2_w, conv2_b=conv2_b,
                   fc1_w=fc1_w, fc1_b=fc1_b, fc2_w=fc2_w, fc2_b=fc2_b, fc3_w=fc3_w, fc3_b=fc3_b)
    model = lenet_from_week7(weights)
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"lenet_from_week7 returned a {type(model).__name__}, not an nn.Module")
    with torch.no_grad():
        return model(x)
'''

FIT_HARNESS = '''

def fit_mlp(x, y, w1, b1, w2, b2, lr, momentum, batch_size, epochs):
    """Your fit on a two-layer ReLU net starting from the given weights (nn.Linear layout)."""
    net = torch.nn.Sequential(torch.nn.Linear(w1.shape[1], w1.shape[0]), torch.nn.ReLU(),
                              torch.nn.Linear(w2.shape[1], w2.shape[0])).to(x.dtype)
    net.load_state_dict({"0.weight": w1, "0.bias": b1, "2.weight": w2, "2.bias": b2})
    history = fit(net, x, y, lr=float(lr), momentum=float(momentum),
                  batch_size=int(batch_size), epochs=int(epochs))
    weights = [p.detach().clone() for p in net.parameters()]
    return (torch.as_tensor(history, dtype=x.dtype), *weights)
'''

_IMPORTS = """
import torch
import torch.nn.functional as F
from torch import nn
"""

# --- log cosh -------------------------------------------------------------------------
_LOGCOSH = _IMPORTS + """import math


class LogCosh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        {forward}

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        {backward}
"""

_LOGCOSH_FORWARD = ("a = x.abs()\n        "
                    "near = torch.log1p(2 * torch.sinh(x.clamp(-1, 1) / 2) ** 2)\n        "
                    "return torch.where(a < 1, near, a + torch.log1p(torch.exp(-2 * a)) - math.log(2))")
_LOGCOSH_BACKWARD = "return grad_output * torch.tanh(x)"


def _logcosh(forward: str = _LOGCOSH_FORWARD, backward: str = _LOGCOSH_BACKWARD,
             save_output: bool = False) -> str:
    source = _LOGCOSH.format(forward=forward, backward=backward)
    if save_output:
        source = source.replace("        ctx.save_for_backward(x)\n", "")
        source = source.replace("return torch.where", "y = torch.where").replace(
            "math.log(2))\n", "math.log(2))\n        ctx.save_for_backward(y)\n        return y\n", 1)
        source = source.replace("(x,) = ctx.saved_tensors", "(y,) = ctx.saved_tensors")
    return source + LOGCOSH_HARNESS


# --- LSTM cell and layer ---------------------------------------------------------------
_CELL = _IMPORTS + """
class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.Wx = nn.Parameter(torch.randn(input_size, 4 * hidden_size) * 0.1)
        self.Wh = nn.Parameter(torch.randn(hidden_size, 4 * hidden_size) * 0.1)
        self.b = nn.Parameter(torch.zeros(4 * hidden_size))

    def forward(self, x, state):
        prev_h, prev_c = state
{body}
"""

_CELL_CORRECT = """\
        i, f, g, o = (x @ self.Wx + prev_h @ self.Wh + self.b).chunk(4, dim=1)
        c = torch.sigmoid(f) * prev_c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c"""


def _cell(body: str) -> str:
    return _CELL.format(body=body)


_LAYER = """
class LSTM(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.cell = LSTMCell(input_size, hidden_size)

    def forward(self, x, state=None):
{body}
"""

_LAYER_CORRECT = """\
        if state is None:
            state = (x.new_zeros(len(x), self.hidden_size),) * 2
        outputs = []
        for t in range(x.shape[1]):
            state = self.cell(x[:, t], state)
            outputs.append(state[0])
        return torch.stack(outputs, dim=1), state"""


def _layer(body: str, cell_body: str = _CELL_CORRECT) -> str:
    return _cell(cell_body) + _LAYER.format(body=body) + LSTM_LAYER_HARNESS


# --- LeNet ----------------------------------------------------------------------------
_LENET = _IMPORTS + """
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding={pad1})
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        h = {flatten}
        h = F.relu(self.fc2(F.relu(self.fc1(h))))
        return self.fc3(h)


def lenet_from_week7(params):
    model = LeNet5(){cast}
    with torch.no_grad():
        for name in ("conv1", "conv2", "fc1", "fc2", "fc3"):
            layer = getattr(model, name)
            weight = params[name + "_w"]
            layer.weight.copy_({fc_weight})
            layer.bias.copy_(params[name + "_b"])
    return model
"""


def _lenet(pad1: str = "2", flatten: str = "h.flatten(1)", cast: str = ".to(params['conv1_w'].dtype)",
           fc_weight: str = 'weight if name.startswith("conv") else weight.T') -> str:
    return _LENET.format(pad1=pad1, flatten=flatten, cast=cast, fc_weight=fc_weight) + LENET_HARNESS


# --- fit ------------------------------------------------------------------------------
_FIT = _IMPORTS + """
def fit(model, x, y, lr, momentum, batch_size, epochs):
{body}
"""

_FIT_CORRECT = """\
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    history = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(y), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
        history.append(total / len(y))
    return history"""


def _fit(body: str) -> str:
    return _FIT.format(body=body) + FIT_HARNESS


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
    Variant("w10_logcosh", "switch at |x| = 1: log1p(2 sinh²(x/2)) near 0, |x| − log 2 + … far",
            _logcosh()),
    Variant("w10_logcosh", "switch at 15: (e^a − 1)² / (2e^a) via expm1 near 0, logaddexp far; "
            "backward 1 − 2/(e^{2x} + 1) by sign", _logcosh(
                "a = x.abs()\n        "
                "near = torch.log1p(torch.expm1(a.clamp(max=15)) ** 2 / (2 * torch.exp(a.clamp(max=15))))\n        "
                "return torch.where(a < 15, near, torch.logaddexp(a, -a) - math.log(2))",
                "t = -torch.expm1(-2 * x.abs()) / (1 + torch.exp(-2 * x.abs()))\n        "
                "return grad_output * torch.sign(x) * t")),
    Variant("w10_logcosh", "Taylor x²/2 below 1e-6 (its error x⁴/12 is below the rounding)",
            _logcosh("a = x.abs()\n        "
                     "near = torch.log1p(2 * torch.sinh(x.clamp(-1, 1) / 2) ** 2)\n        "
                     "far = a + torch.log1p(torch.exp(-2 * a)) - math.log(2)\n        "
                     "return torch.where(a < 1e-6, x * x / 2, torch.where(a < 1, near, far))")),
    Variant("w10_lstm_cell", "an LSTMCell module slicing the pre-activations by hand", _cell("""\
        h = prev_h.shape[1]
        a = x @ self.Wx + prev_h @ self.Wh + self.b
        i, f = torch.sigmoid(a[:, :h]), torch.sigmoid(a[:, h:2 * h])
        g, o = torch.tanh(a[:, 2 * h:3 * h]), torch.sigmoid(a[:, 3 * h:])
        c = f * prev_c + i * g
        return o * torch.tanh(c), c""") + LSTM_CELL_HARNESS),
    Variant("w10_lstm_cell", "an LSTMCell module with torch.addmm", _cell("""\
        a = torch.addmm(self.b, x, self.Wx) + prev_h @ self.Wh
        i, f, g, o = a.split(a.shape[1] // 4, dim=1)
        c = f.sigmoid() * prev_c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c""") + LSTM_CELL_HARNESS),
    Variant("w10_lstm_layer", "the LSTM layer looping over x.unbind(1)", _layer("""\
        h, c = state
        outputs = []
        for x_t in x.unbind(1):
            h, c = self.cell(x_t, (h, c))
            outputs.append(h)
        return torch.stack(outputs, 1), (h, c)""")),
    Variant("w10_lstm_layer", "writing into a preallocated output tensor", _layer("""\
        n, steps, _ = x.shape
        out = x.new_empty(n, steps, self.hidden_size)
        for t in range(steps):
            state = self.cell(x[:, t, :], state)
            out[:, t] = state[0]
        return out, state""")),
    Variant("w10_lenet", "named layers, weights copied with .T for the linear layers", _lenet()),
    Variant("w10_lenet", "nn.Sequential built from the weights, reshape flatten", _IMPORTS + """
def lenet_from_week7(params):
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    model = model.to(params["fc1_w"].dtype)
    layers = [m for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
    names = ["conv1", "conv2", "fc1", "fc2", "fc3"]
    with torch.no_grad():
        for layer, name in zip(layers, names):
            w = params[name + "_w"]
            layer.weight.copy_(w if w.dim() == 4 else w.t())
            layer.bias.copy_(params[name + "_b"])
    return model
""" + LENET_HARNESS),
    Variant("w10_fit", "the loop as in the lecture", _fit(_FIT_CORRECT)),
    Variant("w10_fit", "a DataLoader without shuffling; sum of per-example losses", _fit("""\
    from torch.utils.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    history = []
    for _ in range(epochs):
        total = 0.0
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb, reduction="sum")
            optimizer.zero_grad()
            (loss / len(yb)).backward()
            optimizer.step()
            total += loss.item()
        history.append(total / len(y))
    return history""")),
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
    # log cosh
    Variant("w10_logcosh", "a 'guard' flushing |x| < 1e-100 to 0 [hidden only]",
            _logcosh("a = x.abs()\n        "
                     "near = torch.log1p(2 * torch.sinh(x.clamp(-1, 1) / 2) ** 2)\n        "
                     "y = torch.where(a < 1, near, a + torch.log1p(torch.exp(-2 * a)) - math.log(2))\n        "
                     "return torch.where(a < 1e-100, torch.zeros_like(x), y)")),
    Variant("w10_logcosh", "naive forward log(cosh(x)): overflows far from 0, 0 near 0",
            _logcosh("return torch.log(torch.cosh(x))")),
    Variant("w10_logcosh", "the large-|x| formula everywhere (cancels near 0)", _logcosh(
        "a = x.abs()\n        return a + torch.log1p(torch.exp(-2 * a)) - math.log(2)")),
    Variant("w10_logcosh", "the near-0 formula everywhere (sinh² overflows far from 0)",
            _logcosh("return torch.log1p(2 * torch.sinh(x / 2) ** 2)")),
    Variant("w10_logcosh", "backward sinh(x) / cosh(x): inf / inf far from 0", _logcosh(
        backward="return grad_output * torch.sinh(x) / torch.cosh(x)")),
    Variant("w10_logcosh", "backward ignores the upstream gradient", _logcosh(
        backward="return torch.tanh(x)")),
    Variant("w10_logcosh", "backward is tanh of the saved output", _logcosh(
        backward="return grad_output * torch.tanh(y)", save_output=True)),
    # lstm_cell
    Variant("w10_lstm_cell", "gates in the order i, f, o, g", _cell("""\
        i, f, o, g = (x @ self.Wx + prev_h @ self.Wh + self.b).chunk(4, dim=1)
        c = torch.sigmoid(f) * prev_c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c""") + LSTM_CELL_HARNESS),
    Variant("w10_lstm_cell", "no tanh on the cell in the output", _cell("""\
        i, f, g, o = (x @ self.Wx + prev_h @ self.Wh + self.b).chunk(4, dim=1)
        c = torch.sigmoid(f) * prev_c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * c, c""") + LSTM_CELL_HARNESS),
    Variant("w10_lstm_cell", "sigmoid on the candidate g", _cell("""\
        i, f, g, o = torch.sigmoid(x @ self.Wx + prev_h @ self.Wh + self.b).chunk(4, dim=1)
        c = f * prev_c + i * g
        return o * torch.tanh(c), c""") + LSTM_CELL_HARNESS),
    Variant("w10_lstm_cell", "parameters named weight_ih / weight_hh (load_state_dict fails)",
            _cell(_CELL_CORRECT).replace("self.Wx", "self.weight_ih")
            .replace("self.Wh", "self.weight_hh") + LSTM_CELL_HARNESS),
    # lstm_layer
    Variant("w10_lstm_layer", "restarts from zeros, ignoring the given state", _layer("""\
        state = (x.new_zeros(len(x), self.hidden_size),) * 2
        outputs = []
        for t in range(x.shape[1]):
            state = self.cell(x[:, t], state)
            outputs.append(state[0])
        return torch.stack(outputs, dim=1), state""")),
    Variant("w10_lstm_layer", "carries h but resets the cell c at every step", _layer("""\
        h, c0 = state
        outputs = []
        for t in range(x.shape[1]):
            h, c = self.cell(x[:, t], (h, c0))
            outputs.append(h)
        return torch.stack(outputs, dim=1), (h, c)""")),
    Variant("w10_lstm_layer", "walks axis 0 as time (time-first, as in Week 11)", _layer("""\
        h, c = state
        outputs = []
        for x_t in x:
            h, c = self.cell(x_t[:len(h)], (h[:len(x_t)], c[:len(x_t)]))
            outputs.append(h)
        return torch.stack(outputs, dim=1), (h, c)""")),
    Variant("w10_lstm_layer", "returns the first step's state as the final state", _layer("""\
        outputs, first = [], None
        for t in range(x.shape[1]):
            state = self.cell(x[:, t], state)
            first = state if first is None else first
            outputs.append(state[0])
        return torch.stack(outputs, dim=1), first""")),
    # lenet
    Variant("w10_lenet", "no padding on the first convolution (28 → 24)", _lenet(pad1="0")),
    Variant("w10_lenet", "channels-last flatten (permute before reshape)",
            _lenet(flatten="h.permute(0, 2, 3, 1).reshape(len(h), -1)")),
    Variant("w10_lenet", "linear weights copied without the transpose (a square layer hides it)",
            _lenet(fc_weight="weight if name.startswith('conv') else weight.reshape(weight.T.shape)")),
    Variant("w10_lenet", "module left in float32 while the weights are float64",
            _lenet(cast="")),
    # fit
    Variant("w10_fit", "epoch loss = mean of the batch means (a small last batch over-weighted)",
            _fit(_FIT_CORRECT.replace("total += loss.item() * len(yb)", "total += loss.item()")
                 .replace("history.append(total / len(y))",
                          "history.append(total / -(-len(y) // batch_size))"))),
    Variant("w10_fit", "a new optimizer every epoch (momentum buffer lost)",
            _fit(_FIT_CORRECT.replace(
                "    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)\n", "")
                 .replace("        total = 0.0\n", "        total = 0.0\n        optimizer = "
                          "torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)\n"))),
    Variant("w10_fit", "no zero_grad: gradients accumulate over the epoch",
            _fit(_FIT_CORRECT.replace("            optimizer.zero_grad()\n", ""))),
    Variant("w10_fit", "drops the last incomplete batch", _fit(_FIT_CORRECT.replace(
        "range(0, len(y), batch_size)", "range(0, len(y) - batch_size + 1, batch_size)")
        .replace("history.append(total / len(y))",
                 "history.append(total / max(1, len(y) // batch_size * batch_size))"))),
    Variant("w10_fit", "loss of each batch recorded after its step", _fit(_FIT_CORRECT.replace(
        "            total += loss.item() * len(yb)",
        "            total += F.cross_entropy(model(xb), yb).item() * len(yb)"))),
]
