"""``python -m grader COMMAND``: the one command line for instructors and maintainers.

Commands:
    release [ASSIGNMENT ...]      regenerate assignments/ from solutions/ (+ gradebook)
    autograde ASSIGNMENT          grade work/submitted/*/ASSIGNMENT in parallel sandboxes
                                  (--scheduler ADDRESS: on a Dask cluster)
    worker ADDRESS                start a grading worker of a Dask cluster
    feedback ASSIGNMENT           write feedback HTML for the autograded notebooks
    export [--out FILE]           gradebook → CSV (one row per student and assignment)
    demo                          release everything, simulate a class, grade it, report
    fixtures                      regenerate the public check fixtures from the kernels
    selfgrade PATH ...            self-study: grade your own notebook(s) with the full checks
    progress [--html [PATH]]      self-study: your self-grades across all weeks
    hub install|setup|start|teardown   a JupyterHub for the class on this machine
    workspace [DIR]               your own copy of the assignments (default mywork/)
    distribute OUT [--answers-through N]
                                  the learner distribution a class hands out (no answers)
    syllabus [--check]            per-week points, written questions, lines of learner code,
                                  the time budget and the hours into course/README.md
                                  (--check: fail when they drifted)
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

from grader.config import REPO_ROOT, work_dir
from grader.gradebook import export_rows, gradebook_table  # noqa: F401 (re-exported)
from grader.sandbox import Limits


def _folders(work: Path) -> dict[str, Path]:
    return {name: work / name for name in ("submitted", "autograded", "feedback")}


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(cell_timeout=args.cell_timeout, memory_mb=args.memory_mb)


def cmd_release(args: argparse.Namespace) -> int:
    from grader.release import release

    for path in release(args.assignments or None, work=args.work):
        print(f"released {path}")
    return 0


def cmd_fixtures(args: argparse.Namespace) -> int:
    from grader.check import all_exercises, save_fixture

    for exercise in all_exercises().values():
        if exercise.score:  # a milestone: scored by a metric, no stored fixture
            continue
        print(f"wrote {save_fixture(exercise)}")
    return 0


def _grade(assignment: str | list[str], args: argparse.Namespace,
           require_full: bool = True) -> list:
    from grader.autograde import autograde
    from grader.release import ASSIGNMENTS, db_url

    folders = _folders(args.work)
    return autograde(assignment, folders["submitted"], folders["autograded"], ASSIGNMENTS,
                     db_url=db_url(args.work), students=args.students or None, jobs=args.jobs,
                     limits=_limits(args), seed=args.seed, resume=getattr(args, "resume", False),
                     work=args.work, require_full=require_full,
                     scheduler=getattr(args, "scheduler", None))


def cmd_autograde(args: argparse.Namespace) -> int:
    from grader.isolation import IsolationUnavailable

    try:
        results = _grade(args.assignment, args)
    except IsolationUnavailable as error:
        print(f"✗ {error}", file=sys.stderr)
        return 2
    except Exception as error:
        from grader.cluster import ClusterError

        if not isinstance(error, ClusterError):
            raise
        print(f"✗ {error}", file=sys.stderr)
        return 3
    if not results:
        print(f"no submissions found in {_folders(args.work)['submitted']}/*/{args.assignment}/")
        return 1
    print(gradebook_table(results))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Start a grading worker of a Dask cluster (``dask worker``), refusing without full
    isolation: it runs other people's code."""
    import socket

    from grader.cluster import course_fingerprint
    from grader.isolation import full_isolation_problem

    problem = full_isolation_problem()
    if problem:
        print(f"✗ a grading worker runs other people's code and needs full isolation: {problem}",
              file=sys.stderr)
        return 2
    name = args.name or f"{socket.gethostname()}-{os.getpid()}"
    space = args.work / "dask-worker-space"
    space.mkdir(parents=True, exist_ok=True)
    print(f"grading worker {name}: course version {course_fingerprint()[:12]}, "
          f"{args.slots} slot(s), scheduler {args.address}", flush=True)
    command = [sys.executable, "-m", "distributed.cli.dask_worker", args.address,
               "--nthreads", str(args.slots), "--nworkers", "1", "--name", name,
               "--local-directory", str(space), "--no-dashboard",
               "--nanny" if args.nanny else "--no-nanny"]
    if args.host:
        command += ["--host", args.host]
    sys.stdout.flush()
    os.execv(sys.executable, command)
    return 0  # not reached


def cmd_feedback(args: argparse.Namespace) -> int:
    from grader.autograde import write_feedback

    from grader.release import db_url

    folders = _folders(args.work)
    paths = write_feedback(args.assignment, folders["autograded"], folders["feedback"],
                           db_url=db_url(args.work))
    for path in paths:
        print(f"wrote {path}")
    return 0 if paths else 1


def cmd_export(args: argparse.Namespace) -> int:
    from grader.release import db_url

    rows = export_rows(db_url(args.work))
    out = Path(args.out or args.work / "grades.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")
    return 0




def cmd_demo(args: argparse.Namespace) -> int:
    from grader.autograde import write_feedback
    from grader.demo import grade_written_answers, register_class, write_class
    from grader.nbgrader_setup import release_to_exchange
    from grader.release import assignment_ids, db_url, release

    start = time.monotonic()
    folders = _folders(args.work)
    assignments = assignment_ids()
    unknown = sorted(set(args.assignments) - set(assignments))
    if unknown:
        print(f"unknown assignment(s): {', '.join(unknown)}; the course has: "
              f"{', '.join(assignments)}", file=sys.stderr)
        return 2
    assignments = [a for a in assignments if a in args.assignments] or assignments
    print(f"1/4 releasing {len(assignments)} assignments (nbgrader generate_assignment) …")
    release(assignments, work=args.work)
    release_to_exchange(assignments, REPO_ROOT, args.work)
    for assignment in assignments:
        students = write_class(assignment, folders["submitted"])
    register_class(db_url(args.work), students)
    print(f"2/4 simulated class for each assignment: {', '.join(students)}")
    from grader.isolation import HOW_TO_FIX, full_isolation_problem, isolation_level

    level = isolation_level()
    print(f"3/4 autograding {len(students) * len(assignments)} submissions, {args.jobs} at a "
          f"time (cell timeout {args.cell_timeout:g} s, memory {args.memory_mb} MB, "
          f"{level} isolation) …")
    if level != "full":  # the simulated class is the course's own code: basic is enough here
        print(f"  note: {full_isolation_problem() or 'basic isolation forced'}; "
              "`autograde` refuses to grade real submissions like this. To fix: "
              f"{HOW_TO_FIX}.")
    results = _grade(assignments, args, require_full=False)
    manual = sum(grade_written_answers(db_url(args.work), folders["submitted"], assignment)
                 for assignment in assignments)
    print(f"   written answers graded by the simulated instructor: {manual}")
    for assignment in assignments:
        week = [r for r in results if r.assignment == assignment]
        print(f"\n{assignment}\n{gradebook_table(week)}")
        for result in week:
            for flag in result.flags:
                print(f"  ⚑ {result.student}: {flag}")
            for error in result.cell_errors:
                print(f"  ⚠ {result.student}: {error}")
        write_feedback(assignment, folders["autograded"], folders["feedback"],
                       db_url=db_url(args.work))
    args.out = None
    cmd_export(args)
    elapsed = time.monotonic() - start
    print(f"4/4 done in {elapsed:.1f} s. Where everything is:\n"
          f"  gradebook      {args.work / 'gradebook.db'} (nbgrader; `make lab` → Formgrader)\n"
          f"  grades CSV     {args.work / 'grades.csv'}\n"
          f"  submissions    {folders['submitted']}/<student>/<assignment>/\n"
          f"  autograded     {folders['autograded']}/<student>/<assignment>/\n"
          f"  feedback HTML  {folders['feedback']}/<student>/<assignment>/*.html")
    return _demo_verdict(results)


def _demo_verdict(results: list) -> int:
    """The demo is also a smoke test: the reference must get full marks, the release zero."""
    problems = []
    for r in results:
        if r.student == "ada-reference" and r.score != r.max_score:
            problems.append(f"reference solution scored {r.score}/{r.max_score} on {r.notebook}")
        if r.student == "ben-untouched" and r.score != 0:
            problems.append(f"untouched release scored {r.score} on {r.notebook}")
    for problem in problems:
        print(f"DEMO FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def cmd_selfgrade(args: argparse.Namespace) -> int:
    from grader.selfgrade import cli_selfgrade

    return cli_selfgrade(args.paths, work=args.work, db=args.db, limits=_limits(args),
                         seed=args.seed)


def cmd_progress(args: argparse.Namespace) -> int:
    from grader.selfgrade import cli_progress

    return cli_progress(args.work, db=args.db, html_path=args.html)


def cmd_workspace(args: argparse.Namespace) -> int:
    from grader.workspace import cli_workspace

    return cli_workspace(args.dir)


def cmd_distribute(args: argparse.Namespace) -> int:
    from grader.distribute import cli_distribute

    return cli_distribute(args.out, args.answers_through)


def cmd_syllabus(args: argparse.Namespace) -> int:
    from grader.syllabus import cli_syllabus

    return cli_syllabus(check_only=args.check)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=work_dir(),
                        help="working folder for gradebook and submissions (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)

    def grading_options(p: argparse.ArgumentParser, cell_timeout: float = 30.0) -> None:
        p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                       help="submissions graded at once (default: CPU count, %(default)s)")
        p.add_argument("--cell-timeout", type=float, default=cell_timeout,
                       help="seconds a notebook cell may run (default: %(default)s)")
        p.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                       help="address-space limit of each sandbox (default: %(default)s)")
        p.add_argument("--seed", type=int, default=None,
                       help="seed of the hidden cases (default: one per student and "
                            "assignment, from the course secret in WORK; kept on regrade)")
        p.add_argument("--students", nargs="*", help="only these students")

    p = sub.add_parser("release", help="regenerate assignments/ from solutions/")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(func=cmd_release)
    p = sub.add_parser("autograde", help="grade submissions in sandboxes")
    p.add_argument("assignment")
    p.add_argument("--resume", action="store_true",
                   help="skip notebooks already autograded since their submission")
    p.add_argument("--scheduler", default=os.environ.get("COURSE_SCHEDULER") or None,
                   metavar="ADDRESS",
                   help="grade on a Dask cluster: tcp://host:8786, tls://…, or local:N "
                        "(default: $COURSE_SCHEDULER; --jobs is then ignored)")
    grading_options(p)
    p.set_defaults(func=cmd_autograde)
    p = sub.add_parser("worker", help="start a grading worker of a Dask cluster (root)")
    p.add_argument("address", help="the scheduler, e.g. tcp://head:8786")
    p.add_argument("--slots", type=int, default=os.cpu_count() or 1,
                   help="notebooks graded at once (default: CPU count, %(default)s)")
    p.add_argument("--name", default=None, help="worker name (default: host-pid)")
    p.add_argument("--host", default=None, help="interface to listen on (default: Dask's)")
    p.add_argument("--no-nanny", dest="nanny", action="store_false",
                   help="no nanny process restarting the worker")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("feedback", help="write feedback HTML")
    p.add_argument("assignment")
    p.set_defaults(func=cmd_feedback)
    p = sub.add_parser("export", help="gradebook to CSV")
    p.add_argument("--out", type=Path)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("demo", help="simulate and grade a class for every week")
    p.add_argument("assignments", nargs="*", help="only these weeks (default: every week)")
    grading_options(p, cell_timeout=15.0)  # `import torch` alone takes ~6 s on a busy 2-core machine
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("fixtures", help="regenerate public check fixtures")
    p.set_defaults(func=cmd_fixtures)
    p = sub.add_parser("selfgrade", help="grade your own notebook with the full checks")
    p.add_argument("paths", nargs="+", type=Path, help="notebooks or assignment folders")
    p.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout,
                   help="seconds a notebook cell may run (default: %(default)s)")
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                   help="address-space limit of the sandbox (default: %(default)s)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the hidden cases (default: a fresh one per run)")
    p.add_argument("--db", type=Path, default=None,
                   help="progress records (default: $COURSE_PROGRESS_DB or WORK/progress.sqlite)")
    p.set_defaults(func=cmd_selfgrade)
    p = sub.add_parser("progress", help="your self-grades across all weeks")
    p.add_argument("--db", type=Path, default=None,
                   help="progress records (default: $COURSE_PROGRESS_DB or WORK/progress.sqlite)")
    p.add_argument("--html", nargs="?", const="", default=None, metavar="PATH",
                   help="also write an HTML page with a chart (default: WORK/progress.html)")
    p.set_defaults(func=cmd_progress)
    from grader.hub import add_parser as add_hub_parser

    add_hub_parser(sub)  # python -m grader hub install|setup|start|teardown
    p = sub.add_parser("workspace", help="copy the assignments into your own folder")
    p.add_argument("dir", nargs="?", type=Path, default=None,
                   help="your folder (default: mywork/ in the checkout; git-ignored)")
    p.set_defaults(func=cmd_workspace)
    p = sub.add_parser("distribute", help="build the learner distribution (no answers)")
    p.add_argument("out", type=Path, help="folder to write (replaced)")
    p.add_argument("--answers-through", type=int, default=0, metavar="N",
                   help="include the answers of weeks 1..N (released after their deadline)")
    p.set_defaults(func=cmd_distribute)
    p = sub.add_parser("syllabus", help="write the per-week figures, the time budget and the "
                                        "hours into course/README.md (and README.md)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when a generated part is stale")
    p.set_defaults(func=cmd_syllabus)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.work = args.work.resolve()
    os.environ["COURSE_WORK_DIR"] = str(args.work)  # sandboxes hide this folder
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as error:  # the learner distribution has no grading code
        if not (error.name or "").startswith(("grader.", "answers")):
            raise
        print(f"`python -m grader {args.command}` needs the course's full checkout: "
              f"{error.name} is not part of this copy (a learner distribution has no answers "
              "and no grading code)", file=sys.stderr)
        return 2
