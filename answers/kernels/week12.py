"""Week 12 reference kernels: residual blocks, parameter budgets and transfer strategies.

The graded functions: :func:`residual_block_forward` takes the block's weights as tensors,
:func:`count_trainable_params` and :func:`layerwise_learning_rates` take sizes and numbers;
:func:`prepare_finetuning` (new head, frozen stages, per-group learning rates) and
:func:`finetune_step` (one step that keeps frozen batch norm frozen) act on a
:class:`SmallResNet` and are checked through :func:`finetune_setup_probe` and
:func:`finetune_step_probe`, which build the network from given weights (the assignment's
locked harness does the same with the learner's functions). Below them, the reference model
(:class:`SmallResNet`) and the transfer experiment
that ``bench/bench_week12.py`` runs: pre-train on Fashion-MNIST classes 0–4, transfer to
classes 5–9 with few labels, compare strategies over label budgets and seeds.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

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
# Reference model
# --------------------------------------------------------------------------------------
class ResidualBlock(nn.Module):
    """Basic residual block; downsamples (stride 2, 1×1 projection) when the width changes."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        stride = 1 if c_in == c_out else 2
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity() if c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class SmallResNet(nn.Module):
    """Stem (conv-BN-ReLU-maxpool), residual stages, global average pooling, linear head.

    ``stages[0]`` is the stem and ``stages[i]`` the ``i``-th residual block, the order used
    by :func:`count_trainable_params` and :func:`layerwise_learning_rates`.
    """

    def __init__(self, widths: Sequence[int] = (16, 16, 32, 32), n_classes: int = 5,
                 in_channels: int = 1):
        super().__init__()
        stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
                             nn.BatchNorm2d(widths[0]), nn.ReLU(), nn.MaxPool2d(2))
        blocks = [ResidualBlock(a, b) for a, b in zip(widths, widths[1:])]
        self.stages = nn.ModuleList([stem, *blocks])
        self.head = nn.Linear(widths[-1], n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, widths[-1])``: globally average-pooled last stage."""
        for stage in self.stages:
            x = stage(x)
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def param_groups(self) -> list[list[nn.Parameter]]:
        """Parameters per group, input to output: stem, each block, head."""
        return [list(m.parameters()) for m in (*self.stages, self.head)]


def freeze_stages(model: SmallResNet, n_frozen: int) -> None:
    """Stop gradients into the first ``n_frozen`` stages and keep their batch norm in eval mode.

    ``requires_grad=False`` alone is not enough: a batch-norm layer in training mode still
    overwrites its running statistics with those of the (tiny) target batches.
    """
    for stage in model.stages[:n_frozen]:
        stage.requires_grad_(False)
        stage.eval()


def trainable_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --------------------------------------------------------------------------------------
# The transfer experiment
# --------------------------------------------------------------------------------------
SOURCE_CLASSES = (0, 1, 2, 3, 4)
TARGET_CLASSES = (5, 6, 7, 8, 9)
STRATEGIES = ("scratch", "frozen", "finetune", "lower-lr")


@dataclass(frozen=True)
class TransferData:
    """Fashion-MNIST split into a source task and a target task, labels remapped to 0–4."""

    source_train: tuple[torch.Tensor, torch.Tensor]
    source_test: tuple[torch.Tensor, torch.Tensor]
    target_train: tuple[torch.Tensor, torch.Tensor]
    target_test: tuple[torch.Tensor, torch.Tensor]


def split_classes(X: np.ndarray, y: np.ndarray, classes: Sequence[int]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    keep = np.isin(y, classes)
    remap = np.full(10, -1)
    remap[list(classes)] = np.arange(len(classes))
    return torch.from_numpy(X[keep]), torch.from_numpy(remap[y[keep]])


def transfer_data(X_train, y_train, X_test, y_test) -> TransferData:
    """Standardize with the source training set's statistics, then split by class."""
    source = np.isin(y_train, SOURCE_CLASSES)
    mean, std = X_train[source].mean(), X_train[source].std()
    norm = lambda X: ((X - mean) / std).astype(np.float32)  # noqa: E731
    X_train, X_test = norm(X_train), norm(X_test)
    return TransferData(split_classes(X_train, y_train, SOURCE_CLASSES),
                        split_classes(X_test, y_test, SOURCE_CLASSES),
                        split_classes(X_train, y_train, TARGET_CLASSES),
                        split_classes(X_test, y_test, TARGET_CLASSES))


def labelled_subset(y: torch.Tensor, per_class: int | None, seed: int) -> torch.Tensor:
    """Indices of ``per_class`` random examples of each class (all when ``None``)."""
    if per_class is None:
        return torch.arange(len(y))
    generator = torch.Generator().manual_seed(seed)
    picks = []
    for label in torch.unique(y):
        members = torch.nonzero(y == label).flatten()
        picks.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(picks)


def train_steps(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                optimizer: torch.optim.Optimizer, steps: int, batch_size: int, seed: int,
                progress: bool = False, desc: str = "train") -> list[float]:
    """``steps`` optimizer steps on random mini-batches (reshuffled each pass); the losses."""
    generator = torch.Generator().manual_seed(seed)
    batch_size = min(batch_size, len(y))
    order, position, losses = torch.randperm(len(y), generator=generator), 0, []
    for _ in tqdm(range(steps), desc=desc, leave=False, disable=not progress):
        if position + batch_size > len(y):
            order, position = torch.randperm(len(y), generator=generator), 0
        batch = order[position:position + batch_size]
        position += batch_size
        loss = F.cross_entropy(model(X[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Accuracy in eval mode (batch norm uses its running statistics)."""
    model.eval()
    correct = sum((model(X[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
                  for i in range(0, len(y), batch_size))
    return correct / len(y)


def fit_epochs(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int,
               lr: float = 2e-3, batch_size: int = 128, seed: int = 0, progress: bool = True,
               desc: str = "train") -> list[float]:
    """Adam with a one-cycle learning-rate schedule over ``epochs`` shuffled passes; the losses."""
    steps = epochs * math.ceil(len(y) / batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    losses = []
    bar = tqdm(total=steps, desc=desc, disable=not progress)
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for i in range(0, len(y), batch_size):
            batch = order[i:i + batch_size]
            loss = F.cross_entropy(model(X[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    bar.close()
    return losses


def pretrain(model: SmallResNet, data: TransferData, epochs: int, seed: int = 0,
             progress: bool = True) -> dict:
    """Train on the source task (classes 0–4); return what to store with the checkpoint."""
    start = time.monotonic()
    losses = fit_epochs(model, *data.source_train, epochs, seed=seed, progress=progress,
                        desc="pre-train on classes 0–4")
    return {"losses": losses, "seconds": time.monotonic() - start,
            "source_test_accuracy": evaluate(model, *data.source_test)}


def new_head(model: SmallResNet, n_classes: int, seed: int) -> SmallResNet:
    """A copy of ``model`` with a freshly initialized head for ``n_classes`` classes."""
    model = copy.deepcopy(model)
    torch.manual_seed(seed)
    model.head = nn.Linear(model.head.in_features, n_classes)
    return model


@torch.no_grad()
def extract_features(model: SmallResNet, X: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Pooled features of a frozen backbone in eval mode: ``(N, C, H, W) -> (N, widths[-1])``."""
    model.eval()
    return torch.cat([model.features(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])


@dataclass(frozen=True)
class TransferConfig:
    """Budget and learning rates of one transfer run (the same for every strategy)."""

    steps: int = 200
    batch_size: int = 32
    lr: float = 1e-3
    head_lr: float = 1e-2     # the frozen strategy trains only a linear head: it can go faster
    decay: float = 0.3        # lower-lr: each stage towards the input trains 0.3x slower


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
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def load_flat_state(model: nn.Module, arrays: Sequence[torch.Tensor]) -> None:
    """Copy ``arrays`` into the model's parameters and running statistics, in state_dict order
    (``num_batches_tracked`` counters excluded)."""
    entries = [t for name, t in model.state_dict().items()
               if not name.endswith("num_batches_tracked")]
    if len(entries) != len(arrays):
        raise ValueError(f"expected {len(entries)} arrays, got {len(arrays)}")
    with torch.no_grad():
        for tensor, value in zip(entries, arrays):
            tensor.copy_(value)


def flat_parameters(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def running_stats(model: nn.Module) -> torch.Tensor:
    return torch.cat([b.detach().flatten().to(torch.float64) for name, b in model.named_buffers()
                      if not name.endswith("num_batches_tracked")])


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
