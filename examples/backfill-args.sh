# Sourced by the backfill recipes (examples/slurm/submit-backfill.sh, examples/parallel/backfill.sh):
# their arguments FROM TO [SHARDS], and the paths every host must see as absolute paths.
if [ $# -lt 2 ] || [ $# -gt 3 ]; then echo "usage: $0 FROM TO [SHARDS]   (dates YYYY-MM-DD)" >&2; exit 2; fi
from=$1 to=$2 shards=${3:-8}
repo=${EDX_PIPES:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
config=$(realpath "${CONFIG:-$repo/config.mk}")
manifest=$(realpath -m "${MANIFEST:-backfill-$from-$to.manifest}")
