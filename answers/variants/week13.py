"""Week 13 alternatives (must pass) and mutants (must fail)."""

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
]
