# Passerelles — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json

.PHONY: run test lint setup init serve clean

# axe-core for the browser tests' accessibility checks, pinned in package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

init: setup
	$(BIN)/passerelles init

## Set up, load the reference and open data into the embedded SQLite database, serve on :8000.
run: init
	$(BIN)/passerelles serve --host 127.0.0.1 --port 8000

## Set up, then run the whole suite (SQLite always; PostgreSQL at 127.0.0.1:5432 when reachable, required under CI=true).
test: setup $(NODE_STAMP)
	mkdir -p test-artifacts/screenshots
	$(BIN)/pytest

## Format check, lint, types, and no model change without its migration.
lint: setup
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/python -m passerelles.checks migrations

clean:
	rm -rf $(VENV) var
