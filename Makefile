# The two commands of the README: `make demo` and `make test`. Both install what is missing first.
SHELL := /bin/bash
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test bench lint fmt clean

setup:
	@bash scripts/setup.sh

demo: setup
	@.venv/bin/kiosk demo

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	@$(PY) bench/run_all.py

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/mypy

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache .hypothesis
