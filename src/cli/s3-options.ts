// The options both S3 tools take (edx-s3-ls, edx-fetch), and their usage text: one place for both.
import type { OptionSpec, OptionValues } from './common.js';
import type { S3Location } from '../s3/client.js';

export const S3_OPTIONS = {
  bucket: { type: 'string' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  profile: { type: 'string' },
  'local-root': { type: 'string' },
} as const satisfies OptionSpec;

/** What the command line says of the S3 location (the environment fills in the rest). */
export const s3Location = (values: OptionValues<typeof S3_OPTIONS> & { prefix?: string }): S3Location => ({
  bucket: values.bucket,
  prefix: values.prefix,
  region: values.region,
  endpointUrl: values['endpoint-url'],
  profile: values.profile,
});

/** Usage text for those options and their environment variables. */
export const S3_OPTIONS_USAGE = `\
S3 location and access (like the AWS CLI):
  --bucket NAME          bucket holding the logs (env EDX_PIPES_BUCKET; required); also written
                         s3://NAME or s3://NAME/PREFIX, as the AWS CLI names a location
  --region R             AWS region (env AWS_REGION, then AWS_DEFAULT_REGION, then the profile's
                         region; us-east-1 when --endpoint-url is given and nothing else says)
  --endpoint-url URL     an S3-compatible store, addressed path-style (env AWS_ENDPOINT_URL_S3,
                         then AWS_ENDPOINT_URL; default: AWS itself)
  --profile NAME         profile in ~/.aws/config and ~/.aws/credentials (env AWS_PROFILE)
  Credentials come only from the AWS SDK's default chain: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
  AWS_SESSION_TOKEN, the profile files, SSO, web identity, container or instance roles. There is no
  option for a secret, and none is ever printed.
`;
