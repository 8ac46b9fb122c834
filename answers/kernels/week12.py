"""Week 12 reference kernels: residual blocks, parameter budgets and transfer strategies.

The graded functions: :func:`residual_block_forward` takes the block's weights as tensors,
:func:`count_trainable_params` and :func:`layerwise_learning_rates` take sizes and numbers;
:func:`prepare_finetuning` (new head, frozen stages, per-group learning rates) and
:func:`finetune_step` (one step that keeps frozen batch norm frozen) act on a
:class:`SmallResNet` and are checked through :func:`finetune_setup_probe` and
:func:`finetune_step_probe`, which build the network from given weights (the assignment's
locked harness does the same with the learner's functions). The model, the data and the
training loops are course library code (:mod:`grader.transfer`, re-exported here for the
benchmark and tests); below the graded functions, the transfer experiment that
``bench/bench_week12.py`` runs: pre-train on Fashion-MNIST classes 0–4, transfer to
classes 5–9 with few labels, compare strategies over label budgets and seeds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grader.transfer import (  # noqa: F401  (the course library's model and loops, for bench/)
    STRATEGIES, SOURCE_CLASSES, TARGET_CLASSES, ResidualBlock, SmallResNet, TransferConfig,
    TransferData, evaluate, extract_features, fit_epochs, flat_parameters, labelled_subset,
    load_flat_state, new_head, pretrain, running_stats, split_classes, train_steps,
    trainable_count, transfer_data)

BN_EPS = 1e-5


# --------------------------------------------------------------------------------------
# Graded kernels
# --------------------------------------------------------------------------------------
def residual_block_forward(x: torch.Tensor, w1: torch.Tensor, gamma1: torch.Tensor,
                           beta1: torch.Tensor, w2: torch.Tensor, gamma2: torch.Tensor,
                           beta2: torch.Tensor) -> torch.Tensor:
    """Forward pass of a basic residual block with an identity shortcut (training mode).

    ``out = relu(bn2(conv2(relu(bn1(conv1(x))))) + x)`` where both convolutions are 3×3,
    stride 1, padding 1, without bias (batch norm's shift makes a bias redundant), and batch
    norm normalizes each channel with the statistics of the batch (biased variance,
    ``eps = 1e-5``), then scales by ``gamma`` and shifts by ``beta``.

    Args:
        x: ``(N, C, H, W)`` input.
        w1, w2: ``(C, C, 3, 3)`` convolution weights.
        gamma1, beta1, gamma2, beta2: ``(C,)`` batch-norm scale and shift.

    Returns:
        ``(N, C, H, W)``: the block's output, same shape as ``x``.
    """
    def conv_bn(h, w, gamma, beta):
        h = F.conv2d(h, w, padding=1)
        return F.batch_norm(h, None, None, gamma, beta, training=True, eps=BN_EPS)

    h = F.relu(conv_bn(x, w1, gamma1, beta1))
    return F.relu(conv_bn(h, w2, gamma2, beta2) + x)


def _conv_bn_params(c_in: int, c_out: int, kernel: int) -> int:
    """A bias-free ``kernel × kernel`` convolution plus batch norm's gamma and beta."""
    return c_in * c_out * kernel * kernel + 2 * c_out


def count_trainable_params(widths: np.ndarray, in_channels: int, n_classes: int,
                           n_frozen: int) -> int:
    """Trainable parameters of a :class:`SmallResNet` whose first ``n_frozen`` stages are frozen.

    The network is a list of stages followed by a head:

    * stage 0, the stem: 3×3 conv ``in_channels → widths[0]`` (no bias) + batch norm
      (+ ReLU and max-pooling, which have no parameters);
    * stage ``i`` (``1 ≤ i < len(widths)``): a residual block ``widths[i-1] → widths[i]``
      made of two 3×3 convs (no bias) each followed by batch norm, plus, when the width
      changes, a projection shortcut: 1×1 conv (no bias) + batch norm;
    * the head: a linear layer ``widths[-1] → n_classes`` with bias (always trainable).

    Batch norm's running mean and variance are buffers, not parameters.

    Args:
        widths: ``(S,)`` integer channel widths.
        in_channels: input channels.
        n_classes: outputs of the head.
        n_frozen: number of leading stages (stem first) whose parameters are frozen.

    Returns:
        The number of parameters that receive gradients.
    """
    widths = [int(w) for w in widths]
    stages = [_conv_bn_params(int(in_channels), widths[0], 3)]
    for c_in, c_out in zip(widths, widths[1:]):
        block = _conv_bn_params(c_in, c_out, 3) + _conv_bn_params(c_out, c_out, 3)
        if c_in != c_out:
            block += _conv_bn_params(c_in, c_out, 1)
        stages.append(block)
    head = widths[-1] * int(n_classes) + int(n_classes)
    return int(sum(stages[int(n_frozen):]) + head)


def layerwise_learning_rates(n_groups: int, base_lr: float, decay: float,
                             n_frozen: int) -> np.ndarray:
    """Learning rate of each parameter group for discriminative fine-tuning.

    Groups are ordered from the input (group 0, the stem) to the output (the head, group
    ``n_groups - 1``). The head trains at ``base_lr`` and every step towards the input
    multiplies the rate by ``decay`` (< 1: early, generic layers change least). Frozen
    groups, the first ``n_frozen``, get 0.

    Returns:
        ``(n_groups,)`` float array: ``base_lr * decay ** (n_groups - 1 - g)``, or 0.
    """
    depth_from_head = np.arange(int(n_groups) - 1, -1, -1)
    lrs = base_lr * np.power(float(decay), depth_from_head)
    lrs[: int(n_frozen)] = 0.0
    return lrs


# --------------------------------------------------------------------------------------
# Freezing (the experiment's; the assignment's version is prepare_finetuning below)
# --------------------------------------------------------------------------------------
def freeze_stages(model: SmallResNet, n_frozen: int) -> None:
    """Stop gradients into the first ``n_frozen`` stages and keep their batch norm in eval mode.

    ``requires_grad=False`` alone is not enough: a batch-norm layer in training mode still
    overwrites its running statistics with those of the (tiny) target batches.
    """
    for index, stage in enumerate(model.stages):
        if index < n_frozen:
            stage.requires_grad_(False).eval()


# --------------------------------------------------------------------------------------
# The transfer experiment
# --------------------------------------------------------------------------------------
























def transfer_run(strategy: str, pretrained: SmallResNet | None, data: TransferData,
                 per_class: int | None, seed: int, config: TransferConfig = TransferConfig(),
                 widths: Sequence[int] = (16, 16, 32, 32),
                 frozen_features: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict:
    """Train one strategy on ``per_class`` labels per target class; return accuracy and sizes.

    Strategies: ``scratch`` (random init, all layers train), ``frozen`` (pre-trained
    backbone frozen, a new linear head trains), ``finetune`` (pre-trained, everything trains
    at ``lr``), ``lower-lr`` (pre-trained, everything trains, rates from
    :func:`layerwise_learning_rates` with ``decay``). ``frozen_features`` (target train and
    test features of the frozen backbone) skips recomputing them for every run: with the
    backbone frozen in eval mode they are the same every time.
    """
    X_all, y_all = data.target_train
    subset = labelled_subset(y_all, per_class, seed)
    X, y = X_all[subset], y_all[subset]
    n_classes = len(TARGET_CLASSES)
    if strategy == "scratch":
        torch.manual_seed(seed)
        model = SmallResNet(widths, n_classes)
    else:
        model = new_head(pretrained, n_classes, seed)
    n_groups = len(model.stages) + 1
    if strategy == "frozen":
        lrs = layerwise_learning_rates(n_groups, config.head_lr, 1.0, n_groups - 1)
    elif strategy == "lower-lr":
        lrs = layerwise_learning_rates(n_groups, config.lr, config.decay, 0)
    elif strategy in ("scratch", "finetune"):
        lrs = layerwise_learning_rates(n_groups, config.lr, 1.0, 0)
    else:
        raise ValueError(f"unknown strategy {strategy!r}; use one of {STRATEGIES}")
    n_frozen = int(np.sum(lrs == 0))
    model.train()
    freeze_stages(model, n_frozen)
    optimizer = torch.optim.Adam([{"params": group, "lr": float(lr)}
                                  for group, lr in zip(model.param_groups(), lrs) if lr > 0])
    start = time.monotonic()
    if strategy == "frozen":
        # Only the head trains, on fixed features: train it on the features directly.
        train_features, test_features = frozen_features or (
            extract_features(model, X_all), extract_features(model, data.target_test[0]))
        train_steps(model.head, train_features[subset], y, optimizer, config.steps,
                    config.batch_size, seed)
        accuracy = evaluate(model.head, test_features, data.target_test[1])
    else:
        train_steps(model, X, y, optimizer, config.steps, config.batch_size, seed)
        accuracy = evaluate(model, *data.target_test)
    return {"strategy": strategy, "per_class": per_class, "seed": seed, "accuracy": accuracy,
            "trainable": trainable_count(model), "seconds": time.monotonic() - start}


# --------------------------------------------------------------------------------------
# The fine-tuning loop's pieces (graded through the probes below)
# --------------------------------------------------------------------------------------
def prepare_finetuning(model: SmallResNet, n_classes: int, lrs: Sequence[float]
                       ) -> torch.optim.SGD:
    """Make a pre-trained :class:`SmallResNet` ready to fine-tune on ``n_classes`` classes.

    * a new head ``nn.Linear(in_features, n_classes)`` in the model's dtype replaces the old
      one (created *before* the optimizer, so that the optimizer holds its parameters);
    * groups are ``(*model.stages, model.head)``, input to output; a group whose rate is 0
      is frozen: no gradients (``requires_grad_(False)``) *and* batch norm in eval mode, so
      its running statistics stay those of the pre-training data;
    * one SGD parameter group per trainable group, with that group's rate.

    Returns:
        ``torch.optim.SGD`` over the trainable groups (plain SGD: no momentum).
    """
    dtype = model.head.weight.dtype
    model.head = nn.Linear(model.head.in_features, n_classes).to(dtype)
    param_groups = []
    for module, lr in zip((*model.stages, model.head), lrs):
        if lr == 0:
            module.requires_grad_(False)
            module.eval()
        else:
            param_groups.append({"params": list(module.parameters()), "lr": float(lr)})
    return torch.optim.SGD(param_groups, lr=float(max(lrs)))


def finetune_step(model: SmallResNet, optimizer: torch.optim.Optimizer, x: torch.Tensor,
                  y: torch.Tensor, n_frozen: int) -> float:
    """One fine-tuning step; returns the batch's mean cross-entropy before the step.

    The model may come out of an evaluation (eval mode): training mode is restored for the
    trainable part, while the first ``n_frozen`` stages stay in eval mode (their batch norm
    keeps its running statistics and normalizes with them).
    """
    for index, stage in enumerate(model.stages):
        stage.train(index >= n_frozen)  # frozen stages keep normalizing with stored statistics
    model.head.train()
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()








def finetune_setup_probe(x: torch.Tensor, y: torch.Tensor, widths: torch.Tensor,
                         n_classes: int, lrs: torch.Tensor, head_w: torch.Tensor,
                         head_b: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """:func:`prepare_finetuning` on a SmallResNet holding ``state``, then one probe step.

    The new head is overwritten with ``head_w, head_b`` after the call (in place: the
    optimizer keeps its parameters), so the comparison does not depend on how it was
    initialized. Returns ``(logits, trainable flags per parameter tensor, parameters after
    the step, running statistics after the step)``.
    """
    model = SmallResNet(tuple(int(w) for w in widths), n_classes=len(state[-1])).to(x.dtype)
    load_flat_state(model, state)
    optimizer = prepare_finetuning(model, int(n_classes), [float(r) for r in lrs])
    with torch.no_grad():
        model.head.weight.copy_(head_w)
        model.head.bias.copy_(head_b)
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    trainable = torch.tensor([float(p.requires_grad) for p in model.parameters()])
    return logits.detach(), trainable, flat_parameters(model), running_stats(model)


def finetune_step_probe(x: torch.Tensor, y: torch.Tensor, widths: torch.Tensor, n_frozen: int,
                        lr: float, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Two :func:`finetune_step` calls, each after an evaluation left the model in eval mode.

    SGD with momentum 0.9 over the stages after the first ``n_frozen`` and the head.
    Returns ``(losses (2,), parameters after, running statistics after)``.
    """
    model = SmallResNet(tuple(int(w) for w in widths), n_classes=len(state[-1])).to(x.dtype)
    load_flat_state(model, state)
    n_frozen = int(n_frozen)
    trained = [p for m in (*model.stages[n_frozen:], model.head) for p in m.parameters()]
    optimizer = torch.optim.SGD(trained, lr=float(lr), momentum=0.9)
    losses = []
    for _ in range(2):
        model.eval()  # as an evaluation between two steps would leave it
        losses.append(finetune_step(model, optimizer, x, y, n_frozen))
    return torch.tensor(losses, dtype=x.dtype), flat_parameters(model), running_stats(model)
