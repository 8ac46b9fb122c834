"""nbgrader configuration of the course (read by `nbgrader ...`, JupyterLab and `python -m grader`).

Course sources keep their own names: `solutions/` is nbgrader's source folder and
`assignments/` its release folder. Everything an instructor's grading produces (gradebook,
submissions, autograded copies, feedback, the local exchange) goes to the git-ignored `work/`.
"""

import os

from grader.nbgrader_setup import configure

configure(get_config(), os.path.dirname(os.path.abspath(__file__)))  # noqa: F821
