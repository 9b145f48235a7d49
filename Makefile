# Haven's two commands: `make run` (one machine, demo data) and `make test` (everything CI runs).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
LOCAL := DJANGO_SETTINGS_MODULE=config.settings.local
TEST := DJANGO_SETTINGS_MODULE=config.settings.test

.PHONY: run test install lint migrations-check messages translations-check test-python test-browser \
        test-worker demo typecheck format clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

messages: install
	$(LOCAL) $(PY) manage.py compilemessages --ignore=.venv --ignore=var -v 0

## make run: migrate a local SQLite database, load demo data, start Haven with a Celery worker and beat.
run: messages
	$(LOCAL) $(PY) manage.py migrate --no-input -v 0
	$(LOCAL) $(PY) manage.py seed_demo
	@echo "Haven runs at http://127.0.0.1:8000/ ; sign in with a demo user printed above."
	@echo "A demo user's current sign-in code: $(PY) manage.py demo_code <username>"
	@set -m; trap 'kill 0' EXIT INT TERM; \
	  $(LOCAL) $(VENV)/bin/celery -A config worker --beat --loglevel=INFO --concurrency=1 \
	      --schedule var/celerybeat-schedule & \
	  $(LOCAL) $(PY) manage.py runserver 127.0.0.1:8000

demo: run

## make test: lint, migrations, translations, the whole suite (real PostgreSQL, Redis, worker), the browser.
test: lint migrations-check translations-check test-python test-browser

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TEST) $(PY) manage.py check_encrypted_imports

migrations-check: install
	$(TEST) $(PY) manage.py makemigrations --check --dry-run

translations-check: messages
	$(TEST) $(VENV)/bin/pytest -q tests/test_translations.py

# Two processes (this machine has two cores); the real-worker suite runs on its own, since it owns the
# test Redis database.
test-python: messages
	$(TEST) $(VENV)/bin/pytest -q -n 2 --dist loadfile -m "not worker" --durations=15
	$(TEST) $(VENV)/bin/pytest -q -m worker

test-browser: messages
	$(TEST) DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest -q tests/e2e \
	    -o addopts='-p no:cacheprovider --strict-markers'

typecheck: install
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var/static var/celery-broker var/celerybeat-schedule*
