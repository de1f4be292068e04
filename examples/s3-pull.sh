#!/usr/bin/env bash
# Pull the tracking logs that are not yet done from S3 into a local mirror of the bucket:
#
#   edx-s3-ls --bucket B --new --local-root DIR | edx-fetch --bucket B --local-root DIR
#
# Usage: examples/s3-pull.sh BUCKET DIR [more edx-s3-ls options, e.g. --prefix tracking/ --db]
#
# Prints the local path of every file fetched (or found complete), one per line, as each finishes,
# so a transform can read them: examples/s3-pull.sh B DIR | while read -r f; do ...; done
# S3 settings come from the environment like the AWS CLI (AWS_PROFILE, AWS_REGION,
# AWS_ENDPOINT_URL_S3, the credential chain); with --db, the MySQL settings as the mysql client
# finds them (option files such as ~/.my.cnf, then MYSQL_*). It starts nothing itself: no server,
# no database.
# Exit status: 0 all fetched, 1 some key failed or the listing failed, 2 usage error.
set -euo pipefail

if [ $# -lt 2 ] || [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
bucket=$1
root=$2
shift 2

# Use the tools on PATH, else the ones in this checkout.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for tool in edx-s3-ls edx-fetch; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$here/bin:$PATH"
done

mkdir -p "$root"
edx-s3-ls --bucket "$bucket" --new --local-root "$root" "$@" \
  | edx-fetch --bucket "$bucket" --local-root "$root"
