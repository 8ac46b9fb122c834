"""Week 14 course library: pieces of the GAN harness that are not exercises.

* :func:`mlp_critic`: the small critic, as a function of its weights, through which the
  gradient-penalty exercise is checked (the assignment's harness, the reference kernels and
  the checks use the same one);
* :func:`one_thread`: run training on one thread, so that a CPU-time budget means the time
  of one core (the lecture's and the benchmark's budgeted GAN training);
* :func:`eval_output` and :func:`sample`: a generator's snapshots and samples, in eval mode.
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


@torch.no_grad()
def eval_output(generator: torch.nn.Module, z: torch.Tensor) -> torch.Tensor:
    """``generator(z)`` in eval mode without gradients; the generator is left in train mode.

    What a training loop records as a snapshot of a fixed batch of noise ``z (N, Z)``.
    """
    generator.eval()
    images = generator(z)
    generator.train()
    return images


@torch.no_grad()
def sample(generator: torch.nn.Module, n: int, z_dim: int, seed: int = 0,
           batch_size: int = 1000) -> torch.Tensor:
    """``n`` outputs of ``generator`` on standard normal noise ``(n, z_dim)`` drawn after
    ``torch.manual_seed(seed)``, in batches of ``batch_size``; the generator is left in eval
    mode."""
    generator.eval()
    torch.manual_seed(seed)
    return torch.cat([generator(torch.randn(min(batch_size, n - i), z_dim))
                      for i in range(0, n, batch_size)])
