"""Reference checkpoints of the milestones: what the solution notebooks saved.

``milestone_week05.npz`` and ``milestone_week07.npz`` are the files the solution notebooks
(``solutions/week05-optimization/milestone.ipynb``, ``solutions/week07-cnn/milestone.ipynb``)
saved when run full size as a learner would; ``python -m bench milestones`` reruns them and
replaces these files (its rows in ``bench/results/milestones.json`` record the figures). The
demo class hands them in with the reference solution, and ``tests/test_milestones.py``
grades notebooks against them. They are answers: a learner who copies one still has to pass
the training probe with their own code.

``milestone_week12.npz`` and ``milestone_week13.npz`` (PyTorch ``state_dict``s saved as the same
plain ``.npz``) are the same for the Week 12 and 13 milestones, saved by ``python -m bench
milestones_late`` (``bench/results/milestones_late.json``).

``milestone_week10.pt``, ``milestone_week11.pt`` and ``milestone_week14.pt`` are the same for
Weeks 10, 11 and 14 (``python -m bench milestones_torch``, ``python -m bench milestones_gan``;
Week 11's full-size run is long: ``python -m bench.bench_milestones_torch run 11`` in the
background, then ``MILESTONES_TORCH_REUSE=1 python -m bench milestones_torch``).

``capstone_runs.npz`` is the same for the Week 15 capstone: the six runs (baseline and
method, 3 seeds) of the solution notebook's dropout track and its ``REPORT``, saved by
``python -m bench capstone`` (``bench/results/capstone.json``).
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def reference_checkpoint(name: str) -> Path:
    """``"milestone_week07.npz"`` -> the reference run's file (``FileNotFoundError`` if absent)."""
    path = FOLDER / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `python -m bench milestones` to "
                                "train the reference models and save their checkpoints")
    return path
