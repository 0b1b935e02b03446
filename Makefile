# Two commands for a fresh machine: `make demo` and `make test`. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM := /usr/bin/chromium
CHECKOV_VENV := $(VENV)/tools-checkov

.PHONY: demo test install lock lint clean chromium checkov

demo: install web/node_modules/.installed
	$(PY) scripts/dev.py demo

test: install $(CHECKOV_VENV)/.installed web/node_modules/.installed $(CHROMIUM)
	$(VENV)/bin/pytest

install: $(VENV)/.installed node_modules/.installed

# The development environment from its lock, every file checked against its hash; then the project
# itself, editable and without dependencies (the lock has them all). A lock older than a pin of
# pyproject.toml stops here, before anything is installed: `make lock` regenerates it.
$(VENV)/.installed: pyproject.toml requirements/dev.txt
	$(PYTHON) scripts/lock.py --check
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes -r requirements/dev.txt
	$(VENV)/bin/pip install -q -e . --no-deps
	touch $@

# Both locks (requirements/dev.txt, requirements/lambda.txt) from pyproject.toml, requirements/lambda.in
# and terraform/definitions/projector_runtime.json; unchanged pins stay. Needs the package index.
# Arguments pass through: make lock LOCK_ARGS='--upgrade-package orjson'.
lock: $(VENV)/bin/uv
	$(VENV)/bin/python scripts/lock.py $(LOCK_ARGS)

# uv alone, by its hash from the dev lock: `make lock` must work while the rest of the lock is stale.
$(VENV)/bin/uv:
	$(PYTHON) -m venv $(VENV)
	$(PYTHON) scripts/lock.py --requirement uv > $(VENV)/uv-requirement.txt
	$(VENV)/bin/pip install -q --require-hashes --no-deps -r $(VENV)/uv-requirement.txt

# checkov pins dependencies that clash with the project's own pins, so it gets a venv of its own.
$(CHECKOV_VENV)/.installed: | $(VENV)/.installed
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q checkov==3.3.30
	touch $@

checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --config-file terraform/.checkov.yaml -d terraform

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The web example's own packages (Vite, aws-amplify, playwright-core), for its browser test.
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium drives the browser test: test tools' own browser downloads cannot reach their hosts.
chromium: $(CHROMIUM)
$(CHROMIUM):
	apt-get update && apt-get install -y chromium

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

clean:
	rm -rf $(VENV) node_modules .dev
