# Two commands a newcomer needs: `make lab` and `make test`. Both create the virtual
# environment (.venv) on first use and install the pinned versions.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_ARGS ?=

.PHONY: setup lab test clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml toolkit/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e toolkit -e .
	@touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=course $(LAB_ARGS)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
