"""Week 14 course library: pieces of the GAN harness that are not exercises.

* :func:`mlp_critic`: the small critic, as a function of its weights, through which the
  gradient-penalty exercise is checked (the assignment's harness, the reference kernels and
  the checks use the same one);
* :func:`one_thread`: run training on one thread, so that a CPU-time budget means the time
  of one core (the lecture's and the benchmark's budgeted GAN training);
* :func:`eval_output` and :func:`sample`: a generator's snapshots and samples, in eval mode;
* the assignment's check harness: :func:`load_weights`, :func:`module_runner` (a module
  exercise as a function of tensors) and :func:`penalty_runner` (the gradient penalty with
  :func:`mlp_critic`, and its gradient with respect to the critic's weights).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


# --------------------------------------------------------------------------------------
# The check harness of the assignment: modules and the penalty as functions of tensors
# --------------------------------------------------------------------------------------
def load_weights(module: torch.nn.Module, weights: list[torch.Tensor]) -> torch.nn.Module:
    """Copy ``weights`` into ``module.parameters()``, in the order they are registered.

    Raises ``ValueError`` naming both lists of shapes when they differ (a missing or extra
    layer, a bias where there should be none, a transposed weight).
    """
    params = list(module.parameters())
    got = [tuple(p.shape) for p in params]
    want = [tuple(w.shape) for w in weights]
    if got != want:
        raise ValueError(f"{type(module).__name__}'s parameters, in the order they are "
                         f"registered, have shapes {got}; the check's weights have shapes "
                         f"{want}")
    with torch.no_grad():
        for param, weight in zip(params, weights):
            param.copy_(weight)
    return module


#: How each checked module is built from a case: ``(module class, input, weights) -> module``
#: with the sizes the case's weights imply. The discriminator of a DCGAN case has 7 weights
#: with batch norm and 6 without (the WGAN-GP critic).
_BUILDERS: dict[str, Callable[[type, torch.Tensor, tuple], torch.nn.Module]] = {
    "mlp_generator": lambda cls, z, w: cls(z_dim=z.shape[1], hidden=w[0].shape[0]),
    "mlp_discriminator": lambda cls, x, w: cls(hidden=w[2].shape[0]),
    "dcgan_generator": lambda cls, z, w: cls(z_dim=z.shape[1], channels=w[3].shape[1]),
    "dcgan_discriminator": lambda cls, x, w: cls(channels=w[0].shape[0], norm=len(w) == 7),
}


def module_runner(kind: str, module_class: Callable[[], type]
                  ) -> Callable[..., torch.Tensor]:
    """How the module exercise ``w14_<kind>`` is checked, as a function ``(input, *weights)``.

    The function builds ``module_class()`` (a thunk, so that the class may be defined after
    the harness) with the case's sizes, in float64, loads the weights
    (:func:`load_weights`) and returns its output in training mode.
    """
    build = _BUILDERS[kind]

    def run(inputs: torch.Tensor, *weights: torch.Tensor) -> torch.Tensor:
        module = build(module_class(), inputs, weights).double()
        return load_weights(module, list(weights)).train()(inputs)

    run.__name__ = run.__qualname__ = f"run_{kind}"
    return run


def penalty_runner(gradient_penalty: Callable[[], Callable]) -> Callable[..., tuple]:
    """How ``w14_gradient_penalty`` is checked: ``(real, fake, alpha, W1, b1, w2, b2, lam)
    -> (penalty, dW1, db1, dw2, db2)``, the penalty of :func:`mlp_critic` *and* its gradient
    with respect to the critic's four weights.

    ``gradient_penalty`` is a thunk returning the penalty function under test (looked up at
    call time). A penalty that does not carry gradient to the weights (built without
    ``create_graph=True``, or detached) cannot train the critic; its gradients are reported
    as zeros, which the reference's are not.
    """

    def penalty_and_critic_grads(real, fake, alpha, W1, b1, w2, b2, lam):
        weights = [w.detach().clone().requires_grad_(True) for w in (W1, b1, w2, b2)]
        value = gradient_penalty()(lambda x: mlp_critic(x, *weights), real, fake, alpha, lam)
        if not value.requires_grad:
            return (value.detach(), *(torch.zeros_like(w) for w in weights))
        grads = torch.autograd.grad(value, weights, allow_unused=True)
        return (value.detach(), *(torch.zeros_like(w) if g is None else g
                                  for w, g in zip(weights, grads)))

    return penalty_and_critic_grads
