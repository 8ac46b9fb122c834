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


def _notebook(path, *sources: str) -> None:
    import nbformat

    cells = [nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "solution": True, "grade": False, "grade_id": f"c{i}", "schema_version": 3}})
        for i, source in enumerate(sources)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


def test_functions_pasted_from_earlier_work_are_not_counted_again(tmp_path):
    exercise = ("def f(x):\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n"
                "    ### END SOLUTION\n")
    _notebook(tmp_path / "week01-a" / "ex.ipynb", exercise)
    _notebook(tmp_path / "week02-b" / "milestone.ipynb",
              "def model(x):\n    ### BEGIN SOLUTION\n    return f(x) * 2\n    ### END SOLUTION\n"
              "\n### BEGIN SOLUTION\ndef f(x):\n    y = x + 1\n    return y\n\n"
              "def f2(x, scale):\n    return f(x) * scale\n### END SOLUTION\n")
    # same name, other parameters: new work (a PyTorch port of a NumPy function, say)
    _notebook(tmp_path / "week03-c" / "milestone.ipynb",
              "### BEGIN SOLUTION\ndef f(model, x):\n    return model(x)\n### END SOLUTION\n")
    # a week's milestone is counted after its exercise notebook, whatever the names' order
    _notebook(tmp_path / "week04-d" / "milestone.ipynb",
              "### BEGIN SOLUTION\ndef g(x):\n    return x\n### END SOLUTION\n")
    _notebook(tmp_path / "week04-d" / "zz_exercises.ipynb",
              "def g(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n")
    weeks = syllabus.course_figures(tmp_path)
    assert [(w.code_lines, w.pasted_lines) for w in weeks] == [(2, 0), (3, 3), (2, 0), (1, 2)]
    assert weeks[1].pasted == ["milestone.ipynb: f"]


def test_course_milestones_count_pasted_layers_once():
    weeks = {w.week: w for w in syllabus.course_figures()}
    # Week 7's milestone asks for Week 4's and this week's layers to be pasted
    assert "milestone.ipynb: conv2d_backward" in weeks[7].pasted
    assert "milestone.ipynb: affine_backward" in weeks[7].pasted
    assert weeks[1].pasted_lines == 0


def test_check_fails_on_drift_and_the_command_repairs_it(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(syllabus.README.read_text())
    assert syllabus.cli_syllabus(check_only=True, readmes=(readme,)) == 0
    text = readme.read_text()
    e = syllabus.estimate()[6]  # week 7
    stale = text.replace(f"| 7 | Convolutional networks, LeNet | available | ≈ {e.total_h:.0f} |",
                         "| 7 | Convolutional networks, LeNet | available | ≈ 99 |")
    stale = stale.replace(f"- **Hours.** ≈ {e.total_h:.0f}, estimated",
                          "- **Hours.** ≈ 99, estimated")
    assert stale.count("≈ 99") == 2
    readme.write_text(stale)
    assert syllabus.cli_syllabus(check_only=True, readmes=(readme,)) == 1
    assert syllabus.write(readmes=(readme,)) == [readme]
    assert readme.read_text() == text
