# `make demo` and `make test` each set everything up on a fresh machine, then run.
.PHONY: test demo lint typecheck pytest bench schema docs install clean

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# mypy cannot follow the editable install's import hook, so it reads the package through a tree
# of links that spells out the package-dir mapping (agent/ -> prodguardian, checks/ -> .checks).
TYPING := build/typing

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@
	@echo "prodguardian is installed in $(VENV)/: run $(BIN)/prodguardian, or '. $(BIN)/activate' first"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	rm -rf $(TYPING) && mkdir -p $(TYPING)/prodguardian
	for f in agent/*; do ln -s "$(CURDIR)/$$f" $(TYPING)/prodguardian/; done
	ln -s "$(CURDIR)/checks" $(TYPING)/prodguardian/checks
	MYPYPATH=$(TYPING) $(BIN)/mypy -p prodguardian
	MYPYPATH=$(TYPING) $(BIN)/mypy tests $(wildcard bench/*.py) examples/prodguardian-example-check/prodguardian_example_check

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

demo: $(STAMP)
	$(BIN)/python -m prodguardian.demo

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

schema: $(STAMP)
	$(BIN)/python -c 'import json; from prodguardian.render import report_json_schema as s; print(json.dumps(s(), indent=2, sort_keys=True))' > docs/report.schema.json

# Regenerates the generated docs: the report's JSON schema and the configuration reference.
docs: schema
	$(BIN)/prodguardian config reference -o docs/configuration.md

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
