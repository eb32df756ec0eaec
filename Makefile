# Two entry points for users: `make serve` and `make test`. Everything else is a step they run.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
CONFIG ?= rtt/data/default.yaml
# The machine image keeps a CPU build of torch on disk; elsewhere pip takes it from PyPI.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
# llama.cpp compiles from source.  On x86-64 it is built for AVX2/FMA/F16C rather than
# -march=native: a native build on a CPU that reports AMX but whose kernel does not grant the
# tile state crashes in the first prompt (ldtilecfg, SIGSEGV).  The wheel is built once per
# machine into a folder named for its flags, outside the repo, and installed from there.
LLAMA_VERSION := 0.3.36
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
LLAMA_FLAVOUR := avx2
else
LLAMA_CMAKE :=
LLAMA_FLAVOUR := native
endif
LLAMA_WHEELS := $(HOME)/.cache/rtt/wheels/llama-$(LLAMA_VERSION)-$(LLAMA_FLAVOUR)
LLAMA_WHEEL_STAMP := $(LLAMA_WHEELS)/.built
PIP    := $(BIN)/python -m pip install --disable-pip-version-check $(FIND_LINKS) --find-links $(LLAMA_WHEELS)

.PHONY: serve test install install-research system-deps models node-deps lint bench peer-bench-deps clean-venv \
	lab lab-server notebooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) --quiet --upgrade pip "setuptools<81" wheel

$(LLAMA_WHEEL_STAMP): | $(BIN)/python
	mkdir -p $(LLAMA_WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/python -m pip wheel --disable-pip-version-check --no-deps --no-cache-dir \
	  -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	touch $@

# --force-reinstall: a venv made before the wheel folder existed holds a native build.
LLAMA_INSTALL = $(PIP) --no-deps --force-reinstall --no-index llama-cpp-python==$(LLAMA_VERSION)

$(VENV)/.installed: pyproject.toml $(LLAMA_WHEEL_STAMP) | $(BIN)/python
	$(LLAMA_INSTALL)
	$(PIP) -e ".[serve,dev]"
	touch $@

# One resolve for everything (the research extra pins numpy<2 and protobuf<5 for COMET).
$(VENV)/.installed-research: pyproject.toml $(LLAMA_WHEEL_STAMP) | $(BIN)/python
	$(LLAMA_INSTALL)
	$(PIP) -e ".[serve,dev,research,ray]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-research: $(VENV)/.installed-research

# Debian packages: Apertium (rule-based tier), Redis (shared rate limits), Chromium (page test),
# Prometheus (promtool checks and tests deploy/alerts.yml).
# Optional: without root or apt the features that need them report themselves unavailable.
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; \
	  command -v apertium >/dev/null || missing="$$missing apertium apertium-en-es"; \
	  command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v promtool >/dev/null || missing="$$missing prometheus"; \
	  command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	  if [ -n "$$missing" ]; then \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
	      || echo "warning: could not install$$missing"; \
	  fi; \
	else echo "system-deps: not root or no apt-get; skipping Apertium/Redis/Chromium"; fi

# JavaScript: the design's Node.js client example (and its tests) need `ws` from npm.
clients/node_modules/.installed: clients/package.json clients/package-lock.json
	@if command -v npm >/dev/null; then \
	  (cd clients && npm ci --no-audit --no-fund --loglevel=error) && touch $@; \
	else echo "node-deps: npm not found; the JavaScript tests will skip"; fi

node-deps: clients/node_modules/.installed

models: $(VENV)/.installed
	$(BIN)/rtt models pull

serve: install system-deps models
	$(BIN)/rtt serve --config $(CONFIG) --host $(HOST) --port $(PORT)

test: install-research system-deps models node-deps
	$(BIN)/python -m pytest -q -ra

lint: install
	$(BIN)/ruff check rtt serve tests
	$(BIN)/mypy

bench: install-research models
	$(BIN)/rtt bench mt --out reports/mt/bench.json

# JupyterLab on the notebooks, with this environment's Python as the kernel (python3).
LAB_PORT ?= 8888
LAB_ARGS ?=
lab: install-research models
	$(MAKE) --no-print-directory lab-server

# Containers often run as root, which JupyterLab refuses without --allow-root.
lab-server:
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) --no-browser --notebook-dir=notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# Execute every notebook on the committed reports and render it to reports/notebooks/*.html.
notebooks: install-research
	$(BIN)/rtt notebooks render

# The recognition peer for `rtt bench asr --peer whisperlivekit` (rtt/bench/peer.py): only its
# LocalAgreement modules are used, which need nothing faster-whisper does not already bring;
# --no-deps keeps its torch backends (and their gigabytes) out of the environment.
peer-bench-deps: install
	$(PIP) --no-deps whisperlivekit==0.2.26

clean-venv:
	rm -rf $(VENV)
