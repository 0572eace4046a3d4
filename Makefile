# `make demo` and `make test` each set everything up on a fresh machine, then run.
.PHONY: test demo lint typecheck pytest bench schema install clean

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The editable install links files one by one (strict mode, so mypy can see the package-dir
# mapping); it is redone when a file is added or removed, not on every edit.
SOURCES := $(VENV)/.sources
$(shell mkdir -p $(VENV) && find agent checks runbooks -type f -not -name '*.pyc' 2>/dev/null | sort > $(SOURCES).new && (cmp -s $(SOURCES).new $(SOURCES) || mv $(SOURCES).new $(SOURCES)); rm -f $(SOURCES).new)

install: $(STAMP)

$(STAMP): pyproject.toml $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e '.[dev]' --config-settings editable_mode=strict
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy -p prodguardian tests bench

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

demo: $(STAMP)
	$(BIN)/python -m prodguardian.demo

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

schema: $(STAMP)
	$(BIN)/python -m prodguardian.render.json_report > docs/report.schema.json

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
