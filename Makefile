# rclib: one command each for set-up, tests, the full reproduction and JupyterLab.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: setup test reproduce lab clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,notebook]'
	touch $(STAMP)

test: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) tests

reproduce: setup
	$(PY) -m rclib.reproduce --update-readme

lab: setup
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) notebooks/

clean:
	rm -rf results .pytest_cache
