"""Week 11 course library: the language models the lecture trains, and their training loops.

Models the course provides (they are not exercises): :class:`LSTMLanguageModel` with its
truncated-BPTT training run (:func:`train_language_model`, checkpoints and the plateau
learning-rate schedule of the reference run), :class:`KneserNeyLM` (modified Kneser–Ney
n-grams of any order) and :class:`FeedForwardLM` (Bengio et al.'s neural n-gram model). The
lecture and the benchmarks (``bench/ptb_lm.py``, ``bench/bench_week11.py``) use them.

The data layout is the one of PyTorch's ``word_language_model`` example: the token stream is
cut into ``batch_size`` contiguous columns, so row ``t`` of every column continues row
``t - 1`` and the LSTM state can be carried from one BPTT window to the next. The graded
pieces of the assignment (batching, windows, perplexity, sampling, Kneser–Ney bigrams, the
tied model and its training step, the schedule rule) are the learner's to write; this module
keeps its own private helpers.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from grader.data import PTB, data_dir, load_ptb
from grader.train import load_checkpoint, save_checkpoint


# --------------------------------------------------------------------------------------
# Data layout (as in PyTorch's word_language_model example)
# --------------------------------------------------------------------------------------

def _columns(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """``(T, batch_size)``: the stream cut into contiguous columns, the ragged tail dropped."""
    return torch.as_tensor(np.asarray(ids)[: len(ids) // batch_size * batch_size]) \
        .view(batch_size, -1).t().contiguous().numpy()


def _windows(source: np.ndarray, bptt: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Each BPTT window of ``source (T, B)`` in order, with its next-word targets."""
    for start in range(0, len(source) - 1, bptt):
        stop = min(start + bptt, len(source) - 1)
        yield source[start:stop], source[start + 1:stop + 1]


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------

class LSTMLanguageModel(nn.Module):
    """Embedding -> dropout -> multi-layer LSTM -> dropout -> linear decoder over the vocabulary.

    With ``tie_weights`` the decoder reuses the embedding matrix (Press & Wolf 2017; Inan
    et al. 2017): fewer parameters and, on PTB, a lower perplexity. It needs
    ``embedding_size == hidden_size``.
    """

    def __init__(self, vocab_size: int, embedding_size: int = 200, hidden_size: int = 200,
                 num_layers: int = 2, dropout: float = 0.2, tie_weights: bool = True):
        super().__init__()
        if tie_weights and embedding_size != hidden_size:
            raise ValueError("tied weights need embedding_size == hidden_size, got "
                             f"{embedding_size} and {hidden_size}")
        self.drop = nn.Dropout(dropout)
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.lstm = nn.LSTM(embedding_size, hidden_size, num_layers,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if not tie_weights:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """``x (L, B)`` ids -> ``(logits (L, B, V), (h, c))``, each state ``(layers, B, H)``."""
        out, state = self.lstm(self.drop(self.embedding(x)), state)
        return self.decoder(self.drop(out)), state


def detach_state(state):
    """Cut the graph at a window boundary: keep the values, forget how they were computed."""
    return None if state is None else tuple(s.detach() for s in state)


def _as_tensor(ids: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(ids)).long()


def train_epoch(model: LSTMLanguageModel, source: np.ndarray, optimizer: torch.optim.Optimizer,
                bptt: int = 35, clip_norm: float = 0.25,
                on_window: Callable[[int, int, float], None] | None = None) -> float:
    """One pass over ``source (T, B)`` with truncated BPTT; returns the training perplexity.

    The LSTM state flows across windows (the columns are contiguous text) but is detached,
    so each backward pass stops ``bptt`` steps back. ``on_window(done, total, loss)`` is
    called after every window (progress bars, logging).
    """
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    state = None
    total_loss, total_tokens = 0.0, 0
    n_windows = math.ceil((len(source) - 1) / bptt)
    for n, (inputs, targets) in enumerate(_windows(source, bptt), start=1):
        state = detach_state(state)
        logits, state = model(_as_tensor(inputs), state)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), _as_tensor(targets).reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        total_loss += loss.item() * targets.size
        total_tokens += targets.size
        if on_window is not None:
            on_window(n, n_windows, loss.item())
    return math.exp(total_loss / total_tokens)


@torch.no_grad()
def evaluate(model: LSTMLanguageModel, source: np.ndarray, bptt: int = 35) -> float:
    """Perplexity of ``source (T, B)``, carrying the state across windows, dropout off."""
    model.eval()
    state = None
    total_loss, total_tokens = 0.0, 0
    for inputs, targets in _windows(source, bptt):
        logits, state = model(_as_tensor(inputs), state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           _as_tensor(targets).reshape(-1), reduction="sum")
        total_loss += loss.item()
        total_tokens += targets.size
    return math.exp(total_loss / total_tokens)


# --------------------------------------------------------------------------------------
# Training runs: configuration, learning-rate schedule, checkpoints
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LMConfig:
    """Everything that defines a training run of :class:`LSTMLanguageModel` on PTB.

    Learning-rate schedule: SGD at ``lr``; after an epoch whose validation perplexity
    improved on the best so far by less than ``decay_threshold`` (relative), divide ``lr``
    by ``decay_factor``. With 1 % this first decays when progress slows to a crawl, long
    before validation gets *worse* (the usual rule, which on PTB rarely fires before epoch
    20). Training stops after ``epochs``, or before an epoch that would end past
    ``budget_min`` minutes of training.

    Weight averaging: during the last ``average_last`` epochs (0: never) the run keeps the
    running mean of the weights after every SGD step (Polyak–Ruppert averaging, the "A" in
    the NT-ASGD of Merity et al.'s AWD-LSTM) and validates, tests and saves that mean instead
    of the latest weights. The learning rate is held from then on: averaging already does
    what a further decay would, removing the noise of single steps.
    """

    name: str = "reference"
    embedding_size: int = 200
    hidden_size: int = 200
    num_layers: int = 2
    dropout: float = 0.2
    tie_weights: bool = True
    lr: float = 20.0
    clip_norm: float = 0.25
    batch_size: int = 20
    eval_batch_size: int = 10
    bptt: int = 35
    epochs: int = 40
    budget_min: float = 45.0
    decay_factor: float = 4.0
    decay_threshold: float = 0.01
    seed: int = 1111
    threads: int = 2
    average_last: int = 0


#: ``reference``: the benchmark's ≤ 45-minute run. ``long``: the same network for 40 epochs
#: with no time limit and the PyTorch word-language-model example's schedule (divide the
#: learning rate only when validation does not improve at all), which reported 87.17 test
#: perplexity for this model. ``medium``: Zaremba et al.'s "medium" size (2×650, dropout 0.5)
#: with tied weights: several times the cost per epoch (``python -m bench week11`` measures
#: it). ``averaged``: ``long`` whose last 10 epochs average the weights (its first 30 epochs
#: are exactly ``long``'s). ``tiny``: fast mode (the PTB subset), seconds per epoch.
LM_CONFIGS: dict[str, LMConfig] = {
    "reference": LMConfig(),
    "long": LMConfig(name="long", decay_threshold=0.0, budget_min=math.inf),
    "averaged": LMConfig(name="averaged", decay_threshold=0.0, budget_min=math.inf,
                         average_last=10),
    "medium": LMConfig(name="medium", embedding_size=650, hidden_size=650, dropout=0.5,
                       decay_threshold=0.0, budget_min=math.inf),
    "tiny": LMConfig(name="tiny", embedding_size=32, hidden_size=32, num_layers=1,
                     dropout=0.0, epochs=3, bptt=20, threads=1),
}


def lm_checkpoint_path(config: LMConfig) -> Path:
    """``<data cache>/checkpoints/ptb_<name>.pt`` (never committed)."""
    return data_dir() / "checkpoints" / f"ptb_{config.name}.pt"


def build_language_model(config: LMConfig, vocab_size: int) -> LSTMLanguageModel:
    return LSTMLanguageModel(vocab_size, config.embedding_size, config.hidden_size,
                             config.num_layers, config.dropout, config.tie_weights)


def train_language_model(config: LMConfig, ptb: PTB | None = None, resume: bool = False,
                         log: Callable[[str], None] = print, progress: bool = False) -> dict:
    """Train ``config`` on PTB with checkpoints; return the summary of the best-valid weights.

    After every epoch the weights with the best validation perplexity so far are saved to
    :func:`lm_checkpoint_path` together with the history (per epoch: learning rate, train /
    valid / test perplexity, seconds, minutes elapsed), so an interrupted run can continue
    with ``resume=True``. Test perplexity is logged after each epoch for the record only: it
    never chooses anything, and its time is left out of the training wall-clock.

    Returns:
        The stored summary plus ``valid_ppl`` and ``test_ppl`` of the best-valid weights.
    """
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    ptb = ptb or load_ptb()
    train_data = _columns(ptb.train, config.batch_size)
    valid_data = _columns(ptb.valid, config.eval_batch_size)
    test_data = _columns(ptb.test, config.eval_batch_size)
    model = build_language_model(config, len(ptb.vocab))
    # The running mean of the weights, for the last ``average_last`` epochs only.
    average = torch.optim.swa_utils.AveragedModel(model) if config.average_last else None
    first_averaged = config.epochs - config.average_last + 1 if average is not None else math.inf
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    path = lm_checkpoint_path(config)
    last_path = path.with_name(path.stem + "_last.pt")  # to resume from the latest epoch
    path.parent.mkdir(parents=True, exist_ok=True)
    history: list[dict] = []
    lr, best_valid, spent = config.lr, math.inf, 0.0
    if resume and path.exists():
        stored = load_checkpoint(path, model)
        history, lr = stored["history"], stored["lr"]
        best_valid, spent = stored["best_valid"], stored["train_seconds"]
        last = load_checkpoint(last_path, model)
        if average is not None and last.get("average") is not None:
            average.load_state_dict(last["average"])
        if last.get("rng_state") is not None:  # the same dropout masks as an unbroken run
            torch.set_rng_state(last["rng_state"])
        log(f"resumed {path} after epoch {len(history)} ({spent / 60:.1f} min spent)")
    session_start = time.monotonic()
    for epoch in range(len(history) + 1, config.epochs + 1):
        elapsed = spent + time.monotonic() - session_start
        typical = max((h["seconds"] for h in history[-3:]), default=0.0)
        if elapsed + typical > config.budget_min * 60:
            log(f"stopping before epoch {epoch}: {elapsed / 60:.1f} min spent, an epoch takes "
                f"≈ {typical / 60:.1f} min, budget {config.budget_min} min")
            break
        for group in optimizer.param_groups:
            group["lr"] = lr
        averaging = epoch >= first_averaged
        start = time.monotonic()
        with tqdm(total=math.ceil((len(train_data) - 1) / config.bptt), desc=f"epoch {epoch}",
                  leave=False, disable=not progress) as bar:
            def after_window(*_, bar=bar, averaging=averaging) -> None:
                bar.update()
                if averaging:
                    average.update_parameters(model)
            train_ppl = train_epoch(model, train_data, optimizer, config.bptt, config.clip_norm,
                                    on_window=after_window)
        scored = average.module if averaging else model
        valid_ppl = evaluate(scored, valid_data, config.bptt)
        seconds = time.monotonic() - start
        test_start = time.monotonic()
        test_ppl = evaluate(scored, test_data, config.bptt)
        session_start += time.monotonic() - test_start
        improved = valid_ppl < best_valid
        history.append({"epoch": epoch, "lr": lr, "train_ppl": train_ppl,
                        "valid_ppl": valid_ppl, "test_ppl": test_ppl, "seconds": seconds,
                        "elapsed_min": (spent + time.monotonic() - session_start) / 60,
                        "averaged": averaging})
        log(f"epoch {epoch:3d} | lr {lr:6.3f} | train ppl {train_ppl:8.2f} | valid ppl "
            f"{valid_ppl:8.2f} | test ppl {test_ppl:8.2f} | {seconds:6.1f} s | elapsed "
            f"{history[-1]['elapsed_min']:6.1f} min{' | averaged' if averaging else ''}"
            f"{' | best' if improved else ''}")
        if not averaging and valid_ppl > best_valid * (1 - config.decay_threshold):
            lr /= config.decay_factor
        save_checkpoint(last_path, model, rng_state=torch.get_rng_state(),
                        average=average.state_dict() if averaging else None)
        summary = {"config": dataclasses.asdict(config), "history": history, "lr": lr,
                   "best_valid": min(best_valid, valid_ppl),
                   "train_seconds": spent + time.monotonic() - session_start}
        if improved:
            best_valid = valid_ppl
            save_checkpoint(path, scored, **summary)
        else:  # keep the best weights, update the bookkeeping
            best = build_language_model(config, len(ptb.vocab))
            load_checkpoint(path, best)
            save_checkpoint(path, best, **summary)
    stored = load_checkpoint(path, model)  # the best-valid weights
    return {**stored, "valid_ppl": evaluate(model, valid_data, config.bptt),
            "test_ppl": evaluate(model, test_data, config.bptt)}


@torch.no_grad()
def generate(model: LSTMLanguageModel, itos: list[str], n_words: int, temperature: float = 1.0,
             seed: int = 0, start: str = "<eos>") -> str:
    """Sample ``n_words`` words, each from ``softmax(scores / temperature)`` of the model."""
    model.eval()
    rng = np.random.default_rng(seed)
    word = itos.index(start)
    state, words = None, []
    for _ in range(n_words):
        logits, state = model(torch.tensor([[word]]), state)
        probs = torch.softmax(logits[0, 0].double() / temperature, dim=-1).numpy()
        word = int(rng.choice(len(probs), p=probs))
        words.append(itos[word])
    return " ".join(words).replace(" <eos> ", "\n").replace("<eos>", "\n")



# --------------------------------------------------------------------------------------
# Baseline 1: n-gram counts smoothed by interpolated (modified) Kneser–Ney
# --------------------------------------------------------------------------------------

class KneserNeyLM:
    """Interpolated *modified* Kneser–Ney n-gram model (Chen & Goodman 1999).

    Interpolated Kneser–Ney for any order ``n`` (the assignment writes the bigram case), with three
    discounts per order (for n-grams seen once, twice, three or more times) estimated from
    count-of-counts. The highest order uses raw counts; every lower order uses continuation
    counts (how many distinct words precede the shorter n-gram); the unigrams interpolate
    with the uniform distribution, so no word gets probability zero. The text is one stream:
    ``<eos>`` in a context plays the role of a sentence start, as for the LSTM.
    """

    def __init__(self, order: int, vocab_size: int,
                 discounts: list[tuple[float, float, float]] | None = None):
        """``discounts[k - 1]`` are ``D1, D2, D3+`` of order ``k``; estimated when None."""
        self.order, self.vocab_size = order, vocab_size
        self.discounts = discounts

    def fit(self, ids: np.ndarray) -> KneserNeyLM:
        words = ids.tolist()
        n = self.order
        # counts[k] maps a k-gram to its (raw or continuation) count.
        counts: list[Counter] = [Counter() for _ in range(n + 1)]
        counts[n] = Counter(zip(*(words[i:] for i in range(n))))
        for k in range(n - 1, 0, -1):  # continuation count: distinct left neighbours
            counts[k] = Counter(gram[1:] for gram in counts[k + 1])
        if self.discounts is None:
            self.discounts = [self._discounts(c) for c in counts[1:]]
        self.counts = counts
        # Per context: (total count, discount mass handed down = Σ D(c) over its followers).
        self.contexts: list[dict] = [{}]
        for k in range(1, n + 1):
            d = self.discounts[k - 1]
            totals: dict = defaultdict(lambda: [0, 0.0])
            for gram, c in counts[k].items():
                entry = totals[gram[:-1]]
                entry[0] += c
                entry[1] += d[min(c, 3) - 1]
            self.contexts.append(dict(totals))
        return self

    @staticmethod
    def _discounts(counts: Counter) -> tuple[float, float, float]:
        """``D1, D2, D3+`` from the numbers of n-grams seen exactly 1..4 times.

        ``D_r = r - (r + 1) Y n_{r+1} / n_r`` with ``Y = n1 / (n1 + 2 n2)``, clipped to
        ``[0, r]``. A tiny corpus may have no n-gram seen exactly once, twice or three
        times; the estimate is then undefined and a single discount of 0.75 is used.
        """
        n = Counter(counts.values())
        if 0 in (n[1], n[2], n[3]):
            return 0.75, 0.75, 0.75
        y = n[1] / (n[1] + 2 * n[2])
        return tuple(min(max(r - (r + 1) * y * n[r + 1] / n[r], 0.0), float(r))
                     for r in (1, 2, 3))

    def prob(self, history: tuple[int, ...], word: int) -> float:
        """``P(word | last order-1 words of history)``, lowest order first."""
        p = 1.0 / self.vocab_size
        for k in range(1, self.order + 1):
            context = history[len(history) - (k - 1):] if k > 1 else ()
            if len(context) < k - 1:
                break
            total = self.contexts[k].get(context)
            if total is None:  # unseen context: keep the lower-order estimate
                continue
            c = self.counts[k].get(context + (word,), 0)
            discount = self.discounts[k - 1][min(c, 3) - 1] if c else 0.0
            p = (c - discount + total[1] * p) / total[0]
        return p

    def perplexity(self, ids: np.ndarray) -> float:
        """Perplexity of a stream; the first word is predicted from the empty context."""
        words = ids.tolist()
        nll = 0.0
        for i, word in enumerate(words):
            nll -= math.log(self.prob(tuple(words[max(0, i - self.order + 1):i]), word))
        return math.exp(nll / len(words))


# --------------------------------------------------------------------------------------
# Baseline 2: a feed-forward neural language model (Bengio et al. 2003)
# --------------------------------------------------------------------------------------

class FeedForwardLM(nn.Module):
    """Predict the next word from the previous ``context`` words only.

    The ``context`` embeddings are concatenated, go through one tanh layer and a projection
    back to the embedding size, and the (tied) embedding matrix scores every word. Unlike the
    LSTM it cannot see further back than ``context`` words.
    """

    def __init__(self, vocab_size: int, context: int = 5, embedding_size: int = 200,
                 hidden_size: int = 600, dropout: float = 0.3):
        super().__init__()
        self.context = context
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.hidden = nn.Linear(context * embedding_size, hidden_size)
        self.project = nn.Linear(hidden_size, embedding_size)
        self.drop = nn.Dropout(dropout)
        self.decoder_bias = nn.Parameter(torch.zeros(vocab_size))
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """``windows (N, context)`` ids -> ``(N, V)`` next-word scores."""
        x = self.drop(self.embedding(windows).flatten(1))
        h = self.drop(torch.tanh(self.hidden(x)))
        return self.project(h) @ self.embedding.weight.T + self.decoder_bias


def context_windows(ids: np.ndarray, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ``(previous context words, next word)`` pair of a stream.

    Returns:
        ``(windows (N - context, context), targets (N - context,))``.
    """
    windows = np.lib.stride_tricks.sliding_window_view(ids[:-1], context)
    return windows, ids[context:]


def feedforward_batches(ids: np.ndarray, context: int, batch_size: int,
                        rng: np.random.Generator | None = None
                        ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Mini-batches of windows, shuffled when ``rng`` is given."""
    windows, targets = context_windows(ids, context)
    order = rng.permutation(len(targets)) if rng is not None else np.arange(len(targets))
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        yield _as_tensor(windows[rows]), _as_tensor(targets[rows])


@torch.no_grad()
def feedforward_perplexity(model: FeedForwardLM, ids: np.ndarray,
                           batch_size: int = 1024) -> float:
    """Perplexity of every word after the first ``context`` ones."""
    model.eval()
    total, count = 0.0, 0
    for windows, targets in feedforward_batches(ids, model.context, batch_size):
        total += nn.functional.cross_entropy(model(windows), targets, reduction="sum").item()
        count += len(targets)
    return math.exp(total / count)


def train_feedforward_lm(model: FeedForwardLM, train_ids: np.ndarray, valid_ids: np.ndarray,
                         epochs: int, lr: float = 1e-3, batch_size: int = 256, seed: int = 0,
                         progress: bool = True) -> list[dict]:
    """Adam, halving the rate whenever validation perplexity fails to improve; history."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    history, best = [], math.inf
    for epoch in range(1, epochs + 1):
        model.train()
        batches = feedforward_batches(train_ids, model.context, batch_size, rng)
        n_batches = math.ceil((len(train_ids) - model.context) / batch_size)
        for windows, targets in tqdm(batches, total=n_batches, desc=f"epoch {epoch}",
                                     leave=False, disable=not progress):
            loss = nn.functional.cross_entropy(model(windows), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        valid = feedforward_perplexity(model, valid_ids)
        history.append({"epoch": epoch, "lr": optimizer.param_groups[0]["lr"],
                        "valid_ppl": valid})
        if valid >= best:
            for group in optimizer.param_groups:
                group["lr"] /= 2
        best = min(best, valid)
    return history


def evaluate_stream(model: LSTMLanguageModel, ids: np.ndarray, batch_size: int = 10,
                    bptt: int = 35) -> float:
    """Perplexity of a token stream: cut into ``batch_size`` columns, then :func:`evaluate`."""
    return evaluate(model, _columns(ids, batch_size), bptt)
