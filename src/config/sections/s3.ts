/** S3 storage for backups and uploads (src/platform/blob/). */

import { bool, endpointUrl, nonEmpty, oneOf, type SchemaSection } from '../parsers.js';

export const s3Schema = {
  AWS_S3_BUCKET: {
    group: 'S3 storage',
    doc: 'S3 bucket for off-site backups (`backup create --upload-s3`). Unset: S3 is off.',
    example: 'my-portfolio-backups',
    parse: (raw: string) => {
      const v = raw.trim();
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v)) throw new Error(`"${raw}" is not an S3 bucket name`);
      return v;
    },
  },
  AWS_REGION: {
    group: 'S3 storage',
    doc: 'Region of the bucket.',
    default: 'us-east-1',
    parse: nonEmpty,
  },
  AWS_S3_ENDPOINT: {
    group: 'S3 storage',
    doc: 'Endpoint of an S3-compatible store (MinIO, Ceph, ...). Unset: AWS.',
    example: 'https://minio.internal:9000',
    parse: endpointUrl,
  },
  AWS_S3_FORCE_PATH_STYLE: {
    group: 'S3 storage',
    doc: 'Address objects as endpoint/bucket/key (most S3-compatible stores need it).',
    default: 'false',
    parse: bool,
  },
  AWS_S3_SSE: {
    group: 'S3 storage',
    doc: 'Server-side encryption asked for on every upload: AES256 or aws:kms (backups are OpenPGP-encrypted before upload either way).',
    default: 'AES256',
    parse: oneOf(['AES256', 'aws:kms'] as const),
  },
  AWS_S3_KMS_KEY_ID: {
    group: 'S3 storage',
    doc: 'KMS key id or ARN for AWS_S3_SSE=aws:kms. Unset: the bucket default key.',
    example: 'arn:aws:kms:eu-west-1:111122223333:key/abcd-1234',
    parse: nonEmpty,
  },
  AWS_ACCESS_KEY_ID: {
    group: 'S3 storage',
    doc: 'Access key id. Unset: the AWS SDK default chain (profile, instance or task role).',
    example: 'AKIAEXAMPLE',
    parse: nonEmpty,
  },
  AWS_SECRET_ACCESS_KEY: {
    group: 'S3 storage',
    doc: 'Secret access key paired with AWS_ACCESS_KEY_ID.',
    example: 'secret',
    parse: nonEmpty,
    secret: true,
  },
} satisfies SchemaSection;
