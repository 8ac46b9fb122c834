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


# --------------------------------------------------------------------------------------
# Sample quality (the week-14 milestone's grade): the course classifier's features and the
# Fréchet distance between Gaussians fitted to two sets of features
# --------------------------------------------------------------------------------------
#: The feature network: the week-12 ResNet (:class:`grader.transfer.SmallResNet`) trained on
#: all ten Fashion-MNIST classes; its features are the 32 globally average-pooled channels of
#: the last residual stage (the input of its linear head). The lecture and
#: ``bench/bench_week14.py`` use the same network.
FEATURE_WIDTHS = (16, 16, 32, 32)


class FeatureNet:
    """The trained feature classifier and the pixel scaling it was trained with."""

    def __init__(self, model: torch.nn.Module, mean: float, std: float):
        self.model, self.mean, self.std = model, mean, std

    @torch.no_grad()
    def __call__(self, images, batch_size: int = 1000):
        """Features ``(N, 32)`` float64 and predicted classes ``(N,)`` of images
        ``(N, 1, 28, 28)`` in [-1, 1] (a NumPy array or a tensor)."""
        import numpy as np

        images = torch.as_tensor(np.asarray(images, dtype=np.float32))
        pixels = ((images + 1) / 2 - self.mean) / self.std  # [-1, 1] -> the classifier's scale
        self.model.eval()
        features = torch.cat([self.model.features(pixels[i:i + batch_size])
                              for i in range(0, len(pixels), batch_size)])
        return (features.numpy().astype(np.float64),
                self.model.head(features).argmax(1).numpy())


def feature_net(epochs: int | None = None, progress: bool = False) -> FeatureNet:
    """The feature classifier, trained once (seed 0, Adam one-cycle, ``epochs`` passes over
    the 60,000 training images: 3, or 1 in fast mode) and cached in the data folder
    (``checkpoints/week14-feature-resnet-10class-{epochs}ep[-fast].pt``, the benchmark's
    file); a later call loads it. Training takes a few CPU-minutes.
    """
    from grader.config import fast_mode, pick
    from grader.data import data_dir, load_fashion_mnist
    from grader.train import train_or_load
    from grader.transfer import SmallResNet, evaluate, fit_epochs

    epochs = pick(3, 1) if epochs is None else epochs
    suffix = "-fast" if fast_mode() else ""
    path = data_dir() / "checkpoints" / f"week14-feature-resnet-10class-{epochs}ep{suffix}.pt"
    torch.manual_seed(0)
    model = SmallResNet(FEATURE_WIDTHS, n_classes=10)

    def train() -> dict:
        X_train, y_train, X_test, y_test = load_fashion_mnist()
        mean, std = float(X_train.mean()), float(X_train.std())
        norm = lambda X: torch.from_numpy((X - mean) / std).float()  # noqa: E731
        losses = fit_epochs(model, norm(X_train), torch.from_numpy(y_train), epochs, seed=0,
                            progress=progress, desc="feature classifier")
        return {"mean": mean, "std": std, "losses": losses,
                "test_accuracy": evaluate(model, norm(X_test), torch.from_numpy(y_test))}

    info = train_or_load(path, model, train)
    model.eval()
    return FeatureNet(model, float(info["mean"]), float(info["std"]))


def frechet_score(features_a, features_b) -> float:
    """Squared Fréchet distance between Gaussians fitted to two sets of features ``(N, D)``.

    ``‖μa − μb‖² + tr(Σa + Σb − 2 (Σa Σb)^½)`` with SciPy's matrix square root (the
    lecture's §5; the assignment's exercise asks for a robust version of your own).
    """
    import numpy as np
    import scipy.linalg

    (mu_a, sigma_a), (mu_b, sigma_b) = [
        (f.mean(axis=0), np.cov(f, rowvar=False))
        for f in (np.asarray(features_a, np.float64), np.asarray(features_b, np.float64))]
    cross = scipy.linalg.sqrtm(sigma_a @ sigma_b)
    cross = np.real(cross) if np.iscomplexobj(cross) else cross
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(sigma_a + sigma_b - 2 * cross))


# --------------------------------------------------------------------------------------
# The week-14 milestone: the generator's checkpoint, and the training probe's harness
# --------------------------------------------------------------------------------------
def load_generator(path, generator: torch.nn.Module) -> dict:
    """Load the generator checkpoint ``path`` (``torch.load(weights_only=True)``: tensors and
    plain containers only, never arbitrary pickled objects) into ``generator``; return the
    ``info`` saved with it.

    The file holds ``{"state_dict": generator.state_dict(), "info": {...}}`` (what
    :func:`train_or_load_generator` saves) or a bare ``state_dict``. Every parameter and
    buffer must match the generator the notebook builds, name and shape: a mismatch raises
    :class:`grader.milestone.CheckpointError` listing each one.
    """
    from pathlib import Path

    from grader.milestone import CheckpointError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path.name}: no such checkpoint in {path.parent.resolve()}. Train your generator "
            f"in the notebook (its training cell saves {path.name}) and keep the file next to "
            "the notebook: it is submitted with it.")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001  (pickled objects, a truncated file, ...)
        raise CheckpointError(f"{path.name} could not be loaded with weights_only=True "
                              f"({type(error).__name__}): save generator.state_dict() "
                              "with torch.save") from None
    state = data.get("state_dict", data) if isinstance(data, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path.name} holds no state_dict")
    own = generator.state_dict()
    problems = [f"{name}: missing (your generator expects shape {tuple(own[name].shape)})"
                for name in sorted(set(own) - set(state))]
    problems += [f"{name}: saved, but your generator has no parameter or buffer of that name"
                 for name in sorted(set(state) - set(own))]
    problems += [f"{name}: saved with shape {tuple(state[name].shape)}, your generator "
                 f"expects {tuple(own[name].shape)}" for name in sorted(set(state) & set(own))
                 if tuple(getattr(state[name], "shape", ())) != tuple(own[name].shape)]
    if problems:
        raise CheckpointError(
            f"{path.name} does not fit the generator the notebook builds ({len(problems)} "
            "problem(s)):\n  " + "\n  ".join(problems[:12])
            + "\nWas it saved from another generator? Train again (delete the file first).")
    generator.load_state_dict(state)
    info = data.get("info", {}) if "state_dict" in data else {}
    return info if isinstance(info, dict) else {}


def train_or_load_generator(path, generator: torch.nn.Module,
                            train: Callable[[], dict]) -> dict:
    """Reuse the generator checkpoint at ``path`` if there is one; otherwise train and save.

    ``train()`` trains ``generator`` in place and returns a dict of plain values (numbers,
    lists, strings) saved beside its ``state_dict`` as ``info``. As
    :func:`grader.milestone.train_or_load`: a file saved in fast mode is not reused by a
    full-size run; inside the grader's sandbox nothing is trained (a missing file raises
    ``FileNotFoundError``).
    """
    import time
    from pathlib import Path

    from grader.config import fast_mode
    from grader.milestone import grading

    path = Path(path)
    if path.exists():
        info = load_generator(path, generator)
        if grading() or bool(info.get("fast_mode")) == fast_mode():
            shown = {k: v for k, v in info.items() if not isinstance(v, (list, dict))}
            print(f"loaded {path.name} ({', '.join(f'{k} {v}' for k, v in shown.items())}); "
                  "skipping training — delete the file to train again")
            return info
        print(f"{path.name} was saved in {'fast' if info.get('fast_mode') else 'full'} mode: "
              "training again")
    if grading():
        raise FileNotFoundError(f"{path.name} is not in the grader's folder: the grader does "
                                "not train your generator, it evaluates the file your training "
                                "saved (submit it next to the notebook)")
    start = time.perf_counter()
    info = {"train_seconds": 0.0, "fast_mode": fast_mode(), **(train() or {})}
    info["train_seconds"] = round(time.perf_counter() - start, 1)
    tmp = path.with_name(f".{path.stem}.tmp.pt")
    torch.save({"state_dict": generator.state_dict(), "info": info}, tmp)
    tmp.replace(path)
    print(f"saved {path.name} after {info['train_seconds']:.0f} s of training; the next run "
          "loads it instead of training")
    return info


def interpolate_gradient_norms(critic: torch.nn.Module, real: torch.Tensor,
                               fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``‖∇_x critic(x̂_n)‖₂`` at ``x̂_n = alpha_n real_n + (1 - alpha_n) fake_n``, one per
    example ``(N,)``, computed by the course (the probe compares a learner's penalty with it)."""
    shape = (-1,) + (1,) * (real.dim() - 1)
    points = (alpha.view(shape) * real + (1 - alpha.view(shape)) * fake).detach()
    points.requires_grad_(True)
    slopes, = torch.autograd.grad(critic(points).sum(), points)
    return slopes.flatten(1).norm(dim=1).detach()


#: Columns of the probe's per-step record (:func:`wgan_probe`).
PROBE_COLUMNS = ("critic loss", "wasserstein estimate", "penalty", "estimate before",
                 "estimate after", "generator loss", "fake score before", "fake score after")


def wgan_probe(make_generator: Callable[[], torch.nn.Module],
               make_critic: Callable[[], torch.nn.Module], make_optimizers: Callable,
               critic_step: Callable, generator_step: Callable, real: torch.Tensor,
               steps: int = 20, seed: int = 0, lam: float = 10.0, z_dim: int = 64
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """The week-14 training probe: ``steps`` rounds of the learner's critic step and
    generator step on the batch ``real (N, 1, 28, 28)``, from ``seed``, on one thread.

    Each round draws ``fake = G(z)`` (detached) and ``alpha``, measures the critic's input
    gradient norms at the interpolates and its estimate ``mean f(real) - mean f(fake)``,
    calls ``critic_step(critic, opt_c, real, fake, alpha, lam) -> (loss, estimate,
    penalty)``, measures the estimate again on the same batch; then measures the critic's
    mean score of ``G(z')`` for fresh noise, calls ``generator_step(generator, critic, opt_g,
    z') -> loss`` and measures that score again (the same ``z'``).

    Returns:
        ``(record (steps, 8), norms (steps, N))``: the columns of :data:`PROBE_COLUMNS`, and
        the gradient norms before each critic step. The grader judges them outside.
    """
    with one_thread():
        torch.manual_seed(seed)
        generator, critic = make_generator(), make_critic()
        opt_g, opt_c = make_optimizers(generator, critic)
        noise = torch.Generator().manual_seed(seed)
        real = real.float()
        n = len(real)
        estimate = lambda fake: float(critic(real).mean() - critic(fake).mean())  # noqa: E731
        rows, norms = [], []
        for _ in range(steps):
            with torch.no_grad():
                fake = generator(torch.randn(n, z_dim, generator=noise))
            alpha = torch.rand(n, generator=noise)
            norms.append(interpolate_gradient_norms(critic, real, fake, alpha))
            with torch.no_grad():
                before = estimate(fake)
            loss, w, gp = critic_step(critic, opt_c, real, fake, alpha, lam)
            with torch.no_grad():
                after = estimate(fake)
                z = torch.randn(n, z_dim, generator=noise)
                score_before = float(critic(generator(z)).mean())
            g_loss = generator_step(generator, critic, opt_g, z)
            with torch.no_grad():
                score_after = float(critic(generator(z)).mean())
            rows.append([float(loss), float(w), float(gp), before, after, float(g_loss),
                         score_before, score_after])
        return torch.tensor(rows, dtype=torch.float64), torch.stack(norms).double()
