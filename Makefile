# Bindery: `make demo` starts the offline demo, `make test` runs the whole suite.
# Every target installs what it needs first; `make install` is idempotent.

PYTHON ?= python3
# `make test VENV=.venv-3.13 PYTHON=python3.13`: another Python in a venv of its own (CI's newest-Python leg).
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install lock demo test lint format messages bench chaos outage premiere clean

NODE_STAMP := node_modules/.installed

install: $(STAMP) $(NODE_STAMP)

# constraints.txt pins every package at the versions last resolved (`make lock`): each install gets the same.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Bindery needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	@# A .venv without pip is what `venv` leaves where ensurepip is missing (Debian without python3-venv).
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); } || \
		{ rm -rf $(VENV); echo "$(PYTHON) could not make .venv (on Debian or Ubuntu: sudo apt-get install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

# Resolve pyproject.toml afresh, in a throwaway venv, to the newest versions it allows; write constraints.txt.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e ".[dev]"
	{ echo "# Every package at the version last resolved by \`make lock\` (on $$(.venv-lock/bin/python -V)); make install uses it."; \
	  echo "# Regenerate with \`make lock\` after changing pyproject.toml's dependencies (DEVELOPING.md)."; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable; } > constraints.txt
	rm -rf .venv-lock

# Front-end packages (Shaka Player) from npm, served by Django staticfiles straight from node_modules.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "Bindery needs Node.js and npm for its player (apt-get install npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

# `make demo PORT=8100` when something else has port 8000.
PORT ?= 8000

demo: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py rundemo --port $(PORT)

# The tests' embedded Redis gets a port of its own, so a running `make demo` worker never takes their tasks.
test: install
	BINDERY_REDIS_PORT=$${BINDERY_REDIS_PORT:-6391} $(BIN)/python -m pytest $(PYTEST_ARGS)

# Every premiere figure as measured, floor, ratio: checkout to ready, tokens per second, pages, redemptions, CPU per checkout.
bench: install
	$(BIN)/python scripts/bench.py

# Reliability: 1000 checkouts with ExpressPlay faults, the worker killed 20 times, Redis restarted 3 times.
chaos: install
	$(BIN)/python scripts/chaos.py

# ExpressPlay down (HTTP 503) for 15 minutes while 200 rentals are bought; then back: ready, delayed, stampede.
outage: install
	$(BIN)/python scripts/outage.py

# Premiere night: 10 000 rentals through the web checkout at 150 per second, ExpressPlay 100 ms away.
premiere: install
	$(BIN)/python scripts/premiere.py

# ruff (lint and format), mypy (strict on binding/ and api/: pyproject.toml), pip-audit of the installed packages.
lint: install
	@echo "== ruff check"
	$(BIN)/ruff check .
	@echo "== ruff format --check"
	$(BIN)/ruff format --check .
	@echo "== mypy"
	@# django-stubs loads the settings, which read the var folder's generated files: made first on a fresh clone.
	@$(BIN)/python -m bindery.local_files >/dev/null
	$(BIN)/mypy
	@echo "== pip-audit (PyPI's advisories; skipped, and said, where PyPI's JSON API is not reachable)"
	$(BIN)/python scripts/audit.py

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install
	$(BIN)/python manage.py makemessages --locale es --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'var/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*' --ignore 'node_modules/*'

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
