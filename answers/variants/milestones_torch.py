"""Variants of the PyTorch milestones (weeks 10 and 11): alternatives pass, mutants fail.

As in :mod:`answers.variants.milestones`, each variant is a whole solution cell of the
reference notebook with one plausible change (a replacement that no longer applies raises).
The ports of week 10 are function exercises (``tests/test_variants.py`` checks them against
the NumPy weeks): their variants are the module cell plus the notebook's locked wrappers
(``port_lenet`` / ``port_lstm``), so that they load on their own. The other exercises are
graded as notebooks in ``tests/test_milestones_torch.py``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from answers.variants import Variant

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
NOTEBOOKS = {"w10": SOLUTIONS / "week10-pytorch" / "milestone.ipynb",
             "w11": SOLUTIONS / "week11-language-model" / "milestone.ipynb"}
_IMPORTS = ("import numpy as np\nimport torch\nimport torch.nn.functional as F\n"
            "from torch import nn\n\n")


@lru_cache(maxsize=None)
def cell(week: str, grade_id: str) -> str:
    """A cell of the reference notebook, without the solution markers."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS[week], as_version=4)
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return "\n".join(line for line in c.source.splitlines()
                             if "### BEGIN SOLUTION" not in line
                             and "### END SOLUTION" not in line)
    raise KeyError(f"no cell {grade_id} in {NOTEBOOKS[week]}")


def _apply(source: str, label: str, replacements) -> str:
    for old, new in replacements:
        if old not in source:
            raise ValueError(f"variant {label!r}: {old!r} is not in the solution")
        source = source.replace(old, new)
    return source


def _cell_variant(exercise_id: str, label: str, *replacements) -> Variant:
    """The exercise's solution cell with ``replacements``."""
    source = cell(exercise_id[:3], f"{exercise_id}_code")
    return Variant(exercise_id, label, _apply(source, label, replacements))


def _port_variant(exercise_id: str, module_cell: str, label: str, *replacements) -> Variant:
    """A solution cell with ``replacements``, plus what it needs to load on its own: the
    imports, the reference LeNet5 (for the loader of ``port_lenet``) and the locked wrappers."""
    source = _apply(cell("w10", module_cell), label, replacements)
    model = cell("w10", "w10_milestone_code") + "\n\n\n" if "lenet" in exercise_id else ""
    return Variant(exercise_id, label, _IMPORTS + model + source + "\n\n\n"
                   + cell("w10", "port_functions") + "\n")


# --- week 10: LeNet-5 -------------------------------------------------------------------
_LENET_STATE_DICT = (
    '''    for name in ("conv1", "conv2", "fc1", "fc2", "fc3"):
        layer = getattr(model, name)
        weight = torch.from_numpy(np.asarray(params[f"{name}_w"]))
        layer.weight.copy_(weight if name.startswith("conv") else weight.T)
        layer.bias.copy_(torch.from_numpy(np.asarray(params[f"{name}_b"])))
    return model''',
    '''    state = {}
    for name in ("conv1", "conv2", "fc1", "fc2", "fc3"):
        weight = np.asarray(params[f"{name}_w"])
        state[f"{name}.weight"] = torch.tensor(weight if weight.ndim == 4 else weight.T.copy())
        state[f"{name}.bias"] = torch.tensor(np.asarray(params[f"{name}_b"]))
    model.load_state_dict(state)
    return model''')
_LENET_FLIP = ("        layer.weight.copy_(weight if name.startswith(\"conv\") else weight.T)",
               "        layer.weight.copy_(torch.flip(weight, (2, 3)) if name.startswith(\"conv\") "
               "else weight.T)")
_LENET_NO_BIAS = ("        layer.bias.copy_(torch.from_numpy(np.asarray(params[f\"{name}_b\"])))\n",
                  "")
_LENET_VIEW = ("        h = F.max_pool2d(F.relu(self.conv2(h)), 2).flatten(1)",
               "        h = F.max_pool2d(F.relu(self.conv2(h)), 2)\n        h = h.view(h.shape[0], -1)")
_LENET_RESHAPE = ("        layer.weight.copy_(weight if name.startswith(\"conv\") else weight.T)",
                  "        layer.weight.copy_(weight.reshape(layer.weight.shape))")
_LENET_NHWC = ("        h = F.max_pool2d(F.relu(self.conv2(h)), 2).flatten(1)",
               "        h = F.max_pool2d(F.relu(self.conv2(h)), 2).permute(0, 2, 3, 1).flatten(1)")
_LENET_AVG = ("        h = F.max_pool2d(F.relu(self.conv1(x)), 2)",
              "        h = F.avg_pool2d(F.relu(self.conv1(x)), 2)")
_LENET_NO_RELU = ("        h = F.relu(self.fc2(h))", "        h = self.fc2(h)")

# --- week 10: the LSTM layer ------------------------------------------------------------
_LSTM_CONCAT = (
    '''        x_proj = x @ self.Wx + self.b  # the input part of the gates, all steps at once
        outputs = []
        for t in range(x.shape[1]):
            i, f, g, o = (x_proj[:, t] + h @ self.Wh).chunk(4, dim=-1)''',
    '''        weight = torch.cat([self.Wx, self.Wh])  # one product of [x_t, h] per step
        outputs = []
        for t in range(x.shape[1]):
            i, f, g, o = (torch.cat([x[:, t], h], dim=1) @ weight + self.b).chunk(4, dim=-1)''')
_LSTM_NO_FORGET = ("            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)",
                   "            c = c + torch.sigmoid(i) * torch.tanh(g)")
_LSTM_ORDER = ("            i, f, g, o = (x_proj[:, t] + h @ self.Wh).chunk(4, dim=-1)",
               "            i, f, o, g = (x_proj[:, t] + h @ self.Wh).chunk(4, dim=-1)")
_LSTM_NO_TANH = ("            h = torch.sigmoid(o) * torch.tanh(c)", "            h = torch.sigmoid(o) * c")
_LSTM_ZERO_STATE = ("        if state is None:", "        if True:  # the initial state is ignored")

# --- week 10: the training step ----------------------------------------------------------
_STEP_NLL = ("    loss = F.cross_entropy(model(x), y)",
             "    loss = F.nll_loss(F.log_softmax(model(x), dim=1), y)")
_STEP_SIGN = ("    loss = F.cross_entropy(model(x), y)", "    loss = -F.cross_entropy(model(x), y)")
_STEP_NO_BACKWARD = ("    loss.backward()\n", "")
_STEP_ZERO_LATE = ("    optimizer.zero_grad()\n    loss.backward()\n    optimizer.step()",
                   "    loss.backward()\n    optimizer.zero_grad()\n    optimizer.step()")

# --- week 11 -----------------------------------------------------------------------------
_LM_NLL = ('''        log_probs = F.log_softmax(logits.double(), dim=-1)
        out.append(log_probs.gather(-1, targets.unsqueeze(-1)).view(-1))''',
           '''        nll = F.cross_entropy(logits.double().view(-1, logits.shape[-1]), targets.view(-1),
                              reduction="none")
        out.append(-nll)''')
_LM_LOGITS = ("        log_probs = F.log_softmax(logits.double(), dim=-1)",
              "        log_probs = logits.double()")
_LM_AXIS = ("        log_probs = F.log_softmax(logits.double(), dim=-1)",
            "        log_probs = F.log_softmax(logits.double(), dim=0)")
_LM_RESET = ("        logits, state = model(inputs, state)\n        log_probs",
             "        logits, _ = model(inputs, None)\n        log_probs")
_TBPTT_DATA = ("        state = tuple(s.detach() for s in state)",
               "        state = tuple(s.data for s in state)")
_TBPTT_RESET = ("        loss, state = train_window(model, optimizer, inputs, targets, state, clip_norm)",
                "        loss, _ = train_window(model, optimizer, inputs, targets, None, clip_norm)")
_TBPTT_NO_DETACH = ("    if state is not None:\n        state = tuple(s.detach() for s in state)\n", "")
_TBPTT_SUM = ("    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))",
              "    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),\n"
              "                           reduction=\"sum\")")


def _build() -> tuple[list[Variant], list[Variant]]:
    lenet, lstm = "w10_milestone_port_lenet_code", "w10_milestone_port_lstm_code"
    alternatives = [
        _port_variant("w10_milestone_port_lenet", lenet, "weights through load_state_dict",
                      _LENET_STATE_DICT),
        _port_variant("w10_milestone_port_lstm", lstm, "one product of [x_t, h] per step",
                      _LSTM_CONCAT),
        _cell_variant("w10_milestone", "flatten through view", _LENET_VIEW),
        _cell_variant("w10_milestone_probe", "cross-entropy as log-softmax + NLL", _STEP_NLL),
        _cell_variant("w11_milestone", "log-probabilities as minus the per-token cross-entropy",
                      _LM_NLL),
        _cell_variant("w11_milestone_probe", "state cut with .data instead of detach()",
                      _TBPTT_DATA),
    ]
    mutants = [
        _port_variant("w10_milestone_port_lenet", lenet,
                      "fully connected weights reshaped instead of transposed", _LENET_RESHAPE),
        _port_variant("w10_milestone_port_lenet", lenet,
                      "convolution kernels flipped (true convolution, not cross-correlation)",
                      _LENET_FLIP),
        _port_variant("w10_milestone_port_lenet", lenet, "biases not copied", _LENET_NO_BIAS),
        _port_variant("w10_milestone_port_lstm", lstm, "missing forget gate", _LSTM_NO_FORGET),
        _port_variant("w10_milestone_port_lstm", lstm, "gates read as i, f, o, g", _LSTM_ORDER),
        _port_variant("w10_milestone_port_lstm", lstm, "h = o · c without the tanh",
                      _LSTM_NO_TANH),
        _port_variant("w10_milestone_port_lstm", lstm, "the initial state is ignored",
                      _LSTM_ZERO_STATE),
        _cell_variant("w10_milestone", "flattened channels-last", _LENET_NHWC),
        _cell_variant("w10_milestone", "no ReLU after fc2", _LENET_NO_RELU),
        _cell_variant("w10_milestone", "average pooling after conv1", _LENET_AVG),
        _cell_variant("w10_milestone_probe", "gradient ascent (minus the loss)", _STEP_SIGN),
        _cell_variant("w10_milestone_probe", "no backward pass", _STEP_NO_BACKWARD),
        _cell_variant("w10_milestone_probe", "gradients zeroed between backward and step",
                      _STEP_ZERO_LATE),
        _cell_variant("w11_milestone", "logits returned instead of log-probabilities",
                      _LM_LOGITS),
        _cell_variant("w11_milestone", "log-softmax over the time axis", _LM_AXIS),
        _cell_variant("w11_milestone", "state restarted in every window of the stream",
                      _LM_RESET),
        _cell_variant("w11_milestone_probe", "state restarted in every training window",
                      _TBPTT_RESET),
        _cell_variant("w11_milestone_probe", "state not detached between windows",
                      _TBPTT_NO_DETACH),
        _cell_variant("w11_milestone_probe", "loss summed over the window instead of averaged",
                      _TBPTT_SUM),
    ]
    return alternatives, mutants


ALTERNATIVES, MUTANTS = _build()
