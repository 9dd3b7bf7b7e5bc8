# One-stop office assistant: Rasa 3.6 + knowledge search. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
LOCK        := requirements.lock
RASA        := $(PY) -m rasa
MODEL_DIR   := models
RASA_PORT   ?= 5005
ACTION_PORT ?= 5055
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

CATALOGUE_FILE ?= ../shared/data/national-procedures/procedures.jsonl.gz
DEV         := ../shared/eval/dev

.PHONY: help setup lock model kb catalogue run run-cluster chat console test eval-nlu eval-kb eval-catalogue bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

setup: $(STAMP)  ## create .venv with Python 3.10 and the locked packages (idempotent)

$(STAMP): $(LOCK) scripts/find_python.sh
	@interp=$$(bash scripts/find_python.sh) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then \
	  echo "creating $(VENV) with $$interp"; rm -rf $(VENV); "$$interp" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	$(PY) -m pip check
	@touch $@

lock:  ## re-resolve the stack in a scratch venv and rewrite requirements.lock
	bash scripts/lock.sh

kb: setup  ## validate the knowledge base and (re)build its search index incrementally
	$(PY) -m knowledge validate
	$(PY) -m knowledge build

catalogue: setup  ## import the national catalogue (CATALOGUE_FILE, default ../shared/...) and build its index; optional
	@if [ -f "$(CATALOGUE_FILE)" ]; then $(PY) -m knowledge import-catalogue "$(CATALOGUE_FILE)"; \
	else echo "no national file at $(CATALOGUE_FILE): the bot answers from curated guidance only"; fi

model: setup  ## train the Rasa model if it is missing or stale (Rasa fingerprints config, domain and data)
	$(RASA) train --config config.yml --domain bot/domain --data bot/data --out $(MODEL_DIR) --quiet

run: kb model  ## the main job: action server + Rasa server (REST channel) on embedded defaults
	bash scripts/run_local.sh $(RASA_PORT) $(ACTION_PORT)

run-cluster: kb model  ## N Rasa servers (default 2) behind a load balancer, sharing Redis and PostgreSQL
	bash scripts/run_cluster.sh $(or $(N),2) $(RASA_PORT)

console: kb  ## the staff console alone (http://localhost:8080; make run starts it too)
	$(PY) -m console serve --port $${CONSOLE_PORT:-8080}

chat: kb model  ## talk to the bot in this terminal
	bash scripts/run_local.sh $(RASA_PORT) $(ACTION_PORT) --shell

test: setup  ## the whole test suite (trains a model on the real data once per run)
	$(PY) -m pytest tests

eval-nlu: setup  ## train and evaluate our NLU pipeline vs Rasa's default pipeline on the dev set
	$(PY) -m nlu.evaluate --dev ../shared/eval/dev/nlu.yml

eval-kb: kb  ## evaluate retrieval and declines (BM25-only, dense-only, hybrid; old decline rule beside) on both dev sets
	@echo "== ../shared/eval/dev/retrieval.jsonl (questions around the 32 procedures)"
	$(PY) -m knowledge eval ../shared/eval/dev/retrieval.jsonl --compare --without-scope
	@echo "== ../shared/eval/dev/catalogue_edge.jsonl (outside the catalogue, near misses, hard inside)"
	$(PY) -m knowledge eval ../shared/eval/dev/catalogue_edge.jsonl --compare --without-scope

eval-catalogue: kb  ## catalogue tier: our catalogue questions (3 modes), and the dev sets through both tiers
	$(PY) -m knowledge catalogue-eval --compare --nulls $(DEV)/retrieval.jsonl $(DEV)/catalogue_edge.jsonl
	$(PY) -m knowledge eval-tiers $(DEV)/retrieval.jsonl $(DEV)/catalogue_edge.jsonl

bench: setup  ## latency benchmarks (NLU parse, knowledge search; the catalogue when ../shared is there)
	$(PY) bench/nlu_latency.py
	$(PY) bench/knowledge_bench.py
	$(PY) bench/stats_bench.py
	@if [ -f "$(CATALOGUE_FILE)" ]; then $(PY) bench/catalogue_bench.py --file "$(CATALOGUE_FILE)"; fi

clean:  ## remove trained models and built indexes (keeps .venv and the imported catalogue in var/)
	rm -rf $(MODEL_DIR) knowledge/index results
