"""The learner distribution: what a class hands out, without the answer key.

``python -m grader distribute OUT [--answers-through N]`` writes into ``OUT``:

* ``course/`` — the lectures and the syllabus;
* ``assignments/`` — the released notebooks (nbgrader's student version: no solutions, no
  hidden tests);
* ``grader/`` — the course library: the public check engine with its fixtures, data loaders,
  plots, training helpers, the exercise registrations — but none of the grading code
  (:data:`PRIVATE_MODULES`) and no module that imports :mod:`answers`;
* ``bench/results/`` — the committed figures of the reference runs (JSON data, no benchmark
  code), which some lectures plot;
* ``README.md`` for learners, ``requirements.txt`` and a ``pyproject.toml`` that installs
  the course library (``pip install -e .``).

Never ``answers/``, ``solutions/``, ``tests/``, benchmark code or hidden tests.
``--answers-through N`` adds the answer modules (reference kernels and variants) of weeks
``1..N``: they are released after their deadline, and the lecture of week ``N + 1`` may use them.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from grader.config import REPO_ROOT

#: Grading code: never handed out (it needs the answers, or scores submissions).
PRIVATE_MODULES = ("autograde.py", "demo.py", "selfgrade.py", "distribute.py")
#: Answer sub-packages that ``--answers-through`` releases (hidden case generators never are).
RELEASED_ANSWER_PARTS = ("kernels", "variants")

LEARNER_README = """\
# Deep learning from scratch — learner's copy

This folder is what your course hands out: the lectures (`course/`), the assignments
(`assignments/`) and the course library (`grader/`: public checks, data loaders, plots,
training helpers). The answer key and the grading code are not part of it{answers_note}.

## Set up (once)

```bash
python3 -m venv .venv
.venv/bin/pip install -r requirements.txt
.venv/bin/pip install --no-deps -e .
.venv/bin/jupyter lab
```

## Work

1. Read and run the lecture `course/weekNN-*.ipynb` (everything runs on a CPU laptop;
   `COURSE_FAST=1` makes every notebook run in seconds).
2. Copy the assignment before you write in it, so a course update never overwrites your
   work: `python -m grader workspace` copies `assignments/` into `mywork/` (it never
   overwrites a notebook you already have) — then open `mywork/weekNN-*/`.
3. Under each function there is a locked **public check** cell: run it as often as you like.
   It says which case failed, what the case tests and, if you fail it again, where the idea is
   taught. It never shows the expected output.
4. Written questions (cells saying "YOUR ANSWER HERE") are graded by your instructor.
5. Hand in your notebook as your course says (nbgrader's Assignments tab, or a file upload).
   **Hidden checks** with fresh inputs decide the grade of each function.

Datasets are downloaded on first use into `data/` (or `$COURSE_DATA_DIR`).
"""

DIST_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "dlcourse"
version = "0.1.0"
description = "Deep-learning course: the learner distribution (lectures, assignments, course library)"
requires-python = ">=3.10"

[tool.setuptools.packages.find]
include = [{packages}]

[tool.setuptools.package-data]
grader = ["fixtures/*.npz"]
"""


@dataclass
class Manifest:
    """What a distribution holds (relative paths), and which answer weeks it includes."""

    root: Path
    files: list[str] = field(default_factory=list)
    answers_through: int = 0
    left_out: list[str] = field(default_factory=list)  # library modules kept back, with why


def week_number(name: str) -> int | None:
    """``"week07-cnn.ipynb"`` / ``"week07.py"`` → 7; None for other names."""
    match = re.match(r"week(\d+)", name)
    return int(match.group(1)) if match else None


def imports_answers(path: Path) -> bool:
    """Whether a Python module imports the :mod:`answers` package anywhere (any depth)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "answers"
                                                for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "answers":
            return True
    return False


def library_files(repo: Path = REPO_ROOT) -> tuple[list[Path], list[str]]:
    """The course library's files a learner gets, and the modules left out (with why)."""
    package = repo / "grader"
    keep, left_out = [], []
    for path in sorted(package.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        rel = path.relative_to(package)
        if len(rel.parts) == 1 and rel.name in PRIVATE_MODULES:
            left_out.append(f"grader/{rel} (grading code)")
        elif path.suffix == ".py" and imports_answers(path):
            left_out.append(f"grader/{rel} (imports the answers)")
        else:
            keep.append(path)
    return keep, left_out


def _copy(src: Path, dst: Path, manifest: Manifest) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    manifest.files.append(str(dst.relative_to(manifest.root)))


def _notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def build(out: Path, answers_through: int = 0, repo: Path = REPO_ROOT) -> Manifest:
    """Write the learner distribution into ``out`` (emptied first) and return its manifest.

    Args:
        out: the folder to write (created; an existing one is replaced).
        answers_through: include the reference kernels and variants of weeks ``1..N``
            (0: none).
        repo: the course checkout to build from.
    """
    out = Path(out).resolve()
    if out == repo.resolve() or repo.resolve() in out.parents and out.name in (
            "course", "assignments", "grader", "answers", "solutions"):
        raise ValueError(f"refusing to write the distribution over {out}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    manifest = Manifest(out, answers_through=answers_through)

    for path in _notebooks(repo / "course"):
        _copy(path, out / path.relative_to(repo), manifest)
    if (repo / "course" / "README.md").exists():
        _copy(repo / "course" / "README.md", out / "course" / "README.md", manifest)
    for path in _notebooks(repo / "assignments"):
        _copy(path, out / path.relative_to(repo), manifest)
    keep, manifest.left_out = library_files(repo)
    for path in keep:
        _copy(path, out / path.relative_to(repo), manifest)
    for path in sorted((repo / "bench" / "results").glob("*.json")):
        _copy(path, out / path.relative_to(repo), manifest)
    if (repo / "bench" / "RESULTS.md").exists():
        _copy(repo / "bench" / "RESULTS.md", out / "bench" / "RESULTS.md", manifest)

    packages = ['"grader*"']
    if answers_through > 0:
        packages.append('"answers*"')
        answers = repo / "answers"
        _copy(answers / "__init__.py", out / "answers" / "__init__.py", manifest)
        for part in RELEASED_ANSWER_PARTS:
            _copy(answers / part / "__init__.py", out / "answers" / part / "__init__.py",
                  manifest)
            for path in sorted((answers / part).glob("week*.py")):
                week = week_number(path.name)
                if week is not None and week <= answers_through:
                    _copy(path, out / path.relative_to(repo), manifest)

    note = (f"; the answers of weeks 1–{answers_through} (released after their deadline) are "
            "in `answers/`" if answers_through else "")
    (out / "README.md").write_text(LEARNER_README.format(answers_note=note))
    (out / "pyproject.toml").write_text(DIST_PYPROJECT.format(packages=", ".join(packages)))
    (out / ".gitignore").write_text("/mywork/\n/data/\n/work/\n.ipynb_checkpoints/\n"
                                    "__pycache__/\n*.feedback.html\n")
    _copy(repo / "requirements.txt", out / "requirements.txt", manifest)
    manifest.files += ["README.md", "pyproject.toml", ".gitignore"]
    return manifest


def cli_distribute(out: Path, answers_through: int = 0) -> int:
    manifest = build(out, answers_through)
    counts: dict[str, int] = {}
    for rel in manifest.files:
        counts[rel.split("/")[0]] = counts.get(rel.split("/")[0], 0) + 1
    print(f"learner distribution in {manifest.root}: "
          + ", ".join(f"{top} ({n})" for top, n in sorted(counts.items())))
    print("answers: " + (f"weeks 1–{answers_through} (kernels, variants)" if answers_through
                         else "none"))
    for item in manifest.left_out:
        print(f"  kept back: {item}")
    return 0
