/**
 * The rules are only as good as the events they read: each of these rules once matched an event
 * no module wrote. Here the event comes from the module that must write it, through the real
 * path (requests, the backup command's code, the admin API), and the consumer turns it into the
 * alert; the harmless twin of each raises nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../../test/helpers/app.js';
import { createUser } from '../../../../test/helpers/factories.js';
import { createBackup } from '../../../backup/create.js';
import { backupSettings } from '../../../backup/settings.js';
import { AUDIT_ACTIONS } from '../../audit/actions.js';

async function alerts(t: TestApp, rule: string) {
  return t.deps.db.query<{ rule: string; dedup_key: string; count: number }>(
    `select rule, dedup_key, count from alerts where rule = $1 order by id`,
    [rule],
  );
}

async function events(t: TestApp, action: string) {
  return t.deps.db.query<{ actor: string; metadata: Record<string, unknown> }>(
    `select actor, metadata from audit_events where action = $1 order by seq`,
    [action],
  );
}

async function detect(t: TestApp): Promise<void> {
  await t.app.audit.flush();
  await t.app.detection.consumer.runOnce();
}

describe('client-blocked: the shield records its automatic blocks', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      MONITORING_POLL_INTERVAL: '0',
      RATE_LIMIT_ENABLED: 'true',
      AUTO_BLOCK_ENABLED: 'true',
      TRUST_PROXY: '127.0.0.1',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  /** Empty registrations from one client (each a 429 of its own bucket once its budget is spent). */
  async function hammer(ip: string, times: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < times; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        headers: { 'x-forwarded-for': ip },
        payload: {},
      });
      statuses.push(res.statusCode);
    }
    await t.app.shield.limiter.settled();
    return statuses;
  }

  it('a client that keeps violating is blocked: one ratelimit.blocked event, one alert for its address', async () => {
    const ip = '203.0.113.66';
    const statuses = await hammer(ip, 13);
    expect(statuses).toContain(429);
    // Blocked now: the refusals that follow are http.blocked, not new blocks.
    expect((await hammer(ip, 3)).every((s) => s === 403)).toBe(true);
    await detect(t);

    const recorded = await events(t, AUDIT_ACTIONS.clientBlocked);
    expect(recorded).toHaveLength(1);
    // (The address itself is the alert's key below: the stored event's ip may be encrypted.)
    expect(recorded[0]).toMatchObject({ actor: 'system', metadata: { level: 1, reason: 'rate_limited' } });
    expect((await alerts(t, 'client-blocked')).map((a) => a.dedup_key)).toEqual([ip]);
  });

  it('a client limited but never blocked raises nothing', async () => {
    const ip = '203.0.113.67';
    const statuses = await hammer(ip, 6);
    expect(statuses).toContain(429);
    expect(statuses).not.toContain(403);
    await detect(t);
    // Still the one block of the test above.
    expect(await events(t, AUDIT_ACTIONS.clientBlocked)).toHaveLength(1);
    expect((await alerts(t, 'client-blocked')).map((a) => a.dedup_key)).not.toContain(ip);
  });
});

describe('backup-failed: a backup that fails is recorded', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pf-backup-fail-'));
    // A file where the backup folder should be: mkdir fails (ENOTDIR), as for an unwritable BACKUP_DIR.
    const blocker = path.join(dir, 'not-a-folder');
    await writeFile(blocker, 'x');
    t = await buildTestApp({
      MONITORING_POLL_INTERVAL: '0',
      BACKUP_DIR: path.join(blocker, 'backups'),
      BACKUP_PASSPHRASE: 'a passphrase long enough for tests',
    });
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The backup commands' context, with the CLI's audit hook's shape (src/cli/backup-actions.ts). */
  const ctx = () => ({
    settings: backupSettings(t.config),
    clock: t.clock,
    audit: async (event: {
      action: string;
      outcome: 'success' | 'failure' | 'denied';
      target: string;
      metadata: Record<string, unknown>;
    }) =>
      t.app.audit.record({
        action: event.action,
        actor: 'system',
        outcome: event.outcome,
        target: { type: 'backup', id: event.target },
        metadata: event.metadata,
      }),
  });

  it('a scheduled backup into an unwritable BACKUP_DIR throws, records backup.create.failed and raises backup-failed', async () => {
    await expect(
      createBackup({ kind: 'postgres', url: 'postgres://unused/unused' }, ctx(), { reason: 'scheduled' }),
    ).rejects.toThrow();
    await detect(t);
    const recorded = await events(t, AUDIT_ACTIONS.backupCreateFailed);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.metadata).toMatchObject({ reason: 'scheduled' });
    expect(String(recorded[0]?.metadata['detail'])).toMatch(/ENOTDIR|not a directory/i);
    expect(await alerts(t, 'backup-failed')).toHaveLength(1);
  });
});

describe('privileged-role-granted: roles given to an account through the admin users API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ MONITORING_POLL_INTERVAL: '0' });
  });
  afterAll(async () => {
    await t.close();
  });

  const setRoles = async (admin: { auth: Record<string, string> }, id: string, roles: string[]) => {
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${id}`,
      headers: admin.auth,
      payload: { roles },
    });
    expect(res.statusCode).toBe(200);
  };

  it('an editor made admin (user:manage, security:manage) raises it for that account; made editor, nothing', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const writer = await createUser(t.app);
    const promoted = await createUser(t.app);

    await setRoles(admin, writer.id, ['editor']);
    await detect(t);
    expect(await alerts(t, 'privileged-role-granted')).toEqual([]);

    await setRoles(admin, promoted.id, ['admin']);
    await detect(t);
    expect((await alerts(t, 'privileged-role-granted')).map((a) => a.dedup_key)).toEqual([`user:${promoted.id}`]);
    const [event] = (await events(t, AUDIT_ACTIONS.userAccessChanged)).slice(-1);
    expect(event?.metadata['after']).toMatchObject({ permissions: expect.arrayContaining(['user:manage']) });
  }, 90_000);
});
