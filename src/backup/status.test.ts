/**
 * RPO: the health check says when the newest *verified* (drilled) backup is older than
 * BACKUP_RPO_HOURS. An unverified backup, however new, does not count: it has not proved it
 * restores. A stale backup is reported but never takes the node out of the load balancer.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createUser } from '../../test/helpers/factories.js';
import { loadConfig } from '../config/index.js';
import { fakeBackup } from '../../test/support/backup/rpo.js';
import { rpoStatus } from './status.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pf-rpo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rpoStatus', () => {
  const now = new Date('2026-05-10T12:00:00Z');
  const config = () => loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, BACKUP_DIR: dir, BACKUP_RPO_HOURS: '24' });

  it('none without a verified backup, even with a fresh unverified one', async () => {
    await fakeBackup(dir, new Date('2026-05-10T02:00:00Z'), undefined);
    await fakeBackup(dir, new Date('2026-05-09T02:00:00Z'), false);
    expect(await rpoStatus(config(), now, { fresh: true })).toEqual({
      status: 'none',
      newestVerifiedAt: null,
      ageHours: null,
      rpoHours: 24,
    });
  });

  it('stale when the newest verified backup is older than the RPO', async () => {
    await fakeBackup(dir, new Date('2026-05-08T02:00:00Z'), true);
    expect(await rpoStatus(config(), now, { fresh: true })).toMatchObject({
      status: 'stale',
      newestVerifiedAt: '2026-05-08T02:00:00.000Z',
      ageHours: 58,
    });
  });

  it('ok once a backup within the RPO passed a drill', async () => {
    await fakeBackup(dir, new Date('2026-05-10T03:00:00Z'), true);
    expect(await rpoStatus(config(), now, { fresh: true })).toMatchObject({ status: 'ok', ageHours: 9 });
  });
});

describe('/health/ready', () => {
  let t: TestApp;
  afterAll(async () => {
    await t?.close();
  });

  it('reports the backup check without changing readiness', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'pf-rpo-empty-'));
    try {
      t = await buildTestApp({ BACKUP_DIR: empty });
      const res = await t.app.inject({ method: 'GET', url: '/health/ready' });
      expect(res.statusCode).toBe(200);
      expect(res.json().checks.backup).toEqual({
        status: 'none',
        newestVerifiedAt: null,
        ageHours: null,
        rpoHours: 24,
      });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('GET /api/admin/backups/status (the console Security screen)', () => {
  let t: TestApp;
  let backups: string;
  beforeAll(async () => {
    backups = await mkdtemp(path.join(os.tmpdir(), 'pf-rpo-admin-'));
    t = await buildTestApp({ BACKUP_DIR: backups, BACKUP_RPO_HOURS: '24' });
  });
  afterAll(async () => {
    await t?.close();
    await rm(backups, { recursive: true, force: true });
  });

  it('shows an admin the newest verified backup and the RPO state', async () => {
    const now = t.clock.now();
    const verifiedAt = new Date(now.getTime() - 3 * 3_600_000);
    await fakeBackup(backups, verifiedAt, true);
    // Newer but never drilled: it does not count.
    await fakeBackup(backups, new Date(now.getTime() - 3_600_000), undefined);
    const admin = await createUser(t.app, { role: 'admin' });
    const res = await t.app.inject({ method: 'GET', url: '/api/admin/backups/status', headers: admin.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ok',
      newestVerifiedAt: verifiedAt.toISOString(),
      ageHours: 3,
      rpoHours: 24,
    });
    expect(res.headers['cache-control']).toMatch(/no-store/);
  });

  it('refuses anyone without security:manage: an editor and a plain user get 403, no token 401', async () => {
    for (const role of ['editor', 'user'] as const) {
      const who = await createUser(t.app, { role });
      const res = await t.app.inject({ method: 'GET', url: '/api/admin/backups/status', headers: who.auth });
      expect(res.statusCode, role).toBe(403);
      expect(res.json()).toMatchObject({ code: 'FORBIDDEN' });
      expect(res.body).not.toMatch(/rpoHours|newestVerifiedAt/);
    }
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/admin/backups/status' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});

describe('GET /api/admin/backups/status when the backups cannot be listed', () => {
  it('answers 503 BACKUP_STATUS_UNAVAILABLE problem+json with Retry-After, never a 500', async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'pf-rpo-broken-'));
    // BACKUP_DIR is a file: listing it fails with ENOTDIR.
    const notADir = path.join(parent, 'file');
    await writeFile(notADir, 'x');
    const t = await buildTestApp({ BACKUP_DIR: notADir });
    try {
      const admin = await createUser(t.app, { role: 'admin' });
      const res = await t.app.inject({ method: 'GET', url: '/api/admin/backups/status', headers: admin.auth });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.headers['retry-after']).toBe('60');
      expect(res.json()).toMatchObject({ code: 'BACKUP_STATUS_UNAVAILABLE' });
    } finally {
      await t.close();
      await rm(parent, { recursive: true, force: true });
    }
  });
});
