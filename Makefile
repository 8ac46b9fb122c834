# One entry point per job. Every target sets up what it needs (virtual environment,
# packages, the editable `grader` package) the first time, so each works on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
SHARED_DATA ?= ../shared/data

.PHONY: setup demo test test-fast test-browser test-hub hub lab release fixtures bench clean \
	selfgrade progress workspace distribute syllabus

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## The main job: release every week, simulate a class, autograde it, print the gradebook.
demo: setup
	$(PY) -m grader demo

## The whole test suite (what CI runs). Seeds the data cache from $(SHARED_DATA) when it exists.
test: setup
	@if [ -d "$(SHARED_DATA)" ]; then $(PY) -m grader.data seed "$(SHARED_DATA)"; fi
	$(PY) -m pytest -n 2 --durations=15 -m "not browser and not hub"

## Everything but the slow tests (notebook execution, demo class).
test-fast: setup
	$(PY) -m pytest -n 2 -m "not slow and not browser and not hub"

## JupyterLab and nbgrader as a learner and an instructor use them, in headless Chromium
## (installs Debian's Chromium and Playwright when missing). Screenshots: work/browser-artifacts/.
test-browser: setup
	@if [ -d "$(SHARED_DATA)" ]; then $(PY) -m grader.data seed "$(SHARED_DATA)"; fi
	bash .ci/browser.sh
	COURSE_REQUIRE_BROWSER=1 $(PY) -m pytest -m browser -s tests/test_browser.py

## JupyterLab on the course, with nbgrader's extensions, on 127.0.0.1 only; one Ctrl-C stops
## it (-y: no "Shut down this Jupyter server?" prompt). Containers often run as root: allowed.
LAB_ARGS ?=
lab: setup
	@$(PY) -c 'from grader.hub import write_lab_overrides; write_lab_overrides("$(VENV)")'
	$(BIN)/jupyter lab -y --ip=127.0.0.1 --no-browser --ServerApp.root_dir=$(CURDIR) \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

## A JupyterHub for a class on this machine (as root): installs the hub (Debian's Python,
## pinned JupyterHub and proxy), creates local users dlc-NAME for STUDENTS with homes holding
## the learner distribution, and runs the hub on 127.0.0.1:$(HUB_PORT). README: "Running a
## class on a hub". `$(PY) -m grader hub teardown` removes the users.
STUDENTS ?= alice bob carol
HUB_PORT ?= 8000
hub: setup
	$(PY) -m grader hub install
	$(PY) -m grader hub setup $(STUDENTS)
	$(PY) -m grader hub start --port $(HUB_PORT)

## A class on a real JupyterHub, end to end (as root; real local users, removed afterwards).
test-hub: setup
	@if [ -d "$(SHARED_DATA)" ]; then $(PY) -m grader.data seed "$(SHARED_DATA)"; fi
	COURSE_REQUIRE_HUB=1 $(PY) -m pytest -m hub -s -p no:xdist tests/test_hub.py

## Your own copy of the assignments (git-ignored mywork/; never overwrites your notebooks)
workspace: setup
	$(PY) -m grader workspace $(DIR)

## Self-study: grade your own notebook with the full checks: `make selfgrade NB=mywork/week01-numpy/`
selfgrade: setup
	@test -n "$(NB)" || { echo "usage: make selfgrade NB=mywork/weekNN-<slug>/"; exit 2; }
	$(PY) -m grader selfgrade $(NB)

## Your self-grades across all weeks (terminal table + work/progress.html with a chart)
progress: setup
	$(PY) -m grader progress --html

## Regenerate assignments/ from solutions/ (commit the result).
release: setup
	$(PY) -m grader release

## What a class hands out (lectures, releases, course library; no answers): OUT=dist
OUT ?= dist
ANSWERS_THROUGH ?= 0
distribute: setup
	$(PY) -m grader distribute $(OUT) --answers-through $(ANSWERS_THROUGH)

## Per-week points, written questions and lines of learner code into course/README.md
syllabus: setup
	$(PY) -m grader syllabus

## Regenerate the public check fixtures from the reference kernels (commit the result).
fixtures: setup
	$(PY) -m grader fixtures

clean:
	rm -rf work .pytest_cache .hypothesis

# Packages only the benchmarks need (the mutation-testing tool of `bench mutants`).
$(VENV)/.installed-bench: requirements-bench.txt $(STAMP)
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

## Full-size benchmarks (minutes to an hour): prints a table, writes bench/results/*.json
## and bench/RESULTS.md. One topic: `make bench TOPICS=week03`.
bench: setup $(VENV)/.installed-bench
	@if [ -d "$(SHARED_DATA)" ]; then $(PY) -m grader.data seed "$(SHARED_DATA)"; fi
	$(PY) -m bench $(TOPICS)
