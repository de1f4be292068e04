#!/usr/bin/env bash
# Submit a backfill of the logs dated FROM..TO to Slurm: a job array of SHARDS tasks (contiguous
# runs of days, see docs/scale.md) and a load job that runs only when all of them succeeded.
#
#   examples/slurm/submit-backfill.sh 2014-01-01 2016-12-31 [SHARDS]
#
# Environment: CONFIG (default: config.mk of the checkout; BUCKET, LOG_ROOT, OUT, databases...),
# MANIFEST (default: ./backfill-FROM-TO.manifest), SLURM_LOGS (where job output goes; default .),
# MAX_AT_ONCE (at most this many tasks at once, sbatch --array=...%N), LOAD_JOBS (connections of the
# load), SBATCH_ARGS (more sbatch options for both, e.g. "--partition=batch --account=lab"),
# TASKS (only these array indexes, e.g. TASKS=5 or TASKS=3,7-9: a killed or failed task submitted
# again with the same FROM TO SHARDS, and a load after it; each task is still its shard of SHARDS).
# LOG_ROOT and OUT must be on a file system every node sees. The database is reached as the
# tools do (MY_CNF in CONFIG, $EDX_PIPES_MY_CNF or the usual option files such as ~/.my.cnf), from
# the node the load job runs on.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../backfill-args.sh"
logs=$(realpath "${SLURM_LOGS:-.}")

make --no-print-directory -s -C "$repo" manifest CONFIG="$config" MANIFEST="$manifest" FROM="$from" TO="$to"
logs_listed=$(grep -c . "$manifest" || true)
if [ "$logs_listed" -eq 0 ]; then echo "submit-backfill: no logs dated $from..$to" >&2; exit 1; fi
[ "$shards" -le "$logs_listed" ] || shards=$logs_listed

# SHARDS fixes the count: a task is shard SLURM_ARRAY_TASK_ID of SHARDS, whichever indexes are submitted.
export EDX_PIPES=$repo CONFIG=$config MANIFEST=$manifest SHARDS=$shards
# shellcheck disable=SC2086  # SBATCH_ARGS is a list of options
array=$(sbatch --parsable ${SBATCH_ARGS:-} --array="${TASKS:-0-$((shards - 1))}${MAX_AT_ONCE:+%$MAX_AT_ONCE}" \
  --output="$logs/edx-shard-%A_%a.out" --export=ALL "$here/shard.sbatch")
array=${array%%;*}
# shellcheck disable=SC2086
load=$(sbatch --parsable ${SBATCH_ARGS:-} --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$logs/edx-load-%j.out" --export=ALL "$here/load.sbatch")
load=${load%%;*}
echo "submit-backfill: $logs_listed logs dated $from..$to in $shards shards${TASKS:+ (tasks $TASKS only)}: array job $array, load job $load (runs when all shards succeeded)" >&2
echo "$array $load"
