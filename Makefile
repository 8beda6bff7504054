# Everything installs itself into ./.venv on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes: the suite mostly waits on sockets and clocks, so one more than two cores pays.
TEST_WORKERS ?= 3

.PHONY: run test lint check clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Tongbao needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

## run: Tongbao on http://$(HOST):$(PORT) with SQLite in ./.tongbao, the worker and the simulators, a demo merchant
run: $(STAMP)
	$(BIN)/tongbao serve --demo --host $(HOST) --port $(PORT) --data-dir .tongbao

## test: the whole suite on SQLite, and on PostgreSQL when TONGBAO_TEST_PG_URL is set or 127.0.0.1:5432 answers
test: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS)

## lint: ruff, mypy, and the import contracts (pyproject's [tool.importlinter])
lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
