# Researchers' jobs as make rules over the tools (docs/querying.md).
#
#   make extract PATTERN='Medicine/HRP258' [EXTRACT_TABLE=name] [ALL_COLUMNS=1] [REPLACE=1]
#                       a course extract in $(EXTRACTS_DB) (edx-course-extract); make -n / DRY_RUN=1
#                       only count what it would copy

PATTERN       ?=
EXTRACT_TABLE ?=
EXTRACTS_DB   ?= Extracts
ALL_COLUMNS   ?=
REPLACE       ?=

.PHONY: extract
extract: build
	@test -n '$(PATTERN)' || { echo "extract: give PATTERN=<MySQL regular expression on course_display_name>" >&2; exit 2; }
	+$(PIPE_BIN)/edx-course-extract --edx-db '$(EDX_DB)' --extracts-db '$(EXTRACTS_DB)' $(PIPE_CNF) \
	  $(if $(EXTRACT_TABLE),--table '$(EXTRACT_TABLE)') $(if $(filter-out 0,$(ALL_COLUMNS)),--all-columns) \
	  $(if $(filter-out 0,$(REPLACE)),--replace) $(if $(PIPE_DRY),--dry-run) -- '$(PATTERN)'
