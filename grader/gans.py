"""Week 14 course library: pieces of the GAN harness that are not exercises.

* :func:`mlp_critic`: the small critic, as a function of its weights, through which the
  gradient-penalty exercise is checked (the assignment's harness, the reference kernels and
  the checks use the same one);
* :func:`one_thread`: run training on one thread, so that a CPU-time budget means the time
  of one core (the lecture's and the benchmark's budgeted GAN training).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


def mlp_critic(x: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor,
               b2: torch.Tensor) -> torch.Tensor:
    """A one-hidden-layer critic as a function of its weights: ``(N, ...) -> (N,)`` scores.

    ``critic(x) = tanh(x.flatten(1) @ W1 + b1) @ w2 + b2`` with ``W1 (D, H)``, ``b1 (H,)``,
    ``w2 (H,)``, ``b2 (1,)``; ``D`` is the number of values of one example.
    """
    return torch.tanh(x.flatten(1) @ W1 + b1) @ w2 + b2


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(1)``; restore the thread count afterwards.

    A budget of CPU time (``time.process_time``) counts the time of every thread: for models
    this small, extra threads add little speed but consume the budget, so budgeted training
    runs on one thread and the budget means the time of one core.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
