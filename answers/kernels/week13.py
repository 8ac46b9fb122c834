"""Week 13 reference kernels: teacher forcing, additive attention and beam search.

The graded functions are pure functions of tensors (``framework="torch"``). Below them, the
reference encoder–decoder (with and without attention), greedy and beam-search decoding, and
the synthetic reversal task that ``bench/bench_week13.py`` trains on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

# The synthetic task (reverse a sequence of digits), greedy decoding and the exact-match
# metric are course library code.
from grader.seq2seq import (  # noqa: F401  (re-exported for bench/ and tests/)
    BOS, EOS, N_DIGITS, PAD, VOCAB, exact_match, greedy_decode, reversal_batch)


# --------------------------------------------------------------------------------------
# Graded kernels
# --------------------------------------------------------------------------------------
def teacher_forcing_batch(sequences: torch.Tensor, lengths: torch.Tensor, bos_id: int,
                          eos_id: int, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoder inputs and targets for teacher forcing, from padded target sequences.

    Row ``n`` holds ``L = lengths[n]`` tokens ``s_0 … s_{L-1}``; entries at positions ``≥ L``
    are padding and their values must be ignored. The decoder reads the *previous* true
    token and predicts the next one::

        inputs[n]  = [BOS, s_0, …, s_{L-1}, PAD, …, PAD]
        targets[n] = [s_0, …, s_{L-1}, EOS, PAD, …, PAD]

    Args:
        sequences: ``(N, T)`` integer tokens.
        lengths: ``(N,)`` integers in ``[0, T]``.
        bos_id, eos_id, pad_id: the special tokens.

    Returns:
        ``(inputs, targets)``, each ``(N, T + 1)`` int64.
    """
    n, t = sequences.shape
    positions = torch.arange(t + 1)
    body = torch.cat([sequences.long(), torch.full((n, 1), pad_id)], dim=1)
    inside = positions[None, :] < lengths[:, None]
    targets = torch.where(inside, body, torch.full_like(body, pad_id))
    targets[positions[None, :] == lengths[:, None]] = eos_id
    inputs = torch.cat([torch.full((n, 1), bos_id), body[:, :-1]], dim=1)
    inputs = torch.where(positions[None, :] <= lengths[:, None], inputs,
                         torch.full_like(inputs, pad_id))
    return inputs, targets


def additive_attention(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                       W_q: torch.Tensor, W_k: torch.Tensor, v: torch.Tensor,
                       mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Additive (Bahdanau) attention of one query per example over ``T`` positions.

    ``score[n, t] = v · tanh(query[n] @ W_q + keys[n, t] @ W_k)``; positions where
    ``mask`` is false get no weight; ``weights = softmax(score)`` over ``t``; the context is
    the weighted sum of the values.

    Args:
        query: ``(N, H_q)``, e.g. the decoder's previous state.
        keys: ``(N, T, H_k)``, e.g. the encoder's outputs.
        values: ``(N, T, D)``, often the same tensor as ``keys``.
        W_q: ``(H_q, A)``; W_k: ``(H_k, A)``; v: ``(A,)``.
        mask: ``(N, T)`` bool, true at real (non-padding) positions; at least one per row.

    Returns:
        ``(context (N, D), weights (N, T))``; each row of ``weights`` sums to 1 and is 0
        where ``mask`` is false.
    """
    return attend(query @ W_q, keys @ W_k, values, v, mask)


def attend(projected_query: torch.Tensor, projected_keys: torch.Tensor, values: torch.Tensor,
           v: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`additive_attention` after the projections: ``(N, A)`` query, ``(N, T, A)`` keys.

    A decoder calls attention once per output step with the same keys, so it projects
    the keys once per source sequence and calls this directly.
    """
    hidden = torch.tanh(projected_query[:, None, :] + projected_keys)  # (N, T, A)
    scores = (hidden @ v).masked_fill(~mask.bool(), float("-inf"))  # (N, T)
    weights = torch.softmax(scores, dim=1)
    context = (weights[:, :, None] * values).sum(dim=1)  # (N, D)
    return context, weights


def beam_search_step(log_probs: torch.Tensor, beam_scores: torch.Tensor, beam_size: int
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step of beam search: keep the ``beam_size`` best one-token extensions.

    A hypothesis' score is the sum of its tokens' log-probabilities, so extending beam ``b``
    with token ``w`` scores ``beam_scores[b] + log_probs[b, w]``. All ``B × V`` extensions
    compete together (a beam may contribute several survivors, or none).

    Args:
        log_probs: ``(B, V)`` next-token log-probabilities of each beam.
        beam_scores: ``(B,)`` scores of the beams so far (``-inf`` marks an unused beam,
            e.g. beams 1… at the first step, when all beams are the same start token).
        beam_size: ``k ≤ B × V``, how many extensions to keep.

    Returns:
        ``(scores (k,), parents (k,), tokens (k,))`` sorted by decreasing score;
        ``parents`` (beam index) and ``tokens`` are int64.
    """
    vocab = log_probs.shape[1]
    candidates = (beam_scores[:, None] + log_probs).flatten()
    scores, flat_index = candidates.topk(int(beam_size))
    return scores, flat_index // vocab, flat_index % vocab


def attention_backward(dcontext: torch.Tensor, weights: torch.Tensor, values: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Backward pass of attention's softmax-weighted sum, from the context back to the scores.

    Forward: ``weights = softmax(scores)`` over the valid positions of each row (masked
    positions have weight exactly 0) and ``context[n] = Σ_t weights[n, t] values[n, t]``.

    Args:
        dcontext: ``(N, D)`` upstream gradient ∂L/∂context.
        weights: ``(N, T)`` the forward pass's attention weights (rows sum to 1).
        values: ``(N, T, D)``.

    Returns:
        ``(dscores (N, T), dvalues (N, T, D))``; both are 0 at masked positions.
    """
    dweights = torch.einsum("ntd,nd->nt", values, dcontext)  # (N, T)
    expected = (weights * dweights).sum(dim=1, keepdim=True)  # (N, 1)
    dscores = weights * (dweights - expected)
    dvalues = weights[:, :, None] * dcontext[:, None, :]
    return dscores, dvalues


def attention_decoder_step(tokens: torch.Tensor, state: torch.Tensor,
                           enc_outputs: torch.Tensor, mask: torch.Tensor,
                           embedding: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor,
                           v: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor,
                           b_ih: torch.Tensor, b_hh: torch.Tensor, W_out: torch.Tensor,
                           b_out: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step of the attention decoder (Bahdanau et al., 2015), as the lecture's model runs it.

    1. the *previous* state queries the encoder outputs (keys and values) with
       :func:`additive_attention` under ``mask``;
    2. the GRU cell reads ``[embedding[tokens], context]`` (in that order) and the previous
       state (``torch.gru_cell``, PyTorch's weight layout);
    3. the output layer reads ``[new_state, context]``: ``logits = [..] @ W_out + b_out``.

    Args:
        tokens: ``(N,)`` int64 previous tokens; state: ``(N, H)``.
        enc_outputs: ``(N, T, H)``; mask: ``(N, T)`` bool, true at real positions.
        embedding: ``(V, E)``; W_q: ``(H, A)``; W_k: ``(H, A)``; v: ``(A,)``.
        W_ih: ``(3H, E + H)``; W_hh: ``(3H, H)``; b_ih, b_hh: ``(3H,)``.
        W_out: ``(2H, V)``; b_out: ``(V,)``.

    Returns:
        ``(logits (N, V), new_state (N, H), weights (N, T))``.
    """
    context, weights = additive_attention(state, enc_outputs, enc_outputs, W_q, W_k, v, mask)
    cell_input = torch.cat([embedding[tokens], context], dim=1)
    new_state = torch.gru_cell(cell_input, state, W_ih, W_hh, b_ih, b_hh)
    logits = torch.cat([new_state, context], dim=1) @ W_out + b_out
    return logits, new_state, weights


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Teacher-forced training loss: mean cross-entropy per *real* target token.

    ``-(1 / #{targets != pad_id}) Σ_{n,t: targets[n,t] != pad_id} log softmax(logits[n, t])
    [targets[n, t]]``: every real token counts once, wherever it sits and however long its
    sequence; padding positions count for nothing (whatever their logits). At least one
    target is not padding.

    Args:
        logits: ``(N, T, V)``; targets: ``(N, T)`` int64; pad_id: the padding token (an
        id of the vocabulary).

    Returns:
        A scalar.
    """
    log_probs = torch.log_softmax(logits, dim=-1)
    picked = log_probs.gather(-1, targets[..., None].clamp(min=0))[..., 0]  # (N, T)
    real = targets != pad_id
    return -(picked * real).sum() / real.sum()


# --------------------------------------------------------------------------------------
# Reference model
# --------------------------------------------------------------------------------------
class Encoder(nn.Module):
    """Embedding + GRU over the padded source; returns all outputs and the final state."""

    def __init__(self, vocab: int, embed: int, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed, padding_idx=PAD)
        self.rnn = nn.GRU(embed, hidden, batch_first=True)

    def forward(self, source: torch.Tensor, lengths: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(source), lengths.clamp(min=1),
                                                   batch_first=True, enforce_sorted=False)
        outputs, final = self.rnn(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True,
                                                      total_length=source.shape[1])
        return outputs, final[0]  # (N, T, H), (N, H)


class Seq2Seq(nn.Module):
    """GRU encoder–decoder, with or without additive attention.

    Without attention the decoder only sees the encoder's final state (a fixed-size
    bottleneck). With attention, at each step the previous decoder state queries all
    encoder outputs (:func:`additive_attention`) and the context joins the decoder's input
    and its output layer (Bahdanau et al., 2015).
    """

    def __init__(self, vocab: int = VOCAB, embed: int = 32, hidden: int = 128,
                 attention: bool = True, attention_dim: int = 64):
        super().__init__()
        self.attention = attention
        self.encoder = Encoder(vocab, embed, hidden)
        self.embed = nn.Embedding(vocab, embed, padding_idx=PAD)
        context = hidden if attention else 0
        self.cell = nn.GRUCell(embed + context, hidden)
        self.out = nn.Linear(hidden + context, vocab)
        if attention:
            scale = 1 / math.sqrt(hidden)
            self.W_q = nn.Parameter(torch.randn(hidden, attention_dim) * scale)
            self.W_k = nn.Parameter(torch.randn(hidden, attention_dim) * scale)
            self.v = nn.Parameter(torch.randn(attention_dim) / math.sqrt(attention_dim))

    def encode(self, source: torch.Tensor, lengths: torch.Tensor) -> dict:
        outputs, final = self.encoder(source, lengths)
        mask = torch.arange(source.shape[1])[None, :] < lengths.clamp(min=1)[:, None]
        memory = {"outputs": outputs, "mask": mask, "state": final}
        if self.attention:  # the keys' projection is the same at every decoder step
            memory["keys"] = outputs @ self.W_k
        return memory

    def step(self, tokens: torch.Tensor, state: torch.Tensor, memory: dict
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """One decoder step: ``(logits (N, V), new state (N, H), attention weights or None)``."""
        x = self.embed(tokens)
        if not self.attention:
            state = self.cell(x, state)
            return self.out(state), state, None
        context, weights = attend(state @ self.W_q, memory["keys"], memory["outputs"], self.v,
                                  memory["mask"])
        state = self.cell(torch.cat([x, context], dim=1), state)
        return self.out(torch.cat([state, context], dim=1)), state, weights

    def forward(self, source, lengths, decoder_inputs) -> torch.Tensor:
        """Teacher-forced logits ``(N, T_out, V)`` for ``decoder_inputs (N, T_out)``."""
        memory = self.encode(source, lengths)
        state, logits = memory["state"], []
        for t in range(decoder_inputs.shape[1]):
            step_logits, state, _ = self.step(decoder_inputs[:, t], state, memory)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)


@torch.no_grad()
def beam_decode(model: Seq2Seq, source: torch.Tensor, length: int, beam_size: int,
                max_steps: int) -> list[int]:
    """Beam search for one source sequence ``(T,)``; the best finished hypothesis' tokens.

    Hypotheses that emit ``EOS`` are set aside; the search stops when the best finished
    score beats every live beam (scores only fall as tokens are added) or after
    ``max_steps``.
    """
    model.eval()
    memory = model.encode(source[None], torch.tensor([length]))
    state = memory["state"]
    beam_scores = torch.tensor([0.0])
    beams: list[list[int]] = [[]]
    tokens = torch.tensor([BOS])
    finished: list[tuple[float, list[int]]] = []
    for _ in range(max_steps):
        expanded = {key: value.expand(len(beams), *value.shape[1:])
                    for key, value in memory.items() if key != "state"}
        logits, state, _ = model.step(tokens, state, expanded)
        scores, parents, next_tokens = beam_search_step(
            torch.log_softmax(logits, dim=1), beam_scores, min(beam_size, logits.numel()))
        keep = []
        for score, parent, token in zip(scores.tolist(), parents.tolist(), next_tokens.tolist()):
            if token == EOS:
                finished.append((score, beams[parent]))
            else:
                keep.append((score, parent, token))
        best_done = max((s for s, _ in finished), default=float("-inf"))
        if not keep or best_done >= keep[0][0]:
            break
        beams = [beams[p] + [t] for _, p, t in keep]
        beam_scores = torch.tensor([s for s, _, _ in keep])
        state = state[torch.tensor([p for _, p, _ in keep])]
        tokens = torch.tensor([t for _, _, t in keep])
    if not finished:  # no hypothesis ended: return the best live one
        return beams[0]
    return max(finished, key=lambda item: item[0])[1]


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Task and training budget (the same for the model with and without attention)."""

    min_len: int = 1
    max_len: int = 20
    steps: int = 2500
    batch_size: int = 64
    lr: float = 3e-3
    clip_norm: float = 1.0
    hidden: int = 128
    embed: int = 32


def train_seq2seq(model: Seq2Seq, config: Seq2SeqConfig, seed: int = 0,
                  progress: bool = True, desc: str = "train") -> dict:
    """Teacher-forced training on freshly generated reversal batches; returns the history."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
    losses = []
    start = time.monotonic()
    model.train()
    bar = tqdm(range(config.steps), desc=desc, disable=not progress)
    for _ in bar:
        source, lengths, target = reversal_batch(config.batch_size, config.min_len,
                                                 config.max_len, generator)
        inputs, targets = teacher_forcing_batch(target, lengths, BOS, EOS, PAD)
        logits = model(source, lengths, inputs)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{loss.item():.3f}")
    return {"losses": losses, "seconds": time.monotonic() - start}


def accuracy_by_length(model: Seq2Seq, lengths: list[int], n: int, seed: int = 123
                       ) -> dict[int, float]:
    """Greedy exact-match accuracy on ``n`` fresh sequences of each exact length."""
    generator = torch.Generator().manual_seed(seed)
    result = {}
    for length in lengths:
        source, lens, target = reversal_batch(n, length, length, generator)
        predicted, _ = greedy_decode(model, source, lens, length + 1)
        result[length] = exact_match(predicted, target, lens).float().mean().item()
    return result
