# Every target bootstraps .venv from the lock file first, so `make serve` and `make test`
# work on a fresh clone with nothing but python3 (3.11+) installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
MIN_PYTHON := 3.11
PYTHON_OK := import sys; sys.exit(sys.version_info < (3, 11))

# A .venv whose python no longer runs (its interpreter was upgraded or removed) or is too old is
# removed here, so the rule below builds it again.
ifneq ($(wildcard $(VENV)),)
ifneq ($(shell $(BIN)/python -c '$(PYTHON_OK)' >/dev/null 2>&1 && echo ok),ok)
$(info .venv is broken or too old: building it again)
$(shell rm -rf $(VENV))
endif
endif

.PHONY: install serve test test-fast test-postgres lint schema check-schema operations check-operations migrations graphiql check-graphiql axe-core screenshots clean


install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c '$(PYTHON_OK)' 2>/dev/null || { \
		echo "billing-gateway needs Python $(MIN_PYTHON) or newer; '$(PYTHON)' is $$($(PYTHON) -c 'import platform; print(platform.python_version())' 2>/dev/null || echo 'not found'): run make PYTHON=python3.12 (or another 3.11+)" >&2; \
		exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/billing-gateway serve

test: $(STAMP)
	$(BIN)/python -m pytest

# The fast loop: everything but the tests that start processes or servers (marked slow).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

test-postgres: $(STAMP)
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

schema: $(STAMP)
	$(BIN)/strawberry export-schema schema:schema --output schema.graphql

check-schema: $(STAMP)
	$(BIN)/strawberry export-schema schema:schema --output $(VENV)/schema.graphql.now >/dev/null
	diff -u schema.graphql $(VENV)/schema.graphql.now

# Compiles operations/*.graphql and the billing page's portal/operations/*.graphql to the
# trusted-documents manifest (ACC-6) and the page's name -> hash map (portal/shared/documents.js).
operations: $(STAMP)
	$(BIN)/python -m gateway.trusted_documents

# Also validates every document against schema.graphql.
check-operations: $(STAMP)
	$(BIN)/python -m gateway.trusted_documents --check

# Writes a new migration after a change to models/ (Tortoise's own autodetector).
migrations: $(STAMP)
	$(BIN)/tortoise -c gateway.db.TORTOISE_ORM makemigrations

# Copies GraphiQL and React from the pinned npm packages (assets/graphiql) to the committed
# gateway/static/graphiql/, which `serve` uses as they are: serving needs no npm.
graphiql:
	assets/graphiql/copy.sh gateway/static/graphiql

check-graphiql:
	rm -rf $(VENV)/graphiql.now
	assets/graphiql/copy.sh $(VENV)/graphiql.now
	diff -r gateway/static/graphiql $(VENV)/graphiql.now

# Copies the pinned axe-core (assets/axe-core) that the browser tests run in the page.
axe-core:
	assets/axe-core/copy.sh tests/browser/vendor/axe-core

# Screenshots of the billing page's sections and the pricing page at desktop and phone width,
# with a fixed clock, into docs/screenshots/ (and README's "Screenshots"); needs Chromium.
# Not part of the generated-files check: fonts and Chromium versions move pixels.
screenshots: $(STAMP)
	$(BIN)/python -m tools.screenshots

clean:
	rm -rf $(VENV) var
