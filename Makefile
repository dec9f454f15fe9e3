# The two commands of the README: `make demo` and `make test`. Both install what is missing first.
SHELL := /bin/bash
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test bench lint fmt clean

setup:
	@bash scripts/setup.sh

# With a display the journeys play in the kiosk window; without one offscreen, PNGs of every
# screen in var/demo/screens.
demo: setup
	@if [ -n "$$DISPLAY" ] || [ -e /dev/dri/card0 ]; then .venv/bin/kiosk demo-screens --window; \
	else echo "no display: the touchscreen renders offscreen, screens go to var/demo/screens"; \
	.venv/bin/kiosk demo-screens --out var/demo/screens; fi

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	@$(PY) bench/run_all.py

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/mypy

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache .hypothesis
