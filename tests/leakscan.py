"""Finding answers where learners can read them (used by test_leaks and test_distribution).

A *solution* is either the body of a solution region (``### BEGIN SOLUTION`` … ``### END
SOLUTION``) of a code cell in ``solutions/``, or the body of a function (or method) of a
reference kernel module ``answers/kernels/weekNN.py``, docstring left out. Lines are compared
whitespace-normalised, comments stripped, trivial lines (signatures, imports, ``else:``,
short lines such as ``return out``) ignored.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.config import REPO_ROOT

#: A normalised line shorter than this is too generic to betray a solution.
MIN_LINE_CHARS = 14
#: The same for a solution that has no longer line (``return w - lr * dw``).
TINY_LINE_CHARS = 8
TRIVIAL_PREFIXES = ("def", "class", "import", "from", "@", '"""', "'''", "raise", "assert",
                    "print(", "else:", "try:", "except", "finally:")
#: Share of a solution's non-trivial lines that makes a document a leak.
VERBATIM_SHARE = 0.5


def strip_comment(line: str) -> str:
    """``line`` without a trailing ``# comment`` (a ``#`` inside a string literal stays)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:i]
    return line


def normalize(line: str) -> str:
    return re.sub(r"\s+", "", strip_comment(line))


def is_trivial(normalized: str, min_chars: int = MIN_LINE_CHARS) -> bool:
    return (len(normalized) < min_chars or normalized.startswith(TRIVIAL_PREFIXES)
            or normalized.strip("()[]{},:") == "")


def significant_lines(lines, min_chars: int = MIN_LINE_CHARS) -> list[str]:
    out = []
    for line in lines:
        n = normalize(line)
        if n and not is_trivial(n, min_chars):
            out.append(n)
    return list(dict.fromkeys(out))


def solution_lines(lines) -> list[str]:
    """Significant lines of a solution; a tiny solution (one short line, such as an update
    rule) keeps its lines of at least :data:`TINY_LINE_CHARS` characters."""
    return significant_lines(lines) or significant_lines(lines, TINY_LINE_CHARS)


@dataclass(frozen=True)
class Solution:
    week: int
    name: str  # "solutions/week01-numpy/numerics.ipynb:w01_softmax" or "answers/…:softmax"
    lines: tuple[str, ...]  # significant normalised lines
    source: str  # the raw text (whole region or function source)


def week_of(name: str) -> int | None:
    match = re.search(r"week(\d+)", name)
    return int(match.group(1)) if match else None


def solution_region(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def notebook_solutions(repo: Path = REPO_ROOT) -> list[Solution]:
    found = []
    for path in sorted((repo / "solutions").glob("week*/*.ipynb")):
        week = week_of(path.parent.name)
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("solution"):
                continue
            region = solution_region(cell.source)
            lines = solution_lines(region)
            if lines:
                found.append(Solution(week, f"{path.relative_to(repo)}:{meta.get('grade_id')}",
                                      tuple(lines), "\n".join(region)))
    return found


def kernel_functions(path: Path) -> list[tuple[str, str, list[str]]]:
    """``(qualified name, whole source, body lines without docstring)`` of each function."""
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    found = []

    def visit(node, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = child.body
                if (body and isinstance(body[0], ast.Expr)
                        and isinstance(body[0].value, ast.Constant)
                        and isinstance(body[0].value.value, str)):
                    body = body[1:]
                if body:
                    body_lines = lines[body[0].lineno - 1: body[-1].end_lineno]
                    whole = ast.get_source_segment(text, child) or ""
                    found.append((f"{prefix}{child.name}", whole, body_lines))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return found


def kernel_solutions(repo: Path = REPO_ROOT) -> list[Solution]:
    found = []
    for path in sorted((repo / "answers" / "kernels").glob("week*.py")):
        week = week_of(path.name)
        for name, whole, body in kernel_functions(path):
            lines = solution_lines(body)
            if lines:
                found.append(Solution(week, f"{path.relative_to(repo)}:{name}", tuple(lines),
                                      whole))
    return found


def all_solutions(repo: Path = REPO_ROOT) -> list[Solution]:
    return notebook_solutions(repo) + kernel_solutions(repo)


# --------------------------------------------------------------------------------------
# Documents and what leaks into them
# --------------------------------------------------------------------------------------
def notebook_text(path: Path, cell_types: tuple[str, ...] = ("code", "markdown")) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type in cell_types)


ANSWER_WEEK = re.compile(r"\banswers[./\\]kernels[./\\]week(\d+)")
ANSWER_FROM_IMPORT = re.compile(r"from\s+answers\.kernels\s+import\s+\(?([\w\s,]+)")
ANSWER_PRIVATE = re.compile(r"\banswers[./\\](hidden|variants)\b")
SOLUTION_FOLDER = re.compile(r"(?<![\w.])solutions/week\d+")


def reference_problems(text: str, week: int) -> list[str]:
    """Imports of (or pointers to) answers of week ``>= week``, ``getsource``, and pointers
    into ``solutions/``, in ``text`` (a lecture, a release, a hint)."""
    problems = []
    for match in ANSWER_WEEK.finditer(text):
        if int(match.group(1)) >= week:
            problems.append(f"uses {match.group(0)} (answers of week {int(match.group(1))})")
    for match in ANSWER_FROM_IMPORT.finditer(text):
        for name in re.findall(r"week(\d+)", match.group(1)):
            if int(name) >= week:
                problems.append(f"imports answers.kernels.week{name}")
    for match in ANSWER_PRIVATE.finditer(text):
        problems.append(f"uses {match.group(0)} (never shown to learners)")
    if "getsource" in text:
        problems.append("calls inspect.getsource (prints source code)")
    for match in SOLUTION_FOLDER.finditer(text):
        problems.append(f"points learners at {match.group(0)} (the solutions)")
    return sorted(set(problems))


def verbatim_problems(text: str, solutions: list[Solution], week: int) -> list[str]:
    """Solutions of week ``>= week`` of which ``text`` holds most lines verbatim."""
    present = set(significant_lines(text.splitlines()))
    problems = []
    for solution in solutions:
        if solution.week is None or solution.week < week:
            continue
        shared = sum(line in present for line in solution.lines)
        # One shared line betrays a one-line solution; of a longer one it may be a generic
        # line (a batching loop) that course-provided code also needs: ask for two.
        if shared / len(solution.lines) >= VERBATIM_SHARE and shared >= min(2, len(solution.lines)):
            problems.append(f"holds {shared} of {len(solution.lines)} lines of {solution.name}")
    return problems


def code_in_hint(hint: str, solutions: list[Solution]) -> list[str]:
    """Solution lines (normalised) that appear in a hint (normalised)."""
    flat = re.sub(r"\s+", "", hint)
    return sorted({f"{line!r} of {s.name}" for s in solutions for line in s.lines
                   if line in flat})
