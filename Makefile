# One-command set-up on a fresh machine with only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-oldest lint docs dist bench bench-quick bench-defaults bench-stream bench-array-api clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-demo: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[plot]"
	touch $@

$(VENV)/.installed-test: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[tests,plot,bench]"
	touch $@

$(VENV)/.installed-docs: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

$(VENV)/.installed-dist: $(BIN)/activate
	$(BIN)/python -m pip install --quiet build twine
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/python -m skbp $(ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The documentation from scratch into docs/_build/html: warnings (numpydoc's
# docstring validation included) are errors, every gallery example runs.
docs: $(VENV)/.installed-docs
	$(MAKE) -C docs clean
	cd docs && ../$(BIN)/sphinx-build -W --keep-going -b html . _build/html

# The sdist and the wheel into a fresh dist/ (the wheel built from the unpacked
# sdist, so a file missing from the sdist breaks it), then twine's check of their
# metadata and README rendering, warnings as errors. What they contain and that
# the wheel installs in a fresh venv: tests/test_dist.py.
dist: $(VENV)/.installed-dist
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# Speed against MLPClassifier and MLPRegressor; writes docs/performance.rst.
# ARGS="--threads default" uses the machine's BLAS threads instead of 1.
# The oldest scikit-learn that pyproject.toml admits, in a venv of its own.
OLDEST := .venv-oldest
test-oldest:
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST)/bin/python -m pip install --quiet "scikit-learn==1.6.1" -e ".[tests,plot,bench]"
	$(OLDEST)/bin/python -m pytest -q $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_speed.py $(ARGS)

# Under a minute, reduced sizes: proves the script runs; its ratios mean nothing.
bench-quick: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_speed.py --quick $(ARGS)

# Accuracy (R²) and time of skbp's defaults against scikit-learn's MLPs' defaults.
bench-defaults: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_defaults.py $(ARGS)

# Out-of-core training: peak memory against the file size (about 20 s).
bench-stream: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_stream.py $(ARGS)

# S3 on NumPy, PyTorch (CPU; CUDA or CuPy where present) and MLPClassifier.
# Needs PyTorch in the venv for its rows: .venv/bin/pip install torch
bench-array-api: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_array_api.py $(ARGS)

clean:
	rm -rf $(VENV) $(OLDEST) build dist *.egg-info .pytest_cache .ruff_cache
