# make demo: the main job on the bundled example log (examples/), from a fresh clone.
DEMO_LOG ?= examples/tracking.log-20140303.gz
DEMO_OUT ?= out/demo

.PHONY: demo
demo: build
	@mkdir -p $(DEMO_OUT)
	bin/edx-json2sql --stats $(DEMO_OUT)/stats.json --rejects $(DEMO_OUT)/rejects.jsonl $(DEMO_LOG) > $(DEMO_OUT)/demo.sql
	@echo "demo: SQL script   $(DEMO_OUT)/demo.sql ($$(grep -c '^INSERT' $(DEMO_OUT)/demo.sql) INSERT statements)"
	@echo "demo: summary      $(DEMO_OUT)/stats.json"
	@echo "demo: rejected     $(DEMO_OUT)/rejects.jsonl ($$(wc -l < $(DEMO_OUT)/rejects.jsonl) lines)"
	@echo "demo: load it with: mariadb < $(DEMO_OUT)/demo.sql   (or: make demo-load)"
