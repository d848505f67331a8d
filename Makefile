# Opslayer developer entry points. Every target installs what it needs into .venv from PyPI.

# The Lambda runtime's Python (3.12), found on PATH or in pyenv: the project's virtualenv is made with it, so the
# tests run on what Lambda runs and coverage measures through sys.monitoring (pyproject.toml: core = "sysmon",
# a fraction of the line tracer's cost). It also compiles the layer's bytecode and runs the deploy check. Without
# one, python3 (>= 3.11) makes the virtualenv (coverage then traces, about twice as slow), the layer ships no
# bytecode and the check runs on python3.
ifeq ($(origin LAMBDA_PYTHON), undefined)
LAMBDA_PYTHON := $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
endif
PYTHON ?= $(or $(LAMBDA_PYTHON),python3)
# The deploy and scan tools' own virtualenvs (.venv-tools) keep python3.
TOOLS_PYTHON ?= python3
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)-py$(PY_VERSION)
PORT   ?= 8000

.PHONY: install local test test-fast lint checkov bench drill clean browser openapi deploy-check layer-lock

# Every pytest run is in random order (pytest-randomly), one seed per `make` run, printed first: replay an
# order with `make test SEED=N`. Phases print their wall time beside a budget (.ci/timed), a report, not an
# assertion.
ifeq ($(origin SEED), undefined)
SEED     := $(shell date +%s)
endif
PYTEST   := $(BIN)/python -m pytest -q -p no:cacheprovider -p randomly --randomly-seed=$(SEED)
# Each phase runs on WORKERS pytest-xdist processes (the machine's 2 cores; WORKERS=0: one process), handing out
# whole files (--dist loadfile): a module's fixtures are built once, and each local-cloud worker deploys the
# template once for its session.
WORKERS  ?= 2
XDIST    := -n $(WORKERS) --dist loadfile
TIMED    := TIMINGS=.timings .ci/timed
DTIMED   := TIMINGS=.timings-deploy .ci/timed
COVERAGE := --cov=shared --cov-report=term:skip-covered
# Only the local cloud's API fuzz uses schemathesis' pytest plugin; the other phases skip loading it (and hypothesis).
NO_FUZZ  := -p no:schemathesis

# Deploy tooling, each in its own virtualenv so it never fights the project's pins: the SAM CLI, and a stand-in
# for the Lambda runtime (the runtime's Python with boto3 only) that `make deploy-check` imports handlers in.
SAM_VERSION   := 1.170.0
RUNTIME_BOTO3 := 1.44.8
TOOLS         := .venv-tools
SAM           := env SAM_CLI_TELEMETRY=0 $(TOOLS)/sam/bin/sam

$(STAMP): pyproject.toml
	$(BIN)/python -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(PY_VERSION)")' 2>/dev/null \
	  || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade 'pip<26.3'  # chalice 1.34 requires pip < 26.3
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# checkov lives in its own virtualenv, pinned: its dependency pins never meet the project's.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV    := $(TOOLS)/checkov
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
CHECKOV         := $(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet \
                   --skip-download

$(CHECKOV_STAMP):
	rm -rf $(CHECKOV_VENV)
	$(TOOLS_PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $(CHECKOV_STAMP)

## make local: the whole system on 127.0.0.1 (local cloud + API + demo data). PORT=8123 make local
local: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m infra.local

## make browser: Debian's chromium for the browser tests (root, as in CI; no browser downloads)
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## make test-fast: unit + service tests with the coverage of shared/, then contract + handler tests (<= 60 s)
test-fast: $(STAMP)
	@echo "random order seed: $(SEED) (replay: make test-fast SEED=$(SEED))"; status=0; \
	[ "$(MAKELEVEL)" != 0 ] || rm -f .timings; \
	$(TIMED) "test-fast: unit + service tests (coverage of shared/)" 30 $(PYTEST) $(XDIST) $(NO_FUZZ) tests/unit \
	  tests/service $(COVERAGE) || status=1; \
	echo "coverage of shared/ from unit+service tests: $$($(BIN)/coverage report --format=total --precision=1)%"; \
	$(TIMED) "test-fast: contract + handler tests" 30 $(PYTEST) $(XDIST) $(NO_FUZZ) tests/contract tests/handlers \
	  || status=1; \
	if [ "$(MAKELEVEL)" = 0 ]; then $(TIMED) --report 60 "make test-fast"; fi; \
	exit $$status

## make test: lint, template lint, import contracts, test-fast, then the local-cloud tests (infra, integration, browser) (<= 5 min)
test: $(STAMP) $(CHECKOV_STAMP) browser
	@echo "random order seed: $(SEED) (replay: make test SEED=$(SEED))"; rm -f .timings; status=0; \
	$(TIMED) "ruff" 10 $(BIN)/ruff check . || status=1; \
	$(TIMED) "cfn-lint" 30 $(BIN)/cfn-lint template.yaml || status=1; \
	$(TIMED) "checkov" 60 $(CHECKOV) || status=1; \
	$(TIMED) "import contracts" 10 $(BIN)/lint-imports || status=1; \
	$(MAKE) --no-print-directory test-fast SEED=$(SEED) || status=1; \
	$(TIMED) "local cloud: infra + integration + browser tests" 200 $(PYTEST) $(XDIST) tests/infra tests/integration tests/browser || status=1; \
	$(TIMED) --report 300; \
	exit $$status

## make lint: ruff, cfn-lint, and the import contracts (layers, pure domain, no cycles: pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/lint-imports

## make checkov: the template's security scan, 0 failures expected (suppressions: docs/deploy.md "Security scanning")
checkov: $(CHECKOV_STAMP)
	$(CHECKOV)

## make openapi: write docs/openapi.json from the routes (tests/unit/test_openapi.py fails while it differs)
openapi: $(STAMP)
	$(BIN)/python -m infra.cli openapi

## make bench: latency and import-time benchmarks against floors measured in the same run
bench: $(STAMP)
	$(BIN)/python -m infra.bench

drill: $(STAMP)
	$(BIN)/opslayer drill

$(TOOLS)/sam/.installed-$(SAM_VERSION):
	rm -rf $(TOOLS)/sam && $(TOOLS_PYTHON) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/python -m pip install --quiet 'aws-sam-cli==$(SAM_VERSION)'
	touch $@

$(TOOLS)/runtime/.installed-$(RUNTIME_BOTO3):
	rm -rf $(TOOLS)/runtime && $(or $(LAMBDA_PYTHON),$(PYTHON)) -m venv $(TOOLS)/runtime
	$(TOOLS)/runtime/bin/python -m pip install --quiet 'boto3==$(RUNTIME_BOTO3)'
	touch $@

## make deploy-check: sam validate --lint, sam build (.aws-sam/), then every built handler imported from the
## built artifacts alone with its template environment, as Lambda would (infra/deploy_check.py)
deploy-check: $(STAMP) $(TOOLS)/sam/.installed-$(SAM_VERSION) $(TOOLS)/runtime/.installed-$(RUNTIME_BOTO3)
	@status=0; \
	$(DTIMED) "sam validate --lint" 30 $(SAM) validate --lint || status=1; \
	$(DTIMED) "sam build" 60 $(SAM) build || status=1; \
	[ $$status -eq 0 ] && $(DTIMED) "handlers imported from the build" 40 \
	  $(BIN)/python -m infra.deploy_check --runtime-python $(TOOLS)/runtime/bin/python || status=1; \
	$(DTIMED) --report 120 "make deploy-check"; \
	exit $$status

## make layer-lock: rewrite infra/layer_requirements.txt (the CoreLayer's pins) from the venv (infra/layer.py)
layer-lock: $(STAMP)
	$(BIN)/python -m infra.layer lock

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache .aws-sam .coverage .timings .timings-deploy

# `sam build` runs this for the CoreLayer (Metadata: BuildMethod: makefile): the shared/ package plus the runtime
# dependencies pinned in infra/layer_requirements.txt (no boto3 closure: the runtime's; chalice without its CLI's
# dependencies; infra/layer.py), as wheels for python3.12 on arm64. Bytecode only from the runtime's Python
# (3.12, unchecked-hash: /opt is read-only and never changes), else none: a cold start then compiles what it imports.
build-CoreLayer:
	mkdir -p "$(ARTIFACTS_DIR)/python"
	tar -c --exclude=__pycache__ --exclude='*.pyc' shared | tar -x -C "$(ARTIFACTS_DIR)/python"
	PYTHONDONTWRITEBYTECODE=1 python3 -m pip install --quiet --no-compile --no-deps --target "$(ARTIFACTS_DIR)/python" \
	  -r infra/layer_requirements.txt \
	  --platform manylinux2014_aarch64 --implementation cp --python-version 3.12 --only-binary=:all:
	rm -rf "$(ARTIFACTS_DIR)/python/bin"
	@if [ -n "$(LAMBDA_PYTHON)" ]; then \
	  $(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)/python" >/dev/null; \
	else echo "build-CoreLayer: no python3.12 on this host: the layer ships without bytecode"; fi
