# Two entry points for a fresh machine: `make quickstart` and `make test`
# (`make test-fast` skips the tests marked slow, those over 10 s).
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
REFERENCE ?= ../shared/data/reference
CIFAR10 ?= ../shared/data/cifar10/cifar10_jpg.zip
# Debian packages the tests use: git-lfs (the local hub) and chromium + its driver (the report's
# browser test). Installed when missing and apt-get is there (CI runs as root).
SYSTEM_PACKAGES := git-lfs chromium chromium-driver

.PHONY: install system quickstart test test-fast lint bench clean oracle oracle-adapter

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first: installing timm against another torch would swap it for a CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

system:
	@if ! command -v git-lfs >/dev/null || ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null 2>&1 || \
	    { apt-get update -qq && apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; }; \
	  else echo "note: install $(SYSTEM_PACKAGES) for the hub and the report's browser test"; fi; \
	fi

# The whole loop in your own VVSHUB_HOME (default ~/.cache/vvshub); a rerun skips what is done.
quickstart: install system
	$(BIN)/vvshub quickstart --dataset $(CIFAR10) \
	  $$( [ -d $(REFERENCE) ] && echo --reference $(REFERENCE) )

test: install system oracle oracle-adapter
	VVSHUB_ORACLE_PYTHON=$(CURDIR)/$(ORACLE_BIN)/python $(BIN)/python -m pytest -q

# A separate lean environment with brainscore-vision 2.4.2, only for the scorer's oracle tests
# (its pins: numpy<2, scikit-learn<1.6, old xarray). The stamp names the pins, so changing them
# rebuilds it. BS_INSTALL_DEPENDENCIES=no stops its plugins from pip-installing torch.
ORACLE_VENV ?= .oracle-venv
ORACLE_BIN  := $(ORACLE_VENV)/bin
ORACLE_PINS := brainscore-vision==2.4.2 brainscore-core==2.5.0 result-caching==0.5
ORACLE_DEPS := 'numpy<2' 'pandas<3' 'xarray<2022.6' 'scikit-learn<1.6' scipy netCDF4 tqdm psutil Pillow six boto3
ORACLE_STAMP := $(ORACLE_VENV)/.installed-bsv2.4.2-bsc2.5.0-rc0.5

$(ORACLE_STAMP):
	rm -rf $(ORACLE_VENV)
	$(PYTHON) -m venv $(ORACLE_VENV)
	$(ORACLE_BIN)/pip install --quiet --upgrade pip
	BS_INSTALL_DEPENDENCIES=no $(ORACLE_BIN)/pip install --quiet --no-deps $(ORACLE_PINS)
	$(ORACLE_BIN)/pip install --quiet $(ORACLE_DEPS)
	touch $@

oracle: $(ORACLE_STAMP)

# The same environment plus torch, timm and the few packages vvshub's brainscore adapter imports
# (duckdb for the catalog, rich for progress), so a test can run Brain-Score's own benchmark
# objects on a vvshub model (tests/scorer/test_brainscore_adapter.py; vvshub itself comes from
# the checkout through PYTHONPATH). numpy<2 is repeated so pip keeps brainscore's pin. torch is
# installed from pip's local copy; the stamp names the pins, so changing them rebuilds it.
ADAPTER_PINS  := torch==2.14.1 torchvision==0.29.1 'timm>=1.0.31,<1.1' 'duckdb>=1.1,<3' 'rich>=13,<16'
ADAPTER_STAMP := $(ORACLE_VENV)/.installed-adapter-torch2.14.1-tv0.29.1-timm1.0-duckdb-rich

$(ADAPTER_STAMP): $(ORACLE_STAMP)
	$(ORACLE_BIN)/pip install --quiet $(ADAPTER_PINS) 'numpy<2'
	touch $@

oracle-adapter: $(ADAPTER_STAMP)

test-fast: install system oracle oracle-adapter
	VVSHUB_ORACLE_PYTHON=$(CURDIR)/$(ORACLE_BIN)/python $(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: install
	$(BIN)/python benchmarks/laws_speed.py

clean:
	rm -rf $(VENV) $(ORACLE_VENV) build *.egg-info
