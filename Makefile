# Two commands do all the set-up on a fresh machine:
#   make run    serve the API with its own PostGIS and the reference data (http://127.0.0.1:8000)
#   make test   run the whole test suite against a real PostGIS
# Both install what is missing first: PostgreSQL/PostGIS and npm (apt), uv, the locked Python
# packages, MapLibre for the map page (npm ci); make test also Debian's chromium.

UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: system system-browser setup npm run run-production test lint clean-db

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

system:
	scripts/setup-system.sh

system-browser:
	scripts/setup-system.sh --browser

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

npm: node_modules/.package-lock.json

# Bytecode compiled once: where PYTHONDONTWRITEBYTECODE is set (as on these machines) every
# command and test subprocess otherwise compiled its imports again (2.5 of 4 CPU s a command).
setup: system
	$(MAKE) --no-print-directory $(UV) npm
	$(UV) sync --frozen --python 3.11 --compile-bytecode

run: setup
	$(UV) run --frozen opportunity serve --demo

test: system-browser setup
	$(UV) run --frozen pytest --require-db $(PYTEST_ARGS)

# Benchmarks, with nothing else on PATH: make bench-ingest ARGS="--files 200"
bench-%: setup
	$(UV) run --frozen python -m bench.$* $(ARGS)

lint: setup
	$(UV) run --frozen --with ruff ruff check app ingest geo tests bench

clean-db:
	-$(UV) run --frozen opportunity db stop
	rm -rf var/pg var/test-pg

# The production profile on this machine: nginx in front of two API processes, the
# embedded PostGIS and the demo data (http://127.0.0.1:8000). docs/operations.md.
run-production: setup
	$(UV) run --frozen opportunity serve --demo --replicas 2
