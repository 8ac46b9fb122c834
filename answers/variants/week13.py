"""Week 13 alternatives (must pass) and mutants (must fail).

``HIDDEN_ONLY_MUTANTS`` are wrong implementations that pass the public check and are caught
only by the hidden cases of ``answers.hidden.week13`` (tests/test_week13.py proves both).
"""

from answers.variants import Variant

_TORCH = '''
import torch
'''

ALTERNATIVES = [
    Variant("w13_teacher_forcing_batch", "a Python loop over the rows", _TORCH + '''
def teacher_forcing_batch(sequences, lengths, bos_id, eos_id, pad_id):
    n, t = sequences.shape
    inputs = torch.full((n, t + 1), pad_id, dtype=torch.int64)
    targets = torch.full((n, t + 1), pad_id, dtype=torch.int64)
    for i in range(n):
        length = int(lengths[i])
        body = [int(s) for s in sequences[i, :length]]
        inputs[i, :length + 1] = torch.tensor([bos_id] + body)
        targets[i, :length + 1] = torch.tensor(body + [eos_id])
    return inputs, targets
'''),
    Variant("w13_additive_attention", "a row at a time, softmax with the max shift", _TORCH + '''
def additive_attention(query, keys, values, W_q, W_k, v, mask):
    contexts, all_weights = [], []
    for n in range(query.shape[0]):
        scores = torch.tanh(keys[n] @ W_k + query[n] @ W_q) @ v          # (T,)
        scores = torch.where(mask[n], scores, torch.tensor(float("-inf"), dtype=scores.dtype))
        e = torch.exp(scores - scores.max())
        weights = e / e.sum()
        all_weights.append(weights)
        contexts.append(weights @ values[n])
    return torch.stack(contexts), torch.stack(all_weights)
'''),
    Variant("w13_additive_attention", "einsum; mask by multiplying, then renormalize", _TORCH + '''
def additive_attention(query, keys, values, W_q, W_k, v, mask):
    hidden = torch.tanh(torch.einsum("nh,ha->na", query, W_q)[:, None]
                        + torch.einsum("nth,ha->nta", keys, W_k))
    scores = torch.einsum("nta,a->nt", hidden, v)
    top = scores.masked_fill(~mask, float("-inf")).max(dim=1, keepdim=True).values
    e = torch.exp((scores - top).clamp(max=0)) * mask
    weights = e / e.sum(dim=1, keepdim=True)
    return torch.einsum("nt,ntd->nd", weights, values), weights
'''),
    Variant("w13_beam_search_step", "argsort of all candidates, divmod", _TORCH + '''
def beam_search_step(log_probs, beam_scores, beam_size):
    b, v = log_probs.shape
    total = beam_scores.reshape(b, 1) + log_probs
    order = torch.argsort(total.reshape(-1), descending=True)[:beam_size]
    parents = torch.div(order, v, rounding_mode="floor")
    tokens = order - parents * v
    return total[parents, tokens], parents, tokens
'''),
    Variant("w13_beam_search_step", "top k of each beam first, then the best k of those",
            _TORCH + '''
def beam_search_step(log_probs, beam_scores, beam_size):
    b, v = log_probs.shape
    k = min(beam_size, v)
    per_beam, per_token = (beam_scores[:, None] + log_probs).topk(k, dim=1)
    best, flat = per_beam.flatten().topk(beam_size)
    parents = flat // k
    return best, parents, per_token.flatten()[flat]
'''),
    Variant("w13_attention_backward", "loops over rows with the softmax Jacobian matrix",
            _TORCH + '''
def attention_backward(dcontext, weights, values):
    dscores, dvalues = [], []
    for n in range(weights.shape[0]):
        a = weights[n]                                   # (T,)
        jacobian = torch.diag(a) - torch.outer(a, a)     # d weights / d scores
        dweights = values[n] @ dcontext[n]               # (T,)
        dscores.append(jacobian @ dweights)
        dvalues.append(torch.outer(a, dcontext[n]))
    return torch.stack(dscores), torch.stack(dvalues)
'''),
    Variant("w13_attention_decoder_step", "GRU cell written out, attention inline", _TORCH + '''
def attention_decoder_step(tokens, state, enc_outputs, mask, embedding, W_q, W_k, v,
                           W_ih, W_hh, b_ih, b_hh, W_out, b_out):
    scores = torch.tanh((state @ W_q)[:, None, :] + enc_outputs @ W_k) @ v
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
    context = torch.einsum("nt,nth->nh", weights, enc_outputs)
    x = torch.cat([embedding[tokens], context], dim=1)
    gi, gh = x @ W_ih.T + b_ih, state @ W_hh.T + b_hh
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r, h_z, h_n = gh.chunk(3, dim=1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    candidate = torch.tanh(i_n + r * h_n)
    new_state = (1 - z) * candidate + z * state
    logits = new_state @ W_out[:state.shape[1]] + context @ W_out[state.shape[1]:] + b_out
    return logits, new_state, weights
'''),
    Variant("w13_sequence_loss", "F.cross_entropy with ignore_index", _TORCH + '''
import torch.nn.functional as F

def sequence_loss(logits, targets, pad_id):
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=pad_id)
'''),
    Variant("w13_sequence_loss", "logsumexp minus the picked logit, boolean indexing",
            _TORCH + '''
def sequence_loss(logits, targets, pad_id):
    real = targets != pad_id
    rows, picked = logits[real], targets[real]
    nll = torch.logsumexp(rows, dim=1) - rows.gather(1, picked[:, None])[:, 0]
    return nll.mean()
'''),
]

MUTANTS = [
    # teacher forcing
    Variant("w13_teacher_forcing_batch", "EOS appended after the padding, at position T",
            _TORCH + '''
def teacher_forcing_batch(sequences, lengths, bos_id, eos_id, pad_id):
    n, t = sequences.shape
    targets = torch.cat([sequences.long(), torch.full((n, 1), eos_id)], dim=1)
    inputs = torch.cat([torch.full((n, 1), bos_id), sequences.long()], dim=1)
    return inputs, targets
'''),
    Variant("w13_teacher_forcing_batch", "finds the ends from the padding value, not lengths",
            _TORCH + '''
def teacher_forcing_batch(sequences, lengths, bos_id, eos_id, pad_id):
    lengths = (sequences != pad_id).sum(dim=1)
    n, t = sequences.shape
    positions = torch.arange(t + 1)[None, :]
    body = torch.cat([sequences.long(), torch.full((n, 1), pad_id)], dim=1)
    targets = torch.where(positions < lengths[:, None], body, pad_id)
    targets[positions.expand(n, -1) == lengths[:, None]] = eos_id
    inputs = torch.cat([torch.full((n, 1), bos_id), body[:, :-1]], dim=1)
    inputs = torch.where(positions <= lengths[:, None], inputs, pad_id)
    return inputs, targets
'''),
    Variant("w13_teacher_forcing_batch", "returns (targets, inputs): shifted the wrong way",
            _TORCH + '''
def teacher_forcing_batch(sequences, lengths, bos_id, eos_id, pad_id):
    n, t = sequences.shape
    positions = torch.arange(t + 1)[None, :]
    body = torch.cat([sequences.long(), torch.full((n, 1), pad_id)], dim=1)
    targets = torch.where(positions < lengths[:, None], body, pad_id)
    targets[positions.expand(n, -1) == lengths[:, None]] = eos_id
    inputs = torch.cat([torch.full((n, 1), bos_id), body[:, :-1]], dim=1)
    inputs = torch.where(positions <= lengths[:, None], inputs, pad_id)
    return targets, inputs
'''),
    Variant("w13_teacher_forcing_batch", "inputs not cut after the sequence (garbage leaks in)",
            _TORCH + '''
def teacher_forcing_batch(sequences, lengths, bos_id, eos_id, pad_id):
    n, t = sequences.shape
    positions = torch.arange(t + 1)[None, :]
    body = torch.cat([sequences.long(), torch.full((n, 1), pad_id)], dim=1)
    targets = torch.where(positions < lengths[:, None], body, pad_id)
    targets[positions.expand(n, -1) == lengths[:, None]] = eos_id
    inputs = torch.cat([torch.full((n, 1), bos_id), body[:, :-1]], dim=1)
    return inputs, targets
'''),
    # attention
    Variant("w13_additive_attention", "ignores the mask (attends to padding)", _TORCH + '''
def additive_attention(query, keys, values, W_q, W_k, v, mask):
    scores = torch.tanh((query @ W_q)[:, None, :] + keys @ W_k) @ v
    weights = torch.softmax(scores, dim=1)
    return (weights[:, :, None] * values).sum(dim=1), weights
'''),
    Variant("w13_additive_attention", "zeroes masked weights after the softmax, no "
            "renormalization", _TORCH + '''
def additive_attention(query, keys, values, W_q, W_k, v, mask):
    scores = torch.tanh((query @ W_q)[:, None, :] + keys @ W_k) @ v
    weights = torch.softmax(scores, dim=1) * mask
    return (weights[:, :, None] * values).sum(dim=1), weights
'''),
    Variant("w13_additive_attention", "no tanh (a bilinear score)", _TORCH + '''
def additive_attention(query, keys, values, W_q, W_k, v, mask):
    scores = ((query @ W_q)[:, None, :] + keys @ W_k) @ v
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=1)
    return (weights[:, :, None] * values).sum(dim=1), weights
'''),
    Variant("w13_additive_attention", "softmax written as exp / sum (overflows)", _TORCH + '''
def additive_attention(query, keys, values, W_q, W_k, v, mask):
    scores = torch.tanh((query @ W_q)[:, None, :] + keys @ W_k) @ v
    e = torch.exp(scores) * mask
    weights = e / e.sum(dim=1, keepdim=True)
    return (weights[:, :, None] * values).sum(dim=1), weights
'''),
    Variant("w13_additive_attention", "context from the keys instead of the values", _TORCH + '''
def additive_attention(query, keys, values, W_q, W_k, v, mask):
    scores = torch.tanh((query @ W_q)[:, None, :] + keys @ W_k) @ v
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
    return (weights[:, :, None] * keys).sum(dim=1), weights
'''),
    # beam search
    Variant("w13_beam_search_step", "ignores the beams' scores so far", _TORCH + '''
def beam_search_step(log_probs, beam_scores, beam_size):
    v = log_probs.shape[1]
    scores, flat = log_probs.flatten().topk(beam_size)
    return scores, flat // v, flat % v
'''),
    Variant("w13_beam_search_step", "best token of each beam, then the best k beams",
            _TORCH + '''
def beam_search_step(log_probs, beam_scores, beam_size):
    best, tokens = (beam_scores[:, None] + log_probs).max(dim=1)
    k = min(beam_size, len(best))
    scores, parents = best.topk(k)
    return scores, parents, tokens[parents]
'''),
    Variant("w13_beam_search_step", "parent and token from the wrong divisor (i % B, i // B)",
            _TORCH + '''
def beam_search_step(log_probs, beam_scores, beam_size):
    b = log_probs.shape[0]
    scores, flat = (beam_scores[:, None] + log_probs).flatten().topk(beam_size)
    return scores, flat % b, flat // b
'''),
    Variant("w13_beam_search_step", "ranks by the sum but returns only the new token's "
            "log-probability", _TORCH + '''
def beam_search_step(log_probs, beam_scores, beam_size):
    v = log_probs.shape[1]
    _, flat = (beam_scores[:, None] + log_probs).flatten().topk(beam_size)
    return log_probs.flatten()[flat], flat // v, flat % v
'''),
    # attention backward
    Variant("w13_attention_backward", "forgets the softmax's normalizer (dscores = a * dweights)",
            _TORCH + '''
def attention_backward(dcontext, weights, values):
    dweights = torch.einsum("ntd,nd->nt", values, dcontext)
    return weights * dweights, weights[:, :, None] * dcontext[:, None, :]
'''),
    Variant("w13_attention_backward", "subtracts the plain mean of dweights, not the weighted one",
            _TORCH + '''
def attention_backward(dcontext, weights, values):
    dweights = torch.einsum("ntd,nd->nt", values, dcontext)
    dscores = weights * (dweights - dweights.mean(dim=1, keepdim=True))
    return dscores, weights[:, :, None] * dcontext[:, None, :]
'''),
    Variant("w13_attention_backward", "dvalues ignores the weights (broadcast dcontext)",
            _TORCH + '''
def attention_backward(dcontext, weights, values):
    dweights = torch.einsum("ntd,nd->nt", values, dcontext)
    dscores = weights * (dweights - (weights * dweights).sum(dim=1, keepdim=True))
    return dscores, dcontext[:, None, :].expand_as(values).clone()
'''),
    Variant("w13_attention_backward", "uses the diagonal of the softmax Jacobian only",
            _TORCH + '''
def attention_backward(dcontext, weights, values):
    dweights = torch.einsum("ntd,nd->nt", values, dcontext)
    return weights * (1 - weights) * dweights, weights[:, :, None] * dcontext[:, None, :]
'''),
    # decoder step
    Variant("w13_attention_decoder_step", "the new state queries the encoder (Luong order)",
            _TORCH + '''
def _attend(query, keys, W_q, W_k, v, mask):
    scores = torch.tanh((query @ W_q)[:, None, :] + keys @ W_k) @ v
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
    return (weights[:, :, None] * keys).sum(dim=1), weights

def attention_decoder_step(tokens, state, enc_outputs, mask, embedding, W_q, W_k, v,
                           W_ih, W_hh, b_ih, b_hh, W_out, b_out):
    context_old, _ = _attend(state, enc_outputs, W_q, W_k, v, mask)
    new_state = torch.gru_cell(torch.cat([embedding[tokens], context_old], 1), state,
                               W_ih, W_hh, b_ih, b_hh)
    context, weights = _attend(new_state, enc_outputs, W_q, W_k, v, mask)
    return torch.cat([new_state, context], 1) @ W_out + b_out, new_state, weights
'''),
    Variant("w13_attention_decoder_step", "the cell's input concatenated as [context, embedding]",
            _TORCH + '''
def attention_decoder_step(tokens, state, enc_outputs, mask, embedding, W_q, W_k, v,
                           W_ih, W_hh, b_ih, b_hh, W_out, b_out):
    scores = torch.tanh((state @ W_q)[:, None, :] + enc_outputs @ W_k) @ v
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
    context = (weights[:, :, None] * enc_outputs).sum(dim=1)
    new_state = torch.gru_cell(torch.cat([context, embedding[tokens]], 1), state,
                               W_ih, W_hh, b_ih, b_hh)
    return torch.cat([new_state, context], 1) @ W_out + b_out, new_state, weights
'''),
    Variant("w13_attention_decoder_step", "the output layer reads the previous state",
            _TORCH + '''
def attention_decoder_step(tokens, state, enc_outputs, mask, embedding, W_q, W_k, v,
                           W_ih, W_hh, b_ih, b_hh, W_out, b_out):
    scores = torch.tanh((state @ W_q)[:, None, :] + enc_outputs @ W_k) @ v
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
    context = (weights[:, :, None] * enc_outputs).sum(dim=1)
    new_state = torch.gru_cell(torch.cat([embedding[tokens], context], 1), state,
                               W_ih, W_hh, b_ih, b_hh)
    return torch.cat([state, context], 1) @ W_out + b_out, new_state, weights
'''),
    Variant("w13_attention_decoder_step", "ignores the source mask", _TORCH + '''
def attention_decoder_step(tokens, state, enc_outputs, mask, embedding, W_q, W_k, v,
                           W_ih, W_hh, b_ih, b_hh, W_out, b_out):
    weights = torch.softmax(torch.tanh((state @ W_q)[:, None, :] + enc_outputs @ W_k) @ v, 1)
    context = (weights[:, :, None] * enc_outputs).sum(dim=1)
    new_state = torch.gru_cell(torch.cat([embedding[tokens], context], 1), state,
                               W_ih, W_hh, b_ih, b_hh)
    return torch.cat([new_state, context], 1) @ W_out + b_out, new_state, weights
'''),
    # sequence loss
    Variant("w13_sequence_loss", "padding counted as a class to predict", _TORCH + '''
import torch.nn.functional as F

def sequence_loss(logits, targets, pad_id):
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())
'''),
    Variant("w13_sequence_loss", "mean of per-sequence means (sequences, not tokens, count)",
            _TORCH + '''
def sequence_loss(logits, targets, pad_id):
    nll = -torch.log_softmax(logits, -1).gather(-1, targets[..., None])[..., 0]
    real = targets != pad_id
    per_sequence = (nll * real).sum(1) / real.sum(1).clamp(min=1)
    return per_sequence[real.any(1)].mean()
'''),
    Variant("w13_sequence_loss", "sum over tokens divided by the batch size", _TORCH + '''
def sequence_loss(logits, targets, pad_id):
    nll = -torch.log_softmax(logits, -1).gather(-1, targets[..., None])[..., 0]
    return (nll * (targets != pad_id)).sum() / targets.shape[0]
'''),
]


HIDDEN_ONLY_MUTANTS = [
    Variant("w13_sequence_loss", "log of softmax (−inf once a probability rounds to 0; "
            "hidden cases only)", _TORCH + '''
def sequence_loss(logits, targets, pad_id):
    probs = torch.softmax(logits, dim=-1)
    nll = -torch.log(probs.gather(-1, targets[..., None])[..., 0])
    real = targets != pad_id
    return (nll * real).sum() / real.sum()
'''),
    Variant("w13_sequence_loss", "padding id hard-coded to 0 (hidden cases only)", _TORCH + '''
import torch.nn.functional as F

def sequence_loss(logits, targets, pad_id):
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=0)
'''),
    Variant("w13_beam_search_step", "multiplies probabilities, then takes the log "
            "(underflows for long hypotheses; hidden cases only)", _TORCH + '''
def beam_search_step(log_probs, beam_scores, beam_size):
    v = log_probs.shape[1]
    probs = torch.exp(beam_scores)[:, None] * torch.exp(log_probs)
    best, flat = probs.flatten().topk(beam_size)
    return torch.log(best), flat // v, flat % v
'''),
]
