# Two commands on a fresh machine (Python 3.11+ and pip): `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: run test check bench screenshots clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed  ## the app with the demo tournament on http://127.0.0.1:8000
	$(BIN)/beerolympics serve --demo $(ARGS)

test: $(VENV)/.installed  ## every test; the scaled shape when BEEROLYMPICS_TEST_POSTGRES/_REDIS are set
	$(BIN)/pytest $(ARGS)

check: $(VENV)/.installed  ## lint, format and strict types
	$(BIN)/ruff check src tests bench deploy
	$(BIN)/ruff format --check src tests bench deploy
	$(BIN)/mypy src

screenshots: $(VENV)/.installed  ## the browser tests, saving the pictures docs/pages.md shows
	BEEROLYMPICS_SCREENSHOTS=docs $(BIN)/pytest tests/e2e $(ARGS)

bench: $(VENV)/.installed  ## the benchmarks (numbers, no thresholds)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
