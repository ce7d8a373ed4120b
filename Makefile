# Keel — developer commands. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_ENV := DJANGO_DEBUG=1
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run install migrate seed serve test test-fast lint format bench worker beat clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput

seed: migrate
	$(DEV_ENV) $(BIN)/python manage.py seed_demo

run: seed
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# The whole suite: unit, integration (Celery worker on Redis), API and browser tests.
test: install
	$(DEV_ENV) $(BIN)/ruff check .
	$(DEV_ENV) $(BIN)/ruff format --check .
	$(DEV_ENV) $(BIN)/lint-imports --no-cache
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(DEV_ENV) $(BIN)/pytest

test-fast: install
	$(DEV_ENV) $(BIN)/pytest -m "not browser" -x -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks against PostgreSQL on a 10,000-initiative organisation, then the GPU usage ingest
# of 1,000,000 samples, the inventory import, a 5,000-row federal inventory and the executive
# dashboard, and the initiative list filtered by custom fields; writes
# docs/benchmarks.md (run.py rewrites it, the others replace their own marked sections).
bench: install
	$(DEV_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python benchmarks/run.py
	$(DEV_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python benchmarks/ingest.py
	$(DEV_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python benchmarks/import_inventory.py
	$(DEV_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python benchmarks/import_federal.py
	$(DEV_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python benchmarks/dashboard.py
	$(DEV_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python benchmarks/pods.py
	$(DEV_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python benchmarks/custom_fields.py

worker: install
	$(DEV_ENV) $(BIN)/celery -A config worker -l info

beat: install
	$(DEV_ENV) $(BIN)/celery -A config beat -l info

clean:
	rm -rf $(VENV) db.sqlite3 .test-db.sqlite3 staticfiles
