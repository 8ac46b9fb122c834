"""Written answers (manually graded): the autograder records them for the formgrader, the
auto score never counts them, a regrade keeps the instructor's grade, the demo class gets
manual grades and the feedback page shows the manual score and comment."""

from __future__ import annotations

import nbformat
import pytest
from nbgrader.api import Gradebook

from grader.autograde import autograde, manual_grades, write_feedback, written_answers
from grader.demo import (demo_manual_grade, fill, first_sentence, grade_written_answers,
                         model_answers, solution_sources)
from grader.nbgrader_setup import COURSE_ID
from grader.release import ASSIGNMENTS, db_url
from grader.sandbox import Limits

ASSIGNMENT = "week01-numpy"
NOTEBOOK = "numerics.ipynb"
FAST = Limits(cell_timeout=3, call_timeout=3, memory_mb=2048)
RELEASE = ASSIGNMENTS / ASSIGNMENT / NOTEBOOK


def release_nb() -> nbformat.NotebookNode:
    return nbformat.read(RELEASE, as_version=4)


def test_week01_has_written_questions():
    assert set(model_answers(ASSIGNMENT, NOTEBOOK)) == {"w01_q_log_probabilities",
                                                       "w01_q_softplus"}


def test_written_answers_tell_answered_from_untouched():
    model = model_answers(ASSIGNMENT, NOTEBOOK)
    answered = fill(release_nb(), {}, {"w01_q_softplus": model["w01_q_softplus"]})
    found = {w.grade_id: w for w in written_answers(answered, RELEASE)}
    assert found["w01_q_softplus"].answered and found["w01_q_softplus"].points == 2
    assert not found["w01_q_log_probabilities"].answered
    assert not any(w.answered for w in written_answers(None, RELEASE))  # not submitted


def test_demo_grades_follow_the_rubric_simulation():
    model = "It overflows. Because exp grows fast."
    assert demo_manual_grade(model, model, 3) == (3, demo_manual_grade(model, model, 3)[1])
    assert demo_manual_grade(first_sentence(model), model, 3)[0] == 1
    assert demo_manual_grade("no idea", model, 3)[0] == 0


@pytest.mark.slow
def test_written_answers_are_graded_by_hand_and_shown_in_feedback(released_work, tmp_path):
    model = model_answers(ASSIGNMENT, NOTEBOOK)
    code = solution_sources(ASSIGNMENT, NOTEBOOK)
    submitted = tmp_path / "submitted"
    students = {"ann": fill(release_nb(), code, model),  # answers both questions
                "bob": fill(release_nb(), code)}  # answers none
    for student, nb in students.items():
        (submitted / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(nb, submitted / student / ASSIGNMENT / NOTEBOOK)
    db = db_url(released_work)

    def run():
        return {r.student: r for r in autograde(
            ASSIGNMENT, submitted, tmp_path / "autograded", ASSIGNMENTS, db_url=db, jobs=2,
            limits=FAST, seed=3, progress=False)}

    results = run()
    auto_points = results["ann"].max_score
    assert results["ann"].score == auto_points  # full auto marks: written answers not counted
    with Gradebook(db, COURSE_ID) as gb:
        ann = gb.find_submission(ASSIGNMENT, "ann")
        assert ann.max_score == auto_points + 5  # the formgrader shows the written points
        assert ann.needs_manual_grade  # listed as "needs manual grading"
        grade = gb.find_grade("w01_q_softplus", "numerics", ASSIGNMENT, "ann")
        assert grade.auto_score is None and grade.needs_manual_grade and grade.max_score == 2
        bob = gb.find_grade("w01_q_softplus", "numerics", ASSIGNMENT, "bob")
        assert bob.auto_score == 0 and not bob.needs_manual_grade  # untouched: 0, nothing to do
        assert not gb.find_submission(ASSIGNMENT, "bob").needs_manual_grade

    # Before grading, the feedback says the answer is waiting for the instructor.
    write_feedback(ASSIGNMENT, tmp_path / "autograded", tmp_path / "feedback", db_url=db)
    page = (tmp_path / "feedback" / "ann" / ASSIGNMENT / "numerics.html").read_text()
    assert "awaiting manual grading" in page and "w01_q_softplus" in page

    # The (simulated) instructor grades; the feedback shows score and comment; a regrade
    # keeps them.
    assert grade_written_answers(db, submitted, ASSIGNMENT) == 2  # ann's two answers
    run()
    rows = {r["grade_id"]: r for r in manual_grades(db, "ann", ASSIGNMENT, "numerics")}
    assert rows["w01_q_softplus"]["score"] == 2 and "complete and correct" in \
        rows["w01_q_softplus"]["comment"]
    write_feedback(ASSIGNMENT, tmp_path / "autograded", tmp_path / "feedback", db_url=db)
    page = (tmp_path / "feedback" / "ann" / ASSIGNMENT / "numerics.html").read_text()
    assert "complete and correct" in page and "2 / 2" in page
    assert f"Score: {auto_points + 5:g} / {auto_points + 5:g}" in page
    assert "white-space: pre-wrap" in page  # long report lines wrap
    with Gradebook(db, COURSE_ID) as gb:
        assert gb.find_submission(ASSIGNMENT, "ann").score == auto_points + 5
        assert not gb.find_submission(ASSIGNMENT, "ann").needs_manual_grade


def test_feedback_without_a_gradebook_still_renders(tmp_path):
    from grader.autograde import feedback_html

    nb = release_nb()
    page = feedback_html(nb, [{"grade_id": "w01_q_softplus", "points": 2, "score": None,
                               "graded": False, "comment": ""}])
    assert "awaiting manual grading" in page and "– / 2" in page
    assert "(written)" not in feedback_html(nb)  # no gradebook: no written rows


def test_feedback_page_renders_markdown_as_html_and_drops_script():
    """nbconvert's own clean_html escaped every paragraph and heading (visible <p> tags);
    the course's keeps the markup and still removes handlers and script links."""
    import nbformat

    from grader.autograde import feedback_html

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        "# Title\n\nSome *text*.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "<img src=x onerror=alert(1)> [l](javascript:alert(1)) <a href='data:text/html,x'>d</a>")]
    page = feedback_html(nb)
    body = page[page.index('data-mime-type="text/markdown"'):]
    assert '<h1 id="Title">' in body and "<p>Some <em>text</em>.</p>" in body
    assert "<td>1</td>" in body and "&lt;p&gt;" not in body and "&lt;h1" not in body
    for bad in ("onerror", "javascript:", "data:text/html"):
        assert bad not in body


def test_feedback_page_keeps_mathml_but_no_handler_or_link_in_it():
    """The feedback page's sanitizer lets MathML through (the maths rendered when the page is
    written) and nothing that runs or navigates; a learner's own <math> markup does not even
    reach it (their markdown is cleaned as HTML first)."""
    import nbformat

    from grader.autograde import feedback_html
    from grader.pages import clean_rendered_html

    hostile = ("<math><mi href='javascript:alert(1)' onclick='alert(2)' style='color:red'>y</mi>"
               "<maction actiontype='statusline'><mtext>z</mtext></maction>"
               "<mtext><img src=x onerror=alert(3)></mtext></math>")
    cleaned = clean_rendered_html(hostile)
    assert "<mi>y</mi>" in cleaned and "<mtext>z</mtext>" in cleaned
    for bad in ("onclick", "onerror", "javascript:", "style=", "maction"):
        assert bad not in cleaned, bad

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"$x^2$ {hostile}")]
    page = feedback_html(nb)
    body = page[page.index('data-mime-type="text/markdown"'):]
    assert "<msup><mi>x</mi><mn>2</mn></msup>" in body  # the rendered maths is kept
    assert body.count("<math") == 1  # the learner's own is gone
    for bad in ("onclick", "onerror", "javascript:", "style=", "maction"):
        assert bad not in body, bad


def test_a_less_than_sign_in_maths_keeps_the_rest_of_the_paragraph():
    """A ``<`` in maths opened a tag for the HTML sanitizer, which dropped the rest of the
    learner's paragraph from the autograded copy and the feedback page (Week 7's
    ``$\\prod_{m<l}$``, Week 11's ``w_{<t}``); it becomes TeX's ``\\lt`` instead."""
    import nbformat

    from grader.autograde import sanitize_notebook

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        "The gain is $\\prod_{m<l} w_m$ and the history $w_{<t}$, **kept**.\n\n"
        "$$\\sum_{i<j} x_i$$ then <script>alert(1)</script> after.")]
    cleaned = sanitize_notebook(nb).cells[0].source
    assert "$\\prod_{m\\lt l} w_m$" in cleaned and "$w_{\\lt t}$, **kept**." in cleaned
    assert "$$\\sum_{i\\lt j} x_i$$" in cleaned and "after." in cleaned
    assert "<script" not in cleaned and "alert(1)" not in cleaned
