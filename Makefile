# vectorrouter — the targets a newcomer needs. `make install` creates .venv/ and installs everything.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch must be installed before sentence-transformers, or pip picks a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: install demo test lint bench eval clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install $(TORCH)
	$(BIN)/pip install -e '.[all,dev]'
	$(BIN)/pip install -e 'integrations/langchain-vectorrouter[test,bench]' -e 'integrations/llama-index-vectorrouter[test,bench]'

demo: install
	$(BIN)/vectorrouter demo

test: install
	$(BIN)/pytest

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Benchmarks print tables and write the same figures under bench/results/. The SciFact ones run when ../shared is there.
# Every benchmark runs even when an earlier one misses its target; the run then ends naming the ones that missed.
SCIFACT := ../shared/datasets/scifact
bench: install
	mkdir -p bench/results
	@missed=""; \
	run() { name=$$1; shift; $(BIN)/python "$$@" || missed="$$missed $$name"; }; \
	run engine bench/engine.py --sizes 100000 --queries 1000 --json bench/results/engine.json; \
	run failover bench/failover.py --json bench/results/failover.json; \
	run quota bench/quota.py --json bench/results/quota.json; \
	run pii bench/pii.py --json bench/results/pii.json; \
	run integrations bench/integrations.py --json bench/results/integrations.json; \
	if [ -d $(SCIFACT) ]; then \
		run keyword_scifact bench/keyword_scifact.py --data $(SCIFACT) --json bench/results/keyword_scifact.json; \
		run migration bench/migration.py --data $(SCIFACT) --json bench/results/migration.json; \
		run migration-successor bench/migration.py --data $(SCIFACT) --new minilm-ft \
			--json bench/results/migration-successor.json; \
	fi; \
	if [ -n "$$missed" ]; then echo "every benchmark ran; targets missed (or a run failed) in:$$missed"; exit 1; fi

clean:
	rm -rf $(VENV) .vectorrouter .pytest_cache .mypy_cache .ruff_cache
