# Two commands from a fresh machine: `make demo` and `make test`. Both create .venv and install.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/lbrxvoicepro
STAMP := $(VENV)/.installed
# silero-vad's wheel requires torch although only its ONNX file is read: install it without deps.
NO_DEPS_PACKAGES := silero-vad==6.2.3 useful-moonshine-onnx==20251121
DEMO_CACHE := .cache
DEMO_KB := LBRX_CACHE_DIR=$(DEMO_CACHE) LBRX_KB__DATA_DIR=$(DEMO_CACHE)/demo/kb

.PHONY: install demo test lint bench serve clean

$(STAMP): pyproject.toml Makefile
	command -v redis-server >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,piper,csm,kb,llm,postgres,server]'
	$(PY) -m pip install --quiet --no-deps $(NO_DEPS_PACKAGES)
	touch $(STAMP)

install: $(STAMP)

demo: install
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
	@echo "== Knowledge base: add documents (Polish guide + the project docs), search, answer with citations"
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
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/rag.py
	$(PY) bench/asr.py
	$(PY) bench/tts.py
	$(PY) bench/ingest.py

# Loopback only, without credentials: for trying it out (docs/server.md: keys, tokens, TLS).
serve: install
	$(CLI) serve --host 127.0.0.1 --port 8000 --no-auth

clean:
	rm -rf $(VENV) $(DEMO_CACHE) .pytest_cache .ruff_cache .mypy_cache
