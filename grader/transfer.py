"""Week 12 course library: the small ResNet, the transfer-learning data and training loops.

Code the course provides (not exercises): :class:`SmallResNet` and its :class:`ResidualBlock`,
the source/target split of Fashion-MNIST, pre-training (:func:`fit_epochs`, :func:`pretrain`),
fixed-budget training (:func:`train_steps`), evaluation and feature extraction, and small
helpers that move a network's state to and from flat lists of arrays (the assignment's
harnesses use them). The graded pieces (the residual block as a function, parameter budgets,
layer-wise rates, preparing a network for fine-tuning and the fine-tuning step) are the
learner's; the experiment driver that uses them is in the answer key.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm


#: Epochs of pre-training on the source task (fast mode: the tests' seconds-long version).
SOURCE_EPOCHS, FAST_SOURCE_EPOCHS = 4, 1


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


def trainable_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


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


def source_network_path(full: bool) -> Path:
    """Where the pre-trained source network is cached: the data folder's ``checkpoints/``
    (the name the lecture, the milestone notebook and ``bench week12`` share)."""
    from grader.data import data_dir

    epochs = SOURCE_EPOCHS if full else FAST_SOURCE_EPOCHS
    return data_dir() / "checkpoints" / (f"week12-resnet-source-0to4-{epochs}ep"
                                         f"{'' if full else '-fast'}.pt")


def source_network(full: bool, progress: bool = True) -> tuple[SmallResNet, dict]:
    """The network pre-trained on classes 0–4 (seed 0; :data:`SOURCE_EPOCHS`, or
    :data:`FAST_SOURCE_EPOCHS` when not ``full``) and what was stored with it, loaded from the
    data cache or trained and saved there once (``grader.train.train_or_load``).

    The grader calls it before it grades Week 12's milestone, so that the learner's
    ``fine_tune``, run in a sandbox that cannot write the cache, finds the network there."""
    from grader.data import load_fashion_mnist
    from grader.train import train_or_load

    model = SmallResNet()
    torch.manual_seed(0)

    def train() -> dict:
        data = transfer_data(*load_fashion_mnist())
        return pretrain(model, data, SOURCE_EPOCHS if full else FAST_SOURCE_EPOCHS,
                        progress=progress)

    return model, train_or_load(source_network_path(full), model, train)


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
