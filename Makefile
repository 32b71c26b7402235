# corespond — two commands: `make run` (everything, embedded defaults) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

LOCK   := requirements.lock
# The lock tool runs from a throwaway venv; it is not a dependency of corespond.
PIP_TOOLS := pip-tools==7.6.2

.PHONY: install chromium lock run test lint typecheck unit schemas bench clean

# Exactly the lock, every file checked against its hash; then corespond itself,
# built with the locked setuptools and nothing fetched on the side.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP) chromium

## The browser tests (tests/browser) drive Debian's Chromium through Playwright; the
## Playwright package's own browser downloads are never used. Installed with apt-get
## when missing (CI is Debian 12 and runs as root); elsewhere install it yourself.
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || ! command -v apt-get >/dev/null || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## Re-resolve requirements.lock from pyproject.toml (runtime + dev extra + build backend),
## pinned and hashed, against the package index alone: machine-local mirrors and wheel
## folders (pip's config files, PIP_FIND_LINKS) are ignored so every pin can be downloaded
## anywhere. Pins that still fit are kept; `make lock LOCK_FLAGS=--upgrade` takes the newest.
## Then `make install` and commit the lock.
LOCK_FLAGS ?=
lock:
	set -e; tools=$$(mktemp -d); trap 'rm -rf "$$tools"' EXIT; \
	$(PYTHON) -m venv "$$tools"; \
	"$$tools/bin/python" -m pip install --quiet $(PIP_TOOLS); \
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	    "$$tools/bin/pip-compile" --quiet \
	    --generate-hashes --allow-unsafe --strip-extras --extra dev --build-deps-for editable \
	    --no-emit-index-url --no-emit-find-links $(LOCK_FLAGS) --output-file $(LOCK) pyproject.toml

## Start Tansu, triage, dispatch and notify with SQLite under ./.corespond/ (Ctrl-C stops all).
run: $(STAMP)
	$(BIN)/corespond up

## Lint, type-check, then the whole suite (real broker, SQLite, and PostgreSQL when reachable).
## Two workers, a test file each at a time (a module's shared stack stays in one worker).
## `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= 2
test: $(STAMP) chromium lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile

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
