# The two commands: `make run` (the store with demo data) and `make test` (the suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev system-libs browser lint format checks ci clean bench bench-load bench-pipeline

# Install a Debian package when run as root where apt-get exists; fails otherwise (the caller says
# what is missing).
apt-install = { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python system-libs
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python system-libs
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime system-libs
install-dev: $(VENV)/.dev system-libs

## The one system library a wheel needs: open3d (3D model meshing) loads libusb-1.0.
system-libs:
	@ldconfig -p | grep -q 'libusb-1\.0\.so\.0' || $(call apt-install,libusb-1.0-0) \
	  || echo "libusb-1.0 is missing (apt-get install libusb-1.0-0): 3D models will be convex hulls."

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
	@command -v chromium >/dev/null 2>&1 || $(call apt-install,chromium) \
	  || echo "Chromium is not installed: browser tests will be skipped."

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
bench: bench-load bench-pipeline

BENCH_VENV := .venv-bench
RUNTIME_VENV := .venv-runtime

## The store under load on loopback: needs DATABASE_URL (PostgreSQL) and REDIS_URL; options in
## BENCH_ARGS, e.g. BENCH_ARGS="--duration 5 --products 2000".
bench-load: install-dev $(BENCH_VENV)/.installed $(RUNTIME_VENV)/.installed
	@command -v wrk >/dev/null 2>&1 || $(call apt-install,wrk) \
	  || { echo "The load benchmark needs wrk (Debian package wrk)."; exit 1; }
	$(BIN)/python -m bench.load $(BENCH_ARGS)

# Locust in a venv of its own (requirements-bench.txt says why).
$(BENCH_VENV)/.installed: requirements-bench.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet -r requirements-bench.txt
	@touch $@

# The benchmarked server runs on the runtime packages only, as in production.
$(RUNTIME_VENV)/.installed: requirements.txt | system-libs
	$(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/pip install --quiet --upgrade pip
	$(RUNTIME_VENV)/bin/pip install --quiet -r requirements.txt
	@touch $@

## The photo-to-3D pipeline against raw pycolmap on the same photos (BENCH_REPEATS, default 2).
bench-pipeline: install-dev
	$(BIN)/python -m bench.pipeline

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(RUNTIME_VENV) var staticfiles db.sqlite3 db.sqlite3-*
