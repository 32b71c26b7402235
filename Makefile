# corespond — two commands: `make run` (everything, embedded defaults) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck unit schemas bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start Tansu, triage, dispatch and notify with SQLite under ./.corespond/ (Ctrl-C stops all).
run: $(STAMP)
	$(BIN)/corespond up

## Lint, type-check, then the whole suite (real broker, SQLite, and PostgreSQL when reachable).
test: $(STAMP) lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check services schemas tests
	$(BIN)/ruff format --check services schemas tests
	$(BIN)/mypy

## Regenerate the checked-in JSON Schema files from the pydantic models.
schemas: $(STAMP)
	$(BIN)/python -m schemas.generate

bench: $(STAMP)
	$(BIN)/corespond bench

clean:
	rm -rf $(VENV) .corespond .pytest_cache .mypy_cache .ruff_cache
