# edx-pipes: build, test, demo and benchmarks. The nightly job's targets (pull, transform, load,
# all, refresh) live in mk/pipeline.mk, included below.
SHELL := /bin/bash
.DEFAULT_GOAL := help
SHARED ?= ../shared
SRC := $(shell find src -name '*.ts' 2>/dev/null)

.PHONY: help deps install uninstall build test test-build test-packages check demo bench conformance clean pull transform load all

help:
	@echo "make demo         transform the bundled example (examples/) and load it when a database is reachable"
	@echo "make check        the in-process tests (no server, no tool spawned; under a minute)"
	@echo "make test         install, build and run the whole test suite (both tiers, one MariaDB)"
	@echo "make install      build, then link every tool into \$$PREFIX/bin (PREFIX=/usr/local; the clone must stay)"
	@echo "make conformance  score edx-json2sql against $(SHARED)/conformance"
	@echo "make bench        throughput and memory benchmarks (ratios against baselines of the same run)"
	@$(MAKE) --no-print-directory pipeline-help 2>/dev/null || true

# The lock file is what npm ci installs: an edit of package.json's settings (tap's) reinstalls nothing.
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

# `make install PREFIX=DIR`: every tool by name from DIR/bin, as links into this clone (its dist/
# and node_modules are what they run; for a copy that stands alone, `npm install -g` a packed
# tarball, see the README). PREFIX of mk/pipeline.mk (an S3 prefix, often set in config.mk) is
# used only when given on the command line or in the environment.
INSTALL_PREFIX := $(if $(filter command line environment,$(origin PREFIX)),$(PREFIX),/usr/local)
TOOLS := $(notdir $(filter-out %.mjs,$(wildcard bin/edx-*)))
install: build
	@mkdir -p '$(INSTALL_PREFIX)/bin'
	@for t in $(TOOLS); do ln -sfn '$(CURDIR)/bin/'$$t '$(INSTALL_PREFIX)/bin/'$$t; done
	@echo "installed $(TOOLS) in $(INSTALL_PREFIX)/bin (links into $(CURDIR))"

uninstall:
	@for t in $(TOOLS); do l='$(INSTALL_PREFIX)/bin/'$$t; [ "$$(readlink "$$l")" = '$(CURDIR)/bin/'$$t ] && rm -f "$$l" || true; done

dist/.built: node_modules/.installed tsconfig.json $(SRC)
	npx tsc -p tsconfig.json
	@touch $@

build: dist/.built

# Two tiers. In-process tests need no server and spawn no tool; the tools-and-servers tier is every
# test file that talks to the database or S3 or runs a program. `make test` runs both in one tap run
# (its jobs keep both cores busy) with one MariaDB for the run; test/run-suite.sh also checks that
# the tests left nothing in TMPDIR and prints the wall time.
TESTS := $(sort $(wildcard test/*.test.ts))
SERVER_TESTS := $(shell grep -lE 'testServer|testConnection|loadSqlScript|throwawayDatabases|throwawayWarehouse|startS3|runTool|runShell|runBytes|spawnTool|CSVLOAD|child_process' $(TESTS) 2>/dev/null)
CHECK_TESTS := $(filter-out $(SERVER_TESTS),$(TESTS))

# The tests run compiled (tsc into .test-build/, checked as strictly as src/): tap then needs no
# TypeScript loader in each test process, about 1.4 CPU-s saved per test file. Run some files only
# with e.g. `make test TESTS=test/bad-args.test.ts`.
TEST_BUILD := .test-build
compiled = $(patsubst test/%.ts,$(TEST_BUILD)/test/%.js,$(1))

# tap builds its plugin set when it is installed and does not rebuild it on its own for the set
# package.json names (no TypeScript loader): built once per install and per change of the config.
node_modules/.tap-built: package.json node_modules/.installed
	npx tap build
	@touch $@

test-build: node_modules/.tap-built
	rm -rf $(TEST_BUILD)
	npx tsc -p test/tsconfig.build.json

check: test-build
	test/run-suite.sh --label 'make check' $(call compiled,$(CHECK_TESTS))

# The cluster tests' Debian packages (Slurm, munge, GNU parallel), where missing and installable.
test-packages:
	@test/system-packages.sh

test: build test-build test-packages
	test/run-suite.sh --db --label 'make test' $(call compiled,$(TESTS))

conformance: build
	@test -d $(SHARED)/conformance || { echo "conformance: $(SHARED)/conformance is missing (set SHARED=path/to/shared)"; exit 1; }
	python3 $(SHARED)/conformance/run.py --cmd 'bin/edx-json2sql --modulestore $(SHARED)/conformance/modulestore.json'

clean:
	rm -rf dist .tap $(TEST_BUILD)

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

.PHONY: bench bench-transform bench-load bench-backfill bench-load-settings
bench: bench-transform bench-load bench-backfill bench-load-settings
bench-transform: build $(BENCH_DIR)/corpus-50000.log $(BENCH_DIR)/corpus-$(BENCH_EVENTS).log
	node bench/transform.mjs $(BENCH_DIR)/corpus-50000.log $(BENCH_DIR)/corpus-$(BENCH_EVENTS).log
bench-load: build $(BENCH_DIR)/corpus-$(BENCH_EVENTS).log
	SHARED='$(SHARED)' node bench/load.mjs $(BENCH_DIR)/corpus-$(BENCH_EVENTS).log --runs 3
bench-backfill: build
	SHARED='$(SHARED)' node bench/backfill.mjs --events $(BENCH_EVENTS) --days 4
# InnoDB session settings, row order and statement size for edx-csvload's loads (docs/scale.md).
bench-load-settings: build
	SHARED='$(SHARED)' node bench/load-settings.mjs --events 40000 --days 4 --runs 5
