"""Week 13 course library: the synthetic reversal task (course infrastructure, not an exercise).

The lecture, the reference kernels (``answers/kernels/week13.py``, for ``bench/`` and
``tests/``) and the benchmark all train and evaluate on the same data: random digit
sequences of random length, padded, and their reversals. Tokens: ``PAD, BOS, EOS = 0, 1, 2``
and the digits ``0 … 9`` as tokens ``3 … 12``. :func:`greedy_decode` and :func:`exact_match`
decode and score any of the course's encoder–decoders on it.
"""

from __future__ import annotations

import torch
from torch import nn

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


@torch.no_grad()
def greedy_decode(model: nn.Module, source: torch.Tensor, lengths: torch.Tensor, max_steps: int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Feed back the arg-max token each step; ``(tokens (N, max_steps), weights (N, S, T))``.

    ``model`` has the interface of the course's encoder–decoders: ``encode(source, lengths)``
    returns a dict with the decoder's initial ``"state"`` (and whatever else its ``step``
    reads), and ``step(tokens, state, memory)`` returns ``(logits, state, weights or None)``.

    Tokens after a sequence's first ``EOS`` are set to ``PAD``; weights are empty without
    attention.
    """
    model.eval()
    memory = model.encode(source, lengths)
    state = memory["state"]
    tokens = torch.full((len(source),), BOS)
    out, attn = [], []
    for _ in range(max_steps):
        logits, state, weights = model.step(tokens, state, memory)
        tokens = logits.argmax(dim=1)
        out.append(tokens)
        if weights is not None:
            attn.append(weights)
    out = torch.stack(out, dim=1)
    ended = torch.cumsum(out == EOS, dim=1) - (out == EOS).long() > 0  # strictly after EOS
    out = out.masked_fill(ended, PAD)
    weights = torch.stack(attn, dim=1) if attn else torch.empty(0)
    return out, weights


def exact_match(predicted: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor
                ) -> torch.Tensor:
    """Per sequence: the first ``L`` tokens equal the target and token ``L`` is ``EOS``."""
    n, t = target.shape
    width = max(t + 1, predicted.shape[1])
    pred = torch.full((n, width), PAD)
    pred[:, :predicted.shape[1]] = predicted
    positions = torch.arange(width)
    want = torch.full((n, width), PAD)
    want[:, :t] = target
    want[positions[None, :] == lengths[:, None]] = EOS
    relevant = positions[None, :] <= lengths[:, None]
    return ((pred == want) | ~relevant).all(dim=1)
