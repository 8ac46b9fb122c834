"""Week 12 benchmark: transfer from Fashion-MNIST classes 0–4 to classes 5–9.

A ``SmallResNet`` (38k parameters) is pre-trained on the source classes (cached checkpoint),
then each strategy — from scratch, frozen features, full fine-tuning, fine-tuning with lower
learning rates for early layers — trains on ``n`` labelled examples per target class, for
several seeds (each seed draws its own labelled subset, shared by every strategy, and its own
initialization). The oracle is a scikit-learn RandomForest on raw pixels with the same labels.
The target: at 10 labels per class, fine-tuning beats training from scratch by a clear margin.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from sklearn.ensemble import RandomForestClassifier

from bench import Row
from grader.config import fast_mode, pick
from grader.data import data_dir, load_fashion_mnist
from answers.kernels import week12 as k
from grader.train import train_or_load

torch.set_num_threads(1)  # a shared 2-core machine: one thread avoids oversubscription

LABELS_PER_CLASS = pick([5, 10, 50, 100, None], [5, 10])  # None: all 6,000 per class
SEEDS = pick([0, 1, 2, 3, 4], [0])
ALL_SEEDS = pick([0, 1, 2], [0])  # "all labels": the subset is the same, only init varies
PRETRAIN_EPOCHS = pick(4, 1)
CONFIG = pick(k.TransferConfig(), k.TransferConfig(steps=5))
CONFIG_ALL = pick(k.TransferConfig(steps=500, batch_size=64), k.TransferConfig(steps=5))
RF_TREES = pick(100, 10)


def _label(per_class: int | None) -> str:
    return "all" if per_class is None else str(per_class)


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def random_forest(data: k.TransferData, per_class: int | None, seed: int) -> float:
    X, y = data.target_train
    subset = k.labelled_subset(y, per_class, seed)
    forest = RandomForestClassifier(RF_TREES, n_jobs=1, random_state=seed)
    forest.fit(X[subset].flatten(1).numpy(), y[subset].numpy())
    X_test, y_test = data.target_test
    return float((forest.predict(X_test.flatten(1).numpy()) == y_test.numpy()).mean())


def transfer_curve() -> list[Row]:
    start = time.monotonic()
    data = k.transfer_data(*load_fashion_mnist())
    torch.manual_seed(0)
    pretrained = k.SmallResNet()
    name = f"week12-resnet-source-0to4-{PRETRAIN_EPOCHS}ep{'-fast' if fast_mode() else ''}.pt"
    info = train_or_load(data_dir() / "checkpoints" / name, pretrained,
                         lambda: k.pretrain(pretrained, data, PRETRAIN_EPOCHS, progress=False))
    frozen_features = (k.extract_features(pretrained, data.target_train[0]),
                       k.extract_features(pretrained, data.target_test[0]))
    rows = [Row("pre-training: source test accuracy (classes 0–4)",
                info["source_test_accuracy"], "accuracy", seconds=info.get("seconds", 0.0),
                notes=f"{PRETRAIN_EPOCHS} epochs, Adam + one-cycle, 30,000 source images")]
    results: dict[tuple[str, str], list[float]] = {}
    for per_class in LABELS_PER_CLASS:
        seeds = ALL_SEEDS if per_class is None else SEEDS
        config = CONFIG_ALL if per_class is None else CONFIG
        t0 = time.monotonic()
        forest = [random_forest(data, per_class, seed) for seed in seeds]
        rf_mean, rf_std = _mean_std(forest)
        rows.append(Row(f"RandomForest on pixels, {_label(per_class)} labels/class", rf_mean,
                        "accuracy", seconds=time.monotonic() - t0,
                        notes=f"± {rf_std:.3f} over {len(seeds)} seeds, {RF_TREES} trees",
                        extra={"per_seed": forest}))
        for strategy in k.STRATEGIES:
            t0 = time.monotonic()
            runs = [k.transfer_run(strategy, pretrained, data, per_class, seed, config,
                                   frozen_features=frozen_features) for seed in seeds]
            accuracies = [r["accuracy"] for r in runs]
            results[strategy, _label(per_class)] = accuracies
            mean, std = _mean_std(accuracies)
            rows.append(Row(
                f"{strategy}, {_label(per_class)} labels/class", mean, "accuracy",
                oracle="RandomForest, same labels", oracle_value=rf_mean,
                seconds=time.monotonic() - t0,
                notes=f"± {std:.3f} over {len(seeds)} seeds; {runs[0]['trainable']:,} trainable "
                      f"parameters; {config.steps} steps of batch ≤ {config.batch_size}",
                extra={"per_seed": accuracies, "std": std}))
    for strategy in ("finetune", "lower-lr"):
        if (strategy, "10") not in results:
            continue
        diffs = [a - b for a, b in zip(results[strategy, "10"], results["scratch", "10"])]
        mean, std = _mean_std(diffs)
        half_width = 2 * std / np.sqrt(len(diffs))
        rows.append(Row(
            f"{strategy} − scratch at 10 labels/class (paired by seed)", mean, "accuracy points",
            oracle="scratch, same labels and budget",
            oracle_value=statistics.fmean(results["scratch", "10"]),
            target="mean gain ≥ 0.03 and mean − 2·sd/√n > 0",
            met=bool(mean >= 0.03 and mean - half_width > 0),
            notes=f"sd of the paired differences {std:.3f} over {len(diffs)} seeds",
            extra={"per_seed": diffs}))
    rows.append(Row("total wall-clock of the transfer benchmark", time.monotonic() - start, "s"))
    return rows


BENCHMARKS = [transfer_curve]
