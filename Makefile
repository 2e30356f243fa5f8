# The two commands: `make run` (the store with demo data) and `make test` (the suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev browser lint format checks ci clean bench bench-pipeline

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## Start the store on http://$(HOST):$(PORT) with a background worker and demo accounts.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py create_demo_accounts
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_demo_downloads
	@echo "Store: http://$(HOST):$(PORT)/  admin: http://$(HOST):$(PORT)/admin/  API docs: http://$(HOST):$(PORT)/api/docs/"
	@trap 'kill $$worker $$pipeline 2>/dev/null' EXIT INT TERM; \
	$(BIN)/celery -A config worker --queues default,email --concurrency 2 --loglevel INFO -n store@%h & worker=$$!; \
	$(BIN)/celery -A config worker --queues pipeline --concurrency 1 --loglevel INFO -n pipeline@%h & pipeline=$$!; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## Run the whole suite. PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set.
test: install-dev browser
	$(BIN)/pytest $(PYTEST_ARGS)

## Debian's Chromium for the browser tests (they are skipped, with the reason, without it).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Could not install Chromium: browser tests will be skipped."; \
	  else echo "Chromium is not installed: browser tests will be skipped."; fi; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Migrations match the models; production settings pass Django's deployment checks.
checks: install-dev
	env -u DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.prod \
	SECRET_KEY=$${SECRET_KEY:-ci-$$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-shop.example.com} \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

ci: test lint checks

## Benchmarks; results print as tables and go to bench/results/ (README: Benchmarks).
bench: bench-pipeline

## The photo-to-3D pipeline against raw pycolmap on the same photos (BENCH_REPEATS, default 2).
bench-pipeline: install-dev
	$(BIN)/python -m bench.pipeline

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3 db.sqlite3-*
