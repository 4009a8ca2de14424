# glmteach: `make lab` to teach/study, `make test` to check everything.
# Only python3 (>= 3.10) is needed up front; everything else goes into .venv.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
SANITIZE := $(CURDIR)/tests/nbval_sanitize.cfg
# pytest-xdist workers for nbval (one notebook stays on one kernel: --dist loadscope)
NBVAL_WORKERS ?= 2
# browser tests in parallel too: each worker starts its own JupyterLab and Chromium
E2E_WORKERS ?= 2

# Programs started from make (jupyter, kernels, pytest) find the venv first.
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export JUPYTER_PLATFORM_DIRS := 1

.NOTPARALLEL:
.PHONY: help venv lab test lint unit nbval check-notebooks check-student student e2e notebooks book clean

help:
	@echo "make lab              open the chapter notebooks in JupyterLab"
	@echo "make test             lint, unit tests, nbval, notebook reproducibility, book, browser tests"
	@echo "make notebooks        re-execute every notebook in place and normalise it"
	@echo "make check-notebooks  check committed notebooks equal a fresh 'make notebooks'"
	@echo "make e2e              real-browser tests only (JupyterLab + Chromium, and the book)"
	@echo "make book             static HTML book of the notebooks in build/book/ (open index.html)"
	@echo "make student          write the student edition (no solutions) to build/student/"

# --- environment ------------------------------------------------------------------
# Re-installs only when pyproject.toml changes (or the venv is missing).
# lab-settings/overrides.json holds the project's JupyterLab defaults (no news pop-up,
# no update check); JupyterLab reads them from <prefix>/share/jupyter/lab/settings/.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
$(STAMP): pyproject.toml lab-settings/overrides.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar off --upgrade pip
	$(BIN)/python -m pip install --progress-bar off -e ".[lab,test,book,dask]"
	install -D -m 644 lab-settings/overrides.json $(LAB_OVERRIDES)
	@touch $@

venv: $(STAMP)

# --- teaching ---------------------------------------------------------------------
# --allow-root only when run as root (containers, CI machines).
lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

# --- checks -------------------------------------------------------------------------
test: $(STAMP)
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory nbval
	@$(MAKE) --no-print-directory check-notebooks
	@$(MAKE) --no-print-directory check-student
	@$(MAKE) --no-print-directory book
	@$(MAKE) --no-print-directory e2e

lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/e2e

# Strict nbval: every stored output must be reproduced (modulo tests/nbval_sanitize.cfg).
# With no notebooks yet there is nothing to collect: say so instead of failing on
# pytest's "no tests collected" (exit 5), which is an error whenever notebooks exist.
nbval: $(STAMP)
ifeq ($(strip $(NOTEBOOKS)),)
	@echo "nbval: no notebooks in notebooks/ yet - nothing to validate"
else
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with $(SANITIZE) \
		-n $(NBVAL_WORKERS) --dist loadscope notebooks/
endif

check-notebooks: $(STAMP)
	$(BIN)/python tools/check_notebooks_reproducible.py

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e -n $(E2E_WORKERS)

notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py

# The static book: every notebooks/*.ipynb from its stored outputs (nothing is executed),
# Sphinx warnings are errors; tests/e2e/test_book.py reads it offline in Chromium.
book: $(STAMP)
	$(BIN)/python tools/build_book.py

# The student edition: every notebook without its solution cells, exercise outputs
# cleared.  check-student also runs each student notebook top to bottom.
student: $(STAMP)
	$(BIN)/python tools/make_student.py

check-student: $(STAMP)
	$(BIN)/python tools/make_student.py --execute

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis build dist *.egg-info tests/e2e/artifacts
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

# --- benchmarks ---------------------------------------------------------------------
# Reserved for `make bench` (benchmarks/, the `bench` extra); maintained separately.
# `make bench`: glmteach vs statsmodels / glum / scikit-learn (~10 min on 2 quiet cores),
# then gt.fit on a 2-worker dask LocalCluster (3e6 x 20, ~2 min); writes
# benchmarks/README.md. Pass flags with BENCH_ARGS, e.g. BENCH_ARGS=--quick.
.PHONY: bench bench-notebooks bench-stepper
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --progress-bar off -e ".[test,bench]"
	@touch $@

bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/dask_cluster.py --readme

bench-notebooks: $(STAMP)
	$(BIN)/python benchmarks/notebooks_time.py --readme

bench-stepper: $(STAMP)
	$(BIN)/python benchmarks/stepper_redraw.py --readme
