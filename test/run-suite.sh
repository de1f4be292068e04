#!/usr/bin/env bash
# Runs test files with tap the way `make check` and `make test` do:
#   test/run-suite.sh [--db] [--label NAME] FILE...
# --db: one MariaDB for the whole run. When nothing answers at EDX_PIPES_TEST_DB (default
#   mysql://root@127.0.0.1:3306) a private mariadbd is started in a temporary folder, its address
#   exported to every test file, and it is stopped at the end.
# Every test file gets a TMPDIR of the run's own; whatever is left in it at the end (a test that did
# not remove what it wrote) fails the run, and new edx* entries in the outer TMPDIR are listed.
# The last line is the wall time of the run: a measurement, never an assertion.
set -uo pipefail
cd "$(dirname "$0")/.."

db=false
label=tests
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db=true; shift ;;
    --label) label=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: test/run-suite.sh [--db] [--label NAME] FILE..." >&2; exit 2; }

started=$(date +%s.%N)
load=$(cut -d' ' -f1 /proc/loadavg)
outer=${TMPDIR:-/tmp}
edx_entries() { find "$outer" -maxdepth 1 -name 'edx*' -printf '%f\n' 2>/dev/null | sort; }
before=$(edx_entries)
run_tmp=$(mktemp -d "$outer/edx-pipes-suite-XXXXXX")
# Traversable (not listable) by other users: the Slurm tests run munged as the munge user, which
# must reach its socket and key in a folder below this one (each test folder is 0700 or says why).
chmod 711 "$run_tmp"
server_pid=
server_dir=

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
  fi
  [ -z "$server_dir" ] || rm -rf "$server_dir"
}
trap 'stop_server; rm -rf "$run_tmp"' EXIT
trap 'exit 130' INT TERM

# True when something accepts connections at host $1, port $2.
answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

start_server() {
  local url=${EDX_PIPES_TEST_DB:-mysql://root@127.0.0.1:3306}
  local hostport=${url#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
  local host=${hostport%%:*} port=${hostport##*:}
  [ "$port" != "$hostport" ] || port=3306
  if answers "$host" "$port"; then return 0; fi
  local bin installer
  bin=$(command -v mariadbd || ls /usr/sbin/mariadbd /usr/sbin/mysqld 2>/dev/null | head -1)
  installer=$(command -v mariadb-install-db || command -v mysql_install_db)
  if [ -z "$bin" ] || [ -z "$installer" ]; then
    echo "run-suite: nothing answers at $host:$port and no mariadbd to start; set EDX_PIPES_TEST_DB" >&2
    return 1
  fi
  server_dir=$(mktemp -d "$outer/edx-pipes-mariadb-XXXXXX")
  "$installer" --no-defaults --datadir="$server_dir/data" --auth-root-authentication-method=normal --user=root >/dev/null 2>&1 \
    || { echo "run-suite: $installer failed" >&2; return 1; }
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  "$bin" --no-defaults --datadir="$server_dir/data" --port="$port" --bind-address=127.0.0.1 --socket="$server_dir/sock" \
    --pid-file="$server_dir/pid" --user=root --local-infile=1 >"$server_dir/log" 2>&1 &
  server_pid=$!
  # Until it accepts connections (or has died): its start is the event, not a guessed time.
  until answers 127.0.0.1 "$port"; do
    kill -0 "$server_pid" 2>/dev/null || { echo "run-suite: mariadbd did not start:" >&2; tail -5 "$server_dir/log" >&2; return 1; }
    sleep 0.2
  done
  export EDX_PIPES_TEST_DB="mysql://root@127.0.0.1:$port"
  echo "run-suite: a private MariaDB for this run at 127.0.0.1:$port"
}

if $db; then start_server || exit 1; fi

# The test runner's compile cache (v8-compile-cache, kept in TMPDIR) stays where it always is: a
# cache, not something a test wrote, and without it every test process starts seconds slower.
export V8_COMPILE_CACHE_CACHE_DIR=${V8_COMPILE_CACHE_CACHE_DIR:-$outer/v8-compile-cache-$(id -u)/$(node -p process.versions.v8)}
# Likewise Node's own module compile cache (Node 22 and later), which tsc turns on for itself (the
# install test builds the package): kept where a run outside the suite keeps it, and used by every
# Node process of the run, so the tools start faster on those Nodes. Node 20 ignores the variable.
export NODE_COMPILE_CACHE=${NODE_COMPILE_CACHE:-$outer/node-compile-cache}
TMPDIR=$run_tmp node_modules/.bin/tap "$@"
status=$?

stop_server
left=$(find "$run_tmp" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)
if [ -n "$left" ]; then
  echo "run-suite: FAILED: the tests left these in their TMPDIR:" >&2
  sed 's/^/  /' <<<"$left" >&2
  [ $status -ne 0 ] || status=1
fi
new=$(comm -13 <(echo "$before") <(edx_entries) | grep -v "^$(basename "$run_tmp")\$")
if [ -n "$new" ]; then
  # Every test file and tool of this run writes under the run's own TMPDIR (checked above), so these
  # belong to another process (other runs share this machine) or to a path typed into a test: listed,
  # not counted as a failure of this run.
  echo "run-suite: note: new edx* entries in $outer during the run (not under this run's TMPDIR):" >&2
  sed 's/^/  /' <<<"$new" >&2
fi

printf 'benchmark: %s: %d files in %.1f s wall (load average %s at the start, %s cores)\n' \
  "$label" $# "$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$load" "$(nproc)"
exit $status
