"""The syllabus table in course/README.md is counted from the assignments, and kept fresh."""

from __future__ import annotations

from grader import syllabus


def test_syllabus_table_is_up_to_date():
    text = syllabus.README.read_text()
    assert syllabus.START in text and syllabus.END in text
    assert syllabus.render(text, syllabus.course_figures()) == text, \
        "course/README.md's syllabus table is stale: run `python -m grader syllabus`"


def test_counts_of_week01():
    week = next(w for w in syllabus.course_figures() if w.week == 1)
    assert (week.auto_points, week.manual_points, week.exercises, week.written) == (15, 5, 7, 2)
    assert week.code_lines >= week.exercises  # at least one line per exercise


def test_solution_lines_skip_blanks_comments_and_code_outside_the_markers():
    source = ("def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    # a comment\n\n"
              "    y = x + 1\n    return y\n    ### END SOLUTION\nprint(f(1))\n")
    assert syllabus.solution_lines(source) == ["    y = x + 1", "    return y"]


def test_render_replaces_only_the_table():
    weeks = syllabus.course_figures()[:1]
    text = f"intro\n{syllabus.START}\nold\n{syllabus.END}\noutro\n"
    new = syllabus.render(text, weeks)
    assert new.startswith("intro\n") and new.endswith("\noutro\n") and "old" not in new
    assert syllabus.render(new, weeks) == new
