# SSI Cloud: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Node tools (Spectral, the TypeScript client generator), pinned by package-lock.json.
NODE_STAMP := node_modules/.installed
# `make soak`: examples per operation of the schema fuzzing, unless FUZZ_EXAMPLES is set.
SOAK_FUZZ_EXAMPLES ?= 200
PIP_NOISE := BuildBackendWarning|is ignored: it is neither a file nor a directory|WheelFile|^ *!!$$|^ *\*{20,}|Please be careful|same name as your package|may take precedence|^ *return .\\n.\.join|^ *$$

.DEFAULT_GOAL := help
.PHONY: help install run test soak lint format bench screenshots schema clean

help:  ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@echo "Installing into $(VENV)/ (first time only)…"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@# setuptools warns at length about editable installs; keep errors, drop that noise.
	@set -o pipefail; $(PY) -m pip install --quiet -e '.[dev]' 2>&1 | { grep -vE "$(PIP_NOISE)" || true; }
	@touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed (Node.js 20 or newer): install Node.js, then retry."; exit 1; }
	@echo "Installing the Node tools into node_modules/ (first time only)…"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)  ## Create .venv/ and node_modules/ with the project and its dev tools

run: $(STAMP) $(NODE_STAMP)  ## Start everything: database, API, Celery worker and beat, demo tenant
	@$(PY) -m config.devstack

test: $(STAMP) $(NODE_STAMP)  ## Run the whole test suite against a real PostgreSQL
	@$(PY) -m pytest $(PYTEST_ARGS)

soak: $(STAMP)  ## The load test at full scale (200,000 events), then the schema fuzz with 200 examples per operation
	SSI_LOAD_EVENTS=$${SSI_LOAD_EVENTS:-200000} $(PY) -m pytest tests/reliability/test_load_no_loss.py $(PYTEST_ARGS)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-$(SOAK_FUZZ_EXAMPLES)} $(PY) -m pytest tests/api/test_fuzz_schema.py tests/api/test_isolation_every_operation.py $(PYTEST_ARGS)

lint: $(STAMP) $(NODE_STAMP)  ## ruff, mypy, the import contracts, the OpenAPI schema validated and linted (Spectral) with warnings as errors, file references
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache
	@mkdir -p .data
	@DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py spectacular --urlconf config.urls_schema --validate --fail-on-warn --format openapi-json --file .data/openapi-lint.json
	npx --no-install spectral lint --fail-severity warn --quiet .data/openapi-lint.json
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker/compose.yaml
	$(PY) .ci/check_references.py
	@echo "lint: ok"

format: $(STAMP)  ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)  ## Run the benchmarks (BENCH_SCALE=small|default)
	@$(PY) -m bench.run

screenshots: $(STAMP)  ## Screenshots of every console page from the demo tenant into docs/console/ (SCREENSHOT_PAGES=a,b for some)
	@$(PY) -m bench.screenshots

schema: $(STAMP)  ## Write the OpenAPI document to openapi.yaml
	@DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py spectacular --urlconf config.urls_schema --validate --fail-on-warn --file openapi.yaml
	@echo "wrote openapi.yaml"

clean:  ## Remove the virtualenv and local data (the embedded database too)
	rm -rf $(VENV) .data
