# rclib: one command each for set-up, tests, the full reproduction and JupyterLab.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
# one torch (OpenMP) thread per test worker: PYTEST_WORKERS processes on as many cores, not each
# spinning two threads against the other (a quarter less wall time on 2 cores, measured)
TEST_THREADS ?= 1

.PHONY: setup test reproduce lab clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,notebook]'
	touch $(STAMP)

test: setup
	OMP_NUM_THREADS=$(TEST_THREADS) $(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS) tests

reproduce: setup
	$(PY) -m rclib.reproduce --update-readme

lab: setup
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) notebooks/

clean:
	rm -rf results .pytest_cache
