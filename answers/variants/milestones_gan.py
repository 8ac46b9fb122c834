"""Week 14 milestone alternatives (must reach full marks) and mutants (must fail the bar or
the probe), as whole solution cells of ``solutions/week14-gans/milestone.ipynb`` with one
plausible change each (see :mod:`answers.variants.milestones`; a replacement that no longer
applies raises). ``tests/test_milestones_gan.py`` grades notebooks built from them with the
reference checkpoint ``answers/milestones/milestone_week14.pt``; the demo class hands some in.
"""

from __future__ import annotations

from pathlib import Path

from answers.variants import Variant, cell_variant
from answers.variants import solution_cell as _solution_cell

NOTEBOOK = Path(__file__).resolve().parents[2] / "solutions" / "week14-gans" / "milestone.ipynb"


def solution_cell(exercise_id: str) -> str:
    """``exercise_id``'s reference solution cell (:func:`answers.variants.solution_cell`)."""
    return _solution_cell(NOTEBOOK, exercise_id)


def _variant(exercise_id: str, label: str, *replacements: tuple[str, str]) -> Variant:
    return cell_variant(NOTEBOOK, exercise_id, label, *replacements)


_PENALTY = ("    return lam * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()",)
_G_LOSS = ("    loss = -critic(generator(z)).mean()",)
_C_LOSS = ("    loss = penalty - estimate",)


def _build() -> tuple[list[Variant], list[Variant]]:
    m, p = "w14_milestone", "w14_milestone_probe"
    alternatives = [
        _variant(m, "penalty with torch.lerp and a summed-square norm",
                 ("    mixed = (alpha.view(shape) * real + (1 - alpha.view(shape)) * fake)"
                  ".detach()",
                  "    mixed = torch.lerp(fake, real, alpha.view(shape)).detach()"),
                 (_PENALTY[0], "    norms = grad.pow(2).flatten(1).sum(dim=1).sqrt()\n"
                               "    return lam * (norms - 1).pow(2).mean()")),
        _variant(p, "critic loss written as mean f(fake) - mean f(real) + GP; negated "
                    "generator score",
                 (_C_LOSS[0], "    loss = critic(fake).mean() - critic(real).mean() + penalty"),
                 (_G_LOSS[0], "    loss = critic(generator(z)).mean().neg()")),
    ]
    mutants = [
        _variant(m, "generator without its tanh (pixels outside [-1, 1])",
                 ("            nn.ConvTranspose2d(channels, 1, 4, 2, 1), nn.Tanh())",
                  "            nn.ConvTranspose2d(channels, 1, 4, 2, 1))")),
        _variant(m, "make_generator builds the MLP generator (the file is the DCGAN's)",
                 ("    return DCGANGenerator(z_dim=Z_DIM, channels=32)",
                  "    return MLPGenerator(z_dim=Z_DIM)")),
        _variant(m, "penalty on the squared gradient norm",
                 (_PENALTY[0], "    return lam * ((grad.flatten(1).pow(2).sum(dim=1) - 1) ** 2)"
                               ".mean()")),
        _variant(m, "penalty on the norm of the whole batch's gradient",
                 (_PENALTY[0], "    return lam * (grad.norm() - 1) ** 2")),
        _variant(p, "generator loss with the wrong sign",
                 (_G_LOSS[0], "    loss = critic(generator(z)).mean()")),
        _variant(p, "critic loss with the wrong sign of the estimate",
                 (_C_LOSS[0], "    loss = penalty + estimate")),
        _variant(p, "penalty subtracted instead of added",
                 (_C_LOSS[0], "    loss = -penalty - estimate")),
    ]
    return alternatives, mutants


ALTERNATIVES, MUTANTS = _build()
