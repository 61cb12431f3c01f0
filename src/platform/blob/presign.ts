/**
 * S3 presigned GET URLs (AWS Signature Version 4, query-string authentication).
 *
 * Written here instead of adding @aws-sdk/s3-request-presigner: it is one algorithm with a public
 * specification (docs.aws.amazon.com "Authenticating Requests: Using Query Parameters (AWS
 * Signature Version 4)"), the credentials still come from the SDK's own provider chain, and the
 * contract test signs URLs that a real S3-compatible server (s3rver) checks.
 *
 * The URL fixes the method (GET), the object, the expiry and the response headers S3 will send
 * (`response-content-disposition`, `response-content-type`): they are part of the signed query,
 * so a holder cannot turn an attachment into an inline page.
 */
import { createHash, createHmac } from 'node:crypto';

export interface PresignInput {
  /** https://s3.eu-west-1.amazonaws.com or a custom endpoint. */
  endpoint: string;
  region: string;
  bucket: string;
  key: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined };
  expiresIn: number;
  now: Date;
  responseHeaders?: { contentDisposition?: string; contentType?: string };
}

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function presignGetUrl(input: PresignInput): string {
  if (input.expiresIn < 1 || input.expiresIn > 604_800) throw new Error('presigned URLs last 1 second to 7 days');
  const base = new URL(input.endpoint);
  const keyPath = input.key.split('/').map(enc).join('/');
  let host: string;
  let path: string;
  if (input.forcePathStyle) {
    host = base.host;
    path = `${base.pathname.replace(/\/$/, '')}/${enc(input.bucket)}/${keyPath}`;
  } else {
    host = `${input.bucket}.${base.host}`;
    path = `${base.pathname.replace(/\/$/, '')}/${keyPath}`;
  }
  const amzDate = input.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${input.region}/s3/aws4_request`;
  const params: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${input.credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(input.expiresIn)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  if (input.credentials.sessionToken) params.push(['X-Amz-Security-Token', input.credentials.sessionToken]);
  if (input.responseHeaders?.contentDisposition)
    params.push(['response-content-disposition', input.responseHeaders.contentDisposition]);
  if (input.responseHeaders?.contentType) params.push(['response-content-type', input.responseHeaders.contentType]);
  const query = params
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = ['GET', path, query, `host:${host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key = hmac(`AWS4${input.credentials.secretAccessKey}`, day);
  key = hmac(key, input.region);
  key = hmac(key, 's3');
  key = hmac(key, 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return `${base.protocol}//${host}${path}?${query}&X-Amz-Signature=${signature}`;
}
