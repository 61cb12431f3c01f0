/**
 * The one ingestion path, end to end through the API: an upload is staged, validated, scanned,
 * sanitised and only then available; every refusal is a problem+json with a stable code and the
 * row ends `rejected`. Attacks tried: type confusion (a .jpg that is a PDF or HTML, SVG with
 * script, a declared type that lies), path tricks and NUL bytes in names, empty, truncated and
 * oversized files, another user's portfolio.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import {
  fetchMedia,
  jpeg,
  multipart,
  png,
  simplePdf,
  stagedEntries,
  upload,
  uploadTestApp,
} from '../../../test/support/uploads/helpers.js';

let t: TestApp;
let owner: TestUser;
let other: TestUser;
let portfolioId: string;

beforeAll(async () => {
  t = await uploadTestApp();
  owner = await createUser(t.app);
  other = await createUser(t.app);
  portfolioId = (await createPortfolio(t.app, owner, { visibility: 'public', published: true })).id;
});
afterAll(async () => {
  await t.close();
});

describe('a good upload', () => {
  it('a PNG goes through every state to available and is served from a signed link', async () => {
    const res = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: 'photo.png', type: 'image/png', data: await png(2400, 1200) },
      { category: 'main' },
    );
    expect(res.statusCode, res.body).toBe(202);
    const media = res.json();
    expect(media).toMatchObject({
      status: 'available',
      kind: 'image',
      category: 'main',
      name: 'photo.png',
      contentType: 'image/png',
    });
    // Resized to fit 1920x1080, with a thumbnail.
    expect(media.width).toBeLessThanOrEqual(1920);
    expect(media.height).toBeLessThanOrEqual(1080);
    expect(media.variants).toEqual(['display', 'thumbnail']);

    const got = await t.app.inject({ method: 'GET', url: `/api/media/${media.id}`, headers: owner.auth });
    expect(got.json().status).toBe('available');

    const { link, res: served, body } = await fetchMedia(t.app, owner, media.id);
    expect(link.json().expiresAt).toBe(
      new Date(Math.floor(t.clock.now().getTime() / 1000) * 1000 + 300_000).toISOString(),
    );
    expect(served?.statusCode).toBe(200);
    expect(served?.headers['content-type']).toBe('image/png');
    expect(served?.headers['x-content-type-options']).toBe('nosniff');
    expect(String(served?.headers['content-security-policy'])).toContain('sandbox');
    expect(String(served?.headers['content-disposition'])).toMatch(/^inline; filename="photo.png"/);
    expect(body?.subarray(0, 4).toString('latin1')).toBe('\x89PNG');
  });

  it('a PDF is served only as an attachment, whatever the link asks', async () => {
    const res = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: 'cv.pdf', type: 'application/pdf', data: await simplePdf() },
      { category: 'resume', isDefaultResume: 'true' },
    );
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({
      status: 'available',
      kind: 'document',
      isDefaultResume: true,
      variants: ['original'],
    });
    const { res: served } = await fetchMedia(t.app, owner, res.json().id, '?disposition=inline');
    expect(served?.statusCode).toBe(200);
    expect(String(served?.headers['content-disposition'])).toMatch(/^attachment; filename="cv.pdf"/);
    expect(served?.headers['content-type']).toBe('application/pdf');
  });

  it('a project takes media too, and the published portfolio lists what is available', async () => {
    const project = await t.app.inject({
      method: 'POST',
      url: `/api/portfolios/${portfolioId}/projects`,
      headers: owner.auth,
      payload: { title: 'Bridge' },
    });
    expect(project.statusCode).toBe(201);
    const res = await upload(
      t.app,
      owner,
      { projectId: project.json().id },
      { name: 'bridge.jpg', type: 'image/jpeg', data: await jpeg() },
    );
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().projectId).toBe(project.json().id);
    const slug = (
      await t.app.inject({ method: 'GET', url: `/api/portfolios/${portfolioId}`, headers: owner.auth })
    ).json().slug;
    const pub = await t.app.inject({ method: 'GET', url: `/api/public/portfolios/${slug}` });
    expect(pub.statusCode).toBe(200);
    const media = pub.json().media as { id: string; url: string; thumbnailUrl: string | null }[];
    expect(media.map((m) => m.id)).toContain(res.json().id);
    const item = media.find((m) => m.id === res.json().id);
    const u = new URL(item?.url ?? '');
    const served = await t.app.inject({ method: 'GET', url: u.pathname + u.search });
    expect(served.statusCode).toBe(200);
    expect(item?.thumbnailUrl).toBeTruthy();
  });

  it('deleting removes the row and the stored objects', async () => {
    const res = await upload(t.app, owner, { portfolioId }, { name: 'gone.png', type: 'image/png', data: await png() });
    const id = res.json().id as string;
    const link = await t.app.inject({ method: 'GET', url: `/api/media/${id}/url`, headers: owner.auth });
    expect((await t.app.inject({ method: 'DELETE', url: `/api/media/${id}`, headers: other.auth })).statusCode).toBe(
      404,
    );
    expect((await t.app.inject({ method: 'DELETE', url: `/api/media/${id}`, headers: owner.auth })).statusCode).toBe(
      204,
    );
    expect((await t.app.inject({ method: 'GET', url: `/api/media/${id}`, headers: owner.auth })).statusCode).toBe(404);
    const u = new URL(link.json().url);
    expect((await t.app.inject({ method: 'GET', url: u.pathname + u.search })).statusCode).toBe(404);
    const objects = await readdir(path.join(t.config.DATA_DIR, 'uploads', 'objects'));
    expect(objects.length).toBeGreaterThan(0);
    expect(objects).not.toContain(id);
  });
});

describe('authorization', () => {
  it('another user cannot upload to, read or link my media (404, nothing stored)', async () => {
    const mine = (
      await upload(t.app, owner, { portfolioId }, { name: 'a.png', type: 'image/png', data: await png() })
    ).json();
    const res = await upload(t.app, other, { portfolioId }, { name: 'b.png', type: 'image/png', data: await png() });
    expect(res.statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/api/media/${mine.id}`, headers: other.auth })).statusCode).toBe(
      404,
    );
    expect(
      (await t.app.inject({ method: 'GET', url: `/api/media/${mine.id}/url`, headers: other.auth })).statusCode,
    ).toBe(404);
    const anon = await t.app.inject({
      method: 'POST',
      url: `/api/portfolios/${portfolioId}/media`,
      ...multipart({ category: 'main' }, { name: 'a.png', type: 'image/png', data: await png() }),
    });
    expect(anon.statusCode).toBe(401);
  });
});

async function refused(
  fields: Record<string, string>,
  file: { name: string; type: string; data: Buffer },
  status: number,
  code: string,
) {
  const res = await upload(t.app, owner, { portfolioId }, file, fields);
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toContain('application/problem+json');
  expect(res.json().code).toBe(code);
  return res;
}

describe('validation', () => {
  it('a .jpg that is a PDF or HTML is refused', async () => {
    await refused(
      { category: 'main' },
      { name: 'x.jpg', type: 'image/jpeg', data: await simplePdf() },
      415,
      'UPLOAD_TYPE_MISMATCH',
    );
    await refused(
      { category: 'main' },
      { name: 'x.jpg', type: 'image/jpeg', data: Buffer.from('<!doctype html><script>alert(1)</script>') },
      415,
      'UPLOAD_TYPE_MISMATCH',
    );
  });

  it('SVG with script is refused, by extension and when renamed', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>');
    await refused(
      { category: 'main' },
      { name: 'logo.svg', type: 'image/svg+xml', data: svg },
      415,
      'UPLOAD_TYPE_UNSUPPORTED',
    );
    await refused(
      { category: 'main' },
      { name: 'logo.png', type: 'image/png', data: svg },
      415,
      'UPLOAD_TYPE_MISMATCH',
    );
  });

  it('the declared type must agree with the name and the content', async () => {
    await refused(
      { category: 'main' },
      { name: 'x.png', type: 'text/html', data: await png() },
      415,
      'UPLOAD_TYPE_MISMATCH',
    );
    await refused(
      { category: 'main' },
      { name: 'x.png', type: 'image/jpeg', data: await png() },
      415,
      'UPLOAD_TYPE_MISMATCH',
    );
    await refused(
      { category: 'main' },
      { name: 'x.jpg', type: 'image/jpeg', data: await png() },
      415,
      'UPLOAD_TYPE_MISMATCH',
    );
    await refused(
      { category: 'main' },
      { name: 'x.exe', type: 'application/octet-stream', data: Buffer.from('MZ') },
      415,
      'UPLOAD_TYPE_UNSUPPORTED',
    );
    await refused(
      { category: 'resume' },
      { name: 'x.png', type: 'image/png', data: await png() },
      415,
      'UPLOAD_TYPE_MISMATCH',
    );
  });

  it('zero-byte and truncated files get clear errors', async () => {
    await refused(
      { category: 'main' },
      { name: 'empty.png', type: 'image/png', data: Buffer.alloc(0) },
      400,
      'UPLOAD_EMPTY',
    );
    const full = await jpeg(400, 300);
    await refused(
      { category: 'main' },
      { name: 'cut.jpg', type: 'image/jpeg', data: full.subarray(0, Math.floor(full.length / 2)) },
      422,
      'IMAGE_UNREADABLE',
    );
    const pdf = await simplePdf();
    await refused(
      { category: 'document' },
      { name: 'cut.pdf', type: 'application/pdf', data: pdf.subarray(0, 200) },
      422,
      'DOCUMENT_UNREADABLE',
    );
  });

  it('a refused upload ends as rejected, with an audit event, and nothing is stored', async () => {
    const res = await refused(
      { category: 'main' },
      { name: 'y.jpg', type: 'image/jpeg', data: await simplePdf() },
      415,
      'UPLOAD_TYPE_MISMATCH',
    );
    void res;
    const rows = await t.deps.db.query<{ id: string; status: string; status_reason: string; variants: unknown }>(
      `select id, status, status_reason, variants from media where original_name = 'y.jpg'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'rejected', status_reason: 'UPLOAD_TYPE_MISMATCH', variants: {} });
    expect(await stagedEntries(t.config.DATA_DIR)).toEqual([]);
  });

  it('the form must be category, then one file named "file"', async () => {
    const data = await png();
    await refused({}, { name: 'a.png', type: 'image/png', data }, 400, 'UPLOAD_CATEGORY_INVALID');
    await refused(
      { category: 'wallpaper' },
      { name: 'a.png', type: 'image/png', data },
      400,
      'UPLOAD_CATEGORY_INVALID',
    );
    await refused(
      { category: 'main', isDefaultResume: 'true' },
      { name: 'a.png', type: 'image/png', data },
      400,
      'UPLOAD_CATEGORY_INVALID',
    );
    await refused({ category: 'main', evil: '1' }, { name: 'a.png', type: 'image/png', data }, 400, 'UPLOAD_MALFORMED');
    const two = multipart({ category: 'main' }, [
      { name: 'a.png', type: 'image/png', data },
      { name: 'b.png', type: 'image/png', data },
    ]);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/portfolios/${portfolioId}/media`,
      headers: { ...owner.auth, ...two.headers },
      payload: two.body,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('UPLOAD_TOO_MANY_FILES');
    const wrongField = multipart({ category: 'main' }, { name: 'a.png', type: 'image/png', data }, 'upload');
    const res2 = await t.app.inject({
      method: 'POST',
      url: `/api/portfolios/${portfolioId}/media`,
      headers: { ...owner.auth, ...wrongField.headers },
      payload: wrongField.body,
    });
    expect(res2.json().code).toBe('UPLOAD_MALFORMED');
    const json = await t.app.inject({
      method: 'POST',
      url: `/api/portfolios/${portfolioId}/media`,
      headers: owner.auth,
      payload: { file: 'x' },
    });
    expect(json.statusCode).toBe(415);
    expect(json.json().code).toBe('MULTIPART_REQUIRED');
    const broken = await t.app.inject({
      method: 'POST',
      url: `/api/portfolios/${portfolioId}/media`,
      headers: { ...owner.auth, 'content-type': 'multipart/form-data; boundary=xyz' },
      payload: '--xyz\r\nContent-Disposition: form-data; name="category"\r\n\r\nmain\r\n--xyz\r\nContent-Disp',
    });
    expect(broken.statusCode).toBeGreaterThanOrEqual(400);
    expect(broken.statusCode).toBeLessThan(500);
  });
});

describe('names', () => {
  it('../../etc/passwd and NUL bytes in names are harmless metadata', async () => {
    const res = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: '../../etc/passwd.png', type: 'image/png', data: await png() },
    );
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().name).toBe('passwd.png');
    const res2 = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: 'a\u0000b\u202Egnp.exe.png', type: 'image/png', data: await png() },
    );
    expect(res2.statusCode, res2.body).toBe(202);
    expect(res2.json().name).not.toMatch(/[\u0000\u202E]/);
    const { res: served } = await fetchMedia(t.app, owner, res2.json().id, '?disposition=attachment');
    expect(String(served?.headers['content-disposition'])).toMatch(
      /^attachment; filename="[^"\u0000]*"; filename\*=UTF-8''/,
    );
    // Stored under generated names only.
    const objects = await readdir(path.join(t.config.DATA_DIR, 'uploads', 'objects', res.json().id));
    expect(objects.sort()).toEqual(['display.png', 'thumbnail.png']);
    // Nothing escaped the data folder.
    expect(await readdir(path.join(t.config.DATA_DIR, '..')).then((names) => names.includes('passwd.png'))).toBe(false);
    const noExt = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: '../../etc/passwd', type: 'image/png', data: await png() },
    );
    expect(noExt.statusCode).toBe(415);
  });
});

describe('size limits', () => {
  it('an 11 MiB image is refused with 413 by the request limit (MAX_REQUEST_SIZE 10 MiB)', async () => {
    const big = Buffer.concat([await png(), Buffer.alloc(11 * 1024 * 1024)]);
    const res = await upload(t.app, owner, { portfolioId }, { name: 'big.png', type: 'image/png', data: big });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('with a larger request limit the image limit still refuses 11 MiB, declared or streamed without a length', async () => {
    const t2 = await uploadTestApp({ MAX_REQUEST_SIZE: String(64 * 1024 * 1024) });
    try {
      const user = await createUser(t2.app);
      const p = await createPortfolio(t2.app, user);
      const big = Buffer.concat([await png(), Buffer.alloc(11 * 1024 * 1024)]);
      for (const stream of [false, true]) {
        const res = await upload(
          t2.app,
          user,
          { portfolioId: p.id },
          { name: 'big.png', type: 'image/png', data: big },
          { category: 'main' },
          { stream },
        );
        expect(res.statusCode, res.body).toBe(413);
        expect(res.json().code).toBe('UPLOAD_TOO_LARGE');
      }
      // A 12 MiB PDF is within the document limit (20 MiB); it is refused for what it is, not its size.
      const doc = Buffer.concat([await simplePdf(), Buffer.alloc(12 * 1024 * 1024)]);
      const res = await upload(
        t2.app,
        user,
        { portfolioId: p.id },
        { name: 'big.pdf', type: 'application/pdf', data: doc },
        { category: 'document' },
      );
      expect(res.statusCode).not.toBe(413);
      expect(await stagedEntries(t2.config.DATA_DIR)).toEqual([]);
    } finally {
      await t2.close();
    }
  });
});
