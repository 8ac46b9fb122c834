"""The answer key: reference kernels and variants (correct alternatives, mutants).

Kept apart from the course library (:mod:`grader`) so that what a class hands out to
learners can leave it out: ``python -m grader distribute`` builds that learner distribution
without this package and without ``solutions/``. The trusted grader imports it to score;
learner code in a sandbox can never import it.
"""
