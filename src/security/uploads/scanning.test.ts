/**
 * Fail-closed scanning with the real clamd (TEST_CLAMAV_URL): "could not scan" is never "clean".
 * EICAR is quarantined and never served; a stopped clamd leaves the upload quarantined as
 * scan_failed until the background retry gets a clean verdict; without a scanner uploads wait
 * as scan_unavailable; a signature update makes available files be rescanned. Every quarantine,
 * release and delete is audited, and an infection notifies the owner and the admins.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, productionProblems } from '../../config/index.js';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { productionEnv } from '../../../test/helpers/production-env.js';
import {
  auditActions,
  CLAMD_SKIP_REASON,
  EICAR,
  encryptedPdf,
  fetchMedia,
  hostilePdf,
  png,
  simplePdf,
  TEST_CLAMAV_URL,
  upload,
  uploadTestApp,
} from '../../../test/support/uploads/helpers.js';

describe('configuration', () => {
  it('UPLOAD_SCAN=off is refused in production', () => {
    const env = productionEnv();
    expect(() => loadConfig({ ...env, UPLOAD_SCAN: 'off' })).toThrow(/UPLOAD_SCAN/);
    expect(
      productionProblems({ ...loadConfig({ UPLOAD_SCAN: 'off' }), NODE_ENV: 'production' }).map((p) => p.key),
    ).toContain('UPLOAD_SCAN');
    expect(productionProblems({ ...loadConfig({}), NODE_ENV: 'production' }).map((p) => p.key)).not.toContain(
      'UPLOAD_SCAN',
    );
    expect(() => loadConfig({ CLAMAV_URL: 'http://127.0.0.1:3310' })).toThrow(/CLAMAV_URL/);
  });
});

describe('without a scanner (embedded default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await import('../../../test/helpers/app.js').then((m) => m.buildTestApp({ UPLOAD_RETRY_INTERVAL: '0' }));
  });
  afterAll(async () => {
    await t.close();
  });

  it('uploads wait in quarantine as scan_unavailable and are never served', async () => {
    const owner = await createUser(t.app);
    const p = await createPortfolio(t.app, owner);
    const res = await upload(
      t.app,
      owner,
      { portfolioId: p.id },
      { name: 'a.png', type: 'image/png', data: await png() },
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'quarantined', statusReason: 'scan_unavailable', variants: [] });
    const link = await t.app.inject({ method: 'GET', url: `/api/media/${res.json().id}/url`, headers: owner.auth });
    expect(link.statusCode).toBe(409);
    expect(link.json().code).toBe('MEDIA_NOT_AVAILABLE');
    // The worker has nothing to retry with: the file stays where it is.
    t.clock.advance(24 * 3600_000);
    expect(await t.app.uploadWorker.runOnce()).toMatchObject({ retried: 0 });
    expect((await t.app.uploads.repo.get(res.json().id))?.status).toBe('quarantined');
  });
});

/** A TCP proxy in front of the real clamd that can be stopped and started again on the same port. */
class Switch {
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }
  async stop(): Promise<void> {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise((r) => this.server?.close(r));
    this.server = null;
  }
}

describe.skipIf(!TEST_CLAMAV_URL)(
  `with the real clamd${TEST_CLAMAV_URL ? '' : ` (skipped: ${CLAMD_SKIP_REASON})`}`,
  () => {
    let t: TestApp;
    let owner: TestUser;
    let admin: TestUser;
    let portfolioId: string;
    const sw = new Switch(
      (() => {
        const u = new URL(TEST_CLAMAV_URL ?? 'tcp://127.0.0.1:3310');
        return { host: u.hostname, port: Number(u.port || 3310) };
      })(),
    );

    beforeAll(async () => {
      await sw.start();
      t = await uploadTestApp({ CLAMAV_URL: `tcp://127.0.0.1:${sw.port}`, CLAMAV_TIMEOUT: '5' });
      owner = await createUser(t.app);
      admin = await createUser(t.app, { role: 'admin' });
      portfolioId = (await createPortfolio(t.app, owner)).id;
    });
    afterAll(async () => {
      await t.close();
      await sw.stop().catch(() => undefined);
    });
    afterEach(async () => {
      await sw.stop().catch(() => undefined);
      await sw.start();
    });

    it('EICAR inside a valid PDF is quarantined as infected, never served, audited, and notified', async () => {
      const res = await upload(
        t.app,
        owner,
        { portfolioId },
        { name: 'cv.pdf', type: 'application/pdf', data: await hostilePdf(EICAR) },
        { category: 'resume' },
      );
      expect(res.statusCode, res.body).toBe(202);
      const media = res.json();
      expect(media).toMatchObject({ status: 'quarantined', statusReason: 'infected', variants: [] });
      expect(media.scan.verdict).toBe('infected');
      expect(media.scan.signature).toMatch(/Eicar/i);
      expect(media.scan.scannerVersion).toMatch(/^ClamAV /);
      const link = await t.app.inject({ method: 'GET', url: `/api/media/${media.id}/url`, headers: owner.auth });
      expect(link.statusCode).toBe(409);
      const events = await auditActions(t, media.id);
      expect(events.map((e) => e.action)).toContain('media.scan.infected');
      // The owner and the admin are told by mail (through the mail module's outbox).
      const mails = await t.deps.db.query<{ to_address: string }>(
        `select to_address from mail_outbox where template = 'upload_infected'`,
      );
      expect(mails.map((m) => m.to_address).sort()).toEqual([owner.email, admin.email].sort());
      // Quarantine admin: listed, not releasable by its owner, deletable by an admin with a reason.
      const list = await t.app.inject({ method: 'GET', url: '/api/admin/quarantine', headers: admin.auth });
      expect(list.json().items.map((i: { id: string }) => i.id)).toContain(media.id);
      expect(
        (await t.app.inject({ method: 'GET', url: '/api/admin/quarantine', headers: owner.auth })).statusCode,
      ).toBe(403);
      const ownerRelease = await t.app.inject({
        method: 'POST',
        url: `/api/admin/quarantine/${media.id}/release`,
        headers: owner.auth,
        payload: { reason: 'trust me' },
      });
      expect(ownerRelease.statusCode).toBe(403);
      const del = await t.app.inject({
        method: 'DELETE',
        url: `/api/admin/quarantine/${media.id}?reason=malware`,
        headers: admin.auth,
      });
      expect(del.statusCode).toBe(204);
      expect((await auditActions(t, media.id)).map((e) => e.action)).toContain('media.deleted');
    });

    it('a plain EICAR file named .pdf never gets past validation or the scanner', async () => {
      const res = await upload(
        t.app,
        owner,
        { portfolioId },
        { name: 'eicar.pdf', type: 'application/pdf', data: Buffer.from(EICAR) },
        { category: 'document' },
      );
      expect(res.statusCode).toBe(415);
    });

    it('clamd stopped: quarantined as scan_failed, then released by the background retry', async () => {
      await sw.stop();
      const res = await upload(
        t.app,
        owner,
        { portfolioId },
        { name: 'later.png', type: 'image/png', data: await png() },
      );
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ status: 'quarantined', statusReason: 'scan_failed' });
      expect(res.json().scan.verdict).toBe('error');
      const id = res.json().id as string;
      // Not due yet: nothing happens.
      expect((await t.app.uploadWorker.runOnce()).retried).toBe(0);
      // Due, but clamd is still down: still quarantined, with a longer wait.
      t.clock.advance(31_000);
      await t.app.uploadWorker.runOnce();
      const still = await t.app.uploads.repo.get(id);
      expect(still).toMatchObject({ status: 'quarantined', statusReason: 'scan_failed', scanAttempts: 2 });
      await sw.start();
      t.clock.advance(61_000);
      const run = await t.app.uploadWorker.runOnce();
      expect(run.available).toBeGreaterThanOrEqual(1);
      const after = await t.app.inject({ method: 'GET', url: `/api/media/${id}`, headers: owner.auth });
      expect(after.json()).toMatchObject({ status: 'available', scan: { verdict: 'clean' } });
      const { res: served } = await fetchMedia(t.app, owner, id);
      expect(served?.statusCode).toBe(200);
      expect((await auditActions(t, id)).map((e) => e.action)).toContain('media.quarantined');
    });

    it('an admin releases a scan_failed file with a reason: still sanitised, audited', async () => {
      await sw.stop();
      const res = await upload(
        t.app,
        owner,
        { portfolioId },
        { name: 'r.pdf', type: 'application/pdf', data: await hostilePdf() },
        { category: 'document' },
      );
      expect(res.json().statusReason).toBe('scan_failed');
      const noReason = await t.app.inject({
        method: 'POST',
        url: `/api/admin/quarantine/${res.json().id}/release`,
        headers: admin.auth,
        payload: {},
      });
      expect(noReason.statusCode).toBe(400);
      const rel = await t.app.inject({
        method: 'POST',
        url: `/api/admin/quarantine/${res.json().id}/release`,
        headers: admin.auth,
        payload: { reason: 'scanner outage; checked by hand' },
      });
      expect(rel.statusCode, rel.body).toBe(200);
      expect(rel.json().status).toBe('available');
      const { body } = await fetchMedia(t.app, owner, res.json().id);
      expect(body?.toString('latin1')).not.toMatch(/JavaScript|OpenAction|Launch/);
      const events = await auditActions(t, res.json().id);
      const released = events.find((e) => e.action === 'media.quarantine.released');
      expect(released?.metadata).toMatchObject({
        reason: 'scanner outage; checked by hand',
        quarantineReason: 'scan_failed',
      });
      // Releasing twice is a conflict, not a second pipeline run.
      const again = await t.app.inject({
        method: 'POST',
        url: `/api/admin/quarantine/${res.json().id}/release`,
        headers: admin.auth,
        payload: { reason: 'again' },
      });
      expect(again.statusCode).toBe(409);
    });

    it('an encrypted PDF is quarantined as unscannable (no retry)', async () => {
      const res = await upload(
        t.app,
        owner,
        { portfolioId },
        { name: 'locked.pdf', type: 'application/pdf', data: await encryptedPdf() },
        { category: 'document' },
      );
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toMatchObject({ status: 'quarantined', statusReason: 'unscannable' });
      const row = await t.app.uploads.repo.get(res.json().id);
      expect(row?.nextScanAt).toBeNull();
    });

    it('a new signature version rescans available files; one now found infected is quarantined', async () => {
      // A file the admin released although infected (a "false positive"), scanned by an older database.
      const res = await upload(
        t.app,
        owner,
        { portfolioId },
        { name: 'x.pdf', type: 'application/pdf', data: await hostilePdf(EICAR) },
        { category: 'document' },
      );
      expect(res.json().statusReason).toBe('infected');
      await t.app.inject({
        method: 'POST',
        url: `/api/admin/quarantine/${res.json().id}/release`,
        headers: admin.auth,
        payload: { reason: 'false positive' },
      });
      const clean = await upload(
        t.app,
        owner,
        { portfolioId },
        { name: 'ok.pdf', type: 'application/pdf', data: await simplePdf() },
        { category: 'document' },
      );
      expect(clean.json().status).toBe('available');
      await t.deps.db.query(`update media set scanner_version = 'ClamAV 0.0.1/1/old' where id = any($1::uuid[])`, [
        [res.json().id, clean.json().id],
      ]);
      const run = await t.app.uploadWorker.runOnce();
      expect(run.rescanned).toBeGreaterThanOrEqual(2);
      expect(run.infected).toBeGreaterThanOrEqual(1);
      expect(await t.app.uploads.repo.get(res.json().id)).toMatchObject({
        status: 'quarantined',
        statusReason: 'infected',
      });
      const ok = await t.app.uploads.repo.get(clean.json().id);
      expect(ok?.status).toBe('available');
      expect(ok?.scannerVersion).toMatch(/^ClamAV [1-9]/);
      // Up to date now: a second pass rescans nothing.
      expect((await t.app.uploadWorker.runOnce()).rescanned).toBe(0);
    });
  },
);
