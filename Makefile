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

# Two workers, one test module at a time each: most tests wait on processes and sockets.
# TEST_WORKERS=0 runs everything in one process. The slowest tests are listed at the end,
# to keep the whole run under ten minutes on purpose rather than by luck.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15

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
