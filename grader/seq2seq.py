"""Week 13 course library: the synthetic reversal task (course infrastructure, not an exercise).

The lecture, the reference kernels (``answers/kernels/week13.py``, for ``bench/`` and
``tests/``) and the benchmark all train and evaluate on the same data: random digit
sequences of random length, padded, and their reversals. Tokens: ``PAD, BOS, EOS = 0, 1, 2``
and the digits ``0 … 9`` as tokens ``3 … 12``. :func:`greedy_decode` and :func:`exact_match`
decode and score any of the course's encoder–decoders on it, and
:class:`AttentionSeq2Seq` is an encoder–decoder whose attention function is an argument (the
lecture passes PyTorch's attention; you can pass your own).
"""

from __future__ import annotations

from collections.abc import Callable

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


# --------------------------------------------------------------------------------------
# An encoder–decoder whose attention is an argument
# --------------------------------------------------------------------------------------
#: ``attention(query (N, H), keys (N, T, H), values (N, T, H), mask (N, T) bool)`` returns
#: ``(context (N, H), weights (N, T))``: rows of ``weights`` sum to 1 over the ``True``
#: positions of ``mask`` and are 0 elsewhere.
Attention = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
                     tuple[torch.Tensor, torch.Tensor]]


class GRUEncoder(nn.Module):
    """Token embedding and a GRU over padded sources, stopping at each row's true length.

    ``forward(source (N, T), lengths (N,))`` returns ``(outputs (N, T, H), final (N, H))``;
    outputs past a row's length are 0 (``pack_padded_sequence``), and a length of 0 is read as
    1 (one ``PAD`` token) so that every row has a final state.
    """

    def __init__(self, vocab: int, embed: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed, padding_idx=PAD)  # (V, E), PAD's row stays 0
        self.rnn = nn.GRU(embed, hidden, batch_first=True)

    def forward(self, source: torch.Tensor, lengths: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        steps = source.shape[1]
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embed(source), lengths.clamp(min=1).cpu(), batch_first=True,
            enforce_sorted=False)
        packed_outputs, last = self.rnn(packed)
        outputs = nn.utils.rnn.pad_packed_sequence(packed_outputs, batch_first=True,
                                                   total_length=steps)[0]
        return outputs, last.squeeze(0)


def source_mask(source: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``(N, T)`` bool, true at the real positions of each row (at least one per row)."""
    return torch.arange(source.shape[1])[None, :] < lengths.clamp(min=1)[:, None]


class AttentionSeq2Seq(nn.Module):
    """A GRU encoder–decoder whose attention is passed in (the course library's model).

    The decoder is a GRU cell run one step at a time. At each step the *previous* decoder
    state queries the encoder outputs (keys and values) with ``attention``; the cell reads
    ``[embedding of the previous token, context]`` and the output layer ``[new state,
    context]``. With ``attention=None`` the decoder sees the input only through the encoder's
    final state (the fixed-size bottleneck).

    ``attention`` is any function with the :data:`Attention` signature: PyTorch's own
    attention wrapped in a small module, your additive attention of the Week 13 assignment
    (wrapped in an ``nn.Module`` that holds ``W_q``, ``W_k`` and ``v``), or another week's.
    When it is an ``nn.Module`` its parameters are the model's (``model.attend``) and train
    with it.

    The interface (``encode``, ``step``) is the one :func:`greedy_decode` reads.
    """

    def __init__(self, attention: Attention | nn.Module | None, vocab: int = VOCAB,
                 embed: int = 32, hidden: int = 128):
        super().__init__()
        self.encoder = GRUEncoder(vocab, embed, hidden)
        self.embed = nn.Embedding(vocab, embed, padding_idx=PAD)
        width = 0 if attention is None else hidden
        self.cell = nn.GRUCell(embed + width, hidden)
        self.out = nn.Linear(hidden + width, vocab)
        self.attend = attention  # an nn.Module is registered as a submodule

    @property
    def attention(self) -> bool:
        return self.attend is not None

    def encode(self, source: torch.Tensor, lengths: torch.Tensor) -> dict:
        """``{"outputs": (N, T, H), "mask": (N, T), "state": (N, H)}`` for :meth:`step`."""
        outputs, final = self.encoder(source, lengths)
        return {"outputs": outputs, "mask": source_mask(source, lengths), "state": final}

    def step(self, tokens: torch.Tensor, state: torch.Tensor, memory: dict
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(logits (N, V), new state (N, H), attention weights (N, T) or None)``."""
        embedded = self.embed(tokens)
        if self.attend is None:
            state = self.cell(embedded, state)
            return self.out(state), state, None
        context, weights = self.attend(state, memory["outputs"], memory["outputs"],
                                       memory["mask"])
        state = self.cell(torch.cat([embedded, context], dim=1), state)
        return self.out(torch.cat([state, context], dim=1)), state, weights

    def forward(self, source: torch.Tensor, lengths: torch.Tensor,
                decoder_inputs: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits ``(N, T_out, V)`` for ``decoder_inputs (N, T_out)``."""
        memory = self.encode(source, lengths)
        state, steps = memory["state"], []
        for tokens in decoder_inputs.unbind(dim=1):
            logits, state, _ = self.step(tokens, state, memory)
            steps.append(logits)
        return torch.stack(steps, dim=1)
