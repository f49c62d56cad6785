# tradeshock: two commands for a newcomer.
#   make report   set everything up (.venv, package, Jupyter kernel, market data) and render reports/
#   make test     run the whole test suite
# Other targets: make lab (JupyterLab with the tradeshock kernel), make bench, make clean.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := $(VENV)/share/jupyter/kernels/tradeshock/kernel.json
PYTEST_ARGS ?=

.PHONY: install kernel data report test lab bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tradeshock needs Python >= 3.11; found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

$(KERNEL): $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name tradeshock --display-name "Python (tradeshock)" >/dev/null
	@echo "Jupyter kernel 'tradeshock' registered in $(VENV)"

kernel: $(KERNEL)

data: install
	$(BIN)/tradeshock data check

report: install kernel data
	$(BIN)/tradeshock render

test: install kernel
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lab: install kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: install
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) data/cache .pytest_cache
