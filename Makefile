# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo bank's site on an origin of its own, embedding the widget from the app (docs/embedding.md).
DEMO_PORT ?= 8001

.PHONY: run test check lint typecheck unit bench system npm planner clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

# Front-end packages, locked in package-lock.json; reinstalled only when the lock file changes.
NODE_STAMP := node_modules/.installed-stamp
# The planner's rule editor (React + @gorules/jdm-editor), built by Vite into a served, gitignored folder;
# rebuilt only when its sources, the packages or the build config change.
PLANNER_DIST := web/static/planner/dist/.built-stamp
PLANNER_SRC := $(shell find web/planner -type f 2>/dev/null) package.json

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

npm: $(NODE_STAMP)

$(PLANNER_DIST): $(NODE_STAMP) $(PLANNER_SRC)
	npm run --silent build -- --logLevel warn
	touch $(PLANNER_DIST)

planner: $(PLANNER_DIST)

system:
	bash scripts/install-system-deps.sh

run: $(STAMP) planner
	mkdir -p var
	$(PY) -m contactcenter migrate
	$(PY) -m contactcenter seed-demo
	@echo ""
	@echo "  Contact Center on http://$(HOST):$(PORT)/"
	@echo "    staff login      http://$(HOST):$(PORT)/login"
	@echo "    customers (CCR)  http://$(HOST):$(PORT)/staff/customers"
	@echo "    rules (planner)  http://$(HOST):$(PORT)/staff/planner"
	@echo "    health           http://$(HOST):$(PORT)/readyz   metrics http://$(HOST):$(PORT)/metrics"
	@echo "    demo bank site   http://$(HOST):$(PORT)/demo/  and, as another website embedding the widget,"
	@echo "                     http://$(HOST):$(DEMO_PORT)/  (allowed by CC_WIDGET_ORIGINS)"
	@echo "  demo logins: admin/admin-demo-pass  sam/sam-demo-pass (supervisor)"
	@echo "               alice/alice-demo-pass bob/bob-demo-pass (agents)  pat/pat-demo-pass (planner)"
	@echo ""
	$(PY) scripts/demo_site.py --host $(HOST) --port $(DEMO_PORT) --contact-center http://$(HOST):$(PORT) & \
	trap "kill $$! 2>/dev/null" EXIT; \
	CC_WIDGET_ORIGINS=$${CC_WIDGET_ORIGINS:-http://$(HOST):$(DEMO_PORT)} CC_LOG_JSON=$${CC_LOG_JSON:-false} \
	CC_API_DOCS=$${CC_API_DOCS:-true} CC_SMTP_ENABLED=$${CC_SMTP_ENABLED:-true} \
	$(PY) -m contactcenter serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check contactcenter tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck

# The suite runs on two workers (pytest-xdist): it is CPU-bound, and each worker starts its own PostgreSQL,
# Redis and Chromium, so tests never share a server. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
unit: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --durations=15

test: system $(STAMP) planner check unit

bench: $(STAMP)
	@set -e; for f in bench/*.py; do $(PY) $$f; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache test-artifacts node_modules web/static/planner/dist
