/**
 * Backups do not resurrect erased people (docs/PRIVACY.md "Backups"): a backup taken before an
 * erasure, restored after it, holds no trace of the person, because `backup restore` erases again
 * everyone in the erasure ledger (outside the database and its backups) erased after the backup
 * started, inside the restore's transaction. Without the ledger the same restore brings the person
 * back: the ledger is what makes the difference. `backup drill` does the same on its scratch copy.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../../../test/helpers/services.js';
import {
  backupEnv,
  fixture,
  pgliteAsDb,
  type Env,
  type Fixture,
  type Kind,
} from '../../../../test/support/backup/helpers.js';
import { findTraces } from '../../../../test/support/privacy/traces.js';
import { createBackup } from '../../../backup/create.js';
import { drillFile } from '../../../backup/drill.js';
import { restoreBackup } from '../../../backup/restore.js';
import { openDb, type Db } from '../../../platform/db/index.js';
import { ErasureLedger } from './ledger.js';
import { ErasureService } from './service.js';

const KINDS: Kind[] = TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

describe.each(KINDS)('a backup restored after an erasure, on %s', (kind) => {
  let f: Fixture;
  let env: Env;
  let db: Db;
  let ledger: ErasureLedger;
  const tag = randomBytes(4).toString('hex');
  const person = {
    id: randomUUID(),
    email: `restore-me-not-${tag}@example.test`,
    name: `Ottoline Backupsworth ${tag}`,
    ip: '192.0.2.201',
    ua: `LedgerProbe/${tag}`,
  };
  const needles = { email: person.email, name: person.name, ip: person.ip, ua: person.ua };
  const none = { email: [], name: [], ip: [], ua: [] };

  beforeAll(async () => {
    f = await fixture(kind, TEST_DATABASE_URL);
    env = await backupEnv();
    ledger = new ErasureLedger(path.join(env.dir, 'data', 'audit', 'erasures'));
    db =
      f.target.kind === 'pglite'
        ? pgliteAsDb(f.target.pg)
        : await openDb({ url: f.target.url, dataDir: 'unused', poolSize: 2 });
    const at = env.clock.now();
    await f.sql(`insert into users (id, email, name, password_hash) values ($1, $2, $3, 'x')`, [
      person.id,
      person.email,
      person.name,
    ]);
    await f.sql(`insert into user_roles (user_id, role) values ($1, 'user')`, [person.id]);
    // The data key of the person's personal data in the audit log (wrapped; src/security/audit/pii.ts).
    await f.sql(
      `insert into audit_pii_keys (subject, wrapped, bucket_end, created_at) values ($1, 'k1:wrapped-key', $2, $2)`,
      [`u:${person.id}/2026-12`, at],
    );
    await f.sql(
      `insert into auth_sessions (id, user_id, family_id, created_at, last_seen_at, expires_at, ip, user_agent, auth_time)
       values ($1, $2, $1, $3, $3, $3, $4, $5, $3)`,
      [randomUUID(), person.id, at, person.ip, person.ua],
    );
    await f.sql(`insert into portfolios (id, owner_id, slug, title) values ($1, $2, $3, $4)`, [
      randomUUID(),
      person.id,
      `p-${tag}`,
      `Work of ${person.name}`,
    ]);
    await f.sql(
      `insert into mail_outbox (id, template, to_address, to_name, subject, text_body, next_attempt_at, created_at)
       values ($1, 'password_reset', $2, $3, 'Reset', 'Hello', $4, $4)`,
      [randomUUID(), person.email, person.name, at],
    );
  }, 120_000);
  afterAll(async () => {
    if (f?.target.kind === 'postgres') await db?.close();
    await f?.close();
    await env?.close();
  });

  /** The person's audit data keys that could still decrypt something. */
  async function liveAuditKeys(): Promise<number> {
    const [row] = await db.query<{ n: number }>(
      `select count(*)::int as n from audit_pii_keys where split_part(subject, '/', 1) = $1 and wrapped is not null`,
      [`u:${person.id}`],
    );
    return row?.n ?? 0;
  }

  function job(): ErasureService {
    return new ErasureService({
      db,
      clock: env.clock,
      audit: { record: async () => undefined, shredUser: async () => 0 },
      // The job itself mails nothing and issues no link.
      mail: {} as never,
      tokens: {} as never,
      changes: { touchOwner: async () => undefined },
      revokeUser: async () => undefined,
      userChanged: async () => undefined,
      mediaStore: null,
      ledger,
      outboxDir: null,
      graceDays: 0,
      intervalMs: 0,
    });
  }

  it(
    'holds no trace of the person: the ledger erases again before the restore commits; the drill does too',
    { timeout: 480_000 },
    async () => {
      expect(await findTraces(db, needles)).not.toEqual(none);
      expect(await liveAuditKeys()).toBe(1);
      const backup = await createBackup(f.target, env.ctx);

      env.clock.advance(60_000);
      await db.query(`update users set deletion_due_at = $2, deletion_requested_at = $2 where id = $1`, [
        person.id,
        env.clock.now(),
      ]);
      expect((await job().tick()).erased).toEqual([person.id]);
      expect(await findTraces(db, needles)).toEqual(none);
      expect(await liveAuditKeys()).toBe(0);
      const { entries } = await ledger.readAll();
      expect(entries.map((e) => e.subject)).toEqual([person.id]);
      expect(JSON.stringify(entries)).not.toContain(person.email);

      // The attack: restore the old backup. Without the ledger the person comes back...
      env.clock.advance(60_000);
      const blind = await restoreBackup(backup.file, f.target, env.ctx);
      expect('safety' in blind && blind.erasuresReapplied).toBe(0);
      expect((await findTraces(db, needles)).email).toEqual(
        expect.arrayContaining(['mail_outbox.to_address', 'users.email']),
      );
      expect(await liveAuditKeys()).toBe(1);

      // ...with it (as `backup restore` runs: DATA_DIR/audit/erasures) nothing of them does.
      env.clock.advance(60_000);
      const restored = await restoreBackup(backup.file, f.target, { ...env.ctx, erasureLedger: ledger });
      expect('safety' in restored && restored.erasuresReapplied).toBe(1);
      expect(await findTraces(db, needles)).toEqual(none);
      // The audit log's keys of the person are destroyed again too (crypto-shredding).
      expect(await liveAuditKeys()).toBe(0);
      const [row] = await db.query<{ email: string; erased: boolean }>(
        `select email, erased_at is not null as erased from users where id = $1`,
        [person.id],
      );
      expect(row).toEqual({ email: `erased-${person.id}@erased.invalid`, erased: true });

      // The drill proves the backup loads as it was taken, then erases again on its scratch copy.
      const drill = await drillFile(backup.file, { ...env.ctx, erasureLedger: ledger }, f.url);
      expect(drill.record).toMatchObject({ ok: true, erasuresReapplied: 1 });
    },
  );

  it(
    'an erasure older than the backup is in the backup already; an unreadable ledger refuses the restore',
    { timeout: 480_000 },
    async () => {
      env.clock.advance(2 * 3_600_000);
      const backup = await createBackup(f.target, env.ctx);
      env.clock.advance(60_000);
      const later = await restoreBackup(backup.file, f.target, { ...env.ctx, erasureLedger: ledger });
      // Erased two hours before this backup started: nothing to apply again (and nothing to find).
      expect('safety' in later && later.erasuresReapplied).toBe(0);
      expect(await findTraces(db, needles)).toEqual(none);

      const broken = new ErasureLedger(path.join(env.dir, 'broken-ledger'));
      await broken.append([{ subject: person.id, erasedAt: env.clock.now() }], env.clock.now());
      const { appendFile } = await import('node:fs/promises');
      await appendFile(broken.file, '{"v":1,"subject":"cut off mid-wr\n');
      await expect(restoreBackup(backup.file, f.target, { ...env.ctx, erasureLedger: broken })).rejects.toThrow(
        /unreadable line/,
      );
    },
  );
});
