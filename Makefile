# edx-pipes: build, test, demo and benchmarks. The nightly job's targets (pull, transform, load,
# all, refresh) live in mk/pipeline.mk, included below.
SHELL := /bin/bash
.DEFAULT_GOAL := help
SHARED ?= ../shared
SRC := $(shell find src -name '*.ts' 2>/dev/null)

.PHONY: help install build test demo bench conformance clean pull transform load all

help:
	@echo "make demo         transform the bundled example (examples/) and load it when a database is reachable"
	@echo "make test         install, build and run the whole test suite"
	@echo "make conformance  score edx-json2sql against $(SHARED)/conformance"
	@echo "make bench        throughput and memory benchmarks (ratios against baselines of the same run)"
	@$(MAKE) --no-print-directory pipeline-help 2>/dev/null || true

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

dist/.built: node_modules/.installed tsconfig.json $(SRC)
	npx tsc -p tsconfig.json
	@touch $@

build: dist/.built

test: build
	npx tsc -p test/tsconfig.json
	npx tap

conformance: build
	@test -d $(SHARED)/conformance || { echo "conformance: $(SHARED)/conformance is missing (set SHARED=path/to/shared)"; exit 1; }
	python3 $(SHARED)/conformance/run.py --cmd 'bin/edx-json2sql --modulestore $(SHARED)/conformance/modulestore.json'

clean:
	rm -rf dist .tap

-include mk/*.mk

# Benchmarks print ratios against baselines measured in the same run (never timed assertions in tests).
BENCH_DIR ?= bench-out
BENCH_EVENTS ?= 200000
$(BENCH_DIR)/corpus-$(BENCH_EVENTS).log:
	@mkdir -p $(BENCH_DIR)
	node $(SHARED)/bench/make-corpus.mjs --events $(BENCH_EVENTS) --seed 7 > $@
$(BENCH_DIR)/corpus-50000.log:
	@mkdir -p $(BENCH_DIR)
	node $(SHARED)/bench/make-corpus.mjs --events 50000 --seed 7 > $@

.PHONY: bench bench-transform bench-load bench-backfill
bench: bench-transform bench-load bench-backfill
bench-transform: build $(BENCH_DIR)/corpus-50000.log $(BENCH_DIR)/corpus-$(BENCH_EVENTS).log
	node bench/transform.mjs $(BENCH_DIR)/corpus-50000.log $(BENCH_DIR)/corpus-$(BENCH_EVENTS).log
bench-load: build $(BENCH_DIR)/corpus-$(BENCH_EVENTS).log
	node bench/load.mjs $(BENCH_DIR)/corpus-$(BENCH_EVENTS).log --runs 3
bench-backfill: build
	node bench/backfill.mjs --events $(BENCH_EVENTS) --days 4
