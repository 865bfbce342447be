PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test lint bench schema clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# The benchmarks' own extra (matplotlib for the soak's plot): run and test never need it.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

run: $(STAMP)
	$(BIN)/sms-gateway serve --config config.toml

lint: $(STAMP)
	$(BIN)/ruff check gateway tests bench
	$(BIN)/ruff format --check gateway tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

# The benchmarks need wrk (apt-get install wrk); the search and export ones build a
# 1,000,000-message store in /tmp/search-1m.db once (about 100 s) and reuse it; the soak runs
# 5 minutes of load, waits up to 5 more for its webhooks, and writes docs/soak.png.
bench: $(BENCH_STAMP)
	$(BIN)/python bench/bench_encoding.py
	$(BIN)/python bench/bench_send.py
	$(BIN)/python bench/bench_search.py --db /tmp/search-1m.db
	$(BIN)/python bench/bench_export.py --db /tmp/search-1m.db
	$(BIN)/python bench/bench_delivery.py
	$(BIN)/python bench/bench_hanging_receivers.py
	$(BIN)/python bench/bench_soak.py

# Regenerate the published contract after changing a method or a model (a test fails until then).
schema: $(STAMP)
	$(BIN)/sms-gateway schema > schema/openrpc.json
	$(BIN)/sms-gateway schema --webhook-event > schema/webhook-event.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
