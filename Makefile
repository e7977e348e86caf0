# Loupe — one command to run it, one to test it (see README.md).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: demo test install venv lint bench-spine clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel
	# The CPU build of torch first (a plain `torch` would pull a several-GB CUDA build).
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -r requirements-dev.txt
	touch $@

# The browser libraries (OpenSeadragon, Annotorious), pinned by package-lock.json, served as static files.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "needs npm (apt-get install npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed node_modules/.package-lock.json

# Run everything on the embedded default: SQLite, embedded Redis, demo data, a worker, the web server.
demo: install
	$(PY) manage.py rundemo

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench-spine: install
	$(PY) bench/spine_queue.py

clean:
	rm -rf var .pytest_cache node_modules
