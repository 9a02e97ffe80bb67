# The two commands of the README: `make demo` and `make test`. Both set up what is missing.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: docs bench demo test lint typecheck imports unit pytest sandbox-binaries sandbox-up sandbox-down \
	sandbox-reset system-deps venv clean

system-deps:
	@scripts/ensure-system-deps.sh

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

# The CRI v1 stubs the node agent speaks (generated, gitignored): after a fresh clone or a
# change of scripts/gen-cri.sh.
nodeagent/cri/v1/api_pb2.py: scripts/gen-cri.sh $(BIN)/.installed
	@scripts/gen-cri.sh $(BIN)/python

venv: $(BIN)/.installed nodeagent/cri/v1/api_pb2.py

sandbox-binaries: venv
	@$(BIN)/k8s-chatops-sandbox build >/dev/null

demo: system-deps venv sandbox-binaries
	@scripts/demo.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

imports: venv
	$(BIN)/lint-imports

unit: venv
	$(BIN)/pytest tests/unit -q

# pytest-xdist workers for `make pytest` / `make test`: each is its own session, with its own
# Redis and sandbox (`<run dir>-gwN`), and gets whole modules, the slow ones first. Most tests
# wait on a real API server, Redis or a restart, not on the CPU, so 2 cores run 2 at once.
# `make pytest PYTEST_WORKERS=0` runs one session, in order, reusing a running `make sandbox-up`.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder)

pytest: venv
	$(BIN)/pytest -q $(PYTEST_PARALLEL) --durations=15

test: system-deps venv lint typecheck imports sandbox-binaries pytest

# The README's command table and docs/commands.md, from the command registry.
docs: venv
	$(BIN)/python -m bot.commands.docs

# Benchmarks print ratios against the reference tools measured in the same run.
bench: venv sandbox-binaries
	$(BIN)/k8s-chatops-sandbox up
	$(BIN)/python bench/drain_vs_kubectl.py
	$(BIN)/python bench/logs_vs_stern.py
	$(BIN)/python bench/queue_latency.py
	$(BIN)/python bench/ack_latency.py
	$(BIN)/python bench/adversarial.py
	$(BIN)/python bench/prune_vs_crictl.py

sandbox-up: venv
	$(BIN)/k8s-chatops-sandbox up

sandbox-down: venv
	$(BIN)/k8s-chatops-sandbox down

sandbox-reset: venv
	$(BIN)/k8s-chatops-sandbox reset

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
