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

test: $(VENV)/.installed-test
	@$(BIN)/python -m pytest
