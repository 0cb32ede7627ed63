# Two entry points for a fresh machine: `make quickstart` and `make test`
# (`make test-fast` skips the tests marked slow, those over 10 s).
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
REFERENCE ?= ../shared/data/reference
QUICKSTART_HOME ?= $(CURDIR)/.quickstart

.PHONY: install quickstart test test-fast lint bench clean

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

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: install
	$(BIN)/python benchmarks/laws_speed.py

clean:
	rm -rf $(VENV) $(QUICKSTART_HOME) build *.egg-info
