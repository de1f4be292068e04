#!/usr/bin/env bash
# Start s3rver (a devDependency: npm ci first) as a local S3-compatible server for trying the
# nightly job (examples/pipeline/config.mk), with bucket BUCKET and, unless NO_LOGS=1, the bundled
# example log uploaded as a tracking log. Runs in the foreground; Ctrl-C stops it.
#
#   examples/pipeline/start-s3rver.sh [DATA_DIR] [PORT]     (defaults: /tmp/edx-pipes-s3rver, 4568)
#
# s3rver's continuation tokens use DES, which OpenSSL 3 refuses unless node runs with
# --openssl-legacy-provider. Its credentials are the fixed dummies S3RVER/S3RVER.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${1:-/tmp/edx-pipes-s3rver}
port=${2:-4568}
bucket=${BUCKET:-edx-demo-logs}
s3rver="$repo/node_modules/s3rver/bin/s3rver.js"
[ -f "$s3rver" ] || { echo "start-s3rver: $s3rver missing; run 'npm ci' (s3rver is a devDependency)" >&2; exit 1; }
mkdir -p "$data/$bucket"
# s3rver serves every directory under its data directory as a bucket; an object is a file plus
# metadata, so objects are uploaded through the S3 API once the server is up.
node --openssl-legacy-provider "$s3rver" -d "$data" -a 127.0.0.1 -p "$port" --silent &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT INT TERM
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.2
done
echo "start-s3rver: s3rver (pid $pid) on http://127.0.0.1:$port, data in $data, bucket $bucket" >&2
if [ "${NO_LOGS:-0}" != 1 ]; then
  (cd "$repo" && AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true node --input-type=module -e '
    import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";
    import { readFileSync } from "node:fs";
    const [endpoint, bucket, file] = process.argv.slice(1);
    const s3 = new S3Client({ endpoint, forcePathStyle: true, region: "us-east-1" });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "tracking/app1/tracking.log-20140303.gz", Body: readFileSync(file) }));
    s3.destroy();
  ' "http://127.0.0.1:$port" "$bucket" "$repo/examples/tracking.log-20140303.gz")
  echo "start-s3rver: put s3://$bucket/tracking/app1/tracking.log-20140303.gz" >&2
fi
wait $pid
