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
import { loadConfig } from '../config/index.js';
import { METADATA_FORMAT, backupFileName, metadataNameOf, type BackupMetadata } from './metadata.js';
import { rpoStatus } from './status.js';

async function fakeBackup(dir: string, at: Date, drillOk: boolean | undefined): Promise<void> {
  const file = backupFileName('app', at, true);
  const body = Buffer.from('not really encrypted, the health check does not read it');
  await writeFile(path.join(dir, file), body);
  const meta: Partial<BackupMetadata> = {
    format: METADATA_FORMAT,
    id: '00000000-0000-4000-8000-000000000000',
    file,
    completedAt: at.toISOString(),
    sha256: 'x',
    dumpSha256: 'y',
    sizes: { dump: 1, compressed: 1, encrypted: body.length },
    tables: [],
    encryption: { format: 'openpgp', cipher: 'AES-256', passphrase: true, recipients: [] },
    ...(drillOk === undefined ? {} : { drill: { at: at.toISOString(), ok: drillOk, rtoMs: 1000, target: 'x', tables: 0, rows: 0 } }),
  };
  await writeFile(path.join(dir, metadataNameOf(file)), JSON.stringify(meta));
}

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
    expect(await rpoStatus(config(), now, { fresh: true })).toEqual({ status: 'none', newestVerifiedAt: null, ageHours: null, rpoHours: 24 });
  });

  it('stale when the newest verified backup is older than the RPO', async () => {
    await fakeBackup(dir, new Date('2026-05-08T02:00:00Z'), true);
    expect(await rpoStatus(config(), now, { fresh: true })).toMatchObject({ status: 'stale', newestVerifiedAt: '2026-05-08T02:00:00.000Z', ageHours: 58 });
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
      expect(res.json().checks.backup).toEqual({ status: 'none', newestVerifiedAt: null, ageHours: null, rpoHours: 24 });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
