# yiwang — two commands: `make demo` and `make test`. Everything else is a helper of theirs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export YIWANG_DATA_DIR ?= $(CURDIR)/var

.PHONY: demo test install lint unit serve clean config-reference openapi

$(STAMP): pyproject.toml requirements.lock package.json package-lock.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@command -v npm >/dev/null || { echo "npm is needed for the maps and charts (Leaflet, ECharts from the npm registry): apt-get install -y nodejs npm"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $(STAMP)

install: $(STAMP)

## make demo: install, migrate, load the demo city (示例市) and serve both zones.
demo: export YIWANG_ENV ?= demo
demo: install
	$(BIN)/yiwang migrate --noinput
	$(BIN)/yiwang demo
	$(BIN)/yiwang serve

## make test: install and run every check and test.
test: install lint unit

lint: install
	$(BIN)/ruff check yiwang tests benchmarks examples
	$(BIN)/lint-imports
	$(BIN)/mypy yiwang/core $$(git ls-files "yiwang/*/service.py" | grep -v "^yiwang/core/")
	YIWANG_ENV=test $(BIN)/yiwang makemigrations --check --dry-run

unit: install
	$(BIN)/pytest -n 2 -q

openapi: install
	YIWANG_ENV=test $(BIN)/yiwang export-openapi

config-reference: install
	YIWANG_ENV=test $(BIN)/yiwang config-reference > docs/configuration.md

clean:
	rm -rf $(VENV) var
