"""The reading track and the time budget of course/README.md (issue 16 items 3 and 4).

* Every week's section of the syllabus has a **Reading.** bullet: chapters or sections of the
  Deep Learning book (Goodfellow, Bengio and Courville 2016) and papers, each with what to read
  it for; every lecture opens (after its title cell) with a Reading cell that names the same
  sections and papers.
* The time budget is an *estimate* computed by ``grader.syllabus.estimate`` from quantities
  that are counted or measured — lines of learner code and written questions, the reading
  track's entries, and the measured run times in ``bench/results`` — and the README's tables,
  Hours bullets and Overview hours are exactly what ``python -m grader syllabus`` writes.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from grader import syllabus
from grader.config import REPO_ROOT
from grader.syllabus import (BUDGET_END, BUDGET_START, README, WAITS, WEEKS, Estimate,
                             estimate, measured_seconds, parse_reading, reading_bullet,
                             week_sections)


def readings() -> dict[int, syllabus.Reading]:
    return syllabus.readings(README.read_text())


def lecture(week: int):
    path = next((REPO_ROOT / "course").glob(f"week{week:02d}-*.ipynb"))
    return nbformat.read(path, as_version=4)


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
    assert current == syllabus.render_budget(estimate()), \
        "course/README.md's time budget is stale: run `python -m grader syllabus`"


def test_estimate_is_the_stated_formula():
    # 1.5 h lecture + 2 × 0.5 h book + 1 × 1 h paper + 30 lines / 10 + 2 × 0.5 h + 1800 s
    e = Estimate(week=1, book=2, papers=1, code_lines=30, written=2, wait_seconds=1800)
    assert (e.reading_h, e.code_h, e.written_h, e.wait_h) == (2.0, 3.0, 1.0, 0.5)
    assert e.total_h == pytest.approx(8.0)


def test_overview_hours_and_week_sections_quote_the_estimate():
    text = README.read_text()
    sections = week_sections(text)
    overview = text.split("\n## Overview\n", 1)[1].split("\n## ", 1)[0]
    for e in estimate():
        row = re.search(rf"^\| {e.week} \| [^|]+ \| [^|]+ \| ([^|]+) \|", overview, flags=re.M)
        assert row and row.group(1).strip() == f"≈ {e.total_h:.0f}", \
            f"week {e.week}: the Overview's hours {row and row.group(1)!r} ≠ ≈ {e.total_h:.0f}"
        bullet = " ".join(sections[e.week].split("- **Hours.** ", 1)[1].split("\n- **")[0].split())
        assert bullet.startswith(syllabus.hours_sentence(e)), \
            f"week {e.week}: its Hours bullet does not quote the estimate ≈ {e.total_h:.0f}"


def test_waits_name_measured_runs():
    for week, sources in WAITS.items():
        for name, row in sources:
            assert measured_seconds(name, row) > 0, \
                f"week {week}: {name} {row!r} has no measured time"
