# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test e2e fuzz lint format migrate seed worker beat bench clean help

help:
	@echo "make run    - install, migrate, load demo data and serve on http://$(HOST):$(PORT)"
	@echo "make test   - run the whole test suite (API schema fuzzing included, a few examples each; browser journeys aside)"
	@echo "make e2e    - run the browser journeys in Chromium (tests/e2e; screenshots in e2e/artifacts/)"
	@echo "make fuzz   - the API schema fuzzing alone, longer (FUZZ_EXAMPLES=50)"
	@echo "make lint   - ruff and the import-linter contracts"
	@echo "make bench  - list the benchmarks (see bench/README.md)"

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --no-input

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	$(PY) manage.py runserver $(HOST):$(PORT)

worker: venv
	$(VENV)/bin/celery -A marketplace worker --loglevel=INFO

beat: venv
	$(VENV)/bin/celery -A marketplace beat --loglevel=INFO

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

FUZZ_EXAMPLES ?= 50
fuzz: venv
	@seed=$${FUZZ_SEED:-$$(date +%s)}; echo "fuzz: FUZZ_SEED=$$seed FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) (set FUZZ_SEED to replay)"; \
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$$seed $(PY) -m pytest -m fuzz tests/security/test_api_fuzz.py $(PYTEST_ARGS)

# Browser journeys: Playwright drives Debian's Chromium (/usr/bin/chromium, `apt-get install chromium`);
# axe-core comes from e2e/package-lock.json. Screenshots of every step go to e2e/artifacts/.
e2e/node_modules/axe-core/axe.min.js: e2e/package.json e2e/package-lock.json
	npm ci --prefix e2e --no-audit --no-fund
	touch $@

e2e: venv e2e/node_modules/axe-core/axe.min.js
	$(PY) -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv
	@cat bench/README.md

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache e2e/node_modules e2e/artifacts
