import { runTool } from './common.js';
import { S3_OPTIONS_USAGE, S3_STRING_OPTIONS } from '../s3/client.js';
import { DEFAULT_KEY_PATTERN } from '../s3/keys.js';
import { LS_TOOL, runLs } from '../s3/ls.js';

const USAGE = `\
Usage: edx-s3-ls --bucket NAME [--prefix P] [--match REGEX] [--from DATE] [--to DATE] [--long]
                 [--new [--local-root DIR] [--db [--edx-db NAME] [--defaults-file FILE]]]

List the tracking-log objects of an S3 bucket, one key per line, sorted by key. A key is a tracking
log when the regular expression of --match finds it (a search, not anchored at the start). Buckets
of any size are listed in full (1,000 keys per request).

Options:
  --prefix P             only keys starting with P (env EDX_PIPES_PREFIX; default: none)
  --match REGEX          which keys are tracking logs (default: ${DEFAULT_KEY_PATTERN})
  --from DATE, --to DATE only logs whose file name dates them within these days, both included
                         (YYYY-MM-DD; tracking.log-20140301.gz is 2014-03-01; a name without a
                         date is then left out). The same bucket and options always give the
                         same sorted list: a manifest for edx-shard (default: every day)
  --long                 print key, size in bytes, ETag and last-modified time (ISO 8601, UTC),
                         separated by tabs (default: the key only)
  --new                  leave out logs already done: those with a local copy of the same size at
                         <local-root>/<key>, and with --db those LoadInfo records as loaded (some
                         load_file ends with /<key>). Needs --local-root and/or --db.
  --local-root DIR       root of the local mirror of the bucket (env EDX_PIPES_LOCAL_ROOT; default: none)
  --db                   with --new: also leave out logs recorded in <edx-db>.LoadInfo
  --edx-db NAME          name of the Edx database (default: Edx)
  --defaults-file FILE   MySQL option file for --db (default: $EDX_PIPES_MY_CNF, else ~/.my.cnf;
                         MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_USER, MYSQL_PWD override it)
  -h, --help             print this help
${S3_OPTIONS_USAGE}
Examples:
  edx-s3-ls --bucket stanford-edx-logs --prefix tracking/ --long
  edx-s3-ls --bucket B --from 2014-01-01 --to 2016-12-31 > backfill.manifest
  edx-s3-ls --bucket B --new --local-root ~/Data/EdX/tracking --db | edx-fetch --bucket B --local-root ~/Data/EdX/tracking
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000 edx-s3-ls --bucket logs

Exit status: 0 listed, 1 failure (bucket, credentials, network, database), 2 usage error.
`;

export async function main(argv: string[]): Promise<number> {
  return runTool(LS_TOOL, USAGE, argv, {
    string: [...S3_STRING_OPTIONS, 'prefix', 'match', 'edx-db', 'defaults-file', 'from', 'to'],
    boolean: ['long', 'new', 'db'],
  }, runLs);
}
