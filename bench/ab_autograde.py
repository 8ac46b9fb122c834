"""Grading time of this checkout against a base checkout, interleaved (issue 19: "grading time
per submission stays within 1.5× today's").

    python -m bench.ab_autograde --base /work/wt-grade19-base [--runs 2] [--copies 1]
                                 [--assignments week01-numpy,week09-rnn] [--write]

The simulated class of each assignment (:func:`grader.demo.write_class`, this checkout's
variants, ``--copies`` times) is written once; then the *same* submitted notebooks are
graded by each checkout with its own grader, in its own virtual environment
(``<checkout>/.venv/bin/python``, its folder as working directory), in the order base,
new, new, base, … (``--runs`` each): a machine whose load drifts during the comparison
weighs on both sides alike. Each grading is ``grader.autograde.autograde`` with 2 jobs,
seed 1, a 10 s cell timeout and the best isolation available (as ``bench autograde``),
gradebook included; releasing and writing the class are not timed.

Figures per checkout: the wall-clock time of the class and the mean per-submission time
(``NotebookResult.seconds``: sandbox start to score), with the 1-minute load average at
the start of each run. ``--write`` stores one row per assignment in
``bench/results/autograde.json`` (value: new/base of the per-submission means; the rows of
an earlier A/B of the same name are replaced, the others kept) and refreshes
``bench/RESULTS.md``. ``--wall-factor F`` grades the new side with ``Limits(wall_factor=F)``
(1: cells and calls cut off on the wall clock, as before the regrade-stability fix).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import Row

#: What each checkout runs (only API both sides have: autograde, release, db_url).
CHILD = r"""
import json, os, sys, time
from pathlib import Path
from grader.autograde import autograde
from grader.release import ASSIGNMENTS, db_url, release
from grader.sandbox import Limits

assignment, submitted, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
release([assignment], work=work)
load = os.getloadavg()[0]
start = time.monotonic()
extra = {"wall_factor": float(os.environ["AB_WALL_FACTOR"])} if os.environ.get("AB_WALL_FACTOR") else {}
results = autograde(assignment, submitted, work / "autograded", ASSIGNMENTS,
                    db_url=db_url(work), jobs=2, seed=1, progress=False, require_full=False,
                    limits=Limits(cell_timeout=10, **extra))
seconds = time.monotonic() - start
import grader
print(json.dumps({"seconds": seconds, "load": load, "count": len(results),
                  "per_submission": sum(r.seconds for r in results) / max(1, len(results)),
                  "score": round(sum(r.score for r in results), 4), "grader": grader.__file__}))
"""

PREFIX = "grading time per submission, new/base (issue 19)"


def write_submissions(assignment: str, folder: Path, copies: int) -> int:
    """``copies`` × the simulated class of ``assignment`` in nbgrader's submitted/ layout."""
    from grader.demo import write_class

    once = folder.parent / f"{folder.name}-once"
    students = write_class(assignment, once)
    for copy in range(copies):
        for student in students:
            shutil.copytree(once / student, folder / f"{student}-{copy:03d}")
    shutil.rmtree(once)
    return copies * len(students)


def grade_with(checkout: Path, assignment: str, submitted: Path,
               wall_factor: float | None = None) -> dict:
    """Grade ``submitted`` with ``checkout``'s grader; its figures (see :data:`CHILD`).
    ``wall_factor``: ``Limits.wall_factor`` of that grading (a checkout that has it)."""
    python = checkout / ".venv" / "bin" / "python"
    with tempfile.TemporaryDirectory(prefix="ab-work-") as work:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COURSE_FAST")}
        if wall_factor is not None:
            env["AB_WALL_FACTOR"] = str(wall_factor)
        run = subprocess.run([str(python), "-c", CHILD, assignment, str(submitted), work],
                             cwd=checkout, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{checkout}: exit {run.returncode}\n{run.stderr[-3000:]}")
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    if not figures["grader"].startswith(str(checkout.resolve())):
        raise RuntimeError(f"{checkout}'s Python imported {figures['grader']}")
    return figures


def compare(base: Path, new: Path, assignment: str, runs: int, copies: int,
            wall_factor: float | None = None) -> Row:
    with tempfile.TemporaryDirectory(prefix="ab-class-") as tmp:
        submitted = Path(tmp) / "submitted"
        count = write_submissions(assignment, submitted, copies)
        order = [side for i in range(runs) for side in (("base", "new") if i % 2 == 0
                                                         else ("new", "base"))]
        figures: dict[str, list[dict]] = {"base": [], "new": []}
        for side in order:
            result = grade_with(base if side == "base" else new, assignment, submitted,
                                None if side == "base" else wall_factor)
            figures[side].append(result)
            print(f"  {assignment} {side}: {result['seconds']:.1f} s, "
                  f"{result['per_submission']:.2f} s/submission, load {result['load']:.1f}, "
                  f"score {result['score']}", flush=True)
    mean = {side: statistics.mean(f["per_submission"] for f in figures[side]) for side in figures}
    wall = {side: statistics.mean(f["seconds"] for f in figures[side]) for side in figures}
    ratio = mean["new"] / mean["base"]
    # a side whose runs disagree on the score lost points to something (load): not like for like
    steady = all(len({f["score"] for f in figures[side]}) == 1 for side in figures)
    runs_text = "; ".join(
        f"{side} {f['seconds']:.0f} s ({f['per_submission']:.2f} s/subm., load {f['load']:.1f}, "
        f"score {f['score']:g})"
        for side, f in _in_order(order, figures))
    factor = "" if wall_factor is None else f", new with Limits(wall_factor={wall_factor:g})"
    return Row(f"{PREFIX}, {count} {assignment} submissions{factor}", ratio, "× base",
               f"base {base.name} ({_commit(base)})", 1.0, target="≤ 1.5×", met=(ratio <= 1.5) if steady else None,
               seconds=sum(f["seconds"] for side in figures for f in figures[side]),
               notes=f"per submission: new {mean['new']:.2f} s, base {mean['base']:.2f} s; "
                     f"class wall-clock: new {wall['new']:.0f} s, base {wall['base']:.0f} s "
                     f"(new/base {wall['new'] / wall['base']:.2f}); runs in order: {runs_text}; "
                     f"new {_commit(new)}")


def _in_order(order: list[str], figures: dict[str, list[dict]]):
    seen = {"base": 0, "new": 0}
    for side in order:
        yield side, figures[side][seen[side]]
        seen[side] += 1


def _commit(checkout: Path) -> str:
    run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout,
                         capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           cwd=checkout, capture_output=True, text=True, check=False).stdout
    return run.stdout.strip() + ("+changes" if dirty.strip() else "")


def store(rows: list[Row], command: str) -> Path:
    """Add ``rows`` to ``bench/results/autograde.json``, replacing rows of the same name."""
    from bench.__main__ import RESULTS, write_summary

    path = RESULTS / "autograde.json"
    data = json.loads(path.read_text())
    names = {row.benchmark for row in rows}
    data["rows"] = [r for r in data["rows"] if r["benchmark"] not in names]
    for row in rows:
        data["rows"].append({**row.to_dict(), "command": command})
    path.write_text(json.dumps(data, indent=2) + "\n")
    write_summary()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab_autograde", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="the base checkout")
    parser.add_argument("--new", type=Path, default=Path.cwd(), help="default: this one")
    parser.add_argument("--runs", type=int, default=2, help="gradings per side (default 2)")
    parser.add_argument("--copies", type=int, default=1, help="copies of the class")
    parser.add_argument("--assignments", default="week01-numpy,week09-rnn")
    parser.add_argument("--wall-factor", type=float, default=None,
                        help="Limits.wall_factor of the new side (default: its default)")
    parser.add_argument("--write", action="store_true", help="store rows in bench/results")
    args = parser.parse_args(argv)
    rows = []
    for assignment in args.assignments.split(","):
        rows.append(compare(args.base, args.new, assignment, args.runs, args.copies,
                            args.wall_factor))
        print(f"{rows[-1].benchmark}: {rows[-1].value:.2f} ({rows[-1].notes})", flush=True)
    if args.write:
        command = ("python -m bench.ab_autograde --base <checkout of the base commit> "
                   f"--runs {args.runs} --copies {args.copies} "
                   f"--assignments {args.assignments} --write"
                   + (f" --wall-factor {args.wall_factor:g}" if args.wall_factor else ""))
        print(f"wrote {store(rows, command)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
