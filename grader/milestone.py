"""Milestones: a model assembled from your own code, trained, saved, and graded on its result.

A milestone notebook (``solutions/week05-optimization/milestone.ipynb``,
``solutions/week07-cnn/milestone.ipynb``) asks you to build a whole model from the functions
you wrote in this and earlier weeks, train it with your own optimizer and training loop, and
save its parameters next to the notebook (``milestone_week07.npz``). You submit the notebook
*and* that file. The grader then

1. rebuilds your model with your own code (in its sandbox), loads your file and returns your
   model's scores on the held-out test split; the accuracy and the points are computed
   outside your code, on a documented curve (:func:`credit_curve`), not a cliff;
2. runs a short **training probe** (:func:`training_probe`): from a fixed seed, a gradient
   check of your loss function and a few dozen steps of your own training step on a small
   subset, where the loss must fall. A checkpoint trained elsewhere, without working
   training code, cannot earn those points.

What this module gives you:

* :func:`save_params` / :func:`load_params`: parameters as a plain ``.npz`` (arrays and one
  JSON string, never pickle), with clear errors for a missing file, a file that does not
  fit your model (names and shapes), or a file holding pickled objects;
* :func:`train_or_load`: trains once, then reuses the saved file on every later run (and
  says so), so re-running the notebook does not retrain for ten minutes;
* :func:`gradient_errors`: the gradient check of a whole model (one relative error per
  parameter array), which the training probe returns to the grader.

The grader's own side (which files are expected, how they are checked before your code
touches them) is :func:`inspect_checkpoint`.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

Params = dict[str, np.ndarray]

#: Name of the JSON string saved beside the parameters (training time, accuracy, ...).
META_KEY = "__meta__"
#: Largest checkpoint the grader reads (uncompressed bytes of all arrays together).
MAX_CHECKPOINT_BYTES = 32 * 2**20
#: Environment variable set inside the grader's sandbox (``grader.sandbox``).
GRADING_ENV = "COURSE_GRADING"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: the message says what was expected instead."""


def grading() -> bool:
    """True inside the autograder's sandbox: notebooks must not train there."""
    return os.environ.get(GRADING_ENV, "") == "1"


# --------------------------------------------------------------------------------------
# Saving and loading parameters
# --------------------------------------------------------------------------------------
def save_params(path: str | os.PathLike, params: Params, **info) -> Path:
    """Save a model's parameters as ``.npz`` (no pickle), plus JSON-able ``info``.

    Args:
        path: e.g. ``"milestone_week07.npz"`` (next to the notebook).
        params: parameter name -> numeric array (``{"W1": ..., "b1": ...}``).
        **info: what you want to remember about the run (``val_acc=0.91, seconds=412``);
            must be JSON-serializable.

    Returns:
        The path written. The file is written to a temporary name first and then renamed,
        so an interrupted save never leaves a half-written checkpoint.
    """
    path = Path(path)
    arrays = {}
    for name, value in params.items():
        array = np.asarray(value)
        if not isinstance(name, str) or not name or name == META_KEY or "/" in name:
            raise CheckpointError(f"parameter name {name!r} cannot be saved: use a plain "
                                  f"string other than {META_KEY!r}, without '/'")
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                         or array.dtype == bool):
            raise CheckpointError(f"parameter {name!r} is not a numeric array "
                                  f"(dtype {array.dtype}): only numbers can be saved")
        arrays[name] = array
    meta = {"saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **info}
    arrays[META_KEY] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return path


def _read_npz(path: Path) -> tuple[Params, dict]:
    """Every array of a ``.npz`` and its metadata, refusing pickles and oversized files."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path.name}: no such checkpoint in {path.parent.resolve()}. Train your model in "
            f"the notebook (its training cell saves {path.name}) and keep the file next to "
            "the notebook: it is submitted with it.")
    problem = inspect_checkpoint(path)
    if problem:
        raise CheckpointError(problem)
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    meta_array = arrays.pop(META_KEY, None)
    try:
        meta = json.loads(str(meta_array)) if meta_array is not None else {}
    except ValueError:
        meta = {}
    return arrays, meta if isinstance(meta, dict) else {}


def load_params(path: str | os.PathLike, like: Params | None = None) -> Params:
    """Load parameters saved by :func:`save_params` (``allow_pickle=False``).

    Args:
        path: the ``.npz`` file.
        like: your model's freshly initialized parameters. When given, the file must hold
            exactly these names with these shapes (each mismatch is listed), and each array
            is returned in ``like``'s dtype.

    Raises:
        FileNotFoundError: the file does not exist (the message says what to do).
        CheckpointError: the file is not a plain ``.npz`` of numeric arrays (e.g. it holds
            pickled objects), or it does not fit ``like``.
    """
    params, _ = _read_npz(Path(path))
    if like is None:
        return params
    problems = []
    for name in sorted(set(like) - set(params)):
        problems.append(f"{name}: missing (your model expects shape {tuple(like[name].shape)})")
    for name in sorted(set(params) - set(like)):
        problems.append(f"{name}: saved with shape {tuple(params[name].shape)}, but your model "
                        "has no parameter of that name")
    for name in sorted(set(params) & set(like)):
        if params[name].shape != np.shape(like[name]):
            problems.append(f"{name}: saved with shape {tuple(params[name].shape)}, your model "
                            f"expects {tuple(np.shape(like[name]))}")
    if problems:
        raise CheckpointError(
            f"{Path(path).name} does not fit your model ({len(problems)} problem(s)):\n  "
            + "\n  ".join(problems)
            + "\nWas it saved from another version of your model? Train again (delete the "
              "file first) so that it matches the model the notebook builds.")
    return {name: params[name].astype(np.asarray(like[name]).dtype, copy=False)
            for name in like}


def checkpoint_info(path: str | os.PathLike) -> dict:
    """The ``info`` saved with the parameters (plus ``saved_at``)."""
    return _read_npz(Path(path))[1]


def inspect_checkpoint(path: str | os.PathLike,
                       max_bytes: int = MAX_CHECKPOINT_BYTES) -> str | None:
    """What is wrong with a checkpoint file, or ``None`` when it is a plain ``.npz``.

    Used by the grader (trusted side) *before* any learner code sees the file, and by
    :func:`load_params`. Reads the zip directory first, so that an oversized (or
    zip-bomb) file is refused before anything is decompressed.
    """
    path = Path(path)
    name = path.name
    if path.suffix == TORCH_SUFFIX:  # weeks 10-11: a PyTorch state dict (end of this module)
        return inspect_torch_checkpoint(path, max_bytes)
    if path.is_symlink() or not path.is_file():
        return f"{name} is not a regular file"
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return (f"{name} is not an .npz archive (save it with "
                "grader.milestone.save_params or numpy.savez)")
    total = sum(m.file_size for m in members)
    if total > max_bytes:
        return (f"{name} holds {total / 2**20:.1f} MB of arrays; at most "
                f"{max_bytes / 2**20:.0f} MB are accepted")
    key = "?"
    bad = [m.filename for m in members if not m.filename.endswith(".npy")]
    if bad:
        return f"{name} holds entries that are not arrays: {', '.join(bad[:5])}"
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                data[key]
    except ValueError as error:
        if "pickle" in str(error).lower():
            return (f"{name} holds pickled Python objects (array {key!r}); only plain numeric "
                    "arrays are accepted — save a dict of NumPy arrays with "
                    "grader.milestone.save_params")
        return f"{name} could not be read as arrays ({error})"
    except Exception as error:  # truncated or corrupted member
        return f"{name} could not be read ({type(error).__name__}: {error})"
    return None


def train_or_load(path: str | os.PathLike, train: Callable[[], Params | tuple[Params, dict]],
                  like: Params) -> Params:
    """Reuse the checkpoint at ``path`` if there is one; otherwise train, save and return.

    Args:
        path: the checkpoint (e.g. ``"milestone_week07.npz"``).
        train: a function with no arguments that trains your model and returns its
            parameters, or ``(params, info)`` with ``info`` a dict saved beside them.
        like: freshly initialized parameters of your model (names and shapes to expect).

    A file saved in fast mode (``COURSE_FAST=1``: seconds of training, for tests) is not
    reused by a full-size run, which trains again. Inside the grader's sandbox (always fast
    mode) nothing is trained: the grader evaluates the file you submitted, and a missing
    file raises :class:`FileNotFoundError`.
    """
    from grader.config import fast_mode

    path = Path(path)
    stale = (path.exists() and not grading()
             and bool(checkpoint_info(path).get("fast_mode")) != fast_mode())
    if stale:
        print(f"{path.name} was saved in {'fast' if not fast_mode() else 'full'} mode: "
              "training again")
    if path.exists() and not stale:
        params = load_params(path, like)
        info = {k: v for k, v in checkpoint_info(path).items() if k != "history"}
        details = ", ".join(f"{key} {value:.4g}" if isinstance(value, float) else
                            f"{key} {value}" for key, value in info.items())
        print(f"loaded checkpoint {path.name} ({details}); skipping training — delete the "
              "file to train again")
        return params
    if grading():
        raise FileNotFoundError(f"{path.name} is not in the grader's folder: the grader "
                                "does not train your model, it evaluates the file your "
                                "training saved (submit it next to the notebook)")
    start = time.perf_counter()
    result = train()
    params, info = result if isinstance(result, tuple) else (result, {})
    info = {"train_seconds": round(time.perf_counter() - start, 1), "fast_mode": fast_mode(),
            **info}
    save_params(path, params, **info)
    print(f"saved {path.name} after {info['train_seconds']:.0f} s of training; the next run "
          "loads it instead of training")
    return params


# --------------------------------------------------------------------------------------
# The training probe (runs your code; its outputs are judged by the grader, outside it)
# --------------------------------------------------------------------------------------
LossFn = Callable[[Params, np.ndarray, np.ndarray], tuple[float, Params]]


def gradient_errors(loss_and_grads: LossFn, params: Params, x: np.ndarray, y: np.ndarray,
                    seed: int = 0, jitter: float = 0.05,
                    steps: tuple[float, ...] = (1e-5, 1e-6, 1e-7)) -> dict[str, float]:
    """Gradient check of a whole model, one relative error per parameter array.

    For each parameter ``p`` (in sorted name order) a random unit direction ``d`` is drawn;
    the analytic directional derivative ``⟨∂L/∂p, d⟩`` from your backward pass is compared
    with the central difference ``(L(p + h d) - L(p - h d)) / 2h`` of your forward pass.
    Everything is done in float64, on copies.

    ReLU and max pooling have kinks where the gradient is not defined, and a freshly
    initialized network sits exactly on some of them (zero biases on zero inputs give
    pre-activations of exactly 0), and with thousands of units some pre-activation lies
    within ``h`` of 0 surprisingly often. So the check is made at the parameters plus a
    little noise (standard deviation ``jitter``), and each error is the smallest over the
    step sizes ``steps``: a difference that straddles a kink is off for the larger ``h``
    but not for the smaller ones, while a wrong backward pass is off for every ``h``.

    Returns:
        ``{name: |analytic - numeric| / max(|analytic| + |numeric|, 1e-10)}``: about 1e-7
        or less for a correct backward pass; near 1 for a wrong one.
    """
    rng = np.random.default_rng(seed)
    base = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    for name in sorted(base):
        base[name] += jitter * rng.standard_normal(base[name].shape)
    x = np.asarray(x, dtype=np.float64)
    _, grads = loss_and_grads({k: v.copy() for k, v in base.items()}, x, y)

    def loss_at(name: str, shift: np.ndarray) -> float:
        trial = {k: v.copy() for k, v in base.items()}
        trial[name] = base[name] + shift
        return float(loss_and_grads(trial, x, y)[0])

    errors = {}
    for name in sorted(base):
        direction = rng.normal(size=base[name].shape)
        direction /= max(float(np.linalg.norm(direction)), 1e-12)
        analytic = float(np.sum(np.asarray(grads[name], dtype=np.float64) * direction))
        errors[name] = min(
            abs(analytic - numeric) / max(abs(analytic) + abs(numeric), 1e-10)
            for numeric in ((loss_at(name, h * direction) - loss_at(name, -h * direction))
                            / (2 * h) for h in steps))
    return errors


def training_probe(init_params: Callable[[int], Params], loss_and_grads: LossFn,
                   init_state: Callable[[Params], object],
                   train_step: Callable[[Params, object, np.ndarray, np.ndarray, float], float],
                   x: np.ndarray, y: np.ndarray, steps: int = 40, seed: int = 0,
                   lr: float = 1e-3, check_images: int = 4
                   ) -> tuple[np.ndarray, np.ndarray]:
    """What the grader asks of your training code, with your own functions.

    1. ``params = init_params(seed)``; a gradient check (:func:`gradient_errors`) of
       ``loss_and_grads`` on the first ``check_images`` examples;
    2. ``state = init_state(params)``, then ``steps`` calls of
       ``train_step(params, state, x, y, lr)`` on the whole (small) batch, each returning
       the loss before its update.

    Returns:
        ``(losses (steps,), gradient errors (number of parameter arrays,))``, the errors in
        sorted parameter-name order. The grader judges them outside your code: the loss must
        fall, the errors must be small.
    """
    params = init_params(seed)
    errors = gradient_errors(loss_and_grads, params, x[:check_images], y[:check_images],
                             seed=seed)
    state = init_state(params)
    losses = [float(train_step(params, state, x, y, lr)) for _ in range(steps)]
    return np.array(losses, dtype=np.float64), np.array(list(errors.values()), dtype=np.float64)


# --------------------------------------------------------------------------------------
# Scoring (the grader's side: outputs -> a fraction of the points, and a message)
# --------------------------------------------------------------------------------------
def credit_curve(value: float, floor: float, full: float) -> float:
    """Partial credit: 0 at or below ``floor``, rising linearly to 1 at ``full`` and above.

    For a milestone's accuracy this is the documented curve: e.g. ``floor=0.70, full=0.88``
    gives half the points at 0.79 — no cliff at the threshold.
    """
    if not np.isfinite(value):
        return 0.0
    return float(np.clip((value - floor) / (full - floor), 0.0, 1.0))


def accuracy_credit(scores: np.ndarray, labels: np.ndarray, floor: float, full: float,
                    stretch: float | None = None) -> tuple[float, str]:
    """Accuracy of class ``scores (N, C)`` against ``labels (N,)`` → (credit, message)."""
    scores = np.asarray(scores)
    n = len(labels)
    if scores.ndim != 2 or scores.shape[0] != n or not np.issubdtype(scores.dtype, np.number):
        return 0.0, (f"expected class scores of shape ({n}, number of classes) for the {n:,} "
                     f"held-out images, got shape {tuple(scores.shape)}, dtype {scores.dtype}")
    if not np.all(np.isfinite(scores)):
        bad = int(np.sum(~np.isfinite(scores).all(axis=1)))
        return 0.0, (f"{bad} of {n:,} rows of scores hold nan/inf (diverged training, or an "
                     "overflow in the forward pass)")
    accuracy = float(np.mean(scores.argmax(axis=1) == labels))
    credit = credit_curve(accuracy, floor, full)
    message = (f"held-out accuracy {accuracy:.4f} on {n:,} test images: "
               f"{credit:.0%} of the points (0 at ≤ {floor:.2f}, rising linearly to full "
               f"marks at ≥ {full:.2f})")
    if stretch is not None and accuracy >= stretch:
        message += f"; stretch goal ≥ {stretch:.2f} reached"
    return credit, message


#: The probe's criteria: the loss must fall by this share, the gradient check pass this.
PROBE_FALL, PROBE_GRAD_TOL = 0.5, 1e-5


def probe_credit(losses: np.ndarray, errors: np.ndarray, steps: int,
                 names: list[str] | None = None) -> tuple[float, str]:
    """Judge a training probe's outputs → (credit, message).

    Half the credit: the loss falls (``1 - mean(last 5 losses) / first loss``), linearly
    from 0 (no fall) to full at a fall of :data:`PROBE_FALL`. Half: the share of parameter
    arrays whose gradient check error is at most :data:`PROBE_GRAD_TOL`.
    """
    losses = np.asarray(losses, dtype=np.float64).ravel()
    errors = np.asarray(errors, dtype=np.float64).ravel()
    if len(losses) != steps:
        return 0.0, f"expected {steps} losses (one per training step), got {len(losses)}"
    if not np.all(np.isfinite(losses)):
        return 0.0, "the loss became nan/inf during the probe's training steps (diverged)"
    if errors.size == 0:
        return 0.0, "the gradient check returned no parameter errors"
    first, last = float(losses[0]), float(np.mean(losses[-5:]))
    fall = 1 - last / first if first > 0 else 0.0
    loss_part = credit_curve(fall, 0.0, PROBE_FALL)
    ok = np.isfinite(errors) & (errors <= PROBE_GRAD_TOL)
    grad_part = float(np.mean(ok))
    label = lambda i: (names[i] if names and i < len(names)  # noqa: E731
                       else f"parameter array #{i + 1} in sorted name order")
    change = f"a fall of {fall:.0%}" if fall >= 0 else f"it rose {last / first:.3g}-fold"
    lines = [f"loss over {steps} training steps: {first:.4f} → {last:.4g} (mean of the last "
             f"5), {change} (full marks for a fall of {PROBE_FALL:.0%} or more)",
             f"gradient check: {int(ok.sum())}/{errors.size} parameter arrays match a "
             f"numerical derivative of your loss (worst relative error "
             f"{float(np.nanmax(np.where(np.isfinite(errors), errors, np.inf))):.2g}, "
             f"tolerance {PROBE_GRAD_TOL:g})"]
    wrong = [label(i) for i in np.flatnonzero(~ok)]
    if wrong:
        lines.append("wrong gradients for " + ", ".join(wrong[:12])
                     + " — the backward pass of a layer these parameters feed disagrees "
                       "with its forward pass")
    return 0.5 * loss_part + 0.5 * grad_part, "; ".join(lines)


# --------------------------------------------------------------------------------------
# PyTorch modules (weeks 12–13): a state_dict saved as the same plain .npz
# --------------------------------------------------------------------------------------
def module_params(model) -> Params:
    """A ``torch.nn.Module``'s ``state_dict`` as NumPy arrays (parameters *and* buffers, such
    as batch norm's running statistics), for :func:`save_params` / :func:`train_or_load`."""
    return {name: tensor.detach().cpu().numpy().copy()
            for name, tensor in model.state_dict().items()}


def load_module(model, source: str | os.PathLike | Params):
    """Load a checkpoint (a path, or arrays from :func:`train_or_load`) into ``model``.

    The file is read by :func:`load_params` with ``like=module_params(model)``: no pickle,
    and every name or shape that does not match the model is listed. Returns ``model``.
    """
    import torch

    like = module_params(model)
    arrays = source if isinstance(source, dict) else load_params(source, like=like)
    model.load_state_dict({name: torch.from_numpy(np.array(arrays[name], copy=True))
                           for name in like})
    return model


# --------------------------------------------------------------------------------------
# PyTorch checkpoints (weeks 10 and 11): ``torch.save(model.state_dict())``, nothing else
# --------------------------------------------------------------------------------------
#: Suffix of a PyTorch checkpoint; :func:`inspect_checkpoint` checks these with
#: :func:`inspect_torch_checkpoint` instead of as ``.npz``.
TORCH_SUFFIX = ".pt"


def inspect_torch_checkpoint(path: str | os.PathLike,
                             max_bytes: int = MAX_CHECKPOINT_BYTES) -> str | None:
    """What is wrong with a ``torch.save``-d state dict, or ``None`` when it is usable
    (a bare state dict with an optional :data:`META_KEY` string, or ``{"state_dict": ...,
    "info": ...}`` as :mod:`grader.gans` saves the Week 14 generator).

    Trusted side, before any learner code: the zip directory first (size cap, so nothing
    large is decompressed), then ``torch.load(weights_only=True)``, whose unpickler builds
    only tensors and plain containers and refuses every other object; the result must be a
    dict of parameter name -> tensor (plus, optionally, :data:`META_KEY` -> a JSON string).
    """
    path = Path(path)
    name = path.name
    if path.is_symlink() or not path.is_file():
        return f"{name} is not a regular file"
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(m.file_size for m in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return (f"{name} is not a PyTorch checkpoint (save it with "
                "torch.save(model.state_dict(), path) or grader.milestone.save_torch)")
    if total > max_bytes:
        return (f"{name} holds {total / 2**20:.1f} MB; at most {max_bytes / 2**20:.0f} MB "
                "are accepted")
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle refused by weights_only, or a corrupted file
        import pickle

        if isinstance(error, pickle.UnpicklingError):
            return (f"{name} holds pickled Python objects that torch.load(weights_only=True) "
                    "refuses: only tensors are accepted — save model.state_dict(), not the "
                    "model")
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        return (f"{name} could not be loaded with torch.load(weights_only=True): it must hold "
                f"only a state dict of tensors ({type(error).__name__}: {first})")
    if not isinstance(state, dict):
        return f"{name} holds a {type(state).__name__}, not a state dict (name -> tensor)"
    if isinstance(state.get("state_dict"), dict):  # {"state_dict": ..., "info": {...}}
        state = state["state_dict"]
    else:
        state = {key: value for key, value in state.items()
                 if not (key == META_KEY and isinstance(value, str))}
    if not state:
        return f"{name} holds no parameters (an empty state dict)"
    bad = [str(key) for key, value in state.items()
           if not (isinstance(key, str) and isinstance(value, torch.Tensor))]
    if bad:
        return (f"{name} holds entries that are not tensors: {', '.join(bad[:5])} — save "
                "model.state_dict() only")
    return None


def save_torch(path: str | os.PathLike, model, **info) -> Path:
    """``torch.save`` the model's ``state_dict()`` plus JSON-able ``info`` (atomic rename)."""
    import torch

    path = Path(path)
    meta = {"saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **info}
    # detach() keeps shared storage shared: a tied embedding/decoder is saved once
    state = {**{k: v.detach().cpu() for k, v in model.state_dict().items()},
             META_KEY: json.dumps(meta)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.pt")
    torch.save(state, tmp)
    tmp.replace(path)
    return path


def load_torch(path: str | os.PathLike, model) -> dict:
    """Load a checkpoint of :func:`save_torch` (or a bare ``state_dict``) into ``model``.

    The file is checked first (:func:`inspect_torch_checkpoint`), then loaded with
    ``torch.load(weights_only=True)``. Returns the saved ``info`` (``{}`` if none).

    Raises:
        FileNotFoundError: no such file (the message says what to do).
        CheckpointError: not a weights-only state dict, or names/shapes that do not fit.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path.name}: no such checkpoint in {path.parent.resolve()}. Train your model in "
            f"the notebook (its training cell saves {path.name}) and keep the file next to "
            "the notebook: it is submitted with it.")
    problem = inspect_torch_checkpoint(path)
    if problem:
        raise CheckpointError(problem)
    state = torch.load(path, map_location="cpu", weights_only=True)
    meta_text = state.pop(META_KEY, None)
    own = model.state_dict()
    problems = [f"{k}: missing (your model expects shape {tuple(own[k].shape)})"
                for k in sorted(set(own) - set(state))]
    problems += [f"{k}: saved with shape {tuple(state[k].shape)}, but your model has no "
                 "parameter of that name" for k in sorted(set(state) - set(own))]
    problems += [f"{k}: saved with shape {tuple(state[k].shape)}, your model expects "
                 f"{tuple(own[k].shape)}" for k in sorted(set(state) & set(own))
                 if state[k].shape != own[k].shape]
    if problems:
        raise CheckpointError(
            f"{path.name} does not fit your model ({len(problems)} problem(s)):\n  "
            + "\n  ".join(problems)
            + "\nWas it saved from another version of your model? Train again (delete the "
              "file first) so that it matches the model the notebook builds.")
    model.load_state_dict(state)
    try:
        meta = json.loads(meta_text) if meta_text else {}
    except ValueError:
        meta = {}
    return meta if isinstance(meta, dict) else {}


def train_or_load_torch(path: str | os.PathLike, train: Callable[[], dict | None],
                        model) -> dict:
    """:func:`train_or_load` for a PyTorch ``model``: reuse the file at ``path`` or train.

    ``train()`` trains ``model`` in place (leaving in it the weights to keep, e.g. the
    best-validation ones) and returns a dict of ``info`` saved beside the weights (or None).
    Returns the info of the file loaded or saved. The same rules as :func:`train_or_load`:
    a fast-mode file is not reused by a full-size run, and nothing trains in the grader.
    """
    from grader.config import fast_mode

    path = Path(path)
    if path.exists():
        info = load_torch(path, model)
        if grading() or bool(info.get("fast_mode")) == fast_mode():
            shown = {k: v for k, v in info.items() if k != "history"}
            details = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                for k, v in shown.items())
            print(f"loaded checkpoint {path.name} ({details}); skipping training — delete "
                  "the file to train again")
            return info
        print(f"{path.name} was saved in {'fast' if not fast_mode() else 'full'} mode: "
              "training again")
    if grading():
        raise FileNotFoundError(f"{path.name} is not in the grader's folder: the grader "
                                "does not train your model, it evaluates the file your "
                                "training saved (submit it next to the notebook)")
    start = time.perf_counter()
    info = train() or {}
    info = {"train_seconds": round(time.perf_counter() - start, 1), "fast_mode": fast_mode(),
            **info}
    save_torch(path, model, **info)
    print(f"saved {path.name} after {info['train_seconds']:.0f} s of training; the next run "
          "loads it instead of training")
    return info


# --------------------------------------------------------------------------------------
# Predictions must come from the submitted weights (the grader's side)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightsCheck:
    """A milestone whose predictions are also asked of a *scrambled copy* of the checkpoint.

    The grader (outside the sandbox) writes a copy of the learner's checkpoint whose every
    floating-point array has its elements permuted (:func:`scramble_checkpoint`), under the
    name :func:`scrambled_name`, into the job beside the original; in the same sandbox run
    it calls the learner's function on that copy with the first :attr:`rows` held-out
    inputs (:func:`scrambled_case`). A model with shuffled weights predicts at chance; if
    the copy's :attr:`figure` reaches :attr:`bar`, the predictions do not come from the
    weights submitted (a predictor that hard-codes the task) and the milestone scores 0.

    It catches predictions that ignore the file they are given; a learner who deliberately
    detects the copy (by its name or content) is beyond it, as any check run in their code.
    """

    exercise_id: str
    checkpoint: str
    figure: str  # "module:fn", (case, outputs) -> the metric's raw figure (accuracy, …)
    bar: float  # the scrambled copy at or above this: the predictions ignore the weights
    chance: float  # what a model with shuffled weights reaches (for the message)
    what: str  # the figure's name in messages ("accuracy", "exact match")
    rows: int = 500  # held-out inputs scored on the copy (a chance-level figure needs few)
    timeout: float = 60.0  # seconds for that call


#: Milestones graded with a scrambled copy too, by exercise id (filled by grader.checks).
WEIGHTS_CHECKS: dict[str, WeightsCheck] = {}
#: Seed offset of the permutation (the grading run's seed + this).
SCRAMBLE_SEED = 7919


def register_weights_check(check: WeightsCheck) -> None:
    WEIGHTS_CHECKS[check.exercise_id] = check


def scrambled_name(name: str) -> str:
    """``milestone_week13.npz`` -> ``milestone_week13.scrambled.npz``."""
    path = Path(name)
    return f"{path.stem}.scrambled{path.suffix}"


def _permuted(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if not np.issubdtype(array.dtype, np.floating) or array.size < 2:
        return array
    return rng.permutation(array.ravel()).reshape(array.shape)


def scramble_checkpoint(data: bytes, suffix: str, seed: int) -> bytes:
    """The same checkpoint (same format, names, shapes, dtypes) with the elements of every
    floating-point array permuted by ``default_rng(seed)``; integer arrays (batch counters)
    and the saved info are kept. ``suffix``: ``".npz"`` or ``".pt"`` (a state dict)."""
    import io

    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    if suffix == TORCH_SUFFIX:
        import torch

        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        inner = state["state_dict"] if isinstance(state.get("state_dict"), dict) else state
        for key in sorted(inner):
            if isinstance(inner[key], torch.Tensor):
                inner[key] = torch.from_numpy(np.ascontiguousarray(
                    _permuted(inner[key].numpy(), rng)))
        torch.save(state, out)
        return out.getvalue()
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {key: _permuted(archive[key], rng) for key in sorted(archive.files)}
    np.savez(out, **arrays)
    return out.getvalue()


def scrambled_files(exercise_ids, files: dict[str, bytes], seed: int) -> dict[str, bytes]:
    """The scrambled copies a job's files need for its exercises (trusted side, before the
    sandbox starts): one per :data:`WEIGHTS_CHECKS` checkpoint present and readable."""
    import tempfile

    copies: dict[str, bytes] = {}
    for exercise_id in exercise_ids:
        check = WEIGHTS_CHECKS.get(exercise_id)
        if check is None or check.checkpoint not in files:
            continue
        with tempfile.TemporaryDirectory() as folder:  # inspected as a file, as when graded
            path = Path(folder) / check.checkpoint
            path.write_bytes(files[check.checkpoint])
            if inspect_checkpoint(path):
                continue  # refused anyway: the milestone scores 0 with that message
        copies[scrambled_name(check.checkpoint)] = scramble_checkpoint(
            files[check.checkpoint], Path(check.checkpoint).suffix, seed + SCRAMBLE_SEED)
    return copies


def scrambled_case(check: WeightsCheck, case):
    """``case`` on the scrambled copy: the checkpoint argument renamed, the first
    :attr:`WeightsCheck.rows` rows of every array argument and of the target."""
    from dataclasses import replace

    cut = lambda v: v[:check.rows] if isinstance(v, np.ndarray) else v  # noqa: E731
    args = tuple(scrambled_name(a) if isinstance(a, str) and a == check.checkpoint else cut(a)
                 for a in case.args)
    return replace(case, name=f"{case.name}, on a scrambled copy of {check.checkpoint}",
                   args=args, target=cut(case.target))


def accuracy_figure(case, outputs) -> float:
    """Accuracy of class scores ``outputs[0] (N, C)`` against ``case.target (N,)``."""
    scores = np.asarray(outputs[0])
    return float(np.mean(scores.argmax(axis=1) == case.target))


def weights_ignored(check: WeightsCheck, case, outputs, function: str = "milestone_predict"
                    ) -> str | None:
    """The message that zeroes the milestone when the scrambled copy's figure reaches the
    bar, or None (the predictions depend on the weights)."""
    from grader.check import _import_attribute

    try:
        figure = float(_import_attribute(check.figure)(case, outputs))
    except Exception:  # outputs the metric cannot read: nothing to conclude
        return None
    if not figure >= check.bar:
        return None
    return (f"your predictions do not depend on the trained weights you submitted: on a "
            f"copy of {check.checkpoint} whose every weight array the grader shuffled "
            f"({scrambled_name(check.checkpoint)}), your {function} "
            f"still reached {check.what} {figure:.3f} on {len(case.target):,} held-out "
            f"inputs, where a model with shuffled weights is at chance (about "
            f"{check.chance:.2f}; the bar is {check.bar:.2f}). The points are for what your "
            f"trained model predicts: build the model, load the file at the path you are "
            f"given, and predict with that model, nothing else")
