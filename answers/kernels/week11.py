"""Week 11 reference kernels: the pieces of an LSTM language model on Penn Treebank.

Graded pure functions: :func:`batchify`, :func:`get_batch`, :func:`perplexity`,
:func:`sample_next_word_probs`, :func:`kneser_ney_bigram_probs`, :func:`plateau_schedule`
(NumPy), :func:`tied_lstm_lm_logits` and :func:`tied_lm_sgd_step` (PyTorch). The models the
lecture and the benchmarks train (:class:`LSTMLanguageModel`, :class:`KneserNeyLM`,
:class:`FeedForwardLM` and their loops) are course library code in :mod:`grader.lm`,
re-exported here for the benchmarks and tests.

Batching follows the usual layout for language models: the token stream is cut into
``batch_size`` contiguous columns, so row ``t`` of every column continues row ``t - 1``
and the LSTM state can be carried from one BPTT window to the next.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from answers.kernels.week10 import lstm_cell
from grader.lm import (  # noqa: F401  (the course library's models, for bench/ and tests/)
    FeedForwardLM, KneserNeyLM, LMConfig, LM_CONFIGS, LSTMLanguageModel, build_language_model,
    context_windows, detach_state, evaluate, evaluate_stream, feedforward_batches,
    feedforward_perplexity, generate, lm_checkpoint_path, train_epoch, train_feedforward_lm,
    train_language_model)

# --------------------------------------------------------------------------------------
# Batching: a stream of ids -> (T, B) columns -> BPTT windows
# --------------------------------------------------------------------------------------

def batchify(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Cut a token stream into ``batch_size`` contiguous columns.

    The tail that does not fill a whole row is dropped.

    Args:
        ids: ``(N,)`` integer token ids.
        batch_size: number of columns ``B``.

    Returns:
        ``(N // B, B)`` array whose column ``j`` is ``ids[j * T:(j + 1) * T]`` with
        ``T = N // B``: reading down a column reads the text in order.
    """
    rows = len(ids) // batch_size
    return ids[:rows * batch_size].reshape(batch_size, rows).T


def get_batch(source: np.ndarray, i: int, bptt: int) -> tuple[np.ndarray, np.ndarray]:
    """The BPTT window starting at row ``i`` and its targets (the same window shifted by one).

    Args:
        source: ``(T, B)`` batchified ids.
        i: first row of the window.
        bptt: window length; the last window of a source is shorter.

    Returns:
        ``(inputs (L, B), targets (L, B))`` with ``L = min(bptt, T - 1 - i)`` and
        ``targets[t] = source[i + t + 1]``: every input row predicts the next row.
    """
    length = min(bptt, len(source) - 1 - i)
    return source[i:i + length], source[i + 1:i + 1 + length]


# --------------------------------------------------------------------------------------
# Perplexity and sampling
# --------------------------------------------------------------------------------------

def perplexity(logits: np.ndarray, targets: np.ndarray) -> float:
    """``exp`` of the mean negative log-likelihood of ``targets`` under ``softmax(logits)``.

    Args:
        logits: ``(..., V)`` unnormalized next-word scores (e.g. ``(L, B, V)``).
        targets: integer ids of shape ``logits.shape[:-1]``.

    Returns:
        The perplexity, a float ``>= 1``: a model that spreads its probability uniformly
        over ``k`` words has perplexity ``k``.
    """
    flat = logits.reshape(-1, logits.shape[-1])
    m = flat.max(axis=1, keepdims=True)
    log_probs = flat - m - np.log(np.exp(flat - m).sum(axis=1, keepdims=True))
    nll = -log_probs[np.arange(len(flat)), targets.reshape(-1)].mean()
    return float(np.exp(nll))


def sample_next_word_probs(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Next-word distribution used for sampling: ``softmax(logits / temperature)``.

    Temperature below 1 sharpens the distribution (safer, more repetitive text), above 1
    flattens it (more surprising, more errors); as it goes to 0 sampling becomes arg-max.

    Args:
        logits: ``(V,)`` or ``(B, V)`` scores.
        temperature: a positive float.

    Returns:
        Probabilities of the same shape, summing to one over the last axis.
    """
    scaled = logits / temperature
    e = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------------------
# The same model as a pure function of its weights (graded)
# --------------------------------------------------------------------------------------

def tied_lstm_lm_logits(ids: torch.Tensor, embedding: torch.Tensor, Wx: torch.Tensor,
                        Wh: torch.Tensor, b: torch.Tensor, decoder_bias: torch.Tensor
                        ) -> torch.Tensor:
    """A one-layer LSTM language model with tied weights, from its weights (no dropout).

    ``embedding`` is used twice: to look the input words up, and (transposed) as the decoder,
    so the score of word ``w`` is the dot product of the hidden state with ``w``'s embedding.

    Args:
        ids: ``(L, B)`` word ids (time first, as :func:`get_batch` returns them).
        embedding: ``(V, H)``; Wx: ``(H, 4H)``; Wh: ``(H, 4H)``; b: ``(4H,)`` (gates
            i, f, g, o as in Week 9); decoder_bias: ``(V,)``.

    Returns:
        ``(L, B, V)`` next-word scores; the state starts at zero.
    """
    batch, hidden = ids.shape[1], embedding.shape[1]
    h = c = embedding.new_zeros(batch, hidden)
    outputs = []
    for x in embedding[ids]:  # (B, H) per step
        h, c = lstm_cell(x, h, c, Wx, Wh, b)
        outputs.append(h)
    return torch.stack(outputs) @ embedding.T + decoder_bias


def tied_lm_sgd_step(inputs: torch.Tensor, targets: torch.Tensor, embedding: torch.Tensor,
                     Wx: torch.Tensor, Wh: torch.Tensor, b: torch.Tensor,
                     decoder_bias: torch.Tensor, lr: float, max_norm: float
                     ) -> tuple[torch.Tensor, ...]:
    """One training step of :func:`tied_lstm_lm_logits` on one BPTT window.

    Mean cross-entropy over all ``L × B`` targets → gradients by autograd (the tied
    ``embedding`` collects gradient from both the look-up and the decoder) → clip the
    *global* norm of all gradients together to ``max_norm`` (``clip_grad_norm_``) → SGD.

    Args:
        inputs, targets: ``(L, B)`` ids from :func:`get_batch`; the weights as in
            :func:`tied_lstm_lm_logits`; lr: learning rate; max_norm: clipping threshold.

    Returns:
        ``(loss, embedding, Wx, Wh, b, decoder_bias)``: the loss before the step and the
        updated weights.
    """
    params = [t.detach().clone().requires_grad_(True)
              for t in (embedding, Wx, Wh, b, decoder_bias)]
    logits = tied_lstm_lm_logits(inputs, *params)
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    loss.backward()
    nn.utils.clip_grad_norm_(params, max_norm)
    with torch.no_grad():
        return (loss.detach(), *(p - lr * p.grad for p in params))


# --------------------------------------------------------------------------------------
# Baseline 1: n-gram counts smoothed by interpolated Kneser–Ney
# --------------------------------------------------------------------------------------

def kneser_ney_bigram_probs(counts: np.ndarray, discount: float = 0.75) -> np.ndarray:
    """Interpolated Kneser–Ney bigram probabilities ``P(w | v)`` from a table of counts.

    ``P(w | v) = max(c(v, w) - d, 0) / c(v) + λ(v) · P_cont(w)`` where

    * ``λ(v) = d · N1+(v •) / c(v)`` hands the mass removed by the discount (``d`` for each
      distinct follower of ``v``) to the lower order, so each row still sums to one;
    * ``P_cont(w) = N1+(• w) / N1+(• •)``, the *continuation* probability, counts how many
      distinct words ``w`` follows, not how often it occurs: "Francisco" is frequent but
      follows almost only "San", so it is a poor guess after an unseen context.

    A context never seen (``c(v) = 0``) gets ``P_cont`` itself.

    Args:
        counts: ``(V, V)`` non-negative, ``counts[v, w]`` = occurrences of ``v`` followed by
            ``w``; at least one bigram.
        discount: ``d`` in ``(0, 1]``.

    Returns:
        ``(V, V)``: row ``v`` is the distribution of the next word after ``v``.
    """
    seen = counts > 0
    continuation = seen.sum(axis=0) / seen.sum()          # P_cont(w), (V,)
    context_totals = counts.sum(axis=1, keepdims=True)    # c(v), (V, 1)
    followers = seen.sum(axis=1, keepdims=True)           # N1+(v •), (V, 1)
    safe_totals = np.maximum(context_totals, 1)
    weight = np.where(context_totals > 0, discount * followers / safe_totals, 1.0)
    return np.maximum(counts - discount, 0) / safe_totals + weight * continuation




# --------------------------------------------------------------------------------------
# The learning-rate schedule of the reference run (graded)
# --------------------------------------------------------------------------------------

def plateau_schedule(valid_ppl: np.ndarray, lr: float, factor: float, threshold: float,
                     patience: int) -> np.ndarray:
    """The learning rate of every epoch under "divide by ``factor`` on a plateau".

    Epoch 1 trains at ``lr``. After each epoch, its validation perplexity ``v`` *improves*
    when it is at least ``threshold`` (relative) below ``best``, the lowest validation
    perplexity of all earlier epochs (infinite before the first): ``v <= best * (1 -
    threshold)``, a tie at exactly the threshold counting as an improvement. Relative, and
    against the best so far, not against the previous epoch. Non-improving epochs are counted; when
    the count exceeds ``patience`` the rate is divided by ``factor`` for the next epoch and
    the count restarts from 0. An improving epoch also resets the count. (``patience = 0``
    is the rule of :func:`grader.lm.train_language_model`.)

    Args:
        valid_ppl: ``(E,)`` validation perplexity after each epoch.
        lr: the first epoch's learning rate; factor: divisor (> 1);
        threshold: relative improvement that counts (e.g. 0.01); patience: int >= 0.

    Returns:
        ``(E,)`` float array: the learning rate each epoch trained with.
    """
    rates = np.empty(len(valid_ppl))
    best, bad = np.inf, 0
    for epoch, valid in enumerate(np.asarray(valid_ppl, dtype=float)):
        rates[epoch] = lr
        if valid <= best * (1 - threshold):
            bad = 0
        else:
            bad += 1
            if bad > patience:
                lr /= factor
                bad = 0
        best = min(best, valid)
    return rates
