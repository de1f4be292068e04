# make demo: the main job on the bundled example log (examples/), from a fresh clone.
# Transforms it, and when a database is reachable loads it into demo databases (never the real
# warehouse) and shows a few query results. The connection follows the tools' conventions, those
# of the mysql client (docs/connection.md): $EDX_PIPES_MY_CNF, else the usual option files
# (~/.my.cnf, ...), over MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_USER, MYSQL_PWD.
DEMO_LOG ?= examples/tracking.log-20140303.gz
DEMO_OUT ?= out/demo
DEMO_EDX_DB ?= edx_demo
DEMO_PRIVATE_DB ?= edx_demo_private
DEMO_NAMES = --edx-db '$(DEMO_EDX_DB)' --private-db '$(DEMO_PRIVATE_DB)'
# The queries shown at the end go through the mariadb client, which reads the same option file's
# [client] and [mysql] sections and MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_UNIX_PORT, MYSQL_PWD; the two
# settings of the tools it does not read itself are handed to it (--defaults-file must come first).
DEMO_SQL = mariadb $${EDX_PIPES_MY_CNF:+--defaults-file="$$EDX_PIPES_MY_CNF"} $${MYSQL_USER:+--user="$$MYSQL_USER"} --table --database='$(DEMO_EDX_DB)' -e

.PHONY: demo
demo: build
	@mkdir -p $(DEMO_OUT)
	bin/edx-json2sql $(DEMO_NAMES) --stats $(DEMO_OUT)/stats.json --rejects $(DEMO_OUT)/rejects.jsonl $(DEMO_LOG) > $(DEMO_OUT)/demo.sql
	@rm -rf $(DEMO_OUT)/csv
	bin/edx-json2sql $(DEMO_NAMES) --quiet --csv $(DEMO_OUT)/csv $(abspath $(DEMO_LOG))
	@echo "demo: SQL script   $(DEMO_OUT)/demo.sql ($$(grep -c '^REPLACE INTO' $(DEMO_OUT)/demo.sql) REPLACE statements, for databases $(DEMO_EDX_DB)/$(DEMO_PRIVATE_DB))"
	@echo "demo: CSV          $(DEMO_OUT)/csv/ (a collection for edx-csvload)"
	@echo "demo: summary      $(DEMO_OUT)/stats.json"
	@echo "demo: rejected     $(DEMO_OUT)/rejects.jsonl ($$(wc -l < $(DEMO_OUT)/rejects.jsonl) lines)"
	@if bin/edx-csvload $(DEMO_NAMES) --init --quiet; then \
	  echo "demo: loading into $(DEMO_EDX_DB)/$(DEMO_PRIVATE_DB)"; \
	  bin/edx-csvload $(DEMO_NAMES) $(DEMO_OUT)/csv && \
	  echo && echo "Events per type ($(DEMO_EDX_DB).EdxTrackEvent)" && \
	  $(DEMO_SQL) 'SELECT event_type, COUNT(*) AS events FROM EdxTrackEvent GROUP BY event_type ORDER BY events DESC, event_type LIMIT 12' && \
	  echo && echo "Answers with their event (EdxTrackEvent JOIN Answer on answer_fk)" && \
	  $(DEMO_SQL) 'SELECT e.time, e.anon_screen_name, LEFT(a.problem_id, 60) AS problem_id, LEFT(a.answer, 60) AS answer FROM EdxTrackEvent e JOIN Answer a ON a.answer_id = e.answer_fk ORDER BY e.time, a.answer LIMIT 8' && \
	  echo && echo "demo: done. Look around: mariadb $(DEMO_EDX_DB)   (drop it: DROP DATABASE $(DEMO_EDX_DB); DROP DATABASE $(DEMO_PRIVATE_DB);)"; \
	else \
	  echo "demo: not loaded. Point it at a MySQL/MariaDB server you may create databases on:"; \
	  echo "        MYSQL_HOST=db.example.org MYSQL_USER=me make demo   (password: MYSQL_PWD; an option file's settings win)"; \
	  echo "        EDX_PIPES_MY_CNF=~/.my.cnf.demo make demo            ([client] host=, user=, password=)"; \
	  echo "      or load the script yourself: mariadb < $(DEMO_OUT)/demo.sql"; \
	fi
