# Quick start: `make demo` and `make test` on a machine with only python3 and make.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: venv test lint typecheck generate check-generated pytest pytest-uvloop demo clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# ruff (with C901: complexity at most 15, pyproject.toml), mypy --strict, and
# tools/check_layout.py (module and function sizes, import cycles).
lint: venv typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/check_layout.py

typecheck: venv
	$(BIN)/mypy

# The endpoint table, methods, models, docs/endpoints.md and the README's counts, from
# spec/papi (tools/generate_endpoints.py).  check-generated fails if any would change.
generate: venv
	$(BIN)/python tools/generate_endpoints.py

check-generated: venv
	$(BIN)/python tools/generate_endpoints.py --check

pytest: venv
	$(BIN)/pytest

# The suite once more on uvloop's event loop (tests/conftest.py reads PAPI_TEST_LOOP).
pytest-uvloop: venv
	PAPI_TEST_LOOP=uvloop $(BIN)/pytest -q

test: lint typecheck check-generated pytest pytest-uvloop

demo: venv
	$(BIN)/python examples/demo.py $(ARGS)

# A UM order lifecycle and a borrow-then-repay-debt flow, on the embedded simulator.
.PHONY: examples
examples: venv
	$(BIN)/python examples/order_lifecycle.py
	$(BIN)/python examples/borrow_repay.py
	$(BIN)/python examples/exactly_once.py

# CPU per signed call vs the raw-aiohttp floor and order/cancel latency vs hand-written aiohttp,
# on asyncio and uvloop; memory; micro-benchmarks (benchmarks/README.md). Shrink it with e.g.
# BENCH_ARGS="--calls 500 --repeats 1 --latency-pairs 200 --memory-calls 5000 --micro-n 10000".
BENCH_ARGS ?=

.PHONY: bench
bench: venv
	$(BIN)/python benchmarks/bench_calls.py $(BENCH_ARGS)

# The in-memory store against RedisBudgetStore (a redis-server started on a free 127.0.0.1
# port): Redis round trips and admission latency at 80 calls/s, CPU per call at c=32.
.PHONY: bench-redis
bench-redis: venv
	$(BIN)/python benchmarks/bench_shared_store.py $(BENCH_REDIS_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist
