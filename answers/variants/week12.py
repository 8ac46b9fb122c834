"""Week 12 alternatives (must pass) and mutants (must fail)."""

from answers.variants import Variant

_BLOCK_HEADER = '''
import torch
import torch.nn.functional as F
'''

ALTERNATIVES = [
    Variant("w12_residual_block_forward", "batch norm written out with tensor ops",
            _BLOCK_HEADER + '''
def residual_block_forward(x, w1, gamma1, beta1, w2, gamma2, beta2):
    def bn(h, gamma, beta):
        mean = h.mean(dim=(0, 2, 3), keepdim=True)
        var = ((h - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        return gamma[None, :, None, None] * (h - mean) / torch.sqrt(var + 1e-5) \\
            + beta[None, :, None, None]

    h = torch.relu(bn(F.conv2d(x, w1, padding=1), gamma1, beta1))
    return torch.relu(x + bn(F.conv2d(h, w2, padding=1), gamma2, beta2))
'''),
    Variant("w12_residual_block_forward", "nn modules in training mode, weights copied in",
            _BLOCK_HEADER + '''
def residual_block_forward(x, w1, gamma1, beta1, w2, gamma2, beta2):
    c = x.shape[1]
    layers = []
    for w, gamma, beta in ((w1, gamma1, beta1), (w2, gamma2, beta2)):
        conv = torch.nn.Conv2d(c, c, 3, padding=1, bias=False).double()
        bn = torch.nn.BatchNorm2d(c).double().train()
        with torch.no_grad():
            conv.weight.copy_(w)
            bn.weight.copy_(gamma)
            bn.bias.copy_(beta)
        layers += [conv, bn]
    with torch.no_grad():
        h = torch.relu(layers[1](layers[0](x)))
        return torch.relu(layers[3](layers[2](h)) + x)
'''),
    Variant("w12_count_trainable_params", "build the network in PyTorch and count", '''
import torch.nn as nn

def count_trainable_params(widths, in_channels, n_classes, n_frozen):
    widths = [int(w) for w in widths]
    def conv_bn(a, b, k):
        return nn.Sequential(nn.Conv2d(a, b, k, bias=False), nn.BatchNorm2d(b))
    stages = [conv_bn(int(in_channels), widths[0], 3)]
    for a, b in zip(widths, widths[1:]):
        block = [conv_bn(a, b, 3), conv_bn(b, b, 3)] + ([conv_bn(a, b, 1)] if a != b else [])
        stages.append(nn.Sequential(*block))
    for stage in stages[:int(n_frozen)]:
        stage.requires_grad_(False)
    model = nn.Sequential(*stages, nn.Linear(widths[-1], int(n_classes)))
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
'''),
    Variant("w12_count_trainable_params", "total minus frozen, with a loop", '''
def count_trainable_params(widths, in_channels, n_classes, n_frozen):
    sizes = [int(in_channels) * int(widths[0]) * 9 + 2 * int(widths[0])]
    for i in range(1, len(widths)):
        a, b = int(widths[i - 1]), int(widths[i])
        size = 9 * a * b + 9 * b * b + 4 * b
        if a != b:
            size += a * b + 2 * b
        sizes.append(size)
    total = sum(sizes) + (int(widths[-1]) + 1) * int(n_classes)
    return total - sum(sizes[:int(n_frozen)])
'''),
    Variant("w12_layerwise_learning_rates", "loop from the head backwards", '''
def layerwise_learning_rates(n_groups, base_lr, decay, n_frozen):
    lrs = np.zeros(n_groups)
    lr = base_lr
    for g in reversed(range(n_groups)):
        lrs[g] = lr if g >= n_frozen else 0.0
        lr = lr * decay
    return lrs
'''),
]

MUTANTS = [
    # residual block
    Variant("w12_residual_block_forward", "ReLU before adding the shortcut", _BLOCK_HEADER + '''
def residual_block_forward(x, w1, gamma1, beta1, w2, gamma2, beta2):
    bn = lambda h, g, b: F.batch_norm(h, None, None, g, b, training=True, eps=1e-5)
    h = F.relu(bn(F.conv2d(x, w1, padding=1), gamma1, beta1))
    return F.relu(bn(F.conv2d(h, w2, padding=1), gamma2, beta2)) + x
'''),
    Variant("w12_residual_block_forward", "no ReLU after the addition", _BLOCK_HEADER + '''
def residual_block_forward(x, w1, gamma1, beta1, w2, gamma2, beta2):
    bn = lambda h, g, b: F.batch_norm(h, None, None, g, b, training=True, eps=1e-5)
    h = F.relu(bn(F.conv2d(x, w1, padding=1), gamma1, beta1))
    return bn(F.conv2d(h, w2, padding=1), gamma2, beta2) + x
'''),
    Variant("w12_residual_block_forward", "unbiased variance in batch norm", _BLOCK_HEADER + '''
def residual_block_forward(x, w1, gamma1, beta1, w2, gamma2, beta2):
    def bn(h, gamma, beta):
        mean = h.mean(dim=(0, 2, 3), keepdim=True)
        var = h.var(dim=(0, 2, 3), keepdim=True)  # unbiased (N - 1)
        return gamma[None, :, None, None] * (h - mean) / torch.sqrt(var + 1e-5) \\
            + beta[None, :, None, None]
    h = torch.relu(bn(F.conv2d(x, w1, padding=1), gamma1, beta1))
    return torch.relu(bn(F.conv2d(h, w2, padding=1), gamma2, beta2) + x)
'''),
    Variant("w12_residual_block_forward", "shortcut added before the second batch norm",
            _BLOCK_HEADER + '''
def residual_block_forward(x, w1, gamma1, beta1, w2, gamma2, beta2):
    bn = lambda h, g, b: F.batch_norm(h, None, None, g, b, training=True, eps=1e-5)
    h = F.relu(bn(F.conv2d(x, w1, padding=1), gamma1, beta1))
    return F.relu(bn(F.conv2d(h, w2, padding=1) + x, gamma2, beta2))
'''),
    Variant("w12_residual_block_forward", "normalizes each example (over C, H, W) instead of "
            "each channel", _BLOCK_HEADER + '''
def residual_block_forward(x, w1, gamma1, beta1, w2, gamma2, beta2):
    def bn(h, gamma, beta):
        mean = h.mean(dim=(1, 2, 3), keepdim=True)
        var = ((h - mean) ** 2).mean(dim=(1, 2, 3), keepdim=True)
        return gamma[None, :, None, None] * (h - mean) / torch.sqrt(var + 1e-5) \\
            + beta[None, :, None, None]
    h = torch.relu(bn(F.conv2d(x, w1, padding=1), gamma1, beta1))
    return torch.relu(bn(F.conv2d(h, w2, padding=1), gamma2, beta2) + x)
'''),
    # parameter counts
    Variant("w12_count_trainable_params", "counts a bias in every conv", '''
def count_trainable_params(widths, in_channels, n_classes, n_frozen):
    conv_bn = lambda a, b, k: a * b * k * k + b + 2 * b
    stages = [conv_bn(int(in_channels), int(widths[0]), 3)]
    for a, b in zip(widths[:-1], widths[1:]):
        a, b = int(a), int(b)
        stages.append(conv_bn(a, b, 3) + conv_bn(b, b, 3) + (conv_bn(a, b, 1) if a != b else 0))
    return sum(stages[int(n_frozen):]) + int(widths[-1]) * int(n_classes) + int(n_classes)
'''),
    Variant("w12_count_trainable_params", "counts batch norm's running statistics", '''
def count_trainable_params(widths, in_channels, n_classes, n_frozen):
    conv_bn = lambda a, b, k: a * b * k * k + 4 * b
    stages = [conv_bn(int(in_channels), int(widths[0]), 3)]
    for a, b in zip(widths[:-1], widths[1:]):
        a, b = int(a), int(b)
        stages.append(conv_bn(a, b, 3) + conv_bn(b, b, 3) + (conv_bn(a, b, 1) if a != b else 0))
    return sum(stages[int(n_frozen):]) + int(widths[-1]) * int(n_classes) + int(n_classes)
'''),
    Variant("w12_count_trainable_params", "forgets the projection shortcut", '''
def count_trainable_params(widths, in_channels, n_classes, n_frozen):
    conv_bn = lambda a, b, k: a * b * k * k + 2 * b
    stages = [conv_bn(int(in_channels), int(widths[0]), 3)]
    for a, b in zip(widths[:-1], widths[1:]):
        stages.append(conv_bn(int(a), int(b), 3) + conv_bn(int(b), int(b), 3))
    return sum(stages[int(n_frozen):]) + int(widths[-1]) * int(n_classes) + int(n_classes)
'''),
    Variant("w12_count_trainable_params", "off by one: freezes one stage too many", '''
def count_trainable_params(widths, in_channels, n_classes, n_frozen):
    conv_bn = lambda a, b, k: a * b * k * k + 2 * b
    stages = [conv_bn(int(in_channels), int(widths[0]), 3)]
    for a, b in zip(widths[:-1], widths[1:]):
        a, b = int(a), int(b)
        stages.append(conv_bn(a, b, 3) + conv_bn(b, b, 3) + (conv_bn(a, b, 1) if a != b else 0))
    return sum(stages[int(n_frozen) + 1:]) + int(widths[-1]) * int(n_classes) + int(n_classes)
'''),
    # learning rates
    Variant("w12_layerwise_learning_rates", "decays towards the head (stem gets base_lr)", '''
def layerwise_learning_rates(n_groups, base_lr, decay, n_frozen):
    lrs = base_lr * decay ** np.arange(n_groups)
    lrs[:n_frozen] = 0.0
    return lrs
'''),
    Variant("w12_layerwise_learning_rates", "the head already gets base_lr * decay", '''
def layerwise_learning_rates(n_groups, base_lr, decay, n_frozen):
    lrs = base_lr * decay ** np.arange(n_groups, 0, -1)
    lrs[:n_frozen] = 0.0
    return lrs
'''),
    Variant("w12_layerwise_learning_rates", "freezes the last groups instead of the first", '''
def layerwise_learning_rates(n_groups, base_lr, decay, n_frozen):
    lrs = base_lr * decay ** np.arange(n_groups - 1, -1, -1)
    if n_frozen:
        lrs[-n_frozen:] = 0.0
    return lrs
'''),
    Variant("w12_layerwise_learning_rates", "forgets to zero the frozen groups", '''
def layerwise_learning_rates(n_groups, base_lr, decay, n_frozen):
    return base_lr * decay ** np.arange(n_groups - 1, -1, -1)
'''),
]

# --- the fine-tuning loop's pieces -------------------------------------------------------
#: The assignment's locked course-code cell: imports the lecture's SmallResNet and helpers.
COURSE_CODE = '''
import torch
import torch.nn.functional as F
from torch import nn

# The lecture's network, and helpers that load a state given as a flat list of arrays (in
# state_dict order, without the num_batches_tracked counters) and read one back.
from grader.transfer import SmallResNet, flat_parameters, load_flat_state, running_stats
'''

SETUP_HARNESS = '''

def finetune_setup_probe(x, y, widths, n_classes, lrs, head_w, head_b, *state):
    """Your prepare_finetuning on a SmallResNet holding `state`, then one SGD step with it."""
    net = SmallResNet(tuple(int(w) for w in widths), n_classes=len(state[-1])).to(x.dtype)
    load_flat_state(net, state)
    optimizer = prepare_finetuning(net, int(n_classes), [float(r) for r in lrs])
    with torch.no_grad():  # fixed values for the check: your head's initialization is yours
        net.head.weight.copy_(head_w)
        net.head.bias.copy_(head_b)
    logits = net(x)
    optimizer.zero_grad()
    F.cross_entropy(logits, y).backward()
    optimizer.step()
    trainable = torch.tensor([float(p.requires_grad) for p in net.parameters()])
    return logits.detach(), trainable, flat_parameters(net), running_stats(net)
'''

STEP_HARNESS = '''

def finetune_step_probe(x, y, widths, n_frozen, lr, *state):
    """Two of your finetune_step calls, each after an evaluation left the net in eval mode."""
    net = SmallResNet(tuple(int(w) for w in widths), n_classes=len(state[-1])).to(x.dtype)
    load_flat_state(net, state)
    n_frozen = int(n_frozen)
    trained = [p for part in (*net.stages[n_frozen:], net.head) for p in part.parameters()]
    optimizer = torch.optim.SGD(trained, lr=float(lr), momentum=0.9)
    losses = []
    for _ in range(2):
        net.eval()  # as an evaluation between two steps would leave it
        losses.append(finetune_step(net, optimizer, x, y, n_frozen))
    return torch.tensor(losses, dtype=x.dtype), flat_parameters(net), running_stats(net)
'''

_PREPARE = '''

def prepare_finetuning(model, n_classes, lrs):
{body}
'''

_PREPARE_CORRECT = """\
    model.head = nn.Linear(model.head.in_features, n_classes).to(model.head.weight.dtype)
    groups = []
    for part, lr in zip([*model.stages, model.head], lrs):
        if lr == 0:
            part.requires_grad_(False)
            part.eval()
        else:
            groups.append({"params": part.parameters(), "lr": lr})
    return torch.optim.SGD(groups, lr=max(lrs))"""


def _prepare(body: str) -> str:
    return COURSE_CODE + _PREPARE.format(body=body) + SETUP_HARNESS


_STEP = '''

def finetune_step(model, optimizer, x, y, n_frozen):
{body}
'''

_STEP_CORRECT = """\
    model.train()
    for stage in model.stages[:n_frozen]:
        stage.eval()
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()"""


def _step(body: str) -> str:
    return COURSE_CODE + _STEP.format(body=body) + STEP_HARNESS


ALTERNATIVES += [
    Variant("w12_prepare_finetuning", "freeze first, then a new head, groups from a list",
            _prepare(_PREPARE_CORRECT)),
    Variant("w12_prepare_finetuning", "frozen stages' batch norm layers switched one by one; "
            "groups of trainable parameters only", _prepare("""\
    parts = [*model.stages]
    for part, lr in zip(parts, lrs):
        if lr == 0:
            for p in part.parameters():
                p.requires_grad = False
            for layer in part.modules():
                if isinstance(layer, nn.BatchNorm2d):
                    layer.eval()
    old = model.head
    model.head = nn.Linear(old.in_features, n_classes, dtype=old.weight.dtype)
    groups = [{"params": [p for p in part.parameters() if p.requires_grad], "lr": float(lr)}
              for part, lr in zip([*parts, model.head], lrs) if lr > 0]
    return torch.optim.SGD(groups)""")),
    Variant("w12_finetune_step", "the loop body as in the lecture", _step(_STEP_CORRECT)),
    Variant("w12_finetune_step", "train mode set per batch-norm layer", _step("""\
    for index, stage in enumerate(model.stages):
        stage.train(index >= n_frozen)
    model.head.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return float(loss.detach())""")),
]

MUTANTS += [
    Variant("w12_prepare_finetuning", "the optimizer is built before the new head (it updates "
            "the old, discarded head)", _prepare("""\
    groups = []
    for part, lr in zip([*model.stages, model.head], lrs):
        if lr == 0:
            part.requires_grad_(False)
            part.eval()
        else:
            groups.append({"params": part.parameters(), "lr": lr})
    optimizer = torch.optim.SGD(groups, lr=max(lrs))
    model.head = nn.Linear(model.head.in_features, n_classes).to(model.head.weight.dtype)
    return optimizer""")),
    Variant("w12_prepare_finetuning", "requires_grad only: frozen batch norm keeps updating its "
            "statistics", _prepare(_PREPARE_CORRECT.replace("            part.eval()\n", ""))),
    Variant("w12_prepare_finetuning", "one group at the head's rate for everything trainable",
            _prepare(_PREPARE_CORRECT.replace(
                'groups.append({"params": part.parameters(), "lr": lr})',
                'groups.append({"params": part.parameters(), "lr": lrs[-1]})'))),
    Variant("w12_prepare_finetuning", "rates applied in reverse (the head gets the smallest)",
            _prepare(_PREPARE_CORRECT.replace("zip([*model.stages, model.head], lrs)",
                                              "zip([*model.stages, model.head], lrs[::-1])"))),
    Variant("w12_prepare_finetuning", "the new head left in float32", _prepare(
        _PREPARE_CORRECT.replace(".to(model.head.weight.dtype)", ""))),
    Variant("w12_prepare_finetuning", "model.train() after freezing (undoes eval mode)",
            _prepare(_PREPARE_CORRECT.replace("    return torch.optim.SGD(groups, lr=max(lrs))",
                                              "    model.train()\n"
                                              "    return torch.optim.SGD(groups, lr=max(lrs))"))),
    Variant("w12_finetune_step", "never switches back to training mode", _step(
        _STEP_CORRECT.replace("    model.train()\n", "").replace(
            "    for stage in model.stages[:n_frozen]:\n        stage.eval()\n", ""))),
    Variant("w12_finetune_step", "model.train() for everything: frozen batch norm drifts",
            _step(_STEP_CORRECT.replace(
                "    for stage in model.stages[:n_frozen]:\n        stage.eval()\n", ""))),
    Variant("w12_finetune_step", "no zero_grad: momentum sees accumulated gradients",
            _step(_STEP_CORRECT.replace("    optimizer.zero_grad()\n", ""))),
    Variant("w12_finetune_step", "the loss reported after the step", _step(
        _STEP_CORRECT.replace("    return loss.item()",
                              "    return F.cross_entropy(model(x), y).item()"))),
]

MUTANTS += [
    Variant("w12_prepare_finetuning", "freezes only a prefix: stops at the first trainable group "
            "[hidden only] [hidden only]", _prepare('''\
    model.head = nn.Linear(model.head.in_features, n_classes).to(model.head.weight.dtype)
    groups, frozen = [], True
    for part, lr in zip([*model.stages, model.head], lrs):
        frozen = frozen and lr == 0
        if frozen:
            part.requires_grad_(False)
            part.eval()
        else:
            groups.append({"params": part.parameters(), "lr": lr})
    return torch.optim.SGD(groups, lr=max(lrs))''')),
]

# Hidden-only mutants aimed at the operator mutants that survived the hidden grade
# (bench/bench_mutants.py): each one passes the public cases.
MUTANTS += [
    Variant("w12_count_trainable_params", "widths compared with `is not` (equal widths above "
            "256 look different: a projection too many) [hidden only]", '''
def count_trainable_params(widths, in_channels, n_classes, n_frozen):
    widths = [int(w) for w in widths]
    def conv_bn(a, b, k):
        return a * b * k * k + 2 * b
    stages = [conv_bn(int(in_channels), widths[0], 3)]
    for a, b in zip(widths, widths[1:]):
        block = conv_bn(a, b, 3) + conv_bn(b, b, 3)
        if a is not b:
            block += conv_bn(a, b, 1)
        stages.append(block)
    return sum(stages[int(n_frozen):]) + widths[-1] * int(n_classes) + int(n_classes)
'''),
]
