# Two commands for a fresh machine: `make demo` and `make test`. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM := /usr/bin/chromium
CHECKOV_VENV := $(VENV)/tools-checkov

.PHONY: demo test install lint clean chromium checkov

demo: install
	$(PY) scripts/dev.py demo

test: install $(CHECKOV_VENV)/.installed web/node_modules/.installed $(CHROMIUM)
	$(VENV)/bin/pytest

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

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
