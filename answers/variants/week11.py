"""Week 11 alternatives (must pass) and mutants (must fail)."""

from answers.variants import Variant

ALTERNATIVES = [
    Variant("w11_batchify", "stack the columns one by one", '''
def batchify(ids, batch_size):
    rows = len(ids) // batch_size
    return np.stack([ids[j * rows:(j + 1) * rows] for j in range(batch_size)], axis=1)
'''),
    Variant("w11_get_batch", "one slice of bptt + 1 rows, split in two", '''
def get_batch(source, i, bptt):
    window = source[i:i + bptt + 1]
    return window[:-1], window[1:]
'''),
    Variant("w11_perplexity", "np.logaddexp.reduce and a one-hot mask", '''
def perplexity(logits, targets):
    flat = logits.reshape(-1, logits.shape[-1])
    log_z = np.logaddexp.reduce(flat, axis=1)
    one_hot = np.eye(flat.shape[1], dtype=bool)[targets.reshape(-1)]
    return float(np.exp(np.mean(log_z - flat[one_hot])))
'''),
    Variant("w11_sample_probs", "scipy.special.softmax of the scaled scores", '''
from scipy.special import softmax

def sample_next_word_probs(logits, temperature):
    return softmax(logits / temperature, axis=-1)
'''),
    Variant("w11_kneser_ney", "loops over contexts and words", '''
def kneser_ney_bigram_probs(counts, discount=0.75):
    vocab = counts.shape[0]
    n_bigram_types = np.count_nonzero(counts)
    p_cont = [np.count_nonzero(counts[:, w]) / n_bigram_types for w in range(vocab)]
    probs = np.zeros((vocab, vocab))
    for v in range(vocab):
        total = counts[v].sum()
        if total == 0:
            probs[v] = p_cont
            continue
        weight = discount * np.count_nonzero(counts[v]) / total
        for w in range(vocab):
            probs[v, w] = max(counts[v, w] - discount, 0) / total + weight * p_cont[w]
    return probs
'''),
    Variant("w11_tied_lm", "nn.LSTM with copied weights, F.embedding and F.linear", '''
import torch
import torch.nn.functional as F

def tied_lstm_lm_logits(ids, embedding, Wx, Wh, b, decoder_bias):
    hidden = embedding.shape[1]
    lstm = torch.nn.LSTM(hidden, hidden).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(Wx.T)
        lstm.weight_hh_l0.copy_(Wh.T)
        lstm.bias_ih_l0.copy_(b)
        lstm.bias_hh_l0.zero_()
        out, _ = lstm(F.embedding(ids, embedding))
        return F.linear(out, embedding, decoder_bias)
'''),
]

MUTANTS = [
    # batchify
    Variant("w11_batchify", "reshape to (rows, batch) directly: columns are not contiguous", '''
def batchify(ids, batch_size):
    rows = len(ids) // batch_size
    return ids[:rows * batch_size].reshape(rows, batch_size)
'''),
    Variant("w11_batchify", "drops the extra tokens from the start", '''
def batchify(ids, batch_size):
    rows = len(ids) // batch_size
    return ids[len(ids) - rows * batch_size:].reshape(batch_size, rows).T
'''),
    Variant("w11_batchify", "batch-first layout (batch, rows)", '''
def batchify(ids, batch_size):
    rows = len(ids) // batch_size
    return ids[:rows * batch_size].reshape(batch_size, rows)
'''),
    Variant("w11_batchify", "pads the last column instead of dropping the tail", '''
def batchify(ids, batch_size):
    rows = -(-len(ids) // batch_size)
    padded = np.zeros(rows * batch_size, dtype=ids.dtype)
    padded[:len(ids)] = ids
    return padded.reshape(batch_size, rows).T
'''),
    # get_batch
    Variant("w11_get_batch", "targets not shifted (predicts the current word)", '''
def get_batch(source, i, bptt):
    length = min(bptt, len(source) - 1 - i)
    return source[i:i + length], source[i:i + length]
'''),
    Variant("w11_get_batch", "length off by one at the end (min(bptt, len - i))", '''
def get_batch(source, i, bptt):
    length = min(bptt, len(source) - i)
    return source[i:i + length], source[i + 1:i + 1 + length]
'''),
    Variant("w11_get_batch", "batch-first windows (transposed)", '''
def get_batch(source, i, bptt):
    length = min(bptt, len(source) - 1 - i)
    return source[i:i + length].T, source[i + 1:i + 1 + length].T
'''),
    Variant("w11_get_batch", "targets shifted the wrong way (previous word)", '''
def get_batch(source, i, bptt):
    length = min(bptt, len(source) - 1 - i)
    return source[i + 1:i + 1 + length], source[i:i + length]
'''),
    # perplexity
    Variant("w11_perplexity", "softmax without subtracting the max (overflows)", '''
def perplexity(logits, targets):
    flat = logits.reshape(-1, logits.shape[-1])
    probs = np.exp(flat) / np.exp(flat).sum(axis=1, keepdims=True)
    return float(np.exp(-np.mean(np.log(probs[np.arange(len(flat)), targets.reshape(-1)]))))
'''),
    Variant("w11_perplexity", "exp of the summed (not mean) log-likelihood", '''
def perplexity(logits, targets):
    flat = logits.reshape(-1, logits.shape[-1])
    m = flat.max(axis=1, keepdims=True)
    log_probs = flat - m - np.log(np.exp(flat - m).sum(axis=1, keepdims=True))
    return float(np.exp(-log_probs[np.arange(len(flat)), targets.reshape(-1)].sum()))
'''),
    Variant("w11_perplexity", "mean of per-token perplexities", '''
def perplexity(logits, targets):
    flat = logits.reshape(-1, logits.shape[-1])
    m = flat.max(axis=1, keepdims=True)
    log_probs = flat - m - np.log(np.exp(flat - m).sum(axis=1, keepdims=True))
    return float(np.mean(np.exp(-log_probs[np.arange(len(flat)), targets.reshape(-1)])))
'''),
    Variant("w11_perplexity", "base 2 (2 ** cross-entropy in nats)", '''
def perplexity(logits, targets):
    flat = logits.reshape(-1, logits.shape[-1])
    m = flat.max(axis=1, keepdims=True)
    log_probs = flat - m - np.log(np.exp(flat - m).sum(axis=1, keepdims=True))
    return float(2 ** -log_probs[np.arange(len(flat)), targets.reshape(-1)].mean())
'''),
    # sampling
    Variant("w11_sample_probs", "multiplies by the temperature", '''
def sample_next_word_probs(logits, temperature):
    scaled = logits * temperature
    e = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''),
    Variant("w11_sample_probs", "divides the probabilities by T (not a distribution)", '''
def sample_next_word_probs(logits, temperature):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) / temperature
'''),
    Variant("w11_sample_probs", "no max subtraction (overflows at low temperature)", '''
def sample_next_word_probs(logits, temperature):
    e = np.exp(logits / temperature)
    return e / e.sum(axis=-1, keepdims=True)
'''),
    Variant("w11_sample_probs", "normalises over axis 0", '''
def sample_next_word_probs(logits, temperature):
    scaled = logits / temperature
    e = np.exp(scaled - scaled.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
'''),
    # Kneser–Ney
    Variant("w11_kneser_ney", "absolute discounting: unigram frequency, not continuation", '''
def kneser_ney_bigram_probs(counts, discount=0.75):
    unigram = counts.sum(axis=0) / counts.sum()
    totals = counts.sum(axis=1, keepdims=True)
    followers = (counts > 0).sum(axis=1, keepdims=True)
    safe = np.maximum(totals, 1)
    weight = np.where(totals > 0, discount * followers / safe, 1.0)
    return np.maximum(counts - discount, 0) / safe + weight * unigram
'''),
    Variant("w11_kneser_ney", "interpolation weight d instead of d · N1+(v •) / c(v)", '''
def kneser_ney_bigram_probs(counts, discount=0.75):
    seen = counts > 0
    p_cont = seen.sum(axis=0) / seen.sum()
    totals = counts.sum(axis=1, keepdims=True)
    safe = np.maximum(totals, 1)
    weight = np.where(totals > 0, discount, 1.0)
    return np.maximum(counts - discount, 0) / safe + weight * p_cont
'''),
    Variant("w11_kneser_ney", "no clipping at zero (unseen bigrams get -d / c(v))", '''
def kneser_ney_bigram_probs(counts, discount=0.75):
    seen = counts > 0
    p_cont = seen.sum(axis=0) / seen.sum()
    totals = counts.sum(axis=1, keepdims=True)
    followers = seen.sum(axis=1, keepdims=True)
    safe = np.maximum(totals, 1)
    weight = np.where(totals > 0, discount * followers / safe, 1.0)
    return np.where(totals > 0, (counts - discount) / safe, 0) + weight * p_cont
'''),
    Variant("w11_kneser_ney", "continuation counted over followers (axis 1)", '''
def kneser_ney_bigram_probs(counts, discount=0.75):
    seen = counts > 0
    p_cont = seen.sum(axis=1) / seen.sum()
    totals = counts.sum(axis=1, keepdims=True)
    followers = seen.sum(axis=1, keepdims=True)
    safe = np.maximum(totals, 1)
    weight = np.where(totals > 0, discount * followers / safe, 1.0)
    return np.maximum(counts - discount, 0) / safe + weight * p_cont
'''),
    # tied LSTM language model
    Variant("w11_tied_lm", "resets h and c at every step", '''
import torch

def tied_lstm_lm_logits(ids, embedding, Wx, Wh, b, decoder_bias):
    zeros = embedding.new_zeros(ids.shape[1], embedding.shape[1])
    outputs = []
    for x in embedding[ids]:
        i, f, g, o = (x @ Wx + zeros @ Wh + b).chunk(4, dim=1)
        c = torch.sigmoid(i) * torch.tanh(g)
        outputs.append(torch.sigmoid(o) * torch.tanh(c))
    return torch.stack(outputs) @ embedding.T + decoder_bias
'''),
    Variant("w11_tied_lm", "carries h but restarts the cell state each step", '''
import torch

def tied_lstm_lm_logits(ids, embedding, Wx, Wh, b, decoder_bias):
    h = embedding.new_zeros(ids.shape[1], embedding.shape[1])
    outputs = []
    for x in embedding[ids]:
        i, f, g, o = (x @ Wx + h @ Wh + b).chunk(4, dim=1)
        c = torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs) @ embedding.T + decoder_bias
'''),
    Variant("w11_tied_lm", "gates in the order i, f, o, g", '''
import torch

def tied_lstm_lm_logits(ids, embedding, Wx, Wh, b, decoder_bias):
    h = c = embedding.new_zeros(ids.shape[1], embedding.shape[1])
    outputs = []
    for x in embedding[ids]:
        i, f, o, g = (x @ Wx + h @ Wh + b).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs) @ embedding.T + decoder_bias
'''),
    Variant("w11_tied_lm", "scores the embeddings of the input words instead of h", '''
import torch

def tied_lstm_lm_logits(ids, embedding, Wx, Wh, b, decoder_bias):
    h = c = embedding.new_zeros(ids.shape[1], embedding.shape[1])
    for x in embedding[ids]:
        i, f, g, o = (x @ Wx + h @ Wh + b).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
    return embedding[ids] @ embedding.T + decoder_bias
'''),
]

ALTERNATIVES += [
    Variant("w11_sgd_step", "global norm computed by hand, nn.LSTM forward", '''
import torch
import torch.nn.functional as F

def tied_lm_sgd_step(inputs, targets, embedding, Wx, Wh, b, decoder_bias, lr, max_norm):
    params = [t.clone().requires_grad_() for t in (embedding, Wx, Wh, b, decoder_bias)]
    emb, wx, wh, bias, dec = params
    lstm = torch.nn.LSTM(emb.shape[1], emb.shape[1]).double()
    del lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0
    out, _ = torch.func.functional_call(lstm, {
        "weight_ih_l0": wx.T, "weight_hh_l0": wh.T, "bias_ih_l0": bias,
        "bias_hh_l0": torch.zeros_like(bias)}, (F.embedding(inputs, emb),))
    logits = F.linear(out, emb, dec)
    loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
    grads = torch.autograd.grad(loss, params)
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    scale = min(1.0, max_norm / (norm.item() + 1e-6))
    return (loss.detach(), *(p.detach() - lr * scale * g for p, g in zip(params, grads)))
'''),
]

MUTANTS += [
    Variant("w11_sgd_step", "no gradient clipping", '''
import torch

def tied_lm_sgd_step(inputs, targets, embedding, Wx, Wh, b, decoder_bias, lr, max_norm):
    params = [t.clone().requires_grad_() for t in (embedding, Wx, Wh, b, decoder_bias)]
    emb, wx, wh, bias, dec = params
    h = c = emb.new_zeros(inputs.shape[1], emb.shape[1])
    outputs = []
    for x in emb[inputs]:
        i, f, g, o = (x @ wx + h @ wh + bias).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    logits = torch.stack(outputs) @ emb.T + dec
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
    loss.backward()
    with torch.no_grad():
        return (loss, *(p - lr * p.grad for p in params))
'''),
    Variant("w11_sgd_step", "clips each gradient separately", '''
import torch

def tied_lm_sgd_step(inputs, targets, embedding, Wx, Wh, b, decoder_bias, lr, max_norm):
    params = [t.clone().requires_grad_() for t in (embedding, Wx, Wh, b, decoder_bias)]
    emb, wx, wh, bias, dec = params
    h = c = emb.new_zeros(inputs.shape[1], emb.shape[1])
    outputs = []
    for x in emb[inputs]:
        i, f, g, o = (x @ wx + h @ wh + bias).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    logits = torch.stack(outputs) @ emb.T + dec
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
    loss.backward()
    for p in params:
        torch.nn.utils.clip_grad_norm_([p], max_norm)
    with torch.no_grad():
        return (loss, *(p - lr * p.grad for p in params))
'''),
    Variant("w11_sgd_step", "decoder uses a detached copy: tying lost in the backward pass", '''
import torch

def tied_lm_sgd_step(inputs, targets, embedding, Wx, Wh, b, decoder_bias, lr, max_norm):
    params = [t.clone().requires_grad_() for t in (embedding, Wx, Wh, b, decoder_bias)]
    emb, wx, wh, bias, dec = params
    h = c = emb.new_zeros(inputs.shape[1], emb.shape[1])
    outputs = []
    for x in emb[inputs]:
        i, f, g, o = (x @ wx + h @ wh + bias).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    logits = torch.stack(outputs) @ emb.detach().T + dec
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    with torch.no_grad():
        return (loss, *(p - lr * p.grad for p in params))
'''),
    Variant("w11_sgd_step", "clips gradient values, not their norm", '''
import torch

def tied_lm_sgd_step(inputs, targets, embedding, Wx, Wh, b, decoder_bias, lr, max_norm):
    params = [t.clone().requires_grad_() for t in (embedding, Wx, Wh, b, decoder_bias)]
    emb, wx, wh, bias, dec = params
    h = c = emb.new_zeros(inputs.shape[1], emb.shape[1])
    outputs = []
    for x in emb[inputs]:
        i, f, g, o = (x @ wx + h @ wh + bias).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    logits = torch.stack(outputs) @ emb.T + dec
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
    loss.backward()
    torch.nn.utils.clip_grad_value_(params, max_norm)
    with torch.no_grad():
        return (loss, *(p - lr * p.grad for p in params))
'''),
]

# --- the plateau rule of the learning-rate schedule -------------------------------------
_PLATEAU = '''
import numpy as np

def plateau_schedule(valid_ppl, lr, factor, threshold, patience):
    rates, best, bad = [], float("inf"), 0
    for valid in valid_ppl:
        rates.append(lr)
        if {improves}:
            bad = 0
        else:
            bad += 1
            if bad > patience:
                lr /= factor
                {reset}
        {update}
    return np.array(rates)
'''


def _plateau(improves: str = "valid <= best * (1 - threshold)", reset: str = "bad = 0",
             update: str = "best = min(best, valid)") -> str:
    return _PLATEAU.format(improves=improves, reset=reset, update=update)


ALTERNATIVES += [
    Variant("w11_plateau_lr", "a loop over the epochs with Python floats", _plateau()),
    Variant("w11_plateau_lr", "best so far from a running minimum array", '''
import numpy as np

def plateau_schedule(valid_ppl, lr, factor, threshold, patience):
    valid_ppl = np.asarray(valid_ppl, dtype=float)
    best_before = np.concatenate([[np.inf], np.minimum.accumulate(valid_ppl)[:-1]])
    gains = valid_ppl <= best_before * (1 - threshold)
    rates = np.empty(len(valid_ppl))
    waited = 0
    for epoch, gained in enumerate(gains):
        rates[epoch] = lr
        waited = 0 if gained else waited + 1
        if waited > patience:
            lr, waited = lr / factor, 0
    return rates
'''),
]

MUTANTS += [
    Variant("w11_plateau_lr", "compares with the previous epoch, not the best so far",
            _plateau(update="best = valid")),
    Variant("w11_plateau_lr", "a gain of exactly the threshold does not count (strict <)",
            _plateau(improves="valid < best * (1 - threshold)")),
    Variant("w11_plateau_lr", "an absolute threshold (best - threshold)",
            _plateau(improves="valid <= best - threshold")),
    Variant("w11_plateau_lr", "the count is not reset after a decay", _plateau(reset="pass")),
    Variant("w11_plateau_lr", "the decay applies to the epoch that plateaued (off by one)", '''
import numpy as np

def plateau_schedule(valid_ppl, lr, factor, threshold, patience):
    rates, best, bad = [], float("inf"), 0
    for valid in valid_ppl:
        if valid <= best * (1 - threshold):
            bad = 0
        else:
            bad += 1
            if bad > patience:
                lr /= factor
                bad = 0
        rates.append(lr)
        best = min(best, valid)
    return np.array(rates)
'''),
    Variant("w11_plateau_lr", "the best includes the current epoch before comparing", _plateau(
                improves="valid <= min(best, valid) * (1 - threshold)")),
]

MUTANTS += [
    Variant("w11_perplexity", "probabilities clipped at 1e-10 before the log (a 'guard')", '''
import numpy as np

def perplexity(logits, targets):
    flat = logits.reshape(-1, logits.shape[-1]).astype(float)
    e = np.exp(flat - flat.max(axis=1, keepdims=True))
    probs = np.clip(e / e.sum(axis=1, keepdims=True), 1e-10, 1.0)
    return float(np.exp(-np.log(probs[np.arange(len(flat)), targets.reshape(-1)]).mean()))
'''),
]

MUTANTS += [
    Variant("w11_plateau_lr", "the count is not reset by an improving epoch, only by a decay "
            "[hidden only] [hidden only]", '''
import numpy as np

def plateau_schedule(valid_ppl, lr, factor, threshold, patience):
    rates, best, bad = [], float("inf"), 0
    for valid in valid_ppl:
        rates.append(lr)
        if not valid <= best * (1 - threshold):
            bad += 1
            if bad > patience:
                lr /= factor
                bad = 0
        best = min(best, valid)
    return np.array(rates)
'''),
]

MUTANTS += [
    Variant("w11_sample_probs", "an arg-max one-hot below temperature 0.05 [hidden only] "
            "[hidden only]", '''
import numpy as np

def sample_next_word_probs(logits, temperature):
    if temperature < 0.05:
        return (logits == logits.max(axis=-1, keepdims=True)).astype(float)
    scaled = logits / temperature
    e = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''),
]

MUTANTS += [
    Variant("w11_sample_probs", "softmax first, then p ** (1 / T) renormalised: 0 / 0 when "
            "every p ** (1 / T) underflows [hidden only]", '''
def sample_next_word_probs(logits, temperature):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = (e / e.sum(axis=-1, keepdims=True)) ** (1 / temperature)
    return p / p.sum(axis=-1, keepdims=True)
'''),
]

# Hidden-only mutants aimed at the operator mutants that survived the hidden grade
# (bench/bench_mutants.py): each one passes the public cases.
MUTANTS += [
    Variant("w11_plateau_lr", "the first epoch only sets the best (never counted as a "
            "non-improving epoch) [hidden only]", '''
def plateau_schedule(valid_ppl, lr, factor, threshold, patience):
    rates, best, bad = [], None, 0
    for epoch, valid in enumerate(valid_ppl):
        rates.append(lr)
        if epoch == 0:
            best = valid
            continue
        if valid <= best * (1 - threshold):
            bad = 0
        else:
            bad += 1
            if bad > patience:
                lr /= factor
                bad = 0
        best = min(best, valid)
    return np.array(rates)
'''),
]
