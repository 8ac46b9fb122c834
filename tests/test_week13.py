"""Week 13: reference kernels against independent oracles (brute force, NumPy/SciPy)
and the seq2seq helpers (task, decoding, exact match)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax

from answers.kernels import week13 as k
from answers.variants.week13 import HIDDEN_ONLY_MUTANTS



# Oracles ---------------------------------------------------------------------------------
@pytest.mark.w13_teacher_forcing_batch
@given(st.integers(1, 5), st.integers(1, 6), st.data())
@settings(deadline=None)
def test_teacher_forcing_matches_list_construction(n, t, data):
    lengths = np.array(data.draw(st.lists(st.integers(0, t), min_size=n, max_size=n)))
    sequences = np.array(data.draw(st.lists(st.lists(st.integers(3, 20), min_size=t, max_size=t),
                                            min_size=n, max_size=n)))
    inputs, targets = k.teacher_forcing_batch(torch.from_numpy(sequences),
                                              torch.from_numpy(lengths), 1, 2, 0)
    for row in range(n):
        body = sequences[row, :lengths[row]].tolist()
        padding = [0] * (t - lengths[row])
        assert inputs[row].tolist() == [1] + body + padding
        assert targets[row].tolist() == body + [2] + padding
    assert inputs.dtype == targets.dtype == torch.int64


def numpy_additive_attention(query, keys, values, W_q, W_k, v, mask):
    """A second implementation: NumPy, einsum, SciPy's softmax on masked scores."""
    hidden = np.tanh(np.einsum("nh,ha->na", query, W_q)[:, None, :]
                     + np.einsum("nth,ha->nta", keys, W_k))
    scores = np.where(mask, np.einsum("nta,a->nt", hidden, v), -np.inf)
    weights = softmax(scores, axis=1)
    return np.einsum("nt,ntd->nd", weights, values), weights


@pytest.mark.w13_additive_attention
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5), st.integers(1, 5),
       st.integers(0, 2**31 - 1), st.floats(0.1, 100.0))
@settings(max_examples=50, deadline=None)
def test_attention_matches_numpy(n, t, h, a, seed, scale):
    rng = np.random.default_rng(seed)
    args = [rng.normal(size=(n, h)), rng.normal(size=(n, t, h)), rng.normal(size=(n, t, 3)),
            rng.normal(size=(h, a)), rng.normal(size=(h, a)), scale * rng.normal(size=a)]
    mask = np.arange(t)[None, :] < rng.integers(1, t + 1, size=n)[:, None]
    context, weights = k.additive_attention(*map(torch.from_numpy, args), torch.from_numpy(mask))
    expected_context, expected_weights = numpy_additive_attention(*args, mask)
    np.testing.assert_allclose(weights.numpy(), expected_weights, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(context.numpy(), expected_context, rtol=1e-10, atol=1e-12)
    assert np.all(weights.numpy()[~mask] == 0)


@pytest.mark.w13_additive_attention
def test_attention_is_differentiable_and_ignores_padded_values():
    g = torch.Generator().manual_seed(0)
    rand = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True)  # noqa
    query, keys, values = rand(2, 3), rand(2, 4, 3), rand(2, 4, 2)
    W_q, W_k, v = rand(3, 5), rand(3, 5), rand(5)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    assert torch.autograd.gradcheck(
        lambda *xs: k.additive_attention(*xs, mask), (query, keys, values, W_q, W_k, v))
    context, _ = k.additive_attention(query, keys, values, W_q, W_k, v, mask)
    context.sum().backward()
    assert torch.all(values.grad[0, 2:] == 0) and torch.all(keys.grad[0, 2:] == 0)


@pytest.mark.w13_beam_search_step
@given(st.integers(1, 4), st.integers(1, 6), st.integers(0, 2**31 - 1), st.data())
@settings(deadline=None)
def test_beam_step_matches_brute_force(b, v, seed, data):
    k_keep = data.draw(st.integers(1, b * v))
    rng = np.random.default_rng(seed)
    log_probs, beam_scores = rng.normal(size=(b, v)), rng.normal(size=b)
    candidates = sorted(((beam_scores[i] + log_probs[i, w], i, w)
                         for i, w in itertools.product(range(b), range(v))), reverse=True)
    scores, parents, tokens = k.beam_search_step(torch.from_numpy(log_probs),
                                                 torch.from_numpy(beam_scores), k_keep)
    expected = candidates[:k_keep]
    np.testing.assert_allclose(scores.numpy(), [c[0] for c in expected], rtol=1e-12)
    assert parents.tolist() == [c[1] for c in expected]
    assert tokens.tolist() == [c[2] for c in expected]


# The task, decoding and scoring ----------------------------------------------------------
def test_reversal_batch_reverses_within_each_length():
    source, lengths, target = k.reversal_batch(50, 1, 9, torch.Generator().manual_seed(0))
    for row in range(50):
        n = int(lengths[row])
        assert target[row, :n].tolist() == source[row, :n].flip(0).tolist()
        assert torch.all(source[row, n:] == k.PAD) and torch.all(target[row, n:] == k.PAD)
        assert torch.all(source[row, :n] >= 3)


def test_exact_match_needs_every_token_and_the_end_of_sequence():
    target = torch.tensor([[5, 6, 0], [7, 8, 9]])
    lengths = torch.tensor([2, 3])
    good = torch.tensor([[5, 6, k.EOS, 0], [7, 8, 9, k.EOS]])
    assert k.exact_match(good, target, lengths).tolist() == [True, True]
    no_eos = torch.tensor([[5, 6, 4, 0], [7, 8, 9, 9]])
    assert k.exact_match(no_eos, target, lengths).tolist() == [False, False]
    wrong = torch.tensor([[5, 5, k.EOS, 0], [7, 8, 9, k.EOS]])
    assert k.exact_match(wrong, target, lengths).tolist() == [False, True]


@pytest.mark.parametrize("attention", [True, False])
def test_beam_of_one_is_greedy_and_teacher_forcing_shapes(attention):
    torch.manual_seed(0)
    model = k.Seq2Seq(attention=attention, hidden=16, embed=8, attention_dim=8)
    source, lengths, target = k.reversal_batch(6, 1, 5, torch.Generator().manual_seed(1))
    inputs, _ = k.teacher_forcing_batch(target, lengths, k.BOS, k.EOS, k.PAD)
    assert model(source, lengths, inputs).shape == (6, 6, k.VOCAB)
    greedy, weights = k.greedy_decode(model, source, lengths, 6)
    if attention:
        assert weights.shape == (6, 6, 5)
        torch.testing.assert_close(weights.sum(-1), torch.ones(6, 6))
    for row in range(6):
        beam = k.beam_decode(model, source[row], int(lengths[row]), beam_size=1, max_steps=6)
        tokens = greedy[row].tolist()
        expected = tokens[:tokens.index(k.EOS)] if k.EOS in tokens else tokens
        assert beam == expected


def test_a_short_training_run_lowers_the_loss():
    torch.manual_seed(0)
    model = k.Seq2Seq(hidden=32, embed=16, attention_dim=16)
    history = k.train_seq2seq(model, k.Seq2SeqConfig(max_len=4, steps=60, batch_size=32),
                              progress=False)
    assert np.mean(history["losses"][-10:]) < 0.7 * np.mean(history["losses"][:10])


# New kernels against autograd, nn.GRUCell and SciPy ----------------------------------------
@pytest.mark.w13_attention_backward
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**31 - 1))
@settings(max_examples=40, deadline=None)
def test_attention_backward_matches_autograd(n, t, d, seed):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, t + 1, (n,), generator=g)
    mask = torch.arange(t)[None, :] < lengths[:, None]
    scores = torch.randn(n, t, generator=g, dtype=torch.float64, requires_grad=True)
    values = torch.randn(n, t, d, generator=g, dtype=torch.float64, requires_grad=True)
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
    context = torch.einsum("nt,ntd->nd", weights, values)
    dcontext = torch.randn(n, d, generator=g, dtype=torch.float64)
    context.backward(dcontext)
    dscores, dvalues = k.attention_backward(dcontext, weights.detach(), values.detach())
    torch.testing.assert_close(dscores, scores.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(dvalues, values.grad, rtol=1e-10, atol=1e-12)
    assert torch.all(dscores[~mask] == 0)


@pytest.mark.w13_attention_decoder_step
def test_decoder_step_matches_nn_modules():
    """Oracle: nn.Embedding, nn.GRUCell and nn.Linear with the same weights, and the NumPy
    attention above."""
    from grader.checks.week13 import _decoder_step_args

    args = _decoder_step_args(np.random.default_rng(3), 4, 5, 7, 3, 6, 4, np.array([5, 2, 1, 4]))
    (tokens, state, enc, mask, emb, W_q, W_k, v, W_ih, W_hh, b_ih, b_hh, W_out, b_out) = args
    context, weights = numpy_additive_attention(state, enc, enc, W_q, W_k, v, mask)
    cell = torch.nn.GRUCell(emb.shape[1] + 6, 6).double()
    out = torch.nn.Linear(12, 7).double()
    with torch.no_grad():
        for p, w in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh,
                         out.weight, out.bias), (W_ih, W_hh, b_ih, b_hh, W_out.T, b_out)):
            p.copy_(torch.from_numpy(np.ascontiguousarray(w)))
        x = torch.from_numpy(np.concatenate([emb[tokens], context], axis=1))
        new_state = cell(x, torch.from_numpy(state))
        logits = out(torch.cat([new_state, torch.from_numpy(context)], dim=1))
    got = k.attention_decoder_step(*(torch.from_numpy(np.asarray(a)) for a in args))
    np.testing.assert_allclose(got[0].numpy(), logits.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[1].numpy(), new_state.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[2].numpy(), weights, rtol=1e-10, atol=1e-12)


@pytest.mark.w13_sequence_loss
@given(st.integers(1, 4), st.integers(1, 6), st.integers(2, 6), st.integers(0, 2**31 - 1),
       st.floats(0.1, 1000.0))
@settings(max_examples=40, deadline=None)
def test_sequence_loss_matches_scipy(n, t, vocab, seed, scale):
    from scipy.special import log_softmax

    rng = np.random.default_rng(seed)
    pad = int(rng.integers(0, vocab))
    targets = rng.integers(0, vocab, size=(n, t))
    targets[0, 0] = (pad + 1) % vocab  # at least one real token
    logits = scale * rng.normal(size=(n, t, vocab))
    nll = [-log_softmax(logits[i, j])[targets[i, j]]
           for i in range(n) for j in range(t) if targets[i, j] != pad]
    got = k.sequence_loss(torch.from_numpy(logits), torch.from_numpy(targets), pad)
    np.testing.assert_allclose(got.item(), np.mean(nll), rtol=1e-10)


@pytest.mark.w13_beam_search_step
def test_beam_step_keeps_scores_in_log_space():
    log_probs = torch.log(torch.tensor([[0.5, 0.3, 0.2]], dtype=torch.float64))
    scores, _, _ = k.beam_search_step(log_probs, torch.tensor([-2000.0], dtype=torch.float64), 2)
    np.testing.assert_allclose(scores.numpy(), -2000 + np.log([0.5, 0.3]), rtol=1e-12)


@pytest.mark.parametrize("variant", [pytest.param(v, marks=getattr(pytest.mark, v.exercise_id),
                                                  id=f"{v.exercise_id}-{v.label}")
                                     for v in HIDDEN_ONLY_MUTANTS])
def test_hidden_only_mutants_pass_public_and_fail_hidden(variant):
    """The hidden cases add information: these mistakes pass the public check."""
    from grader.check import evaluate, get_exercise

    function = variant.load(get_exercise(variant.exercise_id).function)
    with np.errstate(all="ignore"):
        assert evaluate(variant.exercise_id, function).passed
        for seed in (1, 2, 3, 4, 5):
            assert not evaluate(variant.exercise_id, function, hidden=True, seed=seed).passed
