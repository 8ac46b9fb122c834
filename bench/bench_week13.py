"""Week 13 benchmark: reversing digit sequences with and without additive attention.

Two GRU encoder–decoders with the same sizes and the same training budget (teacher forcing
on freshly generated sequences of lengths 1–20), one with Bahdanau attention. Each is scored
by exact match (every token and the end-of-sequence right) of greedy decoding on fresh
sequences of each length; beam search (k = 4) is reported at the longest length. The model
without attention is the attention model's oracle: same task, same budget, no attention.
Target: the attention model reaches ≥ 95% exact match at the longest length, and the model
without attention declines with length.
"""

from __future__ import annotations

import time

import torch

from bench import Row
from grader.config import fast_mode, pick
from grader.data import data_dir
from answers.kernels import week13 as k
from grader.train import train_or_load

torch.set_num_threads(1)  # a shared 2-core machine: one thread avoids oversubscription

CONFIG = pick(k.Seq2SeqConfig(steps=1000, batch_size=256),
              k.Seq2SeqConfig(steps=20, batch_size=32, max_len=8))
LENGTHS = pick([4, 8, 12, 16, 20], [4, 8])
N_EVAL = pick(1000, 50)
N_BEAM = pick(200, 5)
BEAM_SIZE = 4


def trained(attention: bool) -> tuple[k.Seq2Seq, dict]:
    torch.manual_seed(0)
    model = k.Seq2Seq(hidden=CONFIG.hidden, embed=CONFIG.embed, attention=attention)
    name = (f"week13-reverse-{'attention' if attention else 'plain'}-{CONFIG.steps}x"
            f"{CONFIG.batch_size}{'-fast' if fast_mode() else ''}.pt")
    info = train_or_load(data_dir() / "checkpoints" / name, model,
                         lambda: k.train_seq2seq(model, CONFIG, progress=False))
    return model, info


def beam_accuracy(model: k.Seq2Seq, length: int, n: int) -> float:
    source, lengths, target = k.reversal_batch(n, length, length,
                                               torch.Generator().manual_seed(7))
    hits = 0
    for row in range(n):
        tokens = k.beam_decode(model, source[row], length, BEAM_SIZE, length + 1)
        hits += tokens == target[row, :length].tolist()
    return hits / n


def attention_vs_length() -> list[Row]:
    rows = []
    curves = {}
    for attention in (False, True):
        t0 = time.monotonic()
        model, info = trained(attention)
        curves[attention] = k.accuracy_by_length(model, LENGTHS, N_EVAL)
        curves[attention, "beam"] = beam_accuracy(model, LENGTHS[-1], N_BEAM)
        curves[attention, "seconds"] = time.monotonic() - t0
        curves[attention, "train"] = info.get("seconds", 0.0)
        curves[attention, "params"] = sum(p.numel() for p in model.parameters())
    name = {True: "with attention", False: "no attention"}
    for length in LENGTHS:
        for attention in (True, False):
            longest = length == LENGTHS[-1] and attention
            rows.append(Row(
                f"exact match, {name[attention]}, length {length} (greedy)",
                curves[attention][length], "accuracy",
                oracle="no attention, same budget" if attention else "",
                oracle_value=curves[False][length] if attention else None,
                target="≥ 0.95 at the longest length" if longest else "",
                met=bool(curves[True][length] >= 0.95) if longest else None,
                notes=f"{N_EVAL} fresh sequences" if length == LENGTHS[0] else ""))
    decline = curves[False][LENGTHS[0]] - curves[False][LENGTHS[-1]]
    rows.append(Row(f"no attention: decline from length {LENGTHS[0]} to {LENGTHS[-1]}", decline,
                    "accuracy points", target="a decline is shown (≥ 0.2)",
                    met=bool(decline >= 0.2)))
    for attention in (True, False):
        rows.append(Row(
            f"exact match, {name[attention]}, length {LENGTHS[-1]} (beam k={BEAM_SIZE})",
            curves[attention, "beam"], "accuracy", oracle="greedy, same model",
            oracle_value=curves[attention][LENGTHS[-1]],
            notes=f"{N_BEAM} sequences"))
        rows.append(Row(
            f"training time, {name[attention]}", curves[attention, "train"], "s",
            notes=f"{CONFIG.steps} steps × {CONFIG.batch_size} sequences of lengths "
                  f"{CONFIG.min_len}–{CONFIG.max_len}; GRU {CONFIG.hidden}; "
                  f"{curves[attention, 'params']:,} parameters (time of the run that saved "
                  "the checkpoint)"))
    return rows


BENCHMARKS = [attention_vs_length]
