PYTHON ?= python

.PHONY: install test lint format bench reproduce newest docs docs-quick

install:
	$(PYTHON) -m pip install -e ".[test]"

test:
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check src tests benchmarks examples
	$(PYTHON) -m ruff format --check src tests benchmarks examples

format:
	$(PYTHON) -m ruff format src tests benchmarks examples

bench:
	@status=0; for b in benchmarks/bench_*.py; do $(PYTHON) $$b || status=1; done; exit $$status

reproduce:
	leakage reproduce all --out results

newest:
	bash .ci/newest

# the documentation into docs/_build/html (needs: pip install -e ".[test,docs]");
# warnings are errors, as in CI. docs-quick runs the heavier examples at a reduced size.
docs:
	$(PYTHON) -m sphinx -W --keep-going -b html docs docs/_build/html

docs-quick:
	LEAKAGE_DOCS_QUICK=1 $(PYTHON) -m sphinx -W --keep-going -b html docs docs/_build/html
