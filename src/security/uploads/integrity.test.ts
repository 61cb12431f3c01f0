/**
 * Integrity on read: the SHA-256 of the stored bytes is recorded when they are written and
 * checked as they stream out. One flipped byte on disk must be detected on the next read: the
 * response is cut short (the client never gets a complete, altered file), the file is quarantined
 * and an audit event is written. Such a file cannot be released, only deleted.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { auditActions, fetchMedia, png, upload, uploadTestApp } from '../../../test/support/uploads/helpers.js';

let t: TestApp;
let owner: TestUser;
let admin: TestUser;
let portfolioId: string;

beforeAll(async () => {
  t = await uploadTestApp();
  owner = await createUser(t.app);
  admin = await createUser(t.app, { role: 'admin' });
  portfolioId = (await createPortfolio(t.app, owner)).id;
});
afterAll(async () => {
  await t.close();
});

describe('a flipped byte on disk', () => {
  it('is detected on read: cut response, quarantined, audited, not releasable', async () => {
    const res = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: 'a.png', type: 'image/png', data: await png(300, 200) },
    );
    const id = res.json().id as string;
    const link = await t.app.inject({ method: 'GET', url: `/api/media/${id}/url`, headers: owner.auth });
    const good = await fetchMedia(t.app, owner, id);
    expect(good.res?.statusCode).toBe(200);

    const file = path.join(t.config.DATA_DIR, 'uploads', 'objects', id, 'display.png');
    const bytes = await readFile(file);
    const at = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
    await writeFile(file, bytes);

    const u = new URL(link.json().url);
    let complete = false;
    try {
      const served = await t.app.inject({ method: 'GET', url: u.pathname + u.search });
      complete = served.rawPayload.length === bytes.length && Buffer.compare(served.rawPayload, bytes) === 0;
    } catch {
      // The response was destroyed mid-stream: what a real client sees as a reset connection.
    }
    expect(complete).toBe(false);
    await t.app.uploads.settled();
    const row = await t.app.uploads.repo.get(id);
    expect(row).toMatchObject({ status: 'quarantined', statusReason: 'integrity' });
    expect((await auditActions(t, id)).map((e) => e.action)).toContain('media.integrity.failed');
    expect((await t.app.inject({ method: 'GET', url: u.pathname + u.search })).statusCode).toBe(404);
    const rel = await t.app.inject({
      method: 'POST',
      url: `/api/admin/quarantine/${id}/release`,
      headers: admin.auth,
      payload: { reason: 'looks fine' },
    });
    expect(rel.statusCode).toBe(409);
  });

  it('a truncated or extended object is detected too', async () => {
    for (const change of ['truncate', 'extend'] as const) {
      const res = await upload(
        t.app,
        owner,
        { portfolioId },
        { name: `${change}.png`, type: 'image/png', data: await png(100, 100) },
      );
      const id = res.json().id as string;
      const file = path.join(t.config.DATA_DIR, 'uploads', 'objects', id, 'display.png');
      const bytes = await readFile(file);
      await writeFile(
        file,
        change === 'truncate' ? bytes.subarray(0, bytes.length - 10) : Buffer.concat([bytes, Buffer.from('<script>')]),
      );
      const { res: served } = await fetchMedia(t.app, owner, id).catch(() => ({ res: null }));
      if (served)
        expect(served.rawPayload.length).not.toBe(change === 'truncate' ? bytes.length - 10 : bytes.length + 8);
      await t.app.uploads.settled();
      expect((await t.app.uploads.repo.get(id))?.statusReason, change).toBe('integrity');
    }
  });
});
