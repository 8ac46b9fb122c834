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
