"""Variants of the milestones of weeks 12 and 13: alternatives pass, mutants fail.

As in :mod:`answers.variants.milestones`, each variant is a whole solution cell of the
reference notebook with one plausible change (a replacement that no longer applies raises).
They are graded as notebooks in ``tests/test_milestones_late.py`` (a milestone is scored on a
trained model, not function by function): every alternative must earn full marks, every
mutant must lose points on the bar or the probe. Since the grader runs the learner's
``fine_tune`` itself (week 12's budget), a mistake in the week-12 loop costs ``w12_milestone``
points; the mistakes of week 13's decoder that leave the trained checkpoint's decoding intact
cost the probe's.
"""

from __future__ import annotations

from pathlib import Path

from answers.variants import cell_variant

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
W12 = SOLUTIONS / "week12-transfer" / "milestone.ipynb"
W13 = SOLUTIONS / "week13-seq2seq" / "milestone.ipynb"

# --- week 12: the set-up and the step (w12_milestone's cell) -----------------------------
_W12_MODES = ("""    for index, stage in enumerate(model.stages):
        stage.train(index >= n_frozen)  # frozen stages keep normalizing with stored statistics
    model.head.train()""",
              """    model.train()
    for stage in model.stages[:n_frozen]:
        stage.eval()  # frozen stages keep normalizing with stored statistics""")
_W12_ALL_TRAIN = ("stage.train(index >= n_frozen)", "stage.train()")
_NEW_HEAD = ("    model.head = nn.Linear(model.head.in_features, n_classes)"
             ".to(model.head.weight.dtype)\n")
_W12_HEAD_LATE = ((f"{_NEW_HEAD}    groups = []\n", "    groups = []\n"),
                  ("    return torch.optim.Adam(groups)",
                   f"{_NEW_HEAD}    return torch.optim.Adam(groups)"))
_W12_STEP_FIRST = ("    optimizer.zero_grad()\n    loss.backward()\n    optimizer.step()",
                   "    optimizer.zero_grad()\n    optimizer.step()\n    loss.backward()")

# --- week 12: the fine-tuning loop (w12_milestone_probe's cell, run by the grader) ---------
_W12_STREAM = ("""    order, position, losses = torch.randperm(len(y), generator=generator), 0, []
    for _ in tqdm(range(steps), desc="fine-tune", disable=not progress):
        if position + batch_size > len(y):
            order, position = torch.randperm(len(y), generator=generator), 0
        batch = order[position:position + batch_size]
        position += batch_size""",
               """    epochs = -(-steps * batch_size // len(y)) + 1  # shuffled epochs, end to end
    stream = torch.cat([torch.randperm(len(y), generator=generator) for _ in range(epochs)])
    losses = []
    for step in tqdm(range(steps), desc="fine-tune", disable=not progress):
        batch = stream[step * batch_size:(step + 1) * batch_size]""")
_W12_EPOCHS = ("    for _ in tqdm(range(steps), desc=\"fine-tune\",",
               "    for _ in tqdm(range(steps // len(y)), desc=\"fine-tune\",")
_W12_LABELS = ("finetune_step(model, optimizer, x[batch], y[batch], N_FROZEN)",
               "finetune_step(model, optimizer, x[batch], y[position - batch_size:position], "
               "N_FROZEN)")
_W12_SOURCE = ("    return model, losses", "    return source, losses")

# --- week 13: the decoder and the loss (w13_milestone's cell) -----------------------------
_W13_CE = ("""    log_probs = torch.log_softmax(logits, dim=-1)
    picked = log_probs.gather(-1, targets[..., None])[..., 0]
    real = targets != pad_id
    return -(picked * real).sum() / real.sum()""",
           """    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=pad_id)""")
_W13_SOFTMAX_BATCH = ("torch.softmax(scores, dim=1)", "torch.softmax(scores, dim=0)")
_W13_LOSS_PADDING = ("return -(picked * real).sum() / real.sum()", "return -picked.mean()")
_W13_NO_SHIFT = ("inputs = torch.cat([torch.full((n, 1), bos_id), body[:, :-1]], dim=1)",
                 "inputs = body.clone()")
#: A predictor that hard-codes the task: greedy decoding replaced by the reversal itself,
#: whatever the model (its checkpoint loads, its weights are never used).
_W13_HARD_CODED = ("def sequence_loss(", '''def greedy_decode(model, source, lengths, max_len):
    """The reversal, written out: no model needed."""
    tokens = torch.full((source.shape[0], max_len), PAD)
    for row, length in enumerate(lengths.tolist()):
        tokens[row, :length] = source[row, :length].flip(0)
        tokens[row, length] = EOS
    return tokens, None


def sequence_loss(''')

# --- week 13: the training step (w13_milestone_probe's cell) ------------------------------
_W13_ZERO_FIRST = ("""    model.train()
    inputs, targets""", """    model.train()
    optimizer.zero_grad()  # before the forward pass: the same gradients
    inputs, targets""")
_W13_ZERO_FIRST_2 = ("    optimizer.zero_grad()\n    loss.backward()", "    loss.backward()")
_W13_ASCENT = ("    loss.backward()", "    (-loss).backward()")
_W13_NO_STEP = ("    optimizer.step()\n", "")
_W13_ZERO_LATE = ("    optimizer.zero_grad()\n    loss.backward()\n"
                  "    nn.utils.clip_grad_norm_(model.parameters(), clip)\n",
                  "    loss.backward()\n    nn.utils.clip_grad_norm_(model.parameters(), clip)\n"
                  "    optimizer.zero_grad()\n")

ALTERNATIVES = [
    cell_variant(W12, "w12_milestone", "frozen stages put in eval mode after model.train()",
                 _W12_MODES),
    cell_variant(W12, "w12_milestone_probe",
                 "batches cut from one stream of shuffled epochs", _W12_STREAM),
    cell_variant(W13, "w13_milestone", "loss as F.cross_entropy with ignore_index", _W13_CE),
    cell_variant(W13, "w13_milestone_probe", "gradients zeroed before the forward pass",
                 _W13_ZERO_FIRST, _W13_ZERO_FIRST_2),
]

MUTANTS = [
    cell_variant(W12, "w12_milestone", "frozen batch norm thaws (every stage in training mode)",
                 _W12_ALL_TRAIN),
    cell_variant(W12, "w12_milestone", "new head created after the optimizer's groups",
                 *_W12_HEAD_LATE),
    cell_variant(W12, "w12_milestone", "optimizer step before the backward pass",
                 _W12_STEP_FIRST),
    cell_variant(W12, "w12_milestone_probe", "steps read as epochs of the labelled images",
                 _W12_EPOCHS),
    cell_variant(W12, "w12_milestone_probe", "labels sliced by position, not by the batch",
                 _W12_LABELS),
    cell_variant(W12, "w12_milestone_probe", "the source network returned, not the copy",
                 _W12_SOURCE),
    cell_variant(W13, "w13_milestone", "attention softmax over the batch", _W13_SOFTMAX_BATCH),
    cell_variant(W13, "w13_milestone", "loss averaged over padding too", _W13_LOSS_PADDING),
    cell_variant(W13, "w13_milestone", "decoder reads the token it must predict (no shift)",
                 _W13_NO_SHIFT),
    cell_variant(W13, "w13_milestone", "decoding hard-codes the reversal (weights unused)",
                 _W13_HARD_CODED),
    cell_variant(W13, "w13_milestone_probe", "gradient ascent (minus the loss)", _W13_ASCENT),
    cell_variant(W13, "w13_milestone_probe", "no optimizer step", _W13_NO_STEP),
    cell_variant(W13, "w13_milestone_probe", "gradients zeroed between backward and step",
                 _W13_ZERO_LATE),
]
