# Two commands for users: `make run` (console chat) and `make test` (whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench fuzz classifier

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-train: pyproject.toml | $(BIN)/python
	@$(BIN)/pip install -q -e '.[train]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@$(BIN)/permitbot chat

# The live tests' Wechaty gateway (Node): installed from the lockfile, again whenever it changes.
tests/gateway/node_modules/.installed: tests/gateway/package-lock.json
	@cd tests/gateway && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error
	@touch $@

# The replay report's browser test: Debian's chromium (and a small CJK font, for readable screenshots).
# Installed when apt-get is there and we are root; otherwise that test skips (fails when CI=true).
/usr/bin/chromium:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei \
			>/dev/null) || echo "warning: could not install chromium; the HTML report test will not run"; \
	else echo "note: no chromium; run 'apt-get install chromium' as root for the HTML report test"; fi

test: $(VENV)/.installed-test tests/gateway/node_modules/.installed /usr/bin/chromium
	@$(BIN)/python -m pytest

# The speed benchmark against a naive baseline (bench/README.md): a few minutes, ends with one JSON line.
bench: $(VENV)/.installed
	@$(BIN)/python bench/run.py

# The attack check (issue 14): 100,000 hostile messages through the handler, bounded at ten minutes; ends with one
# JSON line (exceptions, tracebacks, apologies, latency, RSS, personal values leaked by kind), exit 1 on a finding.
fuzz: $(VENV)/.installed
	@$(BIN)/python bench/fuzz.py

# The members' classifier (intents/classifier.py) trained again from the tuning sets, the FAQ and the members'
# questions: after changing any of them (a test fails while the file is stale). About ten seconds.
classifier: $(VENV)/.installed-train
	@$(BIN)/python -m intents.classifier
