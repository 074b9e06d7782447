# The quick start: `make demo` (seed the default database offline, print the evidence page,
# write the static site to demo-site/)
# and `make test` (linters, type checks and the whole test suite). Both create .venv when missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.refdb-installed

.PHONY: demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/refdb seed
	$(BIN)/refdb page
	$(BIN)/refdb site demo-site
	@echo "the static evidence site: open demo-site/index.html"

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
