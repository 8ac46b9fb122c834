"""PyTorch milestones (weeks 10 and 11): each solution notebook run full size, and what it reaches.

As :mod:`bench.bench_milestones` for weeks 5 and 7: the milestone notebook of ``solutions/``
(the learner's part filled with the reference solution) is copied into a fresh folder (no
checkpoint: it trains) and executed top to bottom, full size (not fast mode). Executed with
nbclient, as ``jupyter nbconvert --execute`` does, except that the cells' printed output is
also streamed to ``bench/out/milestones_torch/weekNN/run.log`` as it comes (one line per
epoch), so that a long run on a shared machine can be followed and, if it is stopped, its
per-epoch figures are not lost. ``OMP_WAIT_POLICY=PASSIVE`` as in ``bench/ptb_lm.py`` (idle
OpenMP threads sleep instead of spinning against the other jobs).

Measured, independently of the notebook's own code:

* week 10: the Fashion-MNIST **test accuracy** of ``milestone_week10.pt``, computed with the
  course's NumPy LeNet-5 forward (:func:`answers.kernels.week07.lenet_forward`) after
  converting the PyTorch weights to the Week 7 layout; oracle: the Week 7 milestone's row of
  ``bench/results/milestones.json``;
* week 11: the PTB **test perplexity** of ``milestone_week11.pt``, computed with the
  course's model (:class:`grader.lm.LSTMLanguageModel`, the same state-dict names) over the
  test split as one stream; oracle: the course's reference LM (``bench/results/week11.json``);
  and the **grading time**: the grader's own call (``milestone_log_probs`` on the whole test
  split) timed in the executed notebook's public check;
* the wall-clock and CPU time of the whole notebook (``getrusage`` of the children).

Each checkpoint is then copied to ``answers/milestones/`` (the demo class's submission).

Run: ``python -m bench milestones_torch`` (both weeks), or one week in the background:
``python bench/bench_milestones_torch.py run 11`` then ``python -m bench milestones_torch``
with ``MILESTONES_TORCH_REUSE=1`` to score a finished run without training again.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from bench import Row
from grader.config import REPO_ROOT, fast_mode

OUT = REPO_ROOT / "bench" / "out" / "milestones_torch"
REFERENCE_CHECKPOINTS = REPO_ROOT / "answers" / "milestones"
#: week -> (notebook, checkpoint, what is trained)
NOTEBOOKS = {
    10: (REPO_ROOT / "solutions" / "week10-pytorch" / "milestone.ipynb", "milestone_week10.pt",
         "PyTorch LeNet-5 (own nn.Module, Adam + cosine, Week 7's data and budget)"),
    11: (REPO_ROOT / "solutions" / "week11-language-model" / "milestone.ipynb",
         "milestone_week11.pt",
         "PTB word LM 2×200 tied LSTM (TBPTT, clipping, plateau decay)"),
}


def _load_average() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def execute(week: int) -> dict:
    """Run week ``week``'s solution notebook in a fresh folder; return what was measured."""
    import nbformat
    from nbclient import NotebookClient

    notebook, checkpoint, _ = NOTEBOOKS[week]
    folder = OUT / f"week{week}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    copy = folder / notebook.name
    shutil.copy(notebook, copy)
    log = (folder / "run.log").open("w", buffering=1)

    class StreamingClient(NotebookClient):
        def process_message(self, msg, cell, cell_index):
            if msg.get("msg_type") == "stream":
                log.write(msg["content"].get("text", ""))
            return super().process_message(msg, cell, cell_index)

    nb = nbformat.read(copy, as_version=4)
    load_before, start, cpu = _load_average(), time.perf_counter(), _cpu_seconds()
    log.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} start, load average {load_before}\n")
    StreamingClient(nb, timeout=None, resources={"metadata": {"path": str(folder)}}).execute()
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    nbformat.write(nb, copy)
    summary = {"week": week, "seconds": seconds, "cpu_seconds": cpu,
               "load_before": load_before, "load_after": _load_average(),
               "fast": fast_mode(), "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
    log.write(f"# finished: {json.dumps(summary)}\n")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":  # python bench/bench_milestones_torch.py run 11
    sys.path.insert(0, str(REPO_ROOT))
    if len(sys.argv) != 3 or sys.argv[1] != "run":
        sys.exit("usage: python bench/bench_milestones_torch.py run WEEK")
    print(json.dumps(execute(int(sys.argv[2]))))
