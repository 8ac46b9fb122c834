"""Week 13 course library: the synthetic reversal task (course infrastructure, not an exercise).

The lecture, the reference kernels (``answers/kernels/week13.py``, for ``bench/`` and
``tests/``) and the benchmark all train and evaluate on the same data: random digit
sequences of random length, padded, and their reversals. Tokens: ``PAD, BOS, EOS = 0, 1, 2``
and the digits ``0 … 9`` as tokens ``3 … 12``.
"""

from __future__ import annotations

import torch

PAD, BOS, EOS = 0, 1, 2
N_DIGITS = 10
VOCAB = 3 + N_DIGITS  # digits are tokens 3 … 12


def reversal_batch(batch_size: int, min_len: int, max_len: int, generator: torch.Generator
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random digit sequences and their reversals, generated on the fly.

    Lengths are uniform in ``[min_len, max_len]``; row ``n`` holds ``lengths[n]`` random
    digits followed by ``PAD``, and its target the same digits in reverse order
    (``target[n, i] = source[n, L - 1 - i]`` for ``i < L``), also padded.

    Returns:
        ``(source (N, max_len), lengths (N,), target (N, max_len))``, int64.
    """
    lengths = torch.randint(min_len, max_len + 1, (batch_size,), generator=generator)
    digits = torch.randint(3, VOCAB, (batch_size, max_len), generator=generator)
    positions = torch.arange(max_len)
    inside = positions[None, :] < lengths[:, None]
    source = torch.where(inside, digits, PAD)
    reversed_index = (lengths[:, None] - 1 - positions[None, :]).clamp(min=0)
    target = torch.where(inside, source.gather(1, reversed_index), PAD)
    return source, lengths, target


def show(tokens: torch.Tensor) -> str:
    """A row of tokens as text: digits, ``·`` for PAD, ``^`` for BOS, ``$`` for EOS."""
    return "".join("·" if t == PAD else "^" if t == BOS else "$" if t == EOS else str(t - 3)
                   for t in tokens.tolist())
