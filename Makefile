# Two commands matter: `make run` and `make test`. Everything else is for CI and benchmarks.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
# `sam build` needs a python3.12 on PATH; this machine gets it from pyenv.
PY312_BIN ?= $(shell pyenv root 2>/dev/null)/versions/3.12.1/bin
LINT_PATHS := layers/shared/shared functions local infra
PYTEST_ARGS ?=

.PHONY: install run test test-unit test-integration test-e2e test-gateway lint sam-validate sam-build \
        admin bench-gateway clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt layers/shared/requirements.txt layers/shared/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -e layers/shared
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements-sam.txt
	touch $@

run: install  ## start Postgres, DynamoDB emulation, tables, migrations and the gateway on HOST:PORT
	$(PY) -m local.runner

admin: install  ## make admin EMAIL=a@b.c PASSWORD=secret123
	@test -n "$(EMAIL)" || { echo "usage: make admin EMAIL=... PASSWORD=..."; exit 2; }
	$(PY) -m local.admin --email "$(EMAIL)" --password "$(PASSWORD)"

test: install  ## the whole suite: unit, integration, gateway, end-to-end
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-integration: install
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

test-gateway: install
	$(PY) -m pytest tests/gateway $(PYTEST_ARGS)

test-e2e: install
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

lint: install  ## ruff + mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy $(LINT_PATHS)

sam-validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint --template template.yaml

sam-build: $(SAM_VENV)/.installed
	PATH="$(PY312_BIN):$$PATH" $(SAM) build --template template.yaml --build-dir .aws-sam/build
	@du -sh .aws-sam/build/SharedLayer | awk '{print "shared layer built size (unzipped): " $$1}'

bench-gateway: install  ## requests/s, p50/p99 of the gateway on a no-I/O route (needs wrk)
	$(PY) -m local.bench.gateway

clean:
	rm -rf .aws-sam .mypy_cache .ruff_cache
