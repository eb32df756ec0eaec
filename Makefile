# Two entry points for users: `make serve` and `make test`. Everything else is a step they run.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
CONFIG ?= rtt/data/default.yaml
# The machine image keeps a CPU build of torch on disk; elsewhere pip takes it from PyPI.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PIP    := $(BIN)/python -m pip install --disable-pip-version-check $(FIND_LINKS)

.PHONY: serve test install install-research system-deps models lint bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) --quiet --upgrade pip "setuptools<81" wheel

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e ".[serve,dev]"
	touch $@

# One resolve for everything (the research extra pins numpy<2 and protobuf<5 for COMET).
$(VENV)/.installed-research: pyproject.toml | $(BIN)/python
	$(PIP) -e ".[serve,dev,research]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-research: $(VENV)/.installed-research

# Debian packages: Apertium (rule-based tier), Redis (shared rate limits), Chromium (page test).
# Optional: without root or apt the features that need them report themselves unavailable.
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; \
	  command -v apertium >/dev/null || missing="$$missing apertium apertium-en-es"; \
	  command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  if [ -n "$$missing" ]; then \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
	      || echo "warning: could not install$$missing"; \
	  fi; \
	else echo "system-deps: not root or no apt-get; skipping Apertium/Redis/Chromium"; fi

models: $(VENV)/.installed
	$(BIN)/rtt models pull

serve: install system-deps models
	$(BIN)/rtt serve --config $(CONFIG) --host $(HOST) --port $(PORT)

test: install-research system-deps models
	$(BIN)/python -m pytest -q -ra

lint: install
	$(BIN)/ruff check rtt serve tests
	$(BIN)/mypy

bench: install-research models
	$(BIN)/rtt bench mt --out reports/mt/bench.json

clean-venv:
	rm -rf $(VENV)
