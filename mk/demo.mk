# make demo: the main job on the bundled example log (examples/), from a fresh clone.
# Transforms it, and when a database is reachable loads it into demo databases (never the real
# warehouse) and shows a few query results. The connection follows the tools' conventions:
# $EDX_PIPES_MY_CNF, else ~/.my.cnf, overridden by MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_USER, MYSQL_PWD.
DEMO_LOG ?= examples/tracking.log-20140303.gz
DEMO_OUT ?= out/demo
DEMO_EDX_DB ?= edx_demo
DEMO_PRIVATE_DB ?= edx_demo_private
DEMO_NAMES = --edx-db '$(DEMO_EDX_DB)' --private-db '$(DEMO_PRIVATE_DB)'

# check: can we connect? show: a few queries on the demo databases, printed as tables.
define DEMO_JS
const [connPath, edxDb, mode] = process.argv.slice(1);
const { connectionSettings, connect, describeSettings } = await import(connPath);
const s = connectionSettings({});
let c;
try {
  c = await connect({ ...s, database: undefined }, { connectTimeout: 3000 });
} catch (e) {
  console.error("demo: no database reachable at " + describeSettings(s) + ": " + e.message);
  process.exit(1);
}
if (mode === "check") { console.log(describeSettings(s)); await c.end(); process.exit(0); }
const db = c.escapeId(edxDb);
async function show(title, sql) {
  const [rows, fields] = await c.query(sql);
  const names = fields.map((f) => f.name);
  const cells = rows.map((r) => names.map((n) => String(r[n] ?? "NULL").replace(/\s+/g, " ").slice(0, 60)));
  const w = names.map((n, i) => Math.max(n.length, ...cells.map((r) => r[i].length)));
  const line = (r) => "  " + r.map((v, i) => v.padEnd(w[i])).join("  ");
  console.log("\n" + title + "\n" + line(names) + "\n" + line(w.map((n) => "-".repeat(n))));
  for (const r of cells) console.log(line(r));
}
await show("Events per type (" + edxDb + ".EdxTrackEvent)",
  "SELECT event_type, COUNT(*) AS events FROM " + db + ".EdxTrackEvent GROUP BY event_type ORDER BY events DESC, event_type LIMIT 12");
await show("Answers with their event (EdxTrackEvent JOIN Answer on answer_fk)",
  "SELECT e.time, e.anon_screen_name, a.problem_id, a.answer FROM " + db + ".EdxTrackEvent e JOIN " + db + ".Answer a ON a.answer_id = e.answer_fk ORDER BY e.time, a.answer LIMIT 8");
await c.end();
endef

.PHONY: demo
demo: export DEMO_JS := $(DEMO_JS)
demo: build
	@mkdir -p $(DEMO_OUT)
	bin/edx-json2sql $(DEMO_NAMES) --stats $(DEMO_OUT)/stats.json --rejects $(DEMO_OUT)/rejects.jsonl $(DEMO_LOG) > $(DEMO_OUT)/demo.sql
	@rm -rf $(DEMO_OUT)/csv
	bin/edx-json2sql $(DEMO_NAMES) --quiet --csv $(DEMO_OUT)/csv $(abspath $(DEMO_LOG))
	@echo "demo: SQL script   $(DEMO_OUT)/demo.sql ($$(grep -c '^REPLACE INTO' $(DEMO_OUT)/demo.sql) REPLACE statements, for databases $(DEMO_EDX_DB)/$(DEMO_PRIVATE_DB))"
	@echo "demo: CSV          $(DEMO_OUT)/csv/ (a collection for edx-csvload)"
	@echo "demo: summary      $(DEMO_OUT)/stats.json"
	@echo "demo: rejected     $(DEMO_OUT)/rejects.jsonl ($$(wc -l < $(DEMO_OUT)/rejects.jsonl) lines)"
	@if where=$$(node --input-type=module -e "$$DEMO_JS" $(abspath dist/mysql/connection.js) '$(DEMO_EDX_DB)' check); then \
	  echo "demo: loading into $(DEMO_EDX_DB)/$(DEMO_PRIVATE_DB) at $$where"; \
	  bin/edx-csvload $(DEMO_NAMES) --init --quiet && bin/edx-csvload $(DEMO_NAMES) $(DEMO_OUT)/csv && \
	  node --input-type=module -e "$$DEMO_JS" $(abspath dist/mysql/connection.js) '$(DEMO_EDX_DB)' show && \
	  echo && echo "demo: done. Look around: mariadb $(DEMO_EDX_DB)   (drop it: DROP DATABASE $(DEMO_EDX_DB); DROP DATABASE $(DEMO_PRIVATE_DB);)"; \
	else \
	  echo "demo: not loaded. Point it at a MySQL/MariaDB server you may create databases on:"; \
	  echo "        MYSQL_HOST=db.example.org MYSQL_USER=me make demo   (password: MYSQL_PWD or an option file)"; \
	  echo "        EDX_PIPES_MY_CNF=~/.my.cnf.demo make demo            ([client] host=, user=, password=)"; \
	  echo "      or load the script yourself: mariadb < $(DEMO_OUT)/demo.sql"; \
	fi
