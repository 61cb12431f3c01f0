/**
 * With S3 storage (AWS_S3_BUCKET; here a local S3-compatible server, s3rver, on loopback) the
 * sanitised files and the quarantined originals live in the bucket, and links are S3 presigned
 * GET URLs with the same expiry and disposition; s3rver refuses them once expired (it does not
 * check SigV4 signatures: presign.test.ts compares ours with the AWS SDK's signer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { startLocalS3, type LocalS3 } from '../../../test/support/blob/s3rver.js';
import { png, simplePdf, upload, uploadTestApp } from '../../../test/support/uploads/helpers.js';

let s3: LocalS3;
let t: TestApp;
let owner: TestUser;
let portfolioId: string;

beforeAll(async () => {
  s3 = await startLocalS3('media-bucket');
  t = await uploadTestApp({
    AWS_S3_BUCKET: s3.bucket,
    AWS_S3_ENDPOINT: s3.endpoint,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  });
  owner = await createUser(t.app);
  portfolioId = (await createPortfolio(t.app, owner)).id;
});
afterAll(async () => {
  await t?.close();
  await s3?.close();
});

async function link(id: string, query = ''): Promise<{ url: string; expiresAt: string }> {
  const res = await t.app.inject({ method: 'GET', url: `/api/media/${id}/url${query}`, headers: owner.auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

describe('S3 storage', () => {
  it('stores in the bucket and serves through a presigned URL with the disposition fixed', async () => {
    const res = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: 'photo.png', type: 'image/png', data: await png() },
    );
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().status).toBe('available');
    const { url } = await link(res.json().id, '?disposition=attachment&ttl=120');
    expect(url.startsWith(`${s3.endpoint}/${s3.bucket}/media/objects/${res.json().id}/display.png?`)).toBe(true);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('120');
    const got = await fetch(url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-disposition')).toMatch(/^attachment; filename="photo.png"/);
    expect(got.headers.get('content-type')).toBe('image/png');
    const body = Buffer.from(await got.arrayBuffer());
    expect(body.subarray(1, 4).toString()).toBe('PNG');

    // The disposition is part of the signed query. s3rver does not check SigV4 signatures (only
    // their expiry), so tampering is proven against the AWS SDK's signer in platform/blob/presign.test.ts.
    expect(new URL(url).searchParams.get('response-content-disposition')).toMatch(/^attachment; /);
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('host');
  });

  it('documents are presigned as attachments only', async () => {
    const res = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: 'cv.pdf', type: 'application/pdf', data: await simplePdf() },
      { category: 'resume' },
    );
    const { url } = await link(res.json().id, '?disposition=inline');
    const got = await fetch(url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-disposition')).toMatch(/^attachment;/);
  });

  it('an expired presigned URL is refused by S3', async () => {
    const res = await upload(t.app, owner, { portfolioId }, { name: 'old.png', type: 'image/png', data: await png() });
    // Signed two hours ago for ten minutes.
    t.clock.advance(-2 * 3600_000);
    try {
      const tokenFree = await t.app.uploads.link(null, res.json().id, { ttl: 600 });
      expect((await fetch(tokenFree.url)).status).toBe(403);
    } finally {
      t.clock.advance(2 * 3600_000);
    }
  });
});
