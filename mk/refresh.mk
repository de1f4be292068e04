# The weekly refresh jobs as make rules over edx-refresh (docs/refresh.md). Included by the
# Makefile with pipeline.mk, whose outer level gives `make refresh` and `make weekly` the same lock
# and run log as `make all`; the rules below are the inner level.
#
#   make refresh          every job whose input is configured, each after the jobs it reads
#   make -j 3 refresh     independent jobs at once (modulestore beside the edxprod chain, ...)
#   make refresh-JOB      one job (make -n / DRY_RUN=1: edx-refresh --dry-run)
#
# The jobs, their order and their inputs come from the job registry (edx-refresh --list), never
# from a second list here. A job whose input file is not configured is skipped, said by name, and
# so are the jobs that read its tables.

EDXAPP_DUMP  ?=
FORUM_EXPORT ?=
FORUM_DB     ?= EdxForum
REFRESH_JOBS ?=

REFRESH := $(PIPE_BIN)/edx-refresh $(PIPE_NAMES) --edxprod-db '$(EDXPROD_DB)' --forum-db '$(FORUM_DB)' $(PIPE_CNF)
# A job's input option → the setting that names its file.
REFRESH_FILE_dump        := $(EDXAPP_DUMP)
REFRESH_FILE_modulestore := $(MODULESTORE)
REFRESH_FILE_forum       := $(FORUM_EXPORT)
REFRESH_SETTING_dump        := EDXAPP_DUMP
REFRESH_SETTING_modulestore := MODULESTORE
REFRESH_SETTING_forum       := FORUM_EXPORT

ifdef _PIPE_INNER
ifneq ($(filter refresh refresh-% run-start run-end,$(PIPE_GOALS)),)
comma := ,
# One word per job in run order: name:after,after:input ('-' for none).
REFRESH_SPEC := $(shell set -o pipefail; $(PIPE_BIN)/edx-refresh --list | awk -F'\t' '{ \
  a = $$2; sub(/^after: /, "", a); gsub(/ /, ",", a); i = $$3; sub(/^input: /, "", i); print $$1 ":" a ":" i }')
ifneq ($(.SHELLSTATUS),0)
$(error refresh: cannot list the jobs (edx-refresh --list failed; is the project built?))
endif
refresh_name  = $(word 1,$(subst :, ,$1))
refresh_after = $(filter-out -,$(subst $(comma), ,$(word 2,$(subst :, ,$1))))
refresh_input = $(filter-out -,$(word 3,$(subst :, ,$1)))

REFRESH_ALL := $(filter-out run-start run-end,$(foreach s,$(REFRESH_SPEC),$(call refresh_name,$s)))
REFRESH_WANTED := $(if $(REFRESH_JOBS),$(filter $(REFRESH_JOBS),$(REFRESH_ALL)),$(REFRESH_ALL))
$(foreach j,$(filter-out $(REFRESH_ALL),$(REFRESH_JOBS)),$(error refresh: REFRESH_JOBS names '$(j)', which is no job (edx-refresh --list)))

# In run order, so a job's after-jobs are decided before it.
REFRESH_RUNNABLE :=
REFRESH_SKIPPED :=
define refresh_decide
REFRESH_AFTER_$(call refresh_name,$1) := $(call refresh_after,$1)
REFRESH_OPTS_$(call refresh_name,$1) := $(if $(call refresh_input,$1),--$(call refresh_input,$1) '$(REFRESH_FILE_$(call refresh_input,$1))')
ifneq ($(filter $(call refresh_name,$1),$(REFRESH_WANTED)),)
ifneq ($(and $(call refresh_input,$1),$(if $(REFRESH_FILE_$(call refresh_input,$1)),,no)),)
REFRESH_SKIPPED += $(call refresh_name,$1)
REFRESH_WHY_$(call refresh_name,$1) := $(REFRESH_SETTING_$(call refresh_input,$1)) is not set
else ifneq ($(filter $(REFRESH_SKIPPED),$(call refresh_after,$1)),)
REFRESH_SKIPPED += $(call refresh_name,$1)
REFRESH_WHY_$(call refresh_name,$1) := it reads the tables of $(filter $(REFRESH_SKIPPED),$(call refresh_after,$1)), skipped
else
REFRESH_RUNNABLE += $(call refresh_name,$1)
endif
endif
endef
$(foreach s,$(REFRESH_SPEC),$(eval $(call refresh_decide,$s)))

# Each job after the jobs it reads that run too (make -j runs the others side by side).
$(foreach j,$(REFRESH_RUNNABLE),$(eval refresh-$(j): $(addprefix refresh-,$(filter $(REFRESH_RUNNABLE),$(REFRESH_AFTER_$(j))))))

# Said before any job runs: a failing job stops the summary below from being printed.
ifneq ($(filter refresh,$(PIPE_GOALS)),)
$(foreach j,$(REFRESH_SKIPPED),$(info refresh: skipped $(j): $(REFRESH_WHY_$(j))))
endif
endif

.PHONY: refresh run-start run-end
refresh: $(addprefix refresh-,$(REFRESH_RUNNABLE))
	@echo "refresh: $(words $(REFRESH_RUNNABLE)) jobs done$(if $(REFRESH_RUNNABLE),: $(strip $(REFRESH_RUNNABLE)))$(if $(REFRESH_SKIPPED),; $(words $(REFRESH_SKIPPED)) skipped)" >&2

# '+': a dry run (make -n) runs edx-refresh too, with --dry-run, so that it says what it would do.
refresh-%:
	+$(REFRESH) $(if $(PIPE_DRY),--dry-run) $(REFRESH_OPTS_$*) $*

run-start run-end:
	+$(REFRESH) $(if $(PIPE_DRY),--dry-run) $@
endif
