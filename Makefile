# closedloop_kit: the one entry point. Everything installs into .venv with uv.
#   make demo         campaign review report on the bundled sample data
#   make test         lint + type check + architecture contracts + tests + notebooks
#   make test-slow    the tests marked slow (store fault injection, whole-sample loads)
#   make test-engines the engine tests on PySpark (local mode; installs Java if missing)
#   make sample-data  regenerate sample_data/ (deterministic, byte-identical per seed)
#   make bench        benchmarks -> benchmarks/results/ and docs/benchmarks.md
#   make docs         Sphinx site, built offline, warnings are errors; fails on any CDN load
#   make serve        the report server (Voilà dashboards + index of reports) on 127.0.0.1
#   make test-browser browser tests (Playwright driving Debian's chromium)
#   make screenshots  docs/_static/screenshots/: each report and the dashboard

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(PYTHON) -m uv
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install install-serve demo serve test lint typecheck test-fast test-slow test-browser test-engines \
	screenshots chromium sample-data bench docs clean

# --compile-bytecode: the packages' .pyc files are written at install, so no process
# compiles them on import (where PYTHONDONTWRITEBYTECODE is set, every test process,
# notebook kernel and benchmark child would: `import pandera` took 3.8 s instead of 1.4 s)
$(STAMP): pyproject.toml
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -e ".[dev,lab]"
	@touch $@

install: $(STAMP)

# the report server and the browser tests: Voilà, Font Awesome from PyPI, Playwright
SERVE_STAMP := $(VENV)/.serve-stamp
$(SERVE_STAMP): $(STAMP) pyproject.toml
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -e ".[dev,lab,serve,browser]"
	@touch $@

install-serve: $(SERVE_STAMP)

# Playwright drives Debian's chromium (its own browser download is not reachable)
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

demo: install
	$(VENV)/bin/closedloop demo --data sample_data --out reports

lint: install
	$(VENV)/bin/ruff check src tests benchmarks conftest.py
	$(VENV)/bin/ruff format --check src tests benchmarks conftest.py

typecheck: install
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# the serve tests (offline Voilà template, token rule) need the serve extra
test: lint typecheck install-serve
	$(PY) -m pytest -n 2 -m "not slow and not browser and not spark" $(PYTEST_ARGS)

# store fault injection and concurrency, whole-sample loads, report re-runs: .ci/run runs them
test-slow: install-serve
	$(PY) -m pytest -n 2 -m "slow and not browser and not spark" $(PYTEST_ARGS)

test-fast: install-serve
	$(PY) -m pytest -n 2 -m "not slow and not browser and not notebooks and not spark" $(PYTEST_ARGS)

# The engine tests marked `spark`: PySpark in local[2] mode bound to 127.0.0.1 (quiet
# settings in tests/engine/conftest.py); see docs/scaling.md.
test-engines: install
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq default-jre-headless)
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -e ".[dev,lab,duckdb,spark]"
	SPARK_LOCAL_IP=127.0.0.1 $(PY) -m pytest -m spark -p no:randomly tests/engine $(PYTEST_ARGS)

# Needs Debian's chromium (installed here if missing); see docs/reports.md.
test-browser: install-serve chromium
	$(PY) -m pytest -p no:randomly -m browser tests/browser $(PYTEST_ARGS)

serve: install-serve
	$(VENV)/bin/closedloop serve --data sample_data

# screenshots of every template report and of the dashboard, for the docs
screenshots: install-serve chromium
	$(PY) docs/_screenshots.py --data sample_data --out docs/_static/screenshots

sample-data: install
	$(PY) -m closedloop_kit.datasets.sample --out sample_data

# Benchmarks run in their own venv: the reference implementations (ChannelAttribution is
# GPL) are installed there only, never as dependencies of closedloop_kit.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp
$(BENCH_STAMP): pyproject.toml Makefile
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(BENCH_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(BENCH_VENV)/bin/python -e ".[dev,spark]" channelattribution marketing-attribution-models matplotlib pandas
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq default-jre-headless)
	@touch $@

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

docs: install
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html
	$(PY) docs/_check_offline.py docs/_build/html

clean:
	rm -rf docs/_build reports .pytest_cache .mypy_cache .ruff_cache
