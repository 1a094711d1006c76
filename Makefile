# Two commands for users: `make run` (console chat) and `make test` (whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@$(BIN)/permitbot chat

# The live tests' Wechaty gateway (Node): installed from the lockfile, again whenever it changes.
tests/gateway/node_modules/.installed: tests/gateway/package-lock.json
	@cd tests/gateway && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error
	@touch $@

test: $(VENV)/.installed-test tests/gateway/node_modules/.installed
	@$(BIN)/python -m pytest
