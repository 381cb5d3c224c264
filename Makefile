# Jiuzai: `make run` serves the demo on http://127.0.0.1:8000; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 3
# gthread workers: keep-alive connections, and a worker's threads overlap each other's waits on
# the database (round trips, the commit's flush); see bench/reports.py for the figures.
THREADS ?= 4
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
# pytest-xdist workers; every worker makes its own databases, so runs do not share state.
TEST_WORKERS ?= 2
# The PostgreSQL pass: every database test except the browser walks, which the SQLite pass runs
# (they check pages, not the database; a browser test marked postgres still runs here).
# PG_MARKS="db or postgres" runs them on PostgreSQL too.
PG_MARKS ?= postgres or (db and not browser)
# Read by create_app when neither JIUZAI_SECRET_KEY nor instance/config.py sets a key.
SECRET_KEY_FILE := instance/secret_key

.PHONY: install run serve migrate demo test test-sqlite test-postgres bench translations clean secret-key

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BIN)/activate

install: $(BIN)/activate translations

translations: $(BIN)/activate
	@for dir in app/translations app/*/translations; do $(BIN)/pybabel compile -f -d $$dir >/dev/null 2>&1 || exit 1; done

# A random key, made once (mode 0600) and reused: sessions survive restarts, and no key that
# was ever published can sign a cookie for this server.
secret-key: $(SECRET_KEY_FILE)

$(SECRET_KEY_FILE):
	@mkdir -p $(dir $@)
	@(umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@.tmp) && mv $@.tmp $@
	@echo "Jiuzai: generated a new secret key in $@ (mode 0600); keep it, and back it up with the instance folder"

migrate: install | $(SECRET_KEY_FILE)
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo load

# Serve with gunicorn plus the scheduler process; Ctrl-C stops both.
run: demo serve

serve: | $(SECRET_KEY_FILE)
	@echo "Jiuzai: http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(FLASK) scheduler run & \
	  $(BIN)/gunicorn --workers $(WORKERS) --worker-class gthread --threads $(THREADS) \
	    --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# The whole suite on SQLite (browser tests included), then every database test but the browser
# walks again on PostgreSQL + PostGIS at 127.0.0.1:5432 (fresh databases are created and dropped).
test: install
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS)
	JIUZAI_TEST_DB=postgresql JIUZAI_TEST_PG_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(TEST_WORKERS) -m "$(PG_MARKS)"

test-sqlite: install
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS)

test-postgres: install
	JIUZAI_TEST_DB=postgresql JIUZAI_TEST_PG_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(TEST_WORKERS) -m "$(PG_MARKS)"

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) instance/jiuzai.sqlite* .pytest_cache
