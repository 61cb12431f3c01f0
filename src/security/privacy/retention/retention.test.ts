/**
 * The retention schedule (docs/PRIVACY.md "Retention"): for every rule, rows just past their
 * cutoff and rows just inside it. `plan` (the CLI's --dry-run) lists exactly the due ones and
 * deletes nothing; a pass deletes exactly those and nothing else; a second pass finds nothing;
 * only one node's pass runs at a time.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../../test/helpers/app.js';
import { RETENTION_RULES } from './repository.js';
import { RetentionService } from './service.js';

const DAY = 86_400_000;
let t: TestApp;
beforeAll(async () => {
  // The mail worker stays off: it would send the pending mail this test keeps.
  t = await buildTestApp({ MAIL_POLL_INTERVAL: '0' });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

/** ids of the rows that must stay, per table. */
const kept: Record<string, string[]> = {};
/** How many rows each rule must find due. */
const due: Record<string, number> = {};

async function seed(): Promise<void> {
  const db = t.deps.db;
  const now = t.clock.now().getTime();
  const ago = (days: number, minutes = 0) => new Date(now - days * DAY - minutes * 60_000);
  const user = await t.app.users.create({
    email: `ret-${randomUUID()}@example.test`,
    password: `Violet-${randomUUID()}-Harbor`,
    name: 'Retained',
    role: 'user',
  });
  const uid = user.id;
  const keep = (table: string, id: string) => (kept[table] ??= []).push(id);

  // Sessions (30 days): expired or revoked past the cutoff go; a recent one and an active one stay.
  for (const [expiresDays, revokedDays, goes] of [
    [31, null, true],
    [-10, 31, true],
    [29, null, false],
    [-10, null, false],
    [-10, 29, false],
  ] as const) {
    const id = randomUUID();
    await db.query(
      `insert into auth_sessions (id, user_id, family_id, created_at, last_seen_at, expires_at, auth_time, revoked_at)
       values ($1, $2, $1, $3, $3, $4, $3, $5)`,
      [id, uid, ago(60), ago(expiresDays), revokedDays === null ? null : ago(revokedDays)],
    );
    if (!goes) keep('auth_sessions', id);
  }
  due['sessions'] = 2;

  // One-time tokens (7 days).
  for (const [expiresDays, usedDays, goes] of [
    [8, null, true],
    [-1, 8, true],
    [6, null, false],
    [-1, 6, false],
  ] as const) {
    const hash = randomUUID();
    await db.query(
      `insert into one_time_tokens (token_hash, purpose, user_id, created_at, expires_at, used_at)
       values ($1, 'password_reset', $2, $3, $4, $5)`,
      [hash, uid, ago(30), ago(expiresDays), usedDays === null ? null : ago(usedDays)],
    );
    if (!goes) keep('one_time_tokens', hash);
  }
  due['one-time-tokens'] = 2;

  // Mails (30 days; contact mails 30 days by their own setting); pending ones are never deleted.
  for (const [template, status, days, goes] of [
    ['password_reset', 'sent', 31, true],
    ['password_reset', 'dead', 31, true],
    ['password_reset', 'sent', 29, false],
    ['password_reset', 'pending', 40, false],
    ['contact_message', 'sent', 31, true],
    ['contact_message', 'sent', 29, false],
  ] as const) {
    const id = randomUUID();
    await db.query(
      `insert into mail_outbox (id, template, to_address, subject, text_body, status, next_attempt_at, created_at)
       values ($1, $2, 'someone@example.test', 's', 'b', $3, $4, $4)`,
      [id, template, status, ago(days)],
    );
    if (!goes) keep('mail_outbox', id);
  }
  due['mails'] = 2;
  due['contact-mails'] = 1;

  // Contact messages (30 days).
  const portfolio = randomUUID();
  await db.query(`insert into portfolios (id, owner_id, slug, title) values ($1, $2, $3, 'P')`, [
    portfolio,
    uid,
    `ret-${portfolio.slice(0, 8)}`,
  ]);
  for (const [days, goes] of [
    [31, true],
    [29, false],
  ] as const) {
    const id = randomUUID();
    await db.query(
      `insert into contact_messages (id, portfolio_id, recipient_id, sender_name, sender_email, message, created_at)
       values ($1, $2, $3, 'Visitor', 'v@example.test', 'hello', $4)`,
      [id, portfolio, uid, ago(days)],
    );
    if (!goes) keep('contact_messages', id);
  }
  due['contact-messages'] = 1;

  // Known sign-in networks and devices (180 days).
  for (const [days, goes] of [
    [181, true],
    [179, false],
  ] as const) {
    const key = `${days}`;
    await db.query(`insert into login_networks (user_id, prefix, first_seen, last_seen) values ($1, $2, $3, $3)`, [
      uid,
      `10.${key}.0.0/24`,
      ago(days),
    ]);
    await db.query(`insert into login_devices (user_id, family, first_seen, last_seen) values ($1, $2, $3, $3)`, [
      uid,
      `browser${key}|os`,
      ago(days),
    ]);
    if (!goes) {
      keep('login_networks', `10.${key}.0.0/24`);
      keep('login_devices', `browser${key}|os`);
    }
  }
  due['login-networks'] = 1;
  due['login-devices'] = 1;

  // Exports (30 days, once their archive is gone).
  for (const [days, archive, goes] of [
    [31, null, true],
    [31, 'exports/still-there.zip', false],
    [29, null, false],
  ] as const) {
    const id = randomUUID();
    await db.query(
      `insert into privacy_exports (id, subject_id, requested_by, status, created_at, archive_key)
       values ($1, $2, $2, 'expired', $3, $4)`,
      [id, uid, ago(days), archive],
    );
    if (!goes) keep('privacy_exports', id);
  }
  due['exports'] = 1;

  // Mail files of the file transport (30 days by their modification time).
  const outbox = path.join(t.config.DATA_DIR, 'outbox');
  await mkdir(outbox, { recursive: true });
  for (const [name, days] of [
    ['old.eml', 31],
    ['new.eml', 29],
  ] as const) {
    const file = path.join(outbox, name);
    await writeFile(file, 'To: someone@example.test\n\nhello\n');
    await utimes(file, ago(days), ago(days));
  }
  due['mail-files'] = 1;
  // The audit log's personal data of this month is not due (AUDIT_PII_RETENTION_DAYS, src/security/audit/pii.test.ts).
  due['audit-pii'] = 0;
}

async function remaining(): Promise<Record<string, string[]>> {
  const db = t.deps.db;
  const ids = async (sql: string) => (await db.query<{ id: string }>(sql)).map((r) => r.id).sort();
  return {
    auth_sessions: await ids(`select id::text as id from auth_sessions`),
    one_time_tokens: await ids(`select token_hash as id from one_time_tokens`),
    mail_outbox: await ids(`select id::text as id from mail_outbox`),
    contact_messages: await ids(`select id::text as id from contact_messages`),
    login_networks: await ids(`select prefix as id from login_networks`),
    login_devices: await ids(`select family as id from login_devices`),
    privacy_exports: await ids(`select id::text as id from privacy_exports`),
  };
}

describe('retention', () => {
  it(
    '--dry-run lists exactly what is due and deletes nothing; the pass deletes exactly that; a second pass nothing',
    { timeout: 120_000 },
    async () => {
      await seed();
      const expectedKept = Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, [...v].sort()]));
      const before = await remaining();
      const service = t.app.privacyRetention;

      const plan = await service.plan();
      expect(plan.dryRun).toBe(true);
      expect(Object.fromEntries(plan.lines.map((l) => [l.rule, l.rows]))).toEqual(due);
      expect(plan.lines.map((l) => l.rule)).toEqual([...RETENTION_RULES.map((r) => r.name), 'mail-files', 'audit-pii']);
      expect(await remaining()).toEqual(before);
      expect((await readdir(path.join(t.config.DATA_DIR, 'outbox'))).sort()).toEqual(['new.eml', 'old.eml']);

      const pass = await service.run();
      expect(pass.leader).toBe(true);
      expect(Object.fromEntries(pass.lines.map((l) => [l.rule, l.rows]))).toEqual(due);
      expect(await remaining()).toEqual(expectedKept);
      expect(await readdir(path.join(t.config.DATA_DIR, 'outbox'))).toEqual(['new.eml']);

      const again = await service.run();
      expect(again.lines.every((l) => l.rows === 0)).toBe(true);
    },
  );

  it('one pass at a time: a second node holding no lease does nothing', { timeout: 120_000 }, async () => {
    // This node's job leads (it ran above and renews its lease); another node's is refused.
    expect((await t.app.privacyRetention.run()).leader).toBe(true);
    const other = new RetentionService({
      db: t.deps.db,
      clock: t.clock,
      config: t.config,
      kv: t.deps.kv,
      outboxDir: null,
    });
    expect(await other.run()).toEqual({ leader: false, dryRun: false, lines: [] });
  });
});
