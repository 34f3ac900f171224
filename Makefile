# Lotse — the two commands: `make dev` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: dev test bench lint schema screenshots install clean

# The venv is rebuilt whenever the pins change; `requirements.lock` holds the
# full transitive set (no index or download addresses), pyproject.toml the direct pins.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

dev: $(STAMP)
	$(BIN)/lotse dev

test: $(STAMP)
	$(BIN)/python -m pytest -q

# README's pictures: the browser journeys, saving their screenshots into docs/.
screenshots: $(STAMP)
	LOTSE_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/browser

bench: $(STAMP)
	$(BIN)/python -m pytest -q -s -p no:timeout tests/perf

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/lotse schema

clean:
	rm -rf $(VENV) var
