# Resonanz: `make demo` serves the demo, `make test` runs the whole test suite.
# Both create .venv with the machine's python3 when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test bench lint format i18n clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/resonanz demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/submit.py
	$(BIN)/python bench/analysis.py
	$(BIN)/python bench/respond_page.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

i18n: $(STAMP)
	$(BIN)/resonanz i18n update

clean:
	rm -rf $(VENV) resonanz.sqlite3 resonanz.sqlite3-wal resonanz.sqlite3-shm resonanz.secret
