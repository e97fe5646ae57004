# closedloop_kit: the one entry point. Everything installs into .venv with uv.
#   make demo         campaign review report on the bundled sample data
#   make test         lint + type check + architecture contracts + tests + notebooks
#   make test-engines the engine tests on PySpark (local mode; installs Java if missing)
#   make sample-data  regenerate sample_data/ (deterministic, byte-identical per seed)
#   make bench        benchmarks -> benchmarks/results/ and docs/benchmarks.md
#   make docs         Sphinx site, built offline, warnings are errors

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(PYTHON) -m uv
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install demo test lint typecheck test-fast test-browser test-engines sample-data bench docs clean

$(STAMP): pyproject.toml
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --python $(PY) -e ".[dev,lab]"
	@touch $@

install: $(STAMP)

demo: install
	$(VENV)/bin/closedloop demo --data sample_data --out reports

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: install
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint typecheck
	$(PY) -m pytest -n 2 -m "not slow and not browser and not spark" $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -n 2 -m "not slow and not browser and not notebooks and not spark" $(PYTEST_ARGS)

# The engine tests marked `spark`: PySpark in local[2] mode bound to 127.0.0.1 (quiet
# settings in tests/engine/conftest.py); see docs/scaling.md.
test-engines: install
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq default-jre-headless)
	$(UV) pip install --quiet --python $(PY) -e ".[dev,lab,duckdb,spark]"
	SPARK_LOCAL_IP=127.0.0.1 $(PY) -m pytest -m spark -p no:randomly tests/engine $(PYTEST_ARGS)

# Needs Debian's chromium (installed here if missing); see docs/reports.md.
test-browser: install
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)
	$(PY) -m pytest -m browser $(PYTEST_ARGS)

sample-data: install
	$(PY) -m closedloop_kit.datasets.sample --out sample_data

# Benchmarks run in their own venv: the reference implementations (ChannelAttribution is
# GPL) are installed there only, never as dependencies of closedloop_kit.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp
$(BENCH_STAMP): pyproject.toml
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(BENCH_VENV)
	$(UV) pip install --quiet --python $(BENCH_VENV)/bin/python -e ".[dev]" channelattribution marketing-attribution-models matplotlib pandas
	@touch $@

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

docs: install
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf docs/_build reports .pytest_cache .mypy_cache .ruff_cache
