# The quick start: `make demo` (seed the default database offline, print the evidence page,
# write the static site to demo-site/, say where the database is)
# and `make test` (linters, type checks and the whole test suite). Both create .venv when missing.
# The demo installs refdb alone; the test targets add the test extra (pytest, mypy, ruff,
# selenium, psycopg, hypothesis, ...), each install marked by its own stamp file.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.refdb-app-installed
STAMP := $(VENV)/.refdb-installed

.PHONY: demo test lint typecheck pytest bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $(APP_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(APP_STAMP)
	$(BIN)/refdb seed
	$(BIN)/refdb page
	$(BIN)/refdb site demo-site
	@echo "the static evidence site: open demo-site/index.html"
	@echo "the database (set REFDB_DATABASE_URL or pass --db to use another):"
	@$(BIN)/refdb db info

LINTED := $(wildcard refdb tests migrations benchmarks docs)

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

# bench_scale.py at 100,000 studies takes minutes; never run it in CI.
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --scale-sizes 1000,10000,100000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
