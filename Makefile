PYTHON ?= python

.PHONY: install test lint format bench reproduce newest

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
