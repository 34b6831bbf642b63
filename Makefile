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

bench:
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .vectorrouter .pytest_cache .mypy_cache .ruff_cache
