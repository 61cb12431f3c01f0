/**
 * Our SigV4 presigner must produce exactly what AWS's own signer produces: s3rver (the local S3
 * used elsewhere) checks presigned expiry but not SigV4 signatures, so the reference here is
 * @smithy/signature-v4, the signer inside the AWS SDK (installed with @aws-sdk/client-s3; used
 * only by this test). Path-style and virtual-hosted, with a session token and response headers.
 */
import { createHash, createHmac, randomBytes, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { presignGetUrl } from './presign.js';

class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | Uint8Array) {
    this.h = secret ? createHmac('sha256', Buffer.from(secret as Uint8Array)) : createHash('sha256');
  }
  update(data: string | Uint8Array): void {
    this.h.update(typeof data === 'string' ? Buffer.from(data) : data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

async function reference(input: Parameters<typeof presignGetUrl>[0]): Promise<string> {
  const signer = new SignatureV4({
    service: 's3',
    region: input.region,
    credentials: input.credentials,
    sha256: NodeSha256 as never,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const ours = new URL(presignGetUrl(input));
  const query: Record<string, string> = {};
  if (input.responseHeaders?.contentDisposition)
    query['response-content-disposition'] = input.responseHeaders.contentDisposition;
  if (input.responseHeaders?.contentType) query['response-content-type'] = input.responseHeaders.contentType;
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: ours.protocol,
      hostname: ours.hostname,
      port: ours.port ? Number(ours.port) : undefined,
      path: ours.pathname,
      query,
      headers: { host: ours.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    // As @aws-sdk/s3-request-presigner does: presigned S3 URLs sign UNSIGNED-PAYLOAD, and only the host header.
    {
      expiresIn: input.expiresIn,
      signingDate: input.now,
      unsignableHeaders: new Set(['x-amz-content-sha256']),
      unhoistableHeaders: new Set(['x-amz-content-sha256']),
    },
  );
  return (signed.query as Record<string, string>)['X-Amz-Signature'] ?? '';
}

describe('presignGetUrl', () => {
  const base = {
    region: 'eu-west-1',
    bucket: 'media-bucket',
    key: 'media/objects/0190a1b2-0000-7000-8000-000000000001/display.png',
    // Made at run time: a literal key would (rightly) trip the secret scanner of `npm run security`.
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: randomBytes(30).toString('base64') },
    expiresIn: 300,
    now: new Date('2026-03-01T12:34:56Z'),
  };

  it('matches the AWS SDK signer (path-style, custom endpoint, response headers)', async () => {
    const input = {
      ...base,
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      responseHeaders: {
        contentDisposition: `attachment; filename="cv (1).pdf"; filename*=UTF-8''cv%20%281%29.pdf`,
        contentType: 'application/pdf',
      },
    };
    const url = new URL(presignGetUrl(input));
    expect(url.searchParams.get('X-Amz-Signature')).toBe(await reference(input));
    expect(url.pathname).toBe(`/media-bucket/${base.key}`);
  });

  it('matches the AWS SDK signer (virtual-hosted on AWS, with a session token)', async () => {
    const input = {
      ...base,
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      forcePathStyle: false,
      credentials: { ...base.credentials, sessionToken: 'FQoGZXIvYXdzEXAMPLE//token+=' },
    };
    const url = new URL(presignGetUrl(input));
    expect(url.host).toBe('media-bucket.s3.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(await reference(input));
  });

  it('refuses lifetimes S3 would refuse', () => {
    expect(() =>
      presignGetUrl({ ...base, endpoint: 'https://s3.amazonaws.com', forcePathStyle: true, expiresIn: 0 }),
    ).toThrow();
    expect(() =>
      presignGetUrl({ ...base, endpoint: 'https://s3.amazonaws.com', forcePathStyle: true, expiresIn: 604_801 }),
    ).toThrow();
  });
});
