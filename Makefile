# Opslayer developer entry points. Every target installs what it needs into .venv from PyPI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT   ?= 8000

.PHONY: install local test lint bench drill clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## make local: the whole system on 127.0.0.1 (local cloud + API + demo data). PORT=8123 make local
local: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m infra.local

## make browser: Debian's chromium for the browser tests (root, as in CI; no browser downloads)
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## make test: lint, template lint, import contracts, then the whole pytest suite (unit, handler, integration, browser)
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

## make lint: ruff, cfn-lint, and the import contracts (layers, pure domain, no cycles: pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/lint-imports

## make bench: latency and import-time benchmarks against floors measured in the same run
bench: $(STAMP)
	$(BIN)/python -m infra.bench

drill: $(STAMP)
	$(BIN)/opslayer drill

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .aws-sam

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
