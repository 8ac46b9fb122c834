"""Week 8: does unsupervised pre-training help when labels are scarce? (Fashion-MNIST)

A 784-500-500-10 sigmoid network is trained on 100 and on 1,000 labelled images (balanced
over the classes), either from random (Glorot) weights or from a stack of two RBMs
pre-trained greedily with CD-1 on all 60,000 training images, labels unused. Fine-tuning is
the same for both: every layer, softmax cross-entropy, 1,000 SGD-momentum updates. A linear
SVM on the frozen pre-trained features is compared with one on the raw pixels. Test accuracy
on the 10,000 test images, mean ± standard deviation over seeds (each seed redraws the
labelled subset and every random number, pre-training included).

The settings were fixed before the first full run and are not tuned on the result: the
figure is what it is. NumPy's BLAS is limited to one thread (on a shared 2-core machine,
two threads per process were several times slower).

Run: ``python -m bench week08`` (about 12 min on one core; ``--fast`` runs a toy version).
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from bench import Row
from grader.config import pick
from grader.data import load_fashion_mnist
from answers.kernels.week08 import pretraining_experiment

CONFIG = {
    "sizes": pick([500, 500], [32, 32]),
    "pretrain_epochs": pick(5, 1),
    "finetune_steps": pick(1000, 50),
    "label_counts": [100, 1000],
    "seeds": [0, 1, 2],
    "method": "rbm",
}


def _summary(values: list[float]) -> str:
    return f"{np.mean(values):.4f} ± {np.std(values, ddof=1):.4f}"


def pretraining() -> list[Row]:
    data = load_fashion_mnist()
    x_train = data.X_train.reshape(len(data.X_train), -1).astype(np.float64)
    x_test = data.X_test.reshape(len(data.X_test), -1).astype(np.float64)
    start = time.monotonic()
    with threadpool_limits(1):
        results = pretraining_experiment(x_train, data.y_train, x_test, data.y_test,
                                         progress=False, **CONFIG)
    seconds = time.monotonic() - start
    setting = (f"784-{'-'.join(map(str, CONFIG['sizes']))}-10 sigmoid net; RBMs: CD-1, "
               f"{CONFIG['pretrain_epochs']} epochs per layer on {len(x_train):,} unlabelled "
               f"images; fine-tuning: {CONFIG['finetune_steps']} updates; test on "
               f"{len(x_test):,} images; seeds {CONFIG['seeds']}")
    rows = []
    for n_labels, by_name in results.items():
        pre, rand = by_name["pretrained + fine-tuned"], by_name["random init"]
        diff = np.subtract(pre, rand)
        rows.append(Row(
            benchmark=f"test accuracy with {n_labels} labels: RBM-pretrained + fine-tuned",
            value=float(np.mean(pre)), unit="accuracy",
            oracle="same net and fine-tuning from random init", oracle_value=float(np.mean(rand)),
            target="report the difference (no target)", met=None, seconds=seconds,
            notes=(f"pretrained {_summary(pre)}, random {_summary(rand)}, difference "
                   f"{np.mean(diff):+.4f} ± {np.std(diff, ddof=1):.4f} (paired by seed); "
                   f"{setting}"),
            extra={"per_seed": {"pretrained": pre, "random": rand}, "config": CONFIG}))
        svm_pre, svm_pix = by_name["SVM on pretrained features"], by_name["SVM on pixels"]
        rows.append(Row(
            benchmark=f"test accuracy with {n_labels} labels: LinearSVC on pretrained features",
            value=float(np.mean(svm_pre)), unit="accuracy", oracle="LinearSVC on raw pixels",
            oracle_value=float(np.mean(svm_pix)), target="report the difference (no target)",
            met=None, seconds=seconds,
            notes=(f"pretrained features {_summary(svm_pre)}, pixels {_summary(svm_pix)}; "
                   f"sklearn LinearSVC(C=1) on the frozen top-layer probabilities; {setting}"),
            extra={"per_seed": {"svm_pretrained": svm_pre, "svm_pixels": svm_pix},
                   "config": CONFIG}))
    return rows


BENCHMARKS = [pretraining]
