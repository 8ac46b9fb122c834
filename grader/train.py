"""Small training helpers the PyTorch weeks share: a fit loop with progress bars, and
checkpoints that are loaded instead of retraining when they exist.

The loop is deliberately plain (one epoch = one pass with ``tqdm``; a history dict of
per-epoch metrics) so a learner can read it in one sitting; the lectures build it up step by
step before using it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn
from tqdm.auto import tqdm

History = dict[str, list[float]]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a torch generator for data shuffling."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows whose arg-max equals the label. ``logits (N, C)``, ``y (N,)``."""
    return (logits.argmax(dim=1) == y).float().mean().item()


def run_epoch(model: nn.Module, batches: Iterable, loss_fn: Callable,
              optimizer: torch.optim.Optimizer | None = None, desc: str = "",
              clip_norm: float | None = None, progress: bool = True) -> dict[str, float]:
    """One pass over ``batches`` of ``(x, y)``: trains when ``optimizer`` is given.

    Returns the example-weighted mean loss and accuracy (accuracy only when the model
    outputs class scores of shape ``(N, C)``).
    """
    training = optimizer is not None
    model.train(training)
    total_loss, total_correct, total = 0.0, 0.0, 0
    with torch.set_grad_enabled(training):
        bar = tqdm(batches, desc=desc, leave=False, disable=not progress)
        for x, y in bar:
            logits = model(x)
            loss = loss_fn(logits, y)
            if training:
                optimizer.zero_grad()
                loss.backward()
                if clip_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
                optimizer.step()
            n = len(y)
            total_loss += loss.item() * n
            if logits.dim() == 2 and y.dim() == 1:
                total_correct += accuracy(logits.detach(), y) * n
            total += n
            bar.set_postfix(loss=f"{total_loss / total:.4f}")
    return {"loss": total_loss / max(total, 1), "accuracy": total_correct / max(total, 1)}


def fit(model: nn.Module, train_batches: Callable[[], Iterable], loss_fn: Callable,
        optimizer: torch.optim.Optimizer, epochs: int,
        val_batches: Callable[[], Iterable] | None = None,
        scheduler=None, clip_norm: float | None = None, progress: bool = True) -> History:
    """Train for ``epochs`` epochs; return the history of train/val loss and accuracy.

    ``train_batches`` and ``val_batches`` are called once per epoch and must return a fresh
    iterable of ``(x, y)`` (e.g. ``lambda: loader`` for a DataLoader).
    """
    history: History = {}
    bar = tqdm(range(1, epochs + 1), desc="epochs", disable=not progress)
    for epoch in bar:
        start = time.monotonic()
        metrics = {f"train_{k}": v for k, v in run_epoch(
            model, train_batches(), loss_fn, optimizer, desc=f"epoch {epoch}",
            clip_norm=clip_norm, progress=progress).items()}
        if val_batches is not None:
            metrics |= {f"val_{k}": v for k, v in run_epoch(
                model, val_batches(), loss_fn, desc="validate", progress=progress).items()}
        if scheduler is not None:
            scheduler.step()
        metrics["seconds"] = time.monotonic() - start
        for key, value in metrics.items():
            history.setdefault(key, []).append(value)
        bar.set_postfix({k: f"{v:.3f}" for k, v in metrics.items() if k != "seconds"})
    return history


class CheckpointMismatch(RuntimeError):
    """A checkpoint's tensors do not fit the model it is loaded into."""


def save_checkpoint(path: str | Path, model: nn.Module, **extra) -> Path:
    """Save ``model.state_dict()`` plus any extra JSON-like data (history, config)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"state_dict": model.state_dict(), **extra}, tmp)
    tmp.replace(path)  # atomic: an interrupted save never leaves a half-written checkpoint
    return path


def load_checkpoint(path: str | Path, model: nn.Module) -> dict:
    """Load a checkpoint into ``model``; explain shape mismatches instead of a bare error.

    Also accepts a bare ``model.state_dict()`` (what ``torch.save`` of one writes, and what
    older checkpoints of this course hold); it has no extra data.
    """
    data = torch.load(Path(path), map_location="cpu", weights_only=True)
    if "state_dict" not in data:
        data = {"state_dict": data}
    state = data["state_dict"]
    own = model.state_dict()
    problems = [f"  {name}: checkpoint {tuple(t.shape)} vs model {tuple(own[name].shape)}"
                for name, t in state.items() if name in own and own[name].shape != t.shape]
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if problems or missing or unexpected:
        lines = [f"checkpoint {path} does not fit {type(model).__name__}:"] + problems
        if missing:
            lines.append(f"  missing in the checkpoint: {', '.join(missing)}")
        if unexpected:
            lines.append(f"  not in the model: {', '.join(unexpected)}")
        lines.append("  (was it saved from a model with other sizes? delete it to retrain)")
        raise CheckpointMismatch("\n".join(lines))
    model.load_state_dict(state)
    return {k: v for k, v in data.items() if k != "state_dict"}


def train_or_load(path: str | Path, model: nn.Module, train: Callable[[], dict]) -> dict:
    """Load ``path`` into ``model`` when it exists (and say so); else ``train()`` and save.

    ``train`` trains ``model`` in place and returns extra data to store (e.g. history).
    """
    path = Path(path)
    if path.exists():
        extra = load_checkpoint(path, model)
        print(f"loaded checkpoint {path}, skipping training (delete it to retrain)")
        return extra
    extra = train() or {}
    try:
        save_checkpoint(path, model, **extra)
    except OSError as error:  # a read-only cache (the grader's sandbox): the model is trained
        print(f"could not save checkpoint {path} ({error.strerror or error}); "
              "it will be trained again next time")
        return extra
    print(f"saved checkpoint {path}")
    return extra
