#!/usr/bin/env bash
# A backfill over a few servers with GNU parallel: the logs dated FROM..TO in SHARDS shards
# (contiguous runs of days, docs/scale.md), run on the hosts of HOSTS, then one load.
#
#   HOSTS='2/:,2/ada.lab.example.edu,4/grace.lab.example.edu' examples/parallel/backfill.sh 2014-01-01 2014-12-31 24
#
# HOSTS is parallel's --sshlogin list: N/host runs N shards at once on host, ':' is this machine
# (default: ':' alone). Every host needs the edx-pipes checkout at the same path (built), LOG_ROOT
# and OUT of CONFIG on a file system all of them see (NFS), S3 credentials of its own (profile or
# instance role: nothing secret is sent over ssh), and password-less ssh from here.
# Environment: CONFIG (default: config.mk of the checkout), MANIFEST (default:
# ./backfill-FROM-TO.manifest), JOBLOG (default: ./backfill-FROM-TO.joblog), LOAD_JOBS.
#
# Run it again after a failure: --resume-failed reruns only the shards the joblog records as failed
# or never finished, and each shard redoes only the logs it has not completed. The load runs only
# when every shard succeeded; it loads each complete collection once, whatever ran before.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../backfill-args.sh"
joblog=$(realpath -m "${JOBLOG:-backfill-$from-$to.joblog}")

# The manifest is made once: the shards of a resumed run are the same shards.
if [ ! -s "$manifest" ]; then
  make --no-print-directory -s -C "$repo" manifest CONFIG="$config" MANIFEST="$manifest" FROM="$from" TO="$to"
fi
# ${x@Q}: quoted for the remote shell.
parallel ${PARALLEL_SSH:+--ssh "$PARALLEL_SSH"} --sshlogin "${HOSTS:-:}" --joblog "$joblog" --resume-failed \
  --halt never --tag --line-buffer \
  make --no-print-directory -C "${repo@Q}" shard CONFIG="${config@Q}" MANIFEST="${manifest@Q}" SHARD={}/"$shards" \
  ::: $(seq 0 $((shards - 1)))
exec make --no-print-directory -C "$repo" load CONFIG="$config" ${LOAD_JOBS:+LOAD_JOBS="$LOAD_JOBS"}
