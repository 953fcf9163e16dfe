# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test e2e fuzz lint format migrate seed worker beat bench bench-smoke clean help

help:
	@echo "make run    - install, migrate, load demo data and serve on http://$(HOST):$(PORT)"
	@echo "make test   - run the whole test suite (API schema fuzzing included, a few examples each; browser journeys aside)"
	@echo "make e2e    - run the browser journeys in Chromium (tests/e2e; screenshots in e2e/artifacts/)"
	@echo "make fuzz   - the API schema fuzzing alone, longer (FUZZ_EXAMPLES=50)"
	@echo "make lint   - ruff (checks and formatting) and the import-linter contracts"
	@echo "make bench  - list the benchmarks (see bench/README.md)"
	@echo "make bench-smoke - every benchmark at a tiny scale (a couple of minutes), as CI runs them"

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

# Two processes by default (pytest-xdist; TEST_WORKERS=0 runs in one); each has its own test database
# and Redis database, and the tests that start a real Celery worker share one (xdist_group).
TEST_WORKERS ?= 2
test: venv
	$(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup) $(PYTEST_ARGS)

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
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv
	@cat bench/README.md

# Every benchmark at a tiny scale, each on data it builds in its own PostgreSQL database, so none can
# rot unnoticed (.ci/run runs this). Any bench failing fails the target. BENCH_DB_SUFFIX keeps the
# databases of people sharing a server apart; the load bench's server uses BENCH_REDIS_URL (emptied).
# browse_bench.py runs once it exists.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_DB_SUFFIX ?=
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/15
bench-smoke: venv
	@set -e; all=$$(date +%s); \
	export BENCH_TEMPLATE_DATABASE=mp_bench_template$(BENCH_DB_SUFFIX); \
	run() { echo "== bench-smoke: $$*"; t=$$(date +%s); "$$@"; echo "== $$(( $$(date +%s) - t )) s"; }; \
	run $(PY) bench/catalogue_import.py --smoke --database-url $(BENCH_PG)/mp_catalogue_bench_smoke$(BENCH_DB_SUFFIX); \
	run $(PY) bench/search_bench.py --smoke --database-url $(BENCH_PG)/mp_search_bench_smoke$(BENCH_DB_SUFFIX); \
	run $(PY) bench/pricing_bench.py --smoke --database-url $(BENCH_PG)/mp_pricing_bench_smoke$(BENCH_DB_SUFFIX); \
	run $(PY) bench/pricing_write_profile.py --database-url $(BENCH_PG)/mp_pricing_bench_smoke$(BENCH_DB_SUFFIX); \
	run $(PY) bench/pricing_bench.py --smoke --tuned-server; \
	run $(PY) -m bench.relevance --smoke --postgres $(BENCH_PG)/mp_relevance_bench$(BENCH_DB_SUFFIX); \
	run $(PY) bench/load.py --smoke --database-url $(BENCH_PG)/mp_load_bench_smoke$(BENCH_DB_SUFFIX) \
		--redis-url $(BENCH_REDIS_URL); \
	run $(PY) bench/page_cpu.py --smoke --database-url $(BENCH_PG)/mp_page_cpu_smoke$(BENCH_DB_SUFFIX) \
		--redis-url $(BENCH_REDIS_URL); \
	run $(PY) bench/purchasing_checkout.py --smoke --database-url $(BENCH_PG)/mp_purchasing_bench_smoke$(BENCH_DB_SUFFIX); \
	run $(PY) bench/purchasing_orders.py --smoke \
		--database-url $(BENCH_PG)/mp_purchasing_orders_bench_smoke$(BENCH_DB_SUFFIX); \
	run $(PY) bench/ledger_bench.py --smoke --database-url $(BENCH_PG)/mp_ledger_bench_smoke$(BENCH_DB_SUFFIX); \
	run $(PY) bench/rounds_close.py --smoke --database-url $(BENCH_PG)/mp_rounds_bench_smoke$(BENCH_DB_SUFFIX); \
	if [ -f bench/browse_bench.py ]; then run $(PY) bench/browse_bench.py --smoke; \
	else echo "== bench-smoke: bench/browse_bench.py is not here yet: skipped"; fi; \
	echo "bench-smoke: every benchmark ran, in $$(( $$(date +%s) - all )) s"

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache e2e/node_modules e2e/artifacts
