# Two commands do everything on a fresh Debian machine with Python 3.11:
#   make demo   set up, then run the main job on real footage that PyPI packages ship
#   make test   set up, then run the tests (CI runs exactly this)
# `make check` adds ruff, mypy and the import-cycle check.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test check lint clean

$(BIN)/camsift: pyproject.toml
	./tools/bootstrap.sh "$(PYTHON)" "$(VENV)"
	@touch $@

demo: $(BIN)/camsift
	$(BIN)/python tools/demo_footage.py demo-footage
	$(BIN)/camsift scan demo-footage --data-dir demo-data

test: $(BIN)/camsift
	$(BIN)/python -m pytest

lint: $(BIN)/camsift
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/python tools/check_imports.py

check: lint test

clean:
	rm -rf demo-footage demo-data .pytest_cache .mypy_cache .ruff_cache
