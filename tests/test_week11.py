"""Week 11: language-model kernels against PyTorch and hand-worked oracles."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import lm as course_lm
from grader.data import PTB, Vocab
from answers.kernels import week11 as k
from tests.strategies import lm_logits_and_targets, token_streams


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a busy machine waiting threads cost."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# Batching ------------------------------------------------------------------------------
@pytest.mark.w11_batchify
@given(token_streams())
@settings(deadline=None)  # a shared machine makes single examples slow
def test_batchify_matches_the_pytorch_example(data):
    ids, batch_size = data
    # word_language_model/main.py: data.narrow(0, 0, nbatch * bsz).view(bsz, -1).t()
    t = torch.from_numpy(ids)
    rows = t.size(0) // batch_size
    expected = t.narrow(0, 0, rows * batch_size).view(batch_size, -1).t().numpy()
    np.testing.assert_array_equal(k.batchify(ids, batch_size), expected)


@pytest.mark.w11_get_batch
@given(token_streams(), st.integers(1, 12))
@settings(deadline=None)  # a shared machine makes single examples slow
def test_windows_tile_the_source_and_targets_are_shifted(data, bptt):
    ids, batch_size = data
    source = k.batchify(ids, batch_size)
    if len(source) < 2:
        return
    windows = [k.get_batch(source, i, bptt) for i in range(0, len(source) - 1, bptt)]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in windows]), source[:-1])
    np.testing.assert_array_equal(np.concatenate([y for _, y in windows]), source[1:])
    assert all(len(x) <= bptt for x, _ in windows)


# Perplexity and sampling ---------------------------------------------------------------
@pytest.mark.w11_perplexity
@given(lm_logits_and_targets())
@settings(deadline=None)  # a shared machine makes single examples slow
def test_perplexity_is_exp_of_torch_cross_entropy(data):
    logits, targets = data
    loss = torch.nn.functional.cross_entropy(torch.from_numpy(logits).reshape(-1, logits.shape[-1]),
                                             torch.from_numpy(targets).reshape(-1))
    assert k.perplexity(logits, targets) == pytest.approx(math.exp(loss.item()), rel=1e-9)


@pytest.mark.w11_perplexity
def test_uniform_model_has_perplexity_vocab_size():
    assert k.perplexity(np.zeros((5, 3, 11)), np.zeros((5, 3), dtype=int)) == pytest.approx(11)


@pytest.mark.w11_sample_probs
@given(lm_logits_and_targets(), st.floats(0.05, 5.0))
@settings(deadline=None)  # a shared machine makes single examples slow
def test_sampling_probs_match_torch_softmax(data, temperature):
    logits, _ = data
    expected = torch.softmax(torch.from_numpy(logits) / temperature, dim=-1).numpy()
    np.testing.assert_allclose(k.sample_next_word_probs(logits, temperature), expected,
                               rtol=1e-10, atol=1e-300)


# Kneser–Ney ----------------------------------------------------------------------------
def _textbook_kneser_ney(text: list[str], d: float) -> dict[tuple[str, str], float]:
    """Jurafsky & Martin (3rd ed., eq. 3.40), written with dictionaries over a word list."""
    bigrams = list(itertools.pairwise(text))
    vocab = sorted(set(text))
    count = {bg: bigrams.count(bg) for bg in set(bigrams)}
    distinct = set(bigrams)
    probs = {}
    for v in vocab:
        c_v = sum(c for (a, _), c in count.items() if a == v)
        for w in vocab:
            p_cont = sum(1 for (_, b) in distinct if b == w) / len(distinct)
            if c_v == 0:
                probs[v, w] = p_cont
                continue
            lam = d / c_v * sum(1 for (a, _) in distinct if a == v)
            probs[v, w] = max(count.get((v, w), 0) - d, 0) / c_v + lam * p_cont
    return probs


@pytest.mark.w11_kneser_ney
@pytest.mark.parametrize("d", [0.5, 0.75, 1.0])
def test_kneser_ney_matches_the_textbook_formula(d):
    text = "san francisco is in california and san diego is too . i am in san jose".split()  # noqa: SIM905
    vocab = sorted(set(text)) + ["unseen"]
    index = {w: i for i, w in enumerate(vocab)}
    counts = np.zeros((len(vocab), len(vocab)))
    for a, b in itertools.pairwise(text):
        counts[index[a], index[b]] += 1
    got = k.kneser_ney_bigram_probs(counts, d)
    expected = _textbook_kneser_ney(text, d)
    for (v, w), p in expected.items():
        assert got[index[v], index[w]] == pytest.approx(p, rel=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-12)
    # "francisco" follows only "san": a small continuation probability despite its count.
    assert got[index["unseen"], index["francisco"]] < got[index["unseen"], index["is"]]


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_kneser_ney_lm_is_a_distribution(order):
    rng = np.random.default_rng(order)
    ids = rng.zipf(1.5, size=3000) % 40
    lm = k.KneserNeyLM(order, 40).fit(ids)
    for history in [(), tuple(ids[:4].tolist()), (39, 38, 37, 36), (int(ids[10]),)]:
        total = sum(lm.prob(history, w) for w in range(40))
        assert total == pytest.approx(1.0, rel=1e-10)


def test_kneser_ney_lm_with_one_discount_is_the_bigram_formula():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 12, size=400)
    # No discount on the unigrams: they are then exactly the continuation probabilities.
    lm = k.KneserNeyLM(2, 12, discounts=[(0.0, 0.0, 0.0), (0.75, 0.75, 0.75)]).fit(ids)
    counts = np.zeros((12, 12))
    np.add.at(counts, (ids[:-1], ids[1:]), 1)
    expected = k.kneser_ney_bigram_probs(counts, 0.75)
    for v in range(12):
        np.testing.assert_allclose([lm.prob((v,), w) for w in range(12)], expected[v],
                                   rtol=1e-12)


# The tied LSTM language model ----------------------------------------------------------
@pytest.mark.w11_tied_lm
@given(st.integers(1, 6), st.integers(1, 4), st.integers(2, 9), st.integers(1, 5),
       st.integers(0, 2**16))
@settings(max_examples=30, deadline=None)
def test_tied_lm_matches_torch_lstm(steps, batch, vocab, hidden, seed):
    rng = np.random.default_rng(seed)
    ids = torch.from_numpy(rng.integers(0, vocab, size=(steps, batch)))
    emb, Wx, Wh, b, bias = (torch.from_numpy(rng.normal(size=s)) for s in
                            [(vocab, hidden), (hidden, 4 * hidden), (hidden, 4 * hidden),
                             (4 * hidden,), (vocab,)])
    lstm = torch.nn.LSTM(hidden, hidden).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(Wx.T)
        lstm.weight_hh_l0.copy_(Wh.T)
        lstm.bias_ih_l0.copy_(b)
        lstm.bias_hh_l0.zero_()
        out, _ = lstm(torch.nn.functional.embedding(ids, emb))
        expected = torch.nn.functional.linear(out, emb, bias)
    got = k.tied_lstm_lm_logits(ids, emb, Wx, Wh, b, bias)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.w11_sgd_step
@pytest.mark.parametrize("max_norm", [0.05, 1e3])
def test_sgd_step_matches_the_module_and_torch_optim(max_norm):
    rng = np.random.default_rng(0)
    vocab, hidden = 9, 4
    ids = torch.from_numpy(rng.integers(0, vocab, size=(6, 3)))
    weights = [torch.from_numpy(rng.normal(size=s)) for s in
               [(vocab, hidden), (hidden, 4 * hidden), (hidden, 4 * hidden), (4 * hidden,),
                (vocab,)]]
    model = k.LSTMLanguageModel(vocab, hidden, hidden, num_layers=1, dropout=0.0).double()
    with torch.no_grad():
        model.embedding.weight.copy_(weights[0])
        model.lstm.weight_ih_l0.copy_(weights[1].T)
        model.lstm.weight_hh_l0.copy_(weights[2].T)
        model.lstm.bias_ih_l0.copy_(weights[3])
        model.lstm.bias_hh_l0.zero_()
        model.decoder.bias.copy_(weights[4])
    # The functional version has one LSTM bias; freeze the module's second one (zero).
    model.lstm.bias_hh_l0.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(trainable, lr=0.7)
    logits, _ = model(ids[:-1])
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), ids[1:].reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainable, max_norm)
    optimizer.step()
    got = k.tied_lm_sgd_step(ids[:-1], ids[1:], *weights, 0.7, max_norm)
    torch.testing.assert_close(got[0], loss.detach())
    expected = [model.embedding.weight, model.lstm.weight_ih_l0.T, model.lstm.weight_hh_l0.T,
                model.lstm.bias_ih_l0 + model.lstm.bias_hh_l0, model.decoder.bias]
    for mine, theirs in zip(got[1:], expected):
        torch.testing.assert_close(mine, theirs.detach(), rtol=1e-9, atol=1e-12)


def test_tied_model_shares_one_matrix_and_has_the_expected_size():
    tied = k.LSTMLanguageModel(100, 16, 16, num_layers=2, dropout=0.0, tie_weights=True)
    untied = k.LSTMLanguageModel(100, 16, 16, num_layers=2, dropout=0.0, tie_weights=False)
    assert tied.decoder.weight.data_ptr() == tied.embedding.weight.data_ptr()
    lstm = 2 * (4 * 16 * (16 + 16) + 2 * 4 * 16)
    assert sum(p.numel() for p in tied.parameters()) == 100 * 16 + lstm + 100
    assert sum(p.numel() for p in untied.parameters()) == 2 * 100 * 16 + lstm + 100
    logits, (h, c) = tied(torch.zeros(7, 3, dtype=torch.long))
    assert logits.shape == (7, 3, 100) and h.shape == c.shape == (2, 3, 16)
    with pytest.raises(ValueError, match="embedding_size == hidden_size"):
        k.LSTMLanguageModel(100, 8, 16, tie_weights=True)


def test_evaluate_agrees_with_the_graded_perplexity():
    torch.manual_seed(0)
    model = k.LSTMLanguageModel(30, 8, 8, num_layers=1, dropout=0.5)
    source = k.batchify(np.random.default_rng(0).integers(0, 30, size=200), 4)
    model.eval()
    with torch.no_grad():  # one window covering everything: no state carried between calls
        logits, _ = model(torch.from_numpy(source[:-1]))
    expected = k.perplexity(logits.double().numpy(), source[1:])
    assert k.evaluate(model, source, bptt=len(source)) == pytest.approx(expected, rel=1e-5)
    # Carrying the state across windows gives the same answer as one long window.
    assert k.evaluate(model, source, bptt=7) == pytest.approx(expected, rel=1e-5)


def test_a_short_training_run_beats_the_unigram_level():
    rng = np.random.default_rng(0)
    # A text with structure an LSTM can learn: a repeated phrase with noise between.
    phrase = [1, 2, 3, 4, 5, 6, 7, 8]
    ids = np.concatenate([phrase + list(rng.integers(9, 20, size=2)) for _ in range(300)])
    torch.manual_seed(0)
    model = k.LSTMLanguageModel(20, 16, 16, num_layers=1, dropout=0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
    source = k.batchify(ids, 10)
    before = k.evaluate(model, source)
    for _ in range(8):
        k.train_epoch(model, source, optimizer, bptt=10, clip_norm=0.5)
    after = k.evaluate(model, source)
    assert before > 15 and after < 3


def _synthetic_ptb(rng: np.random.Generator) -> PTB:
    phrase = [1, 2, 3, 4, 5, 6]
    stream = lambda n: np.concatenate(
        [phrase + list(rng.integers(7, 12, size=2)) for _ in range(n)]).astype(np.int64)
    itos = ["<eos>"] + [f"w{i}" for i in range(1, 12)]
    return PTB(stream(150), stream(30), stream(30), Vocab(itos, {w: i for i, w in enumerate(itos)}))


def test_training_run_checkpoints_resumes_and_respects_its_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(course_lm, "data_dir", lambda: tmp_path)
    ptb = _synthetic_ptb(np.random.default_rng(0))
    config = k.LMConfig(name="test", embedding_size=8, hidden_size=8, num_layers=1,
                        dropout=0.0, lr=5.0, batch_size=4, eval_batch_size=2, bptt=10,
                        epochs=2, threads=1)
    first = k.train_language_model(config, ptb, log=lambda line: None)
    assert [h["epoch"] for h in first["history"]] == [1, 2]
    assert first["valid_ppl"] < 11  # better than uniform over the 11 words that occur
    assert (tmp_path / "checkpoints" / "ptb_test.pt").exists()
    resumed = k.train_language_model(dataclasses.replace(config, epochs=3), ptb, resume=True,
                                     log=lambda line: None)
    assert len(resumed["history"]) == 3
    assert resumed["history"][:2] == first["history"]
    lrs = [h["lr"] for h in resumed["history"]]
    assert all(later in (earlier, earlier / 4) for earlier, later in itertools.pairwise(lrs))
    lines = []  # the time already spent counts against the budget of a resumed run
    over_budget = dataclasses.replace(config, epochs=9, budget_min=1e-6)
    stopped = k.train_language_model(over_budget, ptb, resume=True, log=lines.append)
    assert len(stopped["history"]) == 3
    assert any(line.startswith("stopping before epoch 4") for line in lines)


def _tiny_config(**changes) -> k.LMConfig:
    config = k.LMConfig(name="test", embedding_size=8, hidden_size=8, num_layers=1, dropout=0.3,
                        lr=5.0, batch_size=4, eval_batch_size=2, bptt=10, epochs=4, threads=1)
    return dataclasses.replace(config, **changes)


def _without_timings(history: list[dict]) -> list[dict]:
    return [{key: value for key, value in epoch.items() if key not in ("seconds", "elapsed_min")}
            for epoch in history]


def test_an_interrupted_run_resumes_exactly_as_if_never_stopped(tmp_path, monkeypatch):
    """Dropout masks and the running weight average survive a restart: same figures."""
    monkeypatch.setattr(course_lm, "data_dir", lambda: tmp_path / "unbroken")
    ptb = _synthetic_ptb(np.random.default_rng(0))
    config = _tiny_config(average_last=2)
    unbroken = k.train_language_model(config, ptb, log=lambda line: None)

    class Interrupt(Exception):
        pass

    def stop_after_epoch_3(line: str) -> None:
        if line.startswith("epoch   3"):  # inside the averaged epochs, after the checkpoint
            raise Interrupt

    monkeypatch.setattr(course_lm, "data_dir", lambda: tmp_path / "broken")
    with pytest.raises(Interrupt):
        k.train_language_model(config, ptb, log=stop_after_epoch_3)
    resumed = k.train_language_model(config, ptb, resume=True, log=lambda line: None)
    assert _without_timings(resumed["history"]) == _without_timings(unbroken["history"])
    assert resumed["test_ppl"] == unbroken["test_ppl"]


def test_the_last_epochs_score_the_mean_of_the_weights_after_every_step(tmp_path, monkeypatch):
    """average_last=N: mean over every SGD step of the last N epochs, learning rate held."""
    monkeypatch.setattr(course_lm, "data_dir", lambda: tmp_path)
    snapshots: list[list[torch.Tensor]] = []
    real_train_epoch = k.train_epoch

    def recording_train_epoch(model, *args, on_window, **kwargs):
        def record(*window):
            snapshots.append([p.detach().clone() for p in model.parameters()])
            on_window(*window)
        return real_train_epoch(model, *args, on_window=record, **kwargs)

    monkeypatch.setattr(course_lm, "train_epoch", recording_train_epoch)
    ptb = _synthetic_ptb(np.random.default_rng(1))
    config = _tiny_config(average_last=2, decay_threshold=1.0)  # decay after every epoch but the first
    result = k.train_language_model(config, ptb, log=lambda line: None)
    assert [h["averaged"] for h in result["history"]] == [False, False, True, True]
    assert [h["lr"] for h in result["history"]] == [5.0, 5.0, 1.25, 1.25]  # not 0.3125 at the end
    windows = math.ceil((len(k.batchify(ptb.train, config.batch_size)) - 1) / config.bptt)
    assert len(snapshots) == 4 * windows
    expected = [torch.stack(step).mean(dim=0) for step in zip(*snapshots[2 * windows:])]
    stored = torch.load(tmp_path / "checkpoints" / "ptb_test_last.pt", weights_only=True)
    average = k.build_language_model(config, len(ptb.vocab))
    average.load_state_dict({name.removeprefix("module."): value
                             for name, value in stored["average"].items()
                             if name.startswith("module.")})
    for mean, got in zip(expected, average.parameters(), strict=True):
        torch.testing.assert_close(got, mean, rtol=1e-5, atol=1e-6)
    assert not torch.equal(next(average.parameters()), snapshots[-1][0])  # not the last step


def test_generate_is_seeded_and_uses_the_vocabulary():
    torch.manual_seed(0)
    itos = ["<eos>", "a", "b", "c"]
    model = k.LSTMLanguageModel(4, 6, 6, num_layers=1)
    text = k.generate(model, itos, 20, temperature=0.8, seed=3)
    assert text == k.generate(model, itos, 20, temperature=0.8, seed=3)
    assert set(text.split()) <= {"a", "b", "c"}


def test_feedforward_windows_and_model():
    ids = np.arange(10)
    windows, targets = k.context_windows(ids, 3)
    expected = [ids[i:i + 3] for i in range(7)]
    np.testing.assert_array_equal(windows, expected)
    np.testing.assert_array_equal(targets, ids[3:])
    model = k.FeedForwardLM(12, context=3, embedding_size=4, hidden_size=8, dropout=0.0)
    assert model(torch.from_numpy(windows.copy())).shape == (7, 12)
    text = np.tile(ids, 30)  # fully predictable from the previous word
    before = k.feedforward_perplexity(model, text)
    k.train_feedforward_lm(model, text, text, epochs=10, lr=3e-2, batch_size=32,
                           progress=False)
    assert before > 8 and k.feedforward_perplexity(model, text) < 1.5


# The plateau rule of the learning-rate schedule -----------------------------------------
@pytest.mark.w11_plateau_lr
@given(st.lists(st.floats(50, 500), min_size=1, max_size=25), st.integers(0, 3),
       st.sampled_from([2.0, 4.0, 10.0]))
@settings(deadline=None)  # a shared machine makes single examples slow
def test_plateau_schedule_matches_torch_reduce_lr_on_plateau(valid, patience, factor):
    # Without a threshold (and without exact ties) PyTorch's ReduceLROnPlateau is the same rule.
    assume_no_ties = len(set(valid)) == len(valid)
    if not assume_no_ties:
        return
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=20.0)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=1 / factor, patience=patience, threshold=0.0)
    expected = []
    for v in valid:
        expected.append(optimizer.param_groups[0]["lr"])
        scheduler.step(v)
    got = k.plateau_schedule(np.array(valid), 20.0, factor, 0.0, patience)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.w11_plateau_lr
def test_plateau_schedule_by_hand_relative_threshold_and_best_so_far():
    # 300 → 200 gains; 199 is < 1 % below 200: decay; 150 gains; 149.5 does not; 160 is worse
    # than the best (149.5), and so is 150 (> 149.5 · 0.99): two more decays.
    got = k.plateau_schedule(np.array([300., 200, 199, 150, 149.5, 160, 150]), 20, 4, 0.01, 0)
    np.testing.assert_allclose(got, [20, 20, 20, 5, 5, 1.25, 0.3125])
    # A gain of exactly the threshold counts as a gain.
    np.testing.assert_allclose(k.plateau_schedule(np.array([200., 150, 150]), 1, 2, 0.25, 0),
                               [1, 1, 1])
