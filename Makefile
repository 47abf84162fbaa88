# pullkey: the one interface for people, hooks and CI (`make help`).
.DEFAULT_GOAL := all
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help
help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q --group dev
	touch $@

.PHONY: install
install: $(STAMP) build-dev ## create .venv with every dev dependency and build pullkey into it

.PHONY: build-dev
build-dev: $(STAMP) ## build the extension (debug) and install pullkey into .venv
	set -o pipefail; $(VENV)/bin/maturin develop -q 2>&1 | sed '/^Requirement already satisfied/d'

.PHONY: build-prod
build-prod: $(STAMP) ## build an optimised wheel and install it (what benchmarks measure)
	rm -rf dist && $(VENV)/bin/maturin build -q --release -o dist
	$(PY) -m pip install -q --force-reinstall --no-deps dist/*.whl
	$(PY) -m pip install -q dist/*.whl

.PHONY: demo
demo: install ## run a kubelet request through the exec plugin on the sample credentials (README "Use it")
	@echo '$$ export HOME=$$PWD/examples/home'
	@echo '$$ pullkey --config examples/pullkey.yaml < examples/request.json'
	@HOME=$(CURDIR)/examples/home $(VENV)/bin/pullkey --config examples/pullkey.yaml < examples/request.json
	@echo
	@echo '# Why a "ladder" of keys (.../team/app, .../team/ap, .../team/a): the auth map has no order and the'
	@echo '# kubelet, which caches this answer, tries matching keys in reverse-sorted order; prefixes of the image'
	@echo '# replay the three credentials in the order below (README "Responses the kubelet can cache safely").'
	@echo '$$ pullkey explain --config examples/pullkey.yaml registry.example.com:5000/team/app'
	@HOME=$(CURDIR)/examples/home $(VENV)/bin/pullkey explain --config examples/pullkey.yaml \
		registry.example.com:5000/team/app

.PHONY: e2e-deps
e2e-deps: ## install the Debian packages the end-to-end tests need (docker-registry, skopeo, ...)
	bash scripts/install-e2e-deps.sh

.PHONY: format
format: $(STAMP) ## format Rust and Python
	cargo fmt
	$(VENV)/bin/ruff check --fix python tests bench oracles
	$(VENV)/bin/ruff format python tests bench oracles

.PHONY: format-check
format-check: $(STAMP) ## fail when `make format` would change a file (rustfmt, ruff format)
	cargo fmt --check
	$(VENV)/bin/ruff format --check python tests bench oracles

.PHONY: lint
lint: format-check ## format-check, clippy, ruff, mypy, stubtest, import cycles, citations
	cargo clippy -q --all-targets -- -D warnings
	cargo clippy -q --all-targets --features python -- -D warnings
	$(VENV)/bin/ruff check python tests bench oracles
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest pullkey._core --allowlist .stubtest-allowlist
	$(PY) scripts/check_cycles.py
	$(PY) scripts/check_citations.py

.PHONY: protos
protos: $(STAMP) ## regenerate python/pullkey/v1 from protos/
	bash scripts/gen_protos.sh

.PHONY: protos-check
protos-check: protos ## fail when the checked-in gRPC stubs differ from what protos/ generates
	git diff --exit-code -- python/pullkey/v1

.PHONY: test-rust
test-rust: ## cargo tests (no Python needed)
	cargo test -q

.PHONY: test-python
test-python: build-dev ## pytest (unit, exec, gRPC, end-to-end)
	$(PY) -m pytest -q

.PHONY: fuzz
fuzz: ## run every fuzz target FUZZ_SECONDS (default 600) each, one at a time (fuzz/README.md)
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} bash scripts/fuzz.sh run $(FUZZ_TARGETS)

.PHONY: fuzz-smoke
fuzz-smoke: ## build the fuzz targets, replay fuzz/regressions, fuzz each target a few seconds
	bash scripts/fuzz.sh smoke

.PHONY: soak
soak: ## the 60 s load and soak test of `pullkey serve` (bench/README.md; SOAK_ARGS="--duration 3600")
	$(PY) bench/soak.py $(SOAK_ARGS)

.PHONY: test
test: install e2e-deps test-rust lint protos-check test-python fuzz-smoke ## everything CI runs, from a fresh clone

.PHONY: test-fast
test-fast: build-dev test-rust lint ## the quick local loop: no apt packages, no e2e registry tests, no protos check
	$(PY) -m pytest -q --ignore tests/e2e

.PHONY: bench
bench: build-prod ## benchmarks against peers (optimised build); writes bench/results/RESULTS.md and grpc.md
	command -v h2load >/dev/null || apt-get install -y --no-install-recommends nghttp2-client
	$(PY) bench/run.py all
	$(PY) bench/run.py grpc

.PHONY: all
all: install lint test-rust test-python ## build, lint and test
