// Where the logs are and how to reach them, configured like the AWS CLI: options first, then the
// environment. Credentials come ONLY from the AWS SDK's default provider chain (AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE and ~/.aws/{credentials,config}, SSO, web
// identity, container and instance roles); nothing secret is ever taken from the command line or
// printed.
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ToolError, UsageError } from '../core/errors.js';

export interface S3Config {
  bucket: string;
  prefix: string;
  /** undefined: let the SDK find it (AWS_REGION, the profile's config). */
  region?: string;
  /** An S3-compatible store; path-style addressing is used with it. */
  endpoint?: string;
  profile?: string;
}

/** Where the logs are, as given on a command line (each falls back on the environment). */
export interface S3Location {
  bucket?: string;
  prefix?: string;
  region?: string;
  endpointUrl?: string;
  profile?: string;
}

/** Environment variable that sets the local mirror's root when --local-root is not given. */
export const LOCAL_ROOT_ENV = 'EDX_PIPES_LOCAL_ROOT';

const nonEmpty = (...values: (string | undefined)[]) => values.find((v) => v !== undefined && v !== '');

/** `s3://BUCKET/REST` as the AWS CLI writes a location: its bucket and the rest (a prefix or a key); undefined when not such a URL. */
export function parseS3Url(text: string): { bucket: string; rest: string } | undefined {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/is.exec(text);
  if (!m) return undefined;
  if (!m[1]) throw new UsageError(`${text}: no bucket in that s3:// URL`);
  return { bucket: m[1], rest: m[2] ?? '' };
}

/** A key as given: `s3://BUCKET/KEY` names KEY when BUCKET is the bucket in use. */
export function keyIn(bucket: string, given: string): string {
  const url = parseS3Url(given);
  if (!url) return given;
  if (url.bucket !== bucket) throw new UsageError(`${given}: not in the bucket ${bucket}`);
  return url.rest;
}

/** The S3 configuration from what the command line gave, then the environment. */
export function s3Config(given: S3Location, env: NodeJS.ProcessEnv = process.env): S3Config {
  let bucket = nonEmpty(given.bucket, env.EDX_PIPES_BUCKET);
  if (!bucket) throw new UsageError('no bucket: give --bucket NAME or set EDX_PIPES_BUCKET');
  let prefix = nonEmpty(given.prefix, env.EDX_PIPES_PREFIX) ?? '';
  // `--bucket s3://B/P`, as the AWS CLI names a location: bucket B, prefix P.
  const url = parseS3Url(bucket);
  if (url) {
    if (url.rest && given.prefix && given.prefix !== url.rest) throw new UsageError(`${bucket} and --prefix ${given.prefix} name two prefixes`);
    bucket = url.bucket;
    prefix = url.rest || prefix;
  }
  const endpoint = nonEmpty(given.endpointUrl, env.AWS_ENDPOINT_URL_S3, env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new UsageError(`--endpoint-url: '${endpoint}' is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--endpoint-url: '${endpoint}' is not an http(s) URL`);
    if (url.username || url.password) throw new UsageError('--endpoint-url: no credentials in the URL, please; use the AWS environment or profile');
  }
  const region = nonEmpty(given.region, env.AWS_REGION, env.AWS_DEFAULT_REGION) ?? (endpoint ? 'us-east-1' : undefined);
  return {
    bucket,
    prefix,
    region,
    endpoint,
    profile: nonEmpty(given.profile, env.AWS_PROFILE),
  };
}

/** The local mirror's root as given (--local-root), else EDX_PIPES_LOCAL_ROOT, if any. */
export const localRoot = (given: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined =>
  nonEmpty(given, env[LOCAL_ROOT_ENV]);

/**
 * An S3 client for the configuration. `maxAttempts` is the SDK's own retrying of a request
 * (1 = none, for callers that retry themselves).
 */
export function makeClient(config: S3Config, opts: { maxAttempts?: number } = {}): S3Client {
  // The SDK warns on every start that its releases from 2027 need Node 22; our version is pinned
  // by the lock file, so that note is noise on a filter's stderr (a user may still turn it on).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.endpoint !== undefined,
    followRegionRedirects: true,
    profile: config.profile,
    maxAttempts: opts.maxAttempts,
  });
}

export interface S3Failure {
  /** For messages: never includes credentials. */
  message: string;
  /** Worth trying again: network trouble, 5xx, throttling. */
  transient: boolean;
  /** The object or bucket is not there. */
  missing: boolean;
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN',
  'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE', 'TimeoutError',
  'RequestTimeout', 'RequestTimeoutException', 'SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests',
  'RequestLimitExceeded', 'InternalError', 'ServiceUnavailable']);

/**
 * What went wrong with a whole bucket, said with its name and the profile: no such bucket, or no
 * credentials from the profile named (the SDK's own words name neither). Undefined for the rest.
 */
export function bucketProblem(e: unknown, config: S3Config, what: 'bucket' | 'listing'): string | undefined {
  const err = e as Error & { $metadata?: { httpStatusCode?: number } };
  // HeadBucket's 404 has no body (no NoSuchBucket); a listing's has.
  if (err?.name === 'NoSuchBucket' || (what === 'bucket' && (err?.$metadata?.httpStatusCode === 404 || err?.name === 'NotFound'))) {
    return `no such bucket: ${config.bucket}`;
  }
  if (err?.name === 'CredentialsProviderError' && config.profile) {
    return `the AWS profile '${config.profile}' gives no credentials: is it in ~/.aws/config or ~/.aws/credentials ` +
      `(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)? (${err.message})`;
  }
  return undefined;
}

/**
 * Before the work: a bucket that is not there, or credentials that cannot be had, fail once here
 * (not once per key). Anything else (access denied to HeadBucket with only s3:GetObject allowed,
 * network trouble) is left to the work itself, which says it per key and retries.
 */
export async function checkBucket(client: S3Client, config: S3Config): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: config.bucket }));
  } catch (e) {
    const problem = bucketProblem(e, config, 'bucket');
    if (problem) throw new ToolError(problem);
    if ((e as Error)?.name === 'CredentialsProviderError') throw new ToolError(describeS3Error(e).message);
  }
}

/** Classify an error from the SDK, the network or a body stream. */
export function describeS3Error(e: unknown): S3Failure {
  const err = e as Error & { code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown; Code?: string };
  const status = err?.$metadata?.httpStatusCode;
  const name = err?.name ?? '';
  const code = err?.code ?? err?.Code ?? '';
  const missing = status === 404 || ['NoSuchKey', 'NotFound', 'NoSuchBucket'].includes(name);
  if (name === 'NoSuchBucket') return { message: 'no such bucket', transient: false, missing: true };
  if (missing) return { message: 'no such key', transient: false, missing: true };
  if (status === 403 || name === 'AccessDenied' || name === 'Forbidden') {
    return { message: 'access denied (check the credentials, profile and bucket policy)', transient: false, missing: false };
  }
  if (name === 'CredentialsProviderError') {
    return { message: `no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or configure ~/.aws): ${err.message}`, transient: false, missing: false };
  }
  if (/Region is missing/i.test(err?.message ?? '')) {
    return { message: 'no region: give --region or set AWS_REGION', transient: false, missing: false };
  }
  const transient = (status !== undefined && (status >= 500 || status === 429))
    || err?.$retryable !== undefined
    || TRANSIENT_CODES.has(code) || TRANSIENT_CODES.has(name)
    || /socket hang up|aborted|premature close|terminated|ECONNRESET/i.test(err?.message ?? '');
  const what = [status ? `HTTP ${status}` : '', name && name !== 'Error' ? name : code].filter(Boolean).join(' ');
  return { message: `${what ? `${what}: ` : ''}${err?.message ?? String(e)}`, transient, missing: false };
}
