# One-command set-up on a fresh machine with only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench bench-quick bench-defaults clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-demo: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[plot]"
	touch $@

$(VENV)/.installed-test: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[tests,plot,bench]"
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/python -m skbp $(ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Speed against MLPClassifier (issue #3); writes docs/performance.rst.
# ARGS="--threads default" uses the machine's BLAS threads instead of 1.
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_speed.py $(ARGS)

# Under a minute, reduced sizes: proves the script runs; its ratios mean nothing.
bench-quick: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_speed.py --quick $(ARGS)

# Accuracy and time of the two estimators' defaults on four toy datasets.
bench-defaults: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_defaults.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
