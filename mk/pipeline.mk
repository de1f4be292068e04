# The nightly job as make rules over the filters: pull → transform → load (docs/pipeline.md).
#
#   make all          pull, then transform, then load (each step also runs alone: make pull, ...)
#   make -j 4 all     four transforms at once
#   make -n all       what would be pulled, transformed and loaded (DRY_RUN=1 make all: the same)
#
# Settings come from $(CONFIG) (default config.mk, optional, see config.mk.example), the make
# command line or the environment. State lives in the files and in LoadInfo, never in make:
#   pulled       $(LOG_ROOT)/<key> exists with the object's size (edx-s3-ls --new checks it)
#   transformed  $(OUT)/<key>.csv/ exists (a complete edx-json2sql --csv collection; it is written
#                as <key>.csv.partial/ and renamed when complete)
#   loaded       LoadInfo has the log (edx-csvload records it in the same transaction as its rows);
#                the collection is deleted right after its load succeeded, kept when it failed,
#                and $(STAMPS)/<key> gets the log's time: a log pulled again later (the object was
#                replaced) is newer than its stamp, and is transformed and loaded again.
#
# How it runs: the public targets (pull, transform, load, all) take the lock, open the run log and
# call make again with _PIPE_INNER=1 for each step; the inner make has one target per log file.

PIPE_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
CONFIG ?= config.mk
-include $(CONFIG)

BUCKET      ?=
PREFIX      ?=
MATCH       ?=
LOG_ROOT    ?=
OUT         ?= $(if $(LOG_ROOT),$(LOG_ROOT)/../CSV)
LOGS        ?= $(if $(LOG_ROOT),$(LOG_ROOT)/../NonTransformLogs)
LOCK        ?= $(LOGS)/.pipeline.lock
STAMPS      ?= $(LOGS)/loaded
REJECTS     ?= $(LOGS)/rejects
LOCK_WAIT   ?= 0
MY_CNF      ?=
EDX_DB      ?= Edx
PRIVATE_DB  ?= EdxPrivate
EDXPROD_DB  ?= edxprod
FORUM_KEY_FILE ?=
MODULESTORE ?=
GEOIP       ?=
S3_ENDPOINT ?=
S3_REGION   ?=
S3_PROFILE  ?=
JOBS        ?=
FETCH_JOBS  ?= 4
LOAD_JOBS   ?= 1
MANIFEST    ?=
SHARD       ?=
FROM        ?=
TO          ?=
PULL_CHECK_DB ?= 1
INIT        ?= 1
DRY_RUN     ?=
PIPE_BIN    ?= $(abspath $(PIPE_DIR)../bin)

# Paths are made absolute: LoadInfo records file://<the path the transform read>, and edx-s3-ls
# --db matches that against the keys.
override LOG_ROOT := $(abspath $(LOG_ROOT))
override OUT      := $(abspath $(OUT))
override LOGS     := $(abspath $(LOGS))
override STAMPS   := $(abspath $(STAMPS))
override REJECTS  := $(abspath $(REJECTS))

# Dry run: make -n (n among the one-letter flags) or DRY_RUN=1 (anything but empty or 0).
PIPE_DRY := $(if $(filter-out 0,$(DRY_RUN)),1,$(if $(findstring n,$(firstword -$(MAKEFLAGS))),1))

PIPE_MATCH := $(if $(MATCH),$(MATCH),tracking\.log-[0-9]{8}[-0-9]*\.gz$$)
PIPE_S3    := --bucket '$(BUCKET)' $(if $(S3_ENDPOINT),--endpoint-url '$(S3_ENDPOINT)') \
              $(if $(S3_REGION),--region '$(S3_REGION)') $(if $(S3_PROFILE),--profile '$(S3_PROFILE)')
PIPE_CNF   := $(if $(MY_CNF),--defaults-file '$(MY_CNF)')
PIPE_NAMES := --edx-db '$(EDX_DB)' --private-db '$(PRIVATE_DB)'
S3LS_NEW   := $(PIPE_BIN)/edx-s3-ls $(PIPE_S3) $(if $(PREFIX),--prefix '$(PREFIX)') $(if $(MATCH),--match='$(MATCH)') \
              --new --local-root '$(LOG_ROOT)' $(if $(filter-out 0,$(PULL_CHECK_DB)),--db --edx-db '$(EDX_DB)' $(PIPE_CNF))
FETCH      := $(PIPE_BIN)/edx-fetch $(PIPE_S3) --local-root '$(LOG_ROOT)' --jobs $(FETCH_JOBS)
JSON2SQL   := $(PIPE_BIN)/edx-json2sql $(PIPE_NAMES) $(if $(MODULESTORE),--modulestore '$(MODULESTORE)') \
              $(if $(GEOIP),--geoip '$(GEOIP)')
CSVLOAD    := $(PIPE_BIN)/edx-csvload $(PIPE_NAMES) $(PIPE_CNF)
CSVLOAD_INIT := $(CSVLOAD) --init --edxprod-db '$(EDXPROD_DB)' $(if $(FORUM_KEY_FILE),--forum-key-file '$(FORUM_KEY_FILE)')

.PHONY: pull transform load all refresh weekly shard manifest pipeline-help

pipeline-help:
	@echo "make all          pull → transform → load, with lock and run log (settings: $(CONFIG), see config.mk.example)"
	@echo "make pull | transform | load   one step alone; make -n all or DRY_RUN=1 make all: show, change nothing"
	@echo "make refresh      the platform-derived tables (edx-refresh jobs, docs/refresh.md); make refresh-JOB: one job"
	@echo "make manifest MANIFEST=FILE FROM=DATE TO=DATE   the logs of a backfill, from the bucket (docs/scale.md)"
	@echo "make shard MANIFEST=FILE SHARD=I/N   pull and transform shard I of N of a backfill (docs/scale.md); then make load"
	@echo "make weekly       run-start → all → refresh → run-end (Edx.FullLoadDates), as cronDatabaseRefresh did"

# One shard of a backfill (docs/scale.md): no lock, since shards run at once and each touches only
# its own logs' files; without SHARD the index comes from the scheduler's environment.
SHARD_RUN := $(PIPE_BIN)/edx-shard '$(MANIFEST)' $(if $(SHARD),--shard '$(SHARD)') --local-root '$(LOG_ROOT)' \
  --out '$(OUT)' --stamps '$(STAMPS)' $(if $(BUCKET),$(PIPE_S3)) $(PIPE_NAMES) \
  $(if $(MODULESTORE),--modulestore '$(MODULESTORE)') $(if $(GEOIP),--geoip '$(GEOIP)')
# The manifest of a backfill: every log of the bucket dated FROM..TO (edx-s3-ls --long: key, size, …).
manifest:
	@[ -n '$(MANIFEST)' ] && [ -n '$(BUCKET)' ] || { echo "manifest: give MANIFEST=FILE (and BUCKET in $(CONFIG)); FROM= and TO= (YYYY-MM-DD) pick the days" >&2; exit 2; }
	$(PIPE_BIN)/edx-s3-ls $(PIPE_S3) $(if $(PREFIX),--prefix '$(PREFIX)') $(if $(MATCH),--match='$(MATCH)') \
	  $(if $(FROM),--from '$(FROM)') $(if $(TO),--to '$(TO)') --long > '$(MANIFEST).tmp' && mv -f '$(MANIFEST).tmp' '$(MANIFEST)'
	@echo "manifest: $$(wc -l < '$(MANIFEST)') logs in $(MANIFEST)" >&2

shard:
	@[ -n '$(MANIFEST)' ] || { echo "shard: MANIFEST is not set (a list of logs: edx-s3-ls --from ... --to ... > FILE)" >&2; exit 2; }
	@[ -n '$(filter-out /,$(LOG_ROOT))' ] || { echo "shard: LOG_ROOT is not set (see config.mk.example)" >&2; exit 2; }
	$(SHARD_RUN)

ifndef _PIPE_INNER
# ---------------------------------------------------------------------------------------------
# Outer level: check the settings, take the lock, log the run, run each step as an inner make.

# The inner make: same makefile, same command-line variables (make passes them on), keep going
# past a failed log (-k), and -j$(JOBS) unless -j was given.
PIPE_SUBMAKE = $(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) _PIPE_INNER=1 -k \
  $(if $(findstring -j,$(MAKEFLAGS)),,$(if $(JOBS),-j$(JOBS)))

define _PIPE_OUTER
set -u
goal=$$1; shift
steps=$$goal; [ "$$goal" = all ] && steps='pull transform load'
[ "$$goal" = weekly ] && steps='run-start pull transform load refresh run-end'
if [ -z "$(LOG_ROOT)" ] || [ "$(LOG_ROOT)" = / ]; then
  echo "pipeline: LOG_ROOT is not set (in $(CONFIG), on the command line or in the environment; see config.mk.example)" >&2; exit 2
fi
case "$$steps" in *pull*) [ -n "$(BUCKET)" ] || { echo "pipeline: BUCKET is not set (see config.mk.example)" >&2; exit 2; } ;; esac
if [ -n "$(PIPE_DRY)" ]; then
  echo "pipeline: dry run of '$$goal': nothing is downloaded, written or loaded" >&2
  if [ "$$goal" = all ]; then exec "$$@" -n _PIPE_CHAIN=1 pull transform load; fi
  if [ "$$goal" = weekly ]; then exec "$$@" -n _PIPE_CHAIN=1 run-start pull transform load refresh run-end; fi
  exec "$$@" -n "$$goal"
fi
mkdir -p "$(LOGS)" || exit 1
exec 9>>"$(LOCK)"
lockopt=-n; [ "$(LOCK_WAIT)" -gt 0 ] 2>/dev/null && lockopt="-w $(LOCK_WAIT)"
if ! flock $$lockopt 9; then
  echo "pipeline: another run holds $(LOCK): $$(cat "$(LOCK)" 2>/dev/null)" >&2
  exit 1
fi
printf 'pid %s, %s@%s, since %s: make %s\n' $$$$ "$$(id -un)" "$$(hostname)" "$$(date '+%F %T')" "$$goal" > "$(LOCK)"
log="$(LOGS)/pipeline_$${goal}_$$(date -u +%Y-%m-%dT%H_%M_%S).log"
since() { awk -v a="$$1" -v b="$$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
run() {
  local start=$$EPOCHREALTIME failed='' step t rc
  echo "pipeline: $$goal started $$(date '+%F %T') (pid $$$$), config $(CONFIG), log $$log"
  echo "pipeline: LOG_ROOT=$(LOG_ROOT) OUT=$(OUT) databases $(EDX_DB)/$(PRIVATE_DB)"
  for step in $$steps; do
    t=$$EPOCHREALTIME
    # A weekly run is stamped as ended only when every step before succeeded.
    if [ "$$step" = run-end ] && [ -n "$$failed" ]; then echo "pipeline: run-end: not stamped, steps failed:$$failed"; continue; fi
    echo "pipeline: $$step: start $$(date '+%T')"
    "$$@" "$$step" 9>&-; rc=$$?
    if [ $$rc -eq 0 ]; then echo "pipeline: $$step: ok, $$(since $$t)"
    else echo "pipeline: $$step: FAILED (exit $$rc), $$(since $$t)"; failed="$$failed $$step"; fi
  done
  if [ -n "$$failed" ]; then
    echo "pipeline: $$goal FAILED in $$(since $$start) (failed:$$failed)$$(case "$$failed" in *transform*|*load*) echo "; transform outputs of logs not loaded are kept in $(OUT)";; esac)"
    return 1
  fi
  echo "pipeline: $$goal done in $$(since $$start)"
}
run "$$@" 2>&1 | tee -a "$$log" >&2
rc=$${PIPESTATUS[0]}
: > "$(LOCK)"
exit $$rc
endef

pull transform load all refresh weekly: export _PIPE_OUTER := $(_PIPE_OUTER)
pull transform load all refresh weekly:
	+@bash -c "$$_PIPE_OUTER" pipeline $@ $(PIPE_SUBMAKE)

# One refresh job (refresh-JOB, mk/refresh.mk), with the same lock and run log.
refresh-%: export _PIPE_OUTER := $(_PIPE_OUTER)
refresh-%:
	+@bash -c "$$_PIPE_OUTER" pipeline $@ $(PIPE_SUBMAKE)

else
# ---------------------------------------------------------------------------------------------
# Inner level: one step, one target per log.

# The logs of the mirror to transform: those LoadInfo does not record, and those changed since
# their load (edx-shard --pending, docs/pipeline.md). A key make cannot handle (a space, a quote, …)
# is named on stderr and counted as !unsafe: it will never be transformed here, and the transform
# step fails so that someone acts on it.
PIPE_PENDING := $(PIPE_BIN)/edx-shard --pending --local-root '$(LOG_ROOT)' --stamps '$(STAMPS)' \
  --match='$(PIPE_MATCH)' --edx-db '$(EDX_DB)' $(PIPE_CNF) $(if $(PIPE_DRY),--dry-run) \
  | awk '/^[A-Za-z0-9._\/@+-]+$$/ { print; next } { print "pipeline: skipping " $$0 ": its name has characters make cannot handle; rename the object, or transform and load it by hand (docs/pipeline.md)" > "/dev/stderr"; print "!unsafe" }'

PIPE_GOALS := $(MAKECMDGOALS)
PIPE_NEW_KEYS :=
PIPE_TRANSFORM_KEYS :=
PIPE_UNSAFE := 0

# Dry run of 'all': transform and load also show what the earlier steps would bring.
ifdef _PIPE_CHAIN
PIPE_NEW_KEYS := $(shell set -o pipefail; $(S3LS_NEW) | awk '/^[A-Za-z0-9._\/@+-]+$$/')
ifneq ($(.SHELLSTATUS),0)
$(error pipeline: cannot list the new logs in s3://$(BUCKET)/$(PREFIX) (see above))
endif
endif

ifneq ($(filter transform load,$(PIPE_GOALS)),)
ifneq ($(filter transform,$(PIPE_GOALS))$(_PIPE_CHAIN),)
PIPE_TRANSFORM_KEYS := $(shell set -o pipefail; $(PIPE_PENDING))
ifneq ($(.SHELLSTATUS),0)
$(error pipeline: cannot list the logs to transform (see above))
endif
PIPE_UNSAFE := $(words $(filter !unsafe,$(PIPE_TRANSFORM_KEYS)))
PIPE_TRANSFORM_KEYS := $(sort $(filter-out !unsafe,$(PIPE_TRANSFORM_KEYS)) $(PIPE_NEW_KEYS))
endif
endif

PIPE_COLLECTIONS := $(patsubst %,$(OUT)/%.csv,$(PIPE_TRANSFORM_KEYS))

pull:
ifdef _PIPE_CHAIN
	@:$(foreach k,$(PIPE_NEW_KEYS),$(info pull: would fetch $(k)))$(if $(PIPE_NEW_KEYS),,$(info pull: nothing new))
else ifdef PIPE_DRY
	+@set -o pipefail; $(S3LS_NEW) | awk '{ print "pull: would fetch " $$0; n++ } END { if (!n) print "pull: nothing new" }' >&2
else
	@mkdir -p '$(LOG_ROOT)'
	set -o pipefail; $(S3LS_NEW) | $(FETCH) | sed 's/^/pull: fetched /' >&2
endif

transform: $(PIPE_COLLECTIONS)
	@echo "transform: $(words $(PIPE_COLLECTIONS)) logs not loaded yet; $(if $(PIPE_COLLECTIONS),their collections are in $(OUT),nothing to do)" >&2
	@$(if $(filter-out 0,$(PIPE_UNSAFE)),echo "transform: $(PIPE_UNSAFE) more logs were pulled but make cannot transform them (their names are above): FAILED" >&2; exit 1,:)

# One log → one collection, written under a temporary name and renamed when complete.
$(OUT)/%.csv: $(LOG_ROOT)/%
	@rm -rf '$@' '$@.partial' && mkdir -p '$@.partial'
	$(JSON2SQL) --csv '$@.partial' --rejects '$@.partial/rejects.jsonl' --stats '$@.partial/stats.json' '$<'
	@mv -T '$@.partial' '$@' && touch '$@'

ifdef _PIPE_CHAIN
# Logs the dry run's pull step would fetch.
$(addprefix $(LOG_ROOT)/,$(PIPE_NEW_KEYS)):
	@echo "(fetched by the pull step)"
endif

# Every complete collection under OUT (edx-csvload --collections): LOAD_JOBS at once, each
# deleted as soon as its load succeeded (LoadInfo having it already counts as success), its key's
# stamp given its log's time, its reject report, when not empty, kept as $(REJECTS)/<key>.jsonl
# (the lines nothing could be made of stay findable after the collection is gone; they are lines
# of the log in the mirror, no more private than it). A log changed since its load (newer than
# its stamp) is loaded again over its old rows. Collections still being written (.partial) wait.
PIPE_COLLECTIONS_LOAD := --collections '$(OUT)' --log-root '$(LOG_ROOT)' --stamps '$(STAMPS)' --rejects '$(REJECTS)' --jobs $(LOAD_JOBS)

load:
ifdef PIPE_DRY
	+@$(CSVLOAD) --dry-run $(PIPE_COLLECTIONS_LOAD) 2>&1 | grep -v 'nothing to load' | sed 's/^edx-csvload: /load: /' >&2; true
	$(foreach c,$(filter-out $(wildcard $(PIPE_COLLECTIONS)),$(PIPE_COLLECTIONS)),$(info load: would load $(c) (after transform)))
else
	@if [ -z "$$(find '$(OUT)' -path '*.csv/*.manifest.json' -print -quit 2>/dev/null)" ]; then echo "load: nothing to load in $(OUT)" >&2; \
	else $(if $(filter 1,$(INIT)),$(CSVLOAD_INIT),$(CSVLOAD)) $(PIPE_COLLECTIONS_LOAD); fi
endif

endif
