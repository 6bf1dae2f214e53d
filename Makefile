# Two commands matter: `make run` and `make test`. Everything else is for CI and benchmarks.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
# `sam build` needs a python3.12 on PATH; this machine gets it from pyenv.
PY312_BIN ?= $(shell pyenv root 2>/dev/null)/versions/3.12.1/bin
LINT_PATHS := layers/shared/shared functions local infra
PYTEST_ARGS ?=
# Both cores (pytest-xdist): every test starts or shares its own servers on free ports, so the suite is
# stable in parallel. `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist worksteal)

.PHONY: install run test test-unit test-integration test-e2e test-gateway lint sam-validate sam-build \
        admin bench-gateway clean test-infra checkov dashboard-deps browser-deps test-browser

install: $(VENV)/.installed dashboard-deps

$(VENV)/.installed: requirements-dev.txt constraints.txt layers/shared/requirements.txt layers/shared/requirements-tracing.txt layers/shared/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt -e layers/shared
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements-sam.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

# The dashboard's chart library (/_dashboard), pinned with its integrity in local/dashboard/package-lock.json,
# vendored into the page's folder at install time: nothing is fetched when the page runs. Without npm the
# rest installs and the page says how to get its charts.
DASHBOARD := local/dashboard
CHART_JS := $(DASHBOARD)/site/vendor/chart.umd.js
dashboard-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) -s --no-print-directory $(CHART_JS); \
	else echo "npm not found: /_dashboard shows no charts until Node.js/npm is installed and make dashboard-deps runs"; fi

$(CHART_JS): $(DASHBOARD)/package-lock.json $(DASHBOARD)/package.json
	npm ci --prefix $(DASHBOARD) --no-audit --no-fund --ignore-scripts --loglevel=error
	mkdir -p $(@D) && cp $(DASHBOARD)/node_modules/chart.js/dist/chart.umd.js $@

run: install  ## start Postgres, DynamoDB emulation, tables, migrations and the gateway on HOST:PORT
	$(PY) -m local.runner

# The password reaches the command through its environment, never its command line (`ps` shows that);
# without PASSWORD it is asked for at a prompt that does not echo (or read from stdin).
admin: export ADMIN_PASSWORD = $(PASSWORD)
admin: install  ## make admin EMAIL=a@b.c  (asks for the password of a new admin)
	@test -n "$(EMAIL)" || { echo "usage: make admin EMAIL=... [PASSWORD=...]"; exit 2; }
	@$(PY) -m local.admin --email "$(EMAIL)"

# The infrastructure tier runs the SAM transform with .venv-sam's translator (its pydantic pin clashes with ours).
test: install $(SAM_VENV)/.installed  ## the whole suite: unit, integration, gateway, end-to-end, infrastructure (both cores)
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest $(XDIST) tests/unit $(PYTEST_ARGS)

test-integration: install
	$(PY) -m pytest $(XDIST) tests/integration $(PYTEST_ARGS)

test-gateway: install
	$(PY) -m pytest $(XDIST) tests/gateway $(PYTEST_ARGS)

test-e2e: install
	$(PY) -m pytest $(XDIST) tests/e2e $(PYTEST_ARGS)

test-infra: install $(SAM_VENV)/.installed  ## assertions on the SAM-transformed template, per parameter set (no AWS call)
	$(PY) -m pytest tests/infrastructure $(PYTEST_ARGS)

# checkov reads parameter defaults only, so the CreateDatabase=true side (and the other switches) is scanned in
# a copy whose defaults are flipped (infra/template_variant.py). Findings are fixed or skipped in the template
# (Metadata: checkov: skip, one reason each). --skip-download: no call to the vendor's platform.
CHECKOV := $(CHECKOV_VENV)/bin/checkov --framework cloudformation --skip-download --compact --quiet
CHECKOV_VARIANT := CreateDatabase=true EnableSnapStart=true JwtSecretParameterName=app/jwt CreateXRayEndpoint=true \
	ManageApiGatewayAccount=true AlarmTopicArn=arn:aws:sns:us-east-1:123456789012:alerts UsersReservedConcurrency=10 \
	CorsAllowOrigins=https://shop.example
checkov: install $(CHECKOV_VENV)/.installed  ## IaC scan of template.yaml, default and CreateDatabase=true variants
	$(CHECKOV) -f template.yaml
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	  $(PY) -m infra.template_variant template.yaml $$tmp/template.yaml $(CHECKOV_VARIANT) && \
	  $(CHECKOV) -f $$tmp/template.yaml

lint: install  ## ruff + mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy $(LINT_PATHS)

# Linted twice: as is (CORS off), and in a copy whose CorsAllowOrigins default is a list (the Api's Cors and the
# gateway responses' CORS headers switched on; cfn-lint also checks the value against the AllowedPattern).
CORS_VARIANT := CorsAllowOrigins=https://shop.example,http://localhost:5500
sam-validate: install $(SAM_VENV)/.installed
	$(SAM) validate --lint --template template.yaml
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	  $(PY) -m infra.template_variant template.yaml $$tmp/template.yaml $(CORS_VARIANT) && \
	  $(SAM) validate --lint --template $$tmp/template.yaml

sam-build: $(SAM_VENV)/.installed
	PATH="$(PY312_BIN):$$PATH" $(SAM) build --template template.yaml --build-dir .aws-sam/build
	@du -sh .aws-sam/build/SharedLayer | awk '{print "shared layer built size (unzipped): " $$1}'

bench-gateway: install  ## requests/s, p50/p99 of the gateway on a no-I/O route (needs wrk)
	$(PY) -m local.bench.gateway

clean:
	rm -rf .aws-sam .mypy_cache .ruff_cache

# --- Browser tests (issue 15): Debian's headless Chromium and chromedriver, driven by Selenium ---------
# Installed with apt-get when missing (root, or sudo); a no-op when both are there. The tests point Selenium
# at these two files, so Selenium Manager never downloads a browser or a driver.
# npm too when it is missing: the dashboard test needs the vendored chart library.
BROWSER_PACKAGES := chromium chromium-driver fonts-liberation
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps:
	@missing="$(BROWSER_PACKAGES)"; \
	if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then missing=""; fi; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) \
	  apt-get install -y -qq --no-install-recommends $$missing; fi

# Screenshots of each page go to artifacts/browser/ (git-ignored; CI keeps the folder). The browser first, so
# `install` finds npm for the dashboard's chart library.
test-browser: browser-deps  ## CORS from another origin, Swagger UI and the dashboard in headless Chromium
	@$(MAKE) --no-print-directory install
	RUN_BROWSER=1 $(PY) -m pytest tests/browser $(PYTEST_ARGS)

# --- Deployment paths (docker-compose.yml, LocalStack, sam local), API docs, sample events -------------
LOCALSTACK_ENDPOINT ?= http://localhost:4566
COMPOSE_DATABASE_URL ?= postgresql+pg8000://app:app@localhost:5432/app

.PHONY: deploy-localstack local-api openapi openapi-check events events-check build-check

deploy-localstack: install $(SAM_VENV)/.installed  ## build + deploy the stack into LocalStack (docker compose up -d --wait first)
	LOCALSTACK_ENDPOINT=$(LOCALSTACK_ENDPOINT) infra/localstack/deploy.sh

local-api: install $(SAM_VENV)/.installed  ## sam local start-api on :3000 against docker compose's Postgres + LocalStack
	DATABASE_URL=$(COMPOSE_DATABASE_URL) $(VENV)/bin/alembic -c infra/alembic.ini upgrade head
	$(PY) -c 'import boto3, sys; from infra.dynamodb_tables import create_tables; \
	  print("tables:", create_tables(boto3.client("dynamodb", endpoint_url=sys.argv[1], region_name="us-east-1", \
	  aws_access_key_id="test", aws_secret_access_key="test"), "template.yaml"))' $(LOCALSTACK_ENDPOINT)
	$(MAKE) sam-build
	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
	  $(SAM) local start-api --config-env localstack

openapi: install  ## regenerate openapi.json from the handlers' Powertools models
	$(PY) -m local.openapi

openapi-check: install  ## fail if openapi.json differs from a fresh generation
	@tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; $(PY) -m local.openapi --out $$tmp >/dev/null && \
	  diff -u openapi.json $$tmp && echo "openapi.json is up to date" || \
	  { echo "openapi.json is stale: run make openapi"; exit 1; }

events: install  ## regenerate events/ (one API Gateway event per route, for sam local invoke -e)
	$(PY) -m local.sample_events

events-check: install  ## fail if events/ is stale, then invoke every handler with its committed event
	$(PY) -m local.sample_events --check
	$(PY) -m pytest tests/unit/test_events_samples.py tests/integration/test_events_invoke.py -q $(PYTEST_ARGS)

build-check: install  ## after sam-build: layer size < 50 MB and compiled, built artefacts import and run under python3.12
	PATH="$(PY312_BIN):$$PATH" $(PY) -m infra.deploy.check_build

# --- hardening: benchmarks side by side, soak, fuzzing, faults (issue 8) ---
.PHONY: bench bench-calls bench-coldstart soak fuzz test-fault test-security
BENCH_ARGS ?=
SOAK_SECONDS ?= 600

bench: install  ## project vs seed_flask side by side (wrk), then cold starts and DynamoDB calls/request
	$(PY) -m local.bench.mix $(BENCH_ARGS)
	PATH="$(PY312_BIN):$$PATH" $(PY) -m local.bench.coldstart --tracing
	$(PY) -m local.bench.calls

bench-calls: install
	$(PY) -m local.bench.calls

bench-coldstart: install  ## cold starts through the gateway, and of the sam-built artefacts under python3.12
	PATH="$(PY312_BIN):$$PATH" $(PY) -m local.bench.coldstart --tracing

soak: install  ## steady load for SOAK_SECONDS (default 600): RSS and Postgres connections flat, zero 5xx
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) -m local.bench.soak

fuzz: install  ## schemathesis from openapi.json against a private local stack (FUZZ_EXAMPLES per operation)
	RUN_FUZZ=1 $(PY) -m pytest tests/fuzz $(PYTEST_ARGS)

test-fault: install  ## Postgres/DynamoDB stopped and restarted, hanging Postgres, worker killed mid-request
	$(PY) -m pytest tests/e2e/test_faults.py tests/e2e/test_protection.py $(PYTEST_ARGS)

test-security: install  ## OWASP API Top 10 (2023) tests, see tests/security/README.md
	$(PY) -m pytest tests/security $(PYTEST_ARGS)
