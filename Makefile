# Every target bootstraps .venv from the lock file first, so `make serve` and `make test`
# work on a fresh clone with nothing but python3 (3.11+) installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: install serve test test-fast test-postgres lint schema check-schema operations check-operations migrations graphiql check-graphiql axe-core clean


install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
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

clean:
	rm -rf $(VENV) var
