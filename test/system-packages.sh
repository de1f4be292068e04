#!/usr/bin/env bash
# The Debian packages the cluster tests run (test/backfill-cluster.test.ts): a single-node Slurm
# (slurm-wlm, munge) and GNU parallel. Installed with apt-get where missing, when run as root with
# apt-get at hand; otherwise (or with EDX_PIPES_NO_APT=1) it says what is missing, and those tests
# say so and skip. Run by `make test` (and so by .ci/run); quick when all is there.
set -uo pipefail
missing=()
for p in slurmctld:slurm-wlm slurmd:slurm-wlm munged:munge parallel:parallel; do
  PATH="$PATH:/usr/sbin" command -v "${p%%:*}" >/dev/null 2>&1 || missing+=("${p#*:}")
done
[ ${#missing[@]} -gt 0 ] || exit 0
packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "${EDX_PIPES_NO_APT:-0}" != 0 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-packages: ${packages}missing (apt-get install -y ${packages% }); the Slurm and GNU parallel tests will skip" >&2
  exit 0
fi
echo "system-packages: installing ${packages% } (EDX_PIPES_NO_APT=1 skips this)" >&2
{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null; } \
  || echo "system-packages: could not install ${packages% }; the Slurm and GNU parallel tests will skip" >&2
exit 0
