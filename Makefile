# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check lint typecheck unit bench system npm clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

# Front-end packages, locked in package-lock.json, once a page needs them.
npm:
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi

system:
	bash scripts/install-system-deps.sh

run: $(STAMP) npm
	mkdir -p var
	$(PY) -m contactcenter migrate
	$(PY) -m contactcenter seed-demo
	@echo ""
	@echo "  Contact Center on http://$(HOST):$(PORT)/"
	@echo "    staff login      http://$(HOST):$(PORT)/login"
	@echo "    customers (CCR)  http://$(HOST):$(PORT)/staff/customers"
	@echo "    health           http://$(HOST):$(PORT)/readyz   metrics http://$(HOST):$(PORT)/metrics"
	@echo "  demo logins: admin/admin-demo-pass  sam/sam-demo-pass (supervisor)"
	@echo "               alice/alice-demo-pass bob/bob-demo-pass (agents)  pat/pat-demo-pass (planner)"
	@echo ""
	CC_LOG_JSON=$${CC_LOG_JSON:-false} $(PY) -m contactcenter serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check contactcenter tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck

unit: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider

test: system $(STAMP) npm check unit

bench: $(STAMP)
	@set -e; for f in bench/*.py; do $(PY) $$f; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache test-artifacts
