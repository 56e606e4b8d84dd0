# Konvergen's two set-up commands (see README.md):
#   make run    install into .venv, create the SQLite database under ./instance, load
#               demo data when it has no households, print the demo logins and serve
#               http://127.0.0.1:5000
#   make test   install into .venv and run the whole test suite
# KONVERGEN_DATABASE_URL, when set, points both at another database.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run test

run: $(INSTALLED)
	$(BIN)/konvergen demo --if-empty
	$(BIN)/konvergen serve --host $(HOST) --port $(PORT)

test: $(INSTALLED)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Konvergen needs Python 3.11 or newer: make PYTHON=python3.11 ..." if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)

# Installs again only when pyproject.toml or the compiled audit fast path changes, so a
# second `make` starts at once.
$(INSTALLED): pyproject.toml service/audit/_fast_links.pyx | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@
