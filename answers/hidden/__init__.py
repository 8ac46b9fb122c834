"""Hidden case generators: inputs aimed at the mistakes the public cases do not catch.

One module per week (``answers.hidden.weekNN``), each function ``rng -> list[Case]`` named in
its exercise's ``Exercise(hidden="answers.hidden.weekNN:<function>")``. Drawn only when
grading (hidden checks, the autograder), never stored in a public fixture.
"""
