import { runTool } from './common.js';
import { S3_OPTIONS_USAGE, S3_STRING_OPTIONS } from '../s3/client.js';
import { FETCH_TOOL, runFetch } from '../s3/fetch-run.js';

const USAGE = `\
Usage: edx-fetch --bucket NAME --local-root DIR [--jobs N] [--retries N] [KEY ...]   (or keys on stdin)
       edx-fetch --bucket NAME --stdout KEY

Download S3 objects into a local mirror of the bucket: KEY goes to <local-root>/<KEY>. Keys come
from the arguments, or else from stdin, one per line (only the first tab-separated field is used, so
the output of 'edx-s3-ls --long' works too). Each finished file's absolute path is printed on stdout
as soon as it is done, so the next stage can start on it.

Each object is written to a temporary name in the same directory (.<name>.partial-<pid>) and renamed
only after its size, and its MD5 when the ETag is a plain MD5, have been checked: a half-written file
never carries the final name. A local file that already has the object's size is not downloaded
again (its path is still printed). Network resets, 5xx answers, throttling and short or corrupt
bodies are retried with exponential back-off (an interrupted body resumes where it stopped). A
missing key or denied access fails that key at once (message on stderr naming it); the other keys
are still fetched and the exit status is 1.

On stderr: a progress line when stderr is a terminal, then a one-line summary (fetched, already
present, failed, bytes, seconds).

Options:
  --local-root DIR       root of the local mirror (env EDX_PIPES_LOCAL_ROOT; required without --stdout)
  --jobs N               downloads at once (default: 4)
  --retries N            retries of a transient failure per object (default: 5)
  --retry-delay MS       first back-off in milliseconds, doubling each retry, at most 30 s (default: 500)
  --stdout               stream exactly one object's bytes to stdout instead (checked the same way;
                         exit 1 if the bytes sent were not the whole, correct object)
  -h, --help             print this help
${S3_OPTIONS_USAGE}
Examples:
  edx-s3-ls --bucket B --new --local-root DIR | edx-fetch --bucket B --local-root DIR
  edx-fetch --bucket B --local-root DIR tracking/app10/tracking.log-20130609.gz
  edx-fetch --bucket B --stdout tracking/app10/tracking.log-20130609.gz | edx-json2sql ...

Exit status: 0 every key fetched or already present, 1 some key failed (or --stdout failed),
2 usage error.
`;

export async function main(argv: string[]): Promise<number> {
  return runTool(FETCH_TOOL, USAGE, argv, {
    string: [...S3_STRING_OPTIONS, 'jobs', 'retries', 'retry-delay', '_'],
    boolean: ['stdout'],
    multi: ['_'],
  }, runFetch);
}
