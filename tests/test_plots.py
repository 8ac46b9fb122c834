"""Tests of grader.plots: figures have the expected panels and titles, and render with Agg."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from grader import plots

matplotlib.use("Agg")  # the tests' choice; grader.plots itself never picks a backend


def rendered(fig: Figure) -> Figure:
    """Draw the figure to PNG bytes, as a notebook would, so drawing errors surface."""
    fig.savefig(io.BytesIO(), format="png")
    return fig


def titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


@pytest.mark.parametrize("shape", [(10, 1, 8, 8), (10, 8, 8)], ids=["N1HW", "NHW"])
def test_image_grid_gray(shape):
    images = np.random.default_rng(0).random(shape, dtype=np.float32)
    labels = np.arange(10) % 3
    fig = rendered(plots.image_grid(images, labels, ncols=4, title="digits"))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 10  # the two unused cells of the 3x4 grid are removed
    assert titles(fig) == [str(label) for label in labels]
    assert fig.axes[0].images[0].get_array().shape == (8, 8)
    assert fig.get_suptitle() == "digits"


def test_image_grid_rgb_with_class_names():
    images = np.random.default_rng(0).integers(0, 256, size=(5, 3, 32, 32), dtype=np.uint8)
    fig = rendered(plots.image_grid(images, [0, 1, 2, 1, 0], class_names=["cat", "dog", "owl"]))
    assert len(fig.axes) == 5  # ncols=8 shrinks to one row of five
    assert titles(fig) == ["cat", "dog", "owl", "dog", "cat"]
    assert fig.axes[0].images[0].get_array().shape == (32, 32, 3)


def test_image_grid_rescales_rgb_outside_unit_range():
    standardized = np.random.default_rng(0).normal(size=(2, 3, 4, 4))
    fig = rendered(plots.image_grid(standardized))
    shown = fig.axes[0].images[0].get_array()
    assert shown.min() >= 0 and shown.max() <= 1
    assert titles(fig) == ["", ""]  # no labels, no titles


@pytest.mark.parametrize("images, labels, problem", [
    (np.zeros((2, 2, 8, 8)), None, "image"),       # two channels: neither gray nor RGB
    (np.zeros((8, 8)), None, "shape"),             # a single image, not a batch
    (np.zeros((0, 1, 8, 8)), None, "shape"),       # nothing to show
    (np.zeros((3, 8, 8)), [0, 1], "labels"),       # one label missing
])
def test_image_grid_rejects_bad_input(images, labels, problem):
    with pytest.raises(ValueError, match=problem):
        plots.image_grid(images, labels)


def test_learning_curves_one_panel_per_metric():
    history = {"train_loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
               "train_acc": [0.5, 0.7, 0.8], "val_acc": [0.45, 0.6, 0.7], "lr": [0.1] * 3}
    fig = rendered(plots.learning_curves(history, title="run 1"))
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "acc", "lr"]
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend == ["train_loss", "val_loss"]
    x, y = fig.axes[0].lines[1].get_data()
    assert list(x) == [1, 2, 3] and list(y) == [1.1, 0.8, 0.7]
    assert fig.get_suptitle() == "run 1"


def test_learning_curves_rejects_empty_history():
    with pytest.raises(ValueError, match="empty"):
        plots.learning_curves({})
