# Two entry points for a fresh machine: `make quickstart` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
REFERENCE ?= ../shared/data/reference
QUICKSTART_HOME ?= $(CURDIR)/.quickstart

.PHONY: install quickstart test lint bench clean oracle

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first: installing timm against another torch would swap it for a CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

quickstart: install
	VVSHUB_HOME=$(QUICKSTART_HOME) bash scripts/quickstart.sh $(REFERENCE)

test: install oracle
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

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: install
	$(BIN)/python benchmarks/laws_speed.py

clean:
	rm -rf $(VENV) $(ORACLE_VENV) $(QUICKSTART_HOME) build *.egg-info
