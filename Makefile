# Two commands from a fresh machine: `make demo` and `make test`. Both create .venv and install
# from the locks in requirements/ (every package pinned with its hash; `make lock` refreshes them).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/lbrxvoicepro
# Every package comes from a lock, so pip resolves nothing; builds (llama-cpp-python ships only
# as source) use the pinned build tools of build.lock instead of fetching their own.
LOCKED := $(PY) -m pip install --quiet --require-hashes --no-deps --no-build-isolation
PROJECT := $(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --upgrade
DEMO_EXTRAS := piper,kb,llm,server
TEST_EXTRAS := dev,piper,csm,kb,llm,postgres,ray,server
DEMO_CACHE := .cache
DEMO_KB := LBRX_CACHE_DIR=$(DEMO_CACHE) LBRX_KB__DATA_DIR=$(DEMO_CACHE)/demo/kb

.PHONY: install install-demo demo doctor test lint lock bench serve clean

$(VENV)/.build: requirements/build.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/build.lock
	touch $@

# What the demo and the server need; the test tools and test-only extras are left out.
$(VENV)/.demo: $(VENV)/.build requirements/demo.lock requirements/data.lock pyproject.toml
	$(LOCKED) -r requirements/demo.lock -r requirements/data.lock
	$(PROJECT)
	touch $@

# Everything: the whole of test.lock (a superset of demo.lock), Redis for the server tests and
# Debian's chromium for the browser pages' tests, HAProxy for the role-split services' test.
SYSTEM_TEST_TOOLS := redis-server chromium haproxy
$(VENV)/.test: $(VENV)/.build requirements/test.lock requirements/data.lock pyproject.toml
	missing=$$(for tool in $(SYSTEM_TEST_TOOLS); do command -v $$tool >/dev/null || echo $$tool; done); \
	test -z "$$missing" || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }
	$(LOCKED) -r requirements/test.lock -r requirements/data.lock
	$(PROJECT)
	touch $@ $(VENV)/.demo

install-demo: $(VENV)/.demo
install: $(VENV)/.test

# Re-resolve every lock to the newest releases pyproject.toml allows, and list what changed
# (data.lock, wheels taken only for the model files inside, is pinned by hand).
lock: install
	@old=$$(mktemp -d) && cp requirements/*.lock $$old/ && \
	$(COMPILE) --extra $(TEST_EXTRAS) -o requirements/test.lock \
		pyproject.toml requirements/build.in requirements/extras.in && \
	$(COMPILE) -c requirements/test.lock -o requirements/build.lock requirements/build.in && \
	$(COMPILE) --extra $(DEMO_EXTRAS) -o requirements/demo.lock pyproject.toml requirements/demo.in && \
	$(COMPILE) -o requirements/bench.lock requirements/bench.in && \
	for lock in build demo test bench; do \
		changes=$$(diff <(grep -oE '^[A-Za-z0-9_.-]+==[^ ]+' $$old/$$lock.lock) \
			<(grep -oE '^[A-Za-z0-9_.-]+==[^ ]+' requirements/$$lock.lock) \
			| grep -E '^[<>]' | sed 's/^</  removed/; s/^>/  added  /'); \
		echo "== requirements/$$lock.lock"; echo "$${changes:-  unchanged}"; \
	done; rm -rf $$old

doctor: $(VENV)/.demo
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) doctor

demo: $(VENV)/.demo
	@echo "== engines: one real inference each"
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) doctor
	@echo "== models"
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) models list
	@echo "== English (bundled clip), word timestamps"
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) transcribe --language en --format vtt --word-timestamps \
		"$$($(PY) -c 'import importlib.util as u, pathlib as p; print(p.Path(u.find_spec("moonshine_onnx").origin).parent / "assets/beckett.wav")')"
	@echo "== Polish spontaneous speech, segments with times"
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) transcribe --format srt tests/data/pl/bigos_azon_spont_4.wav
	@echo "== Build a Polish dataset: ingest (a bad file is reported and skipped), validate, export"
	rm -rf $(DEMO_CACHE)/demo/dataset $(DEMO_CACHE)/demo/moshi
	mkdir -p $(DEMO_CACHE)/demo/recordings
	cp tests/data/pl/bigos_azon_spont_0.wav tests/data/pl/bigos_azon_spont_1.wav $(DEMO_CACHE)/demo/recordings/
	printf 'not audio' > $(DEMO_CACHE)/demo/recordings/broken.wav
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) ingest $(DEMO_CACHE)/demo/recordings --speaker polish_male --dataset $(DEMO_CACHE)/demo/dataset; test $$? -eq 1
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) validate --dataset $(DEMO_CACHE)/demo/dataset
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) convert --format moshi --output $(DEMO_CACHE)/demo/moshi --dataset $(DEMO_CACHE)/demo/dataset --validation 0
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) stats --dataset $(DEMO_CACHE)/demo/dataset
	head -c 300 $(DEMO_CACHE)/demo/moshi/train/data.jsonl; echo
	@echo "== Speak Polish (eSpeak NG; numbers, dates, money spelled out), then transcribe it back"
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) synthesize -o $(DEMO_CACHE)/demo/pl.wav \
		"Dzień dobry! Spotkanie jest 24.11.2026 o 14:30, a bilet kosztuje 12,50 zł."
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) transcribe $(DEMO_CACHE)/demo/pl.wav
	@echo "== Speak English (Piper neural voice), then transcribe it back"
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) synthesize -v piper:en_US-joe-medium -o $(DEMO_CACHE)/demo/en.wav \
		"Good morning! The train leaves at 10:30 and the ticket costs \$$12.50."
	LBRX_CACHE_DIR=$(DEMO_CACHE) $(CLI) transcribe --language en $(DEMO_CACHE)/demo/en.wav
	@echo "== Knowledge base: add documents (the examples + the project docs), search, answer with inline citations checked against the passages"
	rm -rf $(DEMO_CACHE)/demo/kb
	$(DEMO_KB) $(CLI) kb add examples/kb docs --kb demo
	$(DEMO_KB) $(CLI) kb query "Kto założył uczelnię w Krakowie?" --kb demo -k 2
	$(DEMO_KB) LBRX_LLM__MAX_TOKENS=80 LBRX_LLM__TEMPERATURE=0 $(CLI) ask "Jak dojechać z lotniska do centrum Krakowa?" --kb demo -k 2

test: install
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench
	$(PY) -m mypy
	$(PY) -m pytest

bench: install
	$(LOCKED) -r requirements/bench.lock
	$(PY) bench/rag.py
	$(PY) bench/asr.py
	$(PY) bench/tts.py
	$(PY) bench/ingest.py
	$(PY) bench/converse.py

# Loopback only, without credentials: for trying it out (docs/server.md: keys, tokens, TLS).
serve: $(VENV)/.demo
	$(CLI) serve --host 127.0.0.1 --port 8000 --no-auth

clean:
	rm -rf $(VENV) $(DEMO_CACHE) .pytest_cache .ruff_cache .mypy_cache
