# Archivist — the quick start is `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Set to a PostgreSQL server URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
# to run the database tests a second time on PostgreSQL; .ci/run does.
TEST_POSTGRES_URL ?=
PYTEST_WORKERS ?= 2

.PHONY: run test install dev lint bench screenshots clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

## make run: set up ./var with demo data and an admin (printed once), then serve on :8000
run: install
	$(BIN)/archivist quickstart
	$(BIN)/archivist serve --host 127.0.0.1 --port 8000

## make test: the whole suite on SQLite, then the database tests on PostgreSQL if configured
test: dev
	env -u ARCHIVIST_TEST_POSTGRES_URL $(BIN)/pytest -n $(PYTEST_WORKERS)
ifneq ($(strip $(TEST_POSTGRES_URL)),)
	ARCHIVIST_TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) -m db
endif

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## make bench: the benchmarks of docs/performance.md (long: tens of minutes)
bench: dev
	$(BIN)/python -m bench.ingest
	@for b in search nightly mentions forms replay; do \
		if [ -f bench/$$b.py ]; then $(BIN)/python -m bench.$$b || exit 1; fi; \
	done

## make screenshots: refresh docs/screenshots/ from the browser tests
screenshots: dev
	ARCHIVIST_UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/browser/test_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
