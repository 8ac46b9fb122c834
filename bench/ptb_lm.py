"""Train the course's LSTM language model on full Penn Treebank (the week-11 benchmark).

    python bench/ptb_lm.py --config reference   # 2×200 tied LSTM, ≤ 45 min of training
    python bench/ptb_lm.py --config long        # the same network, 40 epochs, no time limit
    python bench/ptb_lm.py --config averaged    # long, weights averaged over its last 10 epochs
    python bench/ptb_lm.py --config medium      # 2×650 tied LSTM, dropout 0.5, 40 epochs
    python bench/ptb_lm.py --config reference --budget-min inf --json out.json
    python bench/ptb_lm.py --config reference --seed 2 --name reference-seed2  # another seed

Any field of :class:`answers.kernels.week11.LMConfig` can be overridden (``--epochs 3``).
The run logs one line per epoch, keeps the best-valid checkpoint in the data cache
(``<data>/checkpoints/ptb_<name>.pt``, never committed; ``python -m bench week11`` re-measures
it) and can continue after an interruption with ``--resume``.
"""

from __future__ import annotations

import os

# Idle OpenMP threads sleep instead of spinning: on a shared machine spinning threads fight
# the other processes for the cores, and an epoch took 7× longer here without this.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from answers.kernels.week11 import LM_CONFIGS, LMConfig, train_language_model


def _parse_bool(text: str) -> bool:
    return text.lower() in {"1", "true", "yes"}


_PARSERS = {"int": int, "float": float, "bool": _parse_bool, "str": str}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(LM_CONFIGS), default="reference")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--json", type=Path, help="where to write the summary")
    for field in dataclasses.fields(LMConfig):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=_PARSERS[field.type],
                            help=f"default: the config's {field.name}")
    args = parser.parse_args(argv)
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(LMConfig)
                 if getattr(args, f.name) is not None}
    config = dataclasses.replace(LM_CONFIGS[args.config], **overrides)
    print(json.dumps(dataclasses.asdict(config)), flush=True)
    result = train_language_model(config, resume=args.resume,
                                  log=lambda line: print(line, flush=True))
    best = min(result["history"], key=lambda h: h["valid_ppl"])
    print(f"best epoch {best['epoch']} of {len(result['history'])}: valid ppl "
          f"{result['valid_ppl']:.2f}, test ppl {result['test_ppl']:.2f}, "
          f"{result['train_seconds'] / 60:.1f} min of training", flush=True)
    if args.json:
        args.json.write_text(json.dumps({k: v for k, v in result.items() if k != "last_state"},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
