# tradeshock: two commands for a newcomer.
#   make report   set everything up (.venv, package, Jupyter kernel, market data) and render reports/
#   make test     run the whole test suite (installs Chromium for the browser tests if missing)
# Other targets: make lab (JupyterLab with the tradeshock kernel), make browser (Chromium for the
# browser tests), make screenshots (README pictures), make bench, make clean.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := $(VENV)/share/jupyter/kernels/tradeshock/kernel.json
PYTEST_ARGS ?=

.PHONY: install kernel data report test browser screenshots lab bench clean

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

# The browser tests need Chromium: installed here when missing (see `browser`); a failed install
# still runs the suite, where tests/test_browser.py then fails with the fix.
test: install kernel
	@case "$${TRADESHOCK_SKIP_BROWSER:-}" in 1|true|yes) ;; *) bash .ci/install-browser || \
	  echo "make: no Chromium; tests/test_browser.py will fail (TRADESHOCK_SKIP_BROWSER=1 skips it)";; esac
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Chromium for tests/test_browser.py: Debian's `chromium` via apt-get (sudo when not root), unless
# one is found or TRADESHOCK_CHROMIUM names one.
browser:
	@bash .ci/install-browser

# docs/img/index.png and docs/img/report-figure.png, from all notebooks rendered on pinned data.
screenshots: install kernel browser
	$(BIN)/python tests/browser_shots.py

lab: install kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: install
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_sweep.py --n 6

clean:
	rm -rf $(VENV) data/cache .pytest_cache
