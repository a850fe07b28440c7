# Two commands a newcomer needs: `make lab` and `make test`. Both create the virtual
# environment (.venv) on first use and install the pinned versions.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_ARGS ?=

ASSIGNMENTS := $(notdir $(wildcard solutions/[0-9]*))

.PHONY: setup lab author test lint release check clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml toolkit/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e toolkit -e .
	@touch $(STAMP)

# JupyterLab refuses to run as root (containers often do) unless told it may
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
# kernel websockets without Nagle's delay: each plot frame reaches the page ~30 ms sooner
# (toolkit/descentlab/lab_server.py; the browser tests start their server the same way)
LAB_FLAGS := --ServerApp.kernel_websocket_connection_class=descentlab.lab_server.NoDelayConnection $(ROOT_FLAG)

lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=course $(LAB_FLAGS) $(LAB_ARGS)

# Edit the lessons: JupyterLab on solutions/, where jupytext saves each notebook and its
# text twin together (solutions/jupytext.toml; see docs/authoring.md)
author: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=solutions $(LAB_FLAGS) $(LAB_ARGS)

test: setup
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

# ruff over the code and the lessons' text twins (make test runs it too: tests/test_lint.py)
lint: setup
	$(BIN)/ruff check grader gradeclient toolkit tests benchmarks solutions
	$(BIN)/ruff check --select E501 solutions/*/*.ipynb

# Sync each lesson with its text twin, then regenerate course/ from solutions/ (commit the result; a test checks they agree).
release: setup
	$(BIN)/python -m grader release

# Grade one notebook against the hidden tests: make check NB=course/01_momentum/momentum.ipynb
check: setup
	@test -n "$(NB)" || { echo "usage: make check NB=course/01_momentum/momentum.ipynb"; exit 2; }
	$(BIN)/python -m grader check $(NB)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
