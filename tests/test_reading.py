"""The reading track and the time budget of course/README.md (issue 16 items 3 and 4).

* Every week's section of the syllabus has a **Reading.** bullet: chapters or sections of the
  Deep Learning book (Goodfellow, Bengio and Courville 2016) and papers, each with what to read
  it for; every lecture opens (after its title cell) with a Reading cell that names the same
  sections and papers.
* The time budget is an *estimate* computed by :func:`estimate` from quantities that are
  counted or measured — lines of learner code and written questions (``python -m grader
  syllabus``), the reading track's entries, and the measured run times in ``bench/results`` —
  and the README's tables are exactly its output (``render_budget``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import nbformat
import pytest

from grader import syllabus
from grader.config import REPO_ROOT

README = REPO_ROOT / "course" / "README.md"
WEEKS = range(1, 16)
BUDGET_START, BUDGET_END = "<!-- time-budget:start -->", "<!-- time-budget:end -->"

# The formula's rates: assumptions, stated in the README next to the table.
LECTURE_HOURS = 1.5  # read and run one lecture notebook
BOOK_HOURS = 0.5  # one entry (a section or a few) of the Deep Learning book
PAPER_HOURS = 1.0  # one paper, read for the point the reading track names
LINES_PER_HOUR = 10  # learner code, including deriving it and debugging against the checks
WRITTEN_HOURS = 0.5  # one written question

#: Measured runs a learner waits for, per week: (bench/results file, row) where row None is the
#: whole ``python -m bench <file>`` run and a string picks the row whose benchmark contains it.
WAITS: dict[int, list[tuple[str, str | None]]] = {
    2: [("week02", None)],
    3: [("week03", None)],
    5: [("week05", None), ("milestones", "week 05 fully-connected net 784-256-256-10, wall-clock")],
    7: [("week07", None), ("milestones", "week 07 LeNet-5, wall-clock")],
    8: [("week08", None)],
    9: [("week09", None)],
    11: [("week11", None), ("week11", "LSTM LM (reference), PTB test perplexity")],
    12: [("week12", None)],
    13: [("week13", None)],
    14: [("week14", None)],
    15: [("capstone", "wall-clock of the whole notebook")],
}

#: The roadmap's blocks, in its full-time weeks (40 h each), and the course weeks they map to.
ROADMAP = [("Classic ML from scratch", 4, range(1, 4)),
           ("Backprop and optimization", 4, range(4, 7)),
           ("CNNs, RNNs and beyond", 6, range(7, 15)),
           ("Paper reimplementation (capstone)", 5, range(15, 16))]
HOURS_PER_ROADMAP_WEEK = 40


def week_sections(text: str) -> dict[int, str]:
    """``{week: its section of the README}``."""
    parts = re.split(r"^## Week (\d+) — ", text, flags=re.M)
    return {int(number): body.split("\n## ")[0] for number, body in zip(parts[1::2], parts[2::2])}


def reading_bullet(section: str) -> str:
    match = re.search(r"^- \*\*Reading\.\*\* (.*?)(?=^- \*\*|\Z)", section, flags=re.M | re.S)
    return " ".join(match.group(1).split()) if match else ""


@dataclass
class Reading:
    book: list[str]  # section references, e.g. "§4.1–4.2" or "ch. 11"
    papers: list[str]  # "Author(s) Year"


def parse_reading(bullet: str) -> Reading:
    """Book entries are ``ref (what for)`` separated by ``;`` before ``Papers:``; papers are
    ``Authors Year, *Title* — read it for …`` separated by ``;`` after it."""
    book_part, _, paper_part = bullet.partition(" Papers: ")
    book_part = book_part.split("(2016): ", 1)[-1]
    book = [re.sub(r"\s*\(.*", "", entry).strip() for entry in re.split(r"\); ", book_part)]
    papers = [re.match(r"(.*?\d{4})", entry.strip()).group(1)
              for entry in paper_part.split(" — read it for ")[:-1]
              for entry in [entry.rsplit("; ", 1)[-1]]]
    return Reading([b for b in book if b], papers)


def readings() -> dict[int, Reading]:
    sections = week_sections(README.read_text())
    return {week: parse_reading(reading_bullet(sections[week])) for week in WEEKS}


def lecture(week: int):
    path = next((REPO_ROOT / "course").glob(f"week{week:02d}-*.ipynb"))
    return nbformat.read(path, as_version=4)


def _seconds(name: str, row: str | None) -> float:
    result = json.loads((REPO_ROOT / "bench" / "results" / f"{name}.json").read_text())
    if row is None:
        return float(result["seconds"])
    (match,) = [r for r in result["rows"] if row in r["benchmark"]]
    return float(match["value"] if match["unit"] == "s" else match["seconds"])


@dataclass
class Estimate:
    week: int
    book: int
    papers: int
    code_lines: int
    written: int
    wait_seconds: float

    @property
    def reading_h(self) -> float:
        return BOOK_HOURS * self.book + PAPER_HOURS * self.papers

    @property
    def code_h(self) -> float:
        return self.code_lines / LINES_PER_HOUR

    @property
    def written_h(self) -> float:
        return WRITTEN_HOURS * self.written

    @property
    def wait_h(self) -> float:
        return self.wait_seconds / 3600

    @property
    def total_h(self) -> float:
        return LECTURE_HOURS + self.reading_h + self.code_h + self.written_h + self.wait_h


def estimate() -> list[Estimate]:
    figures = {int(w.assignment[4:6]): w for w in syllabus.course_figures()}
    reading = readings()
    return [Estimate(week, len(reading[week].book), len(reading[week].papers),
                     figures[week].code_lines, figures[week].written,
                     sum(_seconds(name, row) for name, row in WAITS.get(week, [])))
            for week in WEEKS]


def render_budget() -> str:
    rows = estimate()
    lines = [BUDGET_START, "",
             "| week | reading: book entries + papers | lecture | code: lines | written questions "
             "| waiting for measured runs | estimate |",
             "|---|---|---|---|---|---|---|"]
    for e in rows:
        wait = ("— (no bench run)" if not e.wait_seconds else f"{e.wait_seconds:.0f} s"
                if e.wait_seconds < 60 else f"{e.wait_seconds / 60:.0f} min")
        lines.append(f"| {e.week} | {e.book} + {e.papers} = {e.reading_h:.1f} h | "
                     f"{LECTURE_HOURS:.1f} h | {e.code_lines} = {e.code_h:.1f} h | "
                     f"{e.written} = {e.written_h:.1f} h | {wait} = {e.wait_h:.1f} h | "
                     f"**≈ {e.total_h:.0f} h** |")
    total = sum(e.total_h for e in rows)
    lines += ["", "| roadmap block | roadmap schedule | course weeks | this estimate | share |",
              "|---|---|---|---|---|"]
    for name, weeks, course_weeks in ROADMAP:
        hours = sum(e.total_h for e in rows if e.week in course_weeks)
        schedule = weeks * HOURS_PER_ROADMAP_WEEK
        span = (f"{course_weeks[0]}–{course_weeks[-1]}" if len(course_weeks) > 1
                else str(course_weeks[0]))
        lines.append(f"| {name} | ≈ {weeks} full-time weeks ≈ {schedule} h | {span} | "
                     f"≈ {hours:.0f} h | {hours / schedule:.0%} |")
    schedule = sum(w for _, w, _ in ROADMAP) * HOURS_PER_ROADMAP_WEEK
    lines += [f"| all | ≈ {schedule // HOURS_PER_ROADMAP_WEEK} full-time weeks ≈ {schedule} h "
              f"| 1–15 | ≈ {total:.0f} h | {total / schedule:.0%} |", "", BUDGET_END]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Reading track
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("week", WEEKS)
def test_every_week_of_the_syllabus_has_a_reading_bullet(week):
    bullet = reading_bullet(week_sections(README.read_text())[week])
    assert bullet, f"week {week}: no '- **Reading.**' bullet in course/README.md"
    assert "*Deep Learning* (2016)" in bullet, f"week {week}: the book is not named"
    reading = parse_reading(bullet)
    assert reading.book and all(re.match(r"(§|ch\. )\d", ref) for ref in reading.book), \
        f"week {week}: book entries must be '§N.M' or 'ch. N': {reading.book}"
    assert reading.papers, f"week {week}: no paper with what to read it for"
    assert bullet.count(" — read it for ") == len(reading.papers)


@pytest.mark.parametrize("week", WEEKS)
def test_every_lecture_opens_with_the_same_reading(week):
    cells = lecture(week).cells
    assert cells[0].source.lstrip().startswith("# Week"), f"week {week}: cell 0 is not the title"
    cell = cells[1]
    assert cell.cell_type == "markdown" and cell.source.startswith("**Reading.**"), \
        f"week {week}: the cell after the title is not the Reading cell"
    reading = readings()[week]
    for ref in reading.book:
        assert f"- {ref}: " in cell.source, f"week {week}: the lecture's Reading lacks {ref}"
    for paper in reading.papers:
        assert f"- {paper}" in cell.source, f"week {week}: the lecture's Reading lacks {paper}"
    assert cell.source.count("\n- ") == len(reading.book) + len(reading.papers), \
        f"week {week}: the lecture's Reading has entries the syllabus does not"


def test_parse_reading_splits_book_entries_and_papers():
    bullet = ("Goodfellow, Bengio and Courville, *Deep Learning* (2016): §4.1–4.2 (overflow; "
              "and conditioning); ch. 11 (methodology). Papers: Goldberg 1991, *Floating "
              "point* — read it for rounding; Blanchard et al. 2021, *LSE* — read it for the shift.")
    reading = parse_reading(bullet)
    assert reading.book == ["§4.1–4.2", "ch. 11"]
    assert reading.papers == ["Goldberg 1991", "Blanchard et al. 2021"]


# --------------------------------------------------------------------------------------
# Time budget
# --------------------------------------------------------------------------------------
def test_time_budget_tables_are_the_formulas_output():
    text = README.read_text()
    assert BUDGET_START in text and BUDGET_END in text
    current = text[text.index(BUDGET_START):text.index(BUDGET_END) + len(BUDGET_END)]
    assert current == render_budget(), \
        "course/README.md's time budget is stale: paste tests/test_reading.py's render_budget()"


def test_overview_hours_and_week_sections_quote_the_estimate():
    text = README.read_text()
    sections = week_sections(text)
    overview = text.split("\n## Overview\n", 1)[1].split("\n## ", 1)[0]
    for e in estimate():
        row = re.search(rf"^\| {e.week} \| [^|]+ \| [^|]+ \| ([^|]+) \|", overview, flags=re.M)
        assert row and row.group(1).strip() == f"≈ {e.total_h:.0f}", \
            f"week {e.week}: the Overview's hours {row and row.group(1)!r} ≠ ≈ {e.total_h:.0f}"
        assert f"- **Hours.** ≈ {e.total_h:.0f}, estimated" in sections[e.week], \
            f"week {e.week}: its Hours bullet does not quote the estimate ≈ {e.total_h:.0f}"


def test_waits_name_measured_runs():
    for week, sources in WAITS.items():
        for name, row in sources:
            assert _seconds(name, row) > 0, f"week {week}: {name} {row!r} has no measured time"
