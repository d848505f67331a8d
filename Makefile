# Opslayer developer entry points. Every target installs what it needs into .venv from PyPI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT   ?= 8000

.PHONY: install local test test-fast lint checkov bench drill clean browser openapi

# Every pytest run is in random order (pytest-randomly), one seed per `make` run, printed first: replay an
# order with `make test SEED=N`. Phases print their wall time beside a budget (.ci/timed), a report, not an
# assertion.
ifeq ($(origin SEED), undefined)
SEED     := $(shell date +%s)
endif
PYTEST   := $(BIN)/python -m pytest -q -p no:cacheprovider -p randomly --randomly-seed=$(SEED)
TIMED    := TIMINGS=.timings .ci/timed
COVERAGE := --cov=shared --cov-report=term:skip-covered

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip<26.3'  # chalice 1.34 requires pip < 26.3
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# checkov lives in its own virtualenv, pinned: its dependency pins never meet the project's.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV    := .venv-tools/checkov
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
CHECKOV         := $(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet \
                   --skip-download

$(CHECKOV_STAMP):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
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
	$(TIMED) "unit + service tests (coverage of shared/)" 30 $(PYTEST) tests/unit tests/service $(COVERAGE) || status=1; \
	echo "coverage of shared/ from unit+service tests: $$($(BIN)/coverage report --format=total)%"; \
	$(TIMED) "contract + handler tests" 30 $(PYTEST) tests/contract tests/handlers || status=1; \
	exit $$status

## make test: lint, template lint, import contracts, test-fast, then the local-cloud tests (infra, integration, browser) (<= 5 min)
test: $(STAMP) $(CHECKOV_STAMP) browser
	@echo "random order seed: $(SEED) (replay: make test SEED=$(SEED))"; rm -f .timings; status=0; \
	$(TIMED) "ruff" 10 $(BIN)/ruff check . || status=1; \
	$(TIMED) "cfn-lint" 30 $(BIN)/cfn-lint template.yaml || status=1; \
	$(TIMED) "checkov" 60 $(CHECKOV) || status=1; \
	$(TIMED) "import contracts" 10 $(BIN)/lint-imports || status=1; \
	$(MAKE) --no-print-directory test-fast SEED=$(SEED) || status=1; \
	$(TIMED) "local cloud: infra + integration + browser tests" 200 $(PYTEST) tests/infra tests/integration tests/browser || status=1; \
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

clean:
	rm -rf $(VENV) .venv-tools .pytest_cache .ruff_cache .aws-sam .coverage .timings

# `sam build` runs this for the CoreLayer (Metadata: BuildMethod: makefile): the shared/ package plus
# the runtime dependencies from pyproject.toml, built for the Lambda runtime (boto3 comes with it).
build-CoreLayer:
	mkdir -p "$(ARTIFACTS_DIR)/python"
	cp -R shared "$(ARTIFACTS_DIR)/python/"
	python3 -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
	  print('\n'.join(d for d in deps if not d.startswith('boto3')))" > "$(ARTIFACTS_DIR)/requirements.txt"
	python3 -m pip install --quiet --target "$(ARTIFACTS_DIR)/python" -r "$(ARTIFACTS_DIR)/requirements.txt" \
	  --platform manylinux2014_aarch64 --implementation cp --python-version 3.12 --only-binary=:all:
	rm "$(ARTIFACTS_DIR)/requirements.txt"
