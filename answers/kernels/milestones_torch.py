"""References of the week-10 port exercises: the course's NumPy forward passes of Weeks 7 and 9.

``w10_milestone_port_lenet`` / ``w10_milestone_port_lstm`` (:mod:`grader.checks.milestones_torch`)
compare the learner's PyTorch modules, loaded with NumPy parameters, with these functions,
computed by the grader in float64 outside the learner's code.
"""

from __future__ import annotations

import numpy as np

#: Week 7's parameter names, in the order the port exercises pass them.
LENET_ORDER = ["conv1_w", "conv1_b", "conv2_w", "conv2_b", "fc1_w", "fc1_b", "fc2_w", "fc2_b",
               "fc3_w", "fc3_b"]


def reference_port_lenet(x: np.ndarray, *params: np.ndarray) -> np.ndarray:
    """The course's NumPy LeNet-5 (Week 7), in float64, on the same parameters."""
    from answers.kernels.week07 import lenet_forward

    weights = {k: np.asarray(p, dtype=np.float64) for k, p in zip(LENET_ORDER, params)}
    return lenet_forward(weights, np.asarray(x, dtype=np.float64))[0]


def reference_port_lstm(x, h0, c0, Wx, Wh, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Week 9's NumPy ``lstm_forward`` in float64 -> (out (N, T, H), h_T, c_T)."""
    from answers.kernels.week09 import lstm_forward

    h, c = lstm_forward(*(np.asarray(a, dtype=np.float64) for a in (x, h0, c0, Wx, Wh, b)))
    return h, h[:, -1], c[:, -1]
