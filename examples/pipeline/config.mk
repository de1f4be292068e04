# The nightly job against a local S3-compatible server and a local MariaDB, for trying it out:
#
#   examples/pipeline/start-s3rver.sh &                 # s3rver on 127.0.0.1:4568, bucket edx-demo-logs
#   make CONFIG=examples/pipeline/config.mk all         # pull → transform → load
#
# Every variable is described in config.mk.example. Paths are relative to the repository root.
BUCKET      = edx-demo-logs
PREFIX      = tracking/
S3_ENDPOINT = http://127.0.0.1:4568
S3_REGION   = us-east-1
LOG_ROOT    = out/pipeline/tracking
OUT         = out/pipeline/CSV
LOGS        = out/pipeline/NonTransformLogs
# Throwaway databases, every one, so a real warehouse is never touched.
EDX_DB      = edx_pipeline_demo
PRIVATE_DB  = edx_pipeline_demo_private
# The weekly job's databases too (the platform copy and the forum): their defaults are the real
# edxprod and EdxForum.
EDXPROD_DB  = edx_pipeline_demo_edxprod
FORUM_DB    = edx_pipeline_demo_forum
# The connection: an option file (only it is read), or MYSQL_HOST/MYSQL_TCP_PORT/MYSQL_USER/MYSQL_PWD
# in the environment; empty means $EDX_PIPES_MY_CNF, else the usual option files (~/.my.cnf, ...),
# which win over MYSQL_* as in the mysql client (docs/connection.md).
MY_CNF      =
JOBS        = 2

# s3rver's fixed dummy credentials (not secrets). Exported so that the tools see them; a real
# setup uses a profile (S3_PROFILE) or the instance role instead.
export AWS_ACCESS_KEY_ID     ?= S3RVER
export AWS_SECRET_ACCESS_KEY ?= S3RVER
