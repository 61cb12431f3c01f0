/**
 * Crypto-shredding of the audit log's personal data (./pii.ts, docs/AUDIT.md "Personal data"),
 * attacked as an auditor with database access would: the rows hold no IP, user agent or email in
 * clear; a moved ciphertext does not decrypt; after a subject's keys are destroyed the rows, the
 * admin API and the exports hold nothing of theirs while the chain and every signed checkpoint
 * still verify; the keys in the database are wrapped. And the one-time migration of events sealed
 * in clear by the old code is verified end to end.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, type TestUser } from '../../../test/helpers/factories.js';
import { findTraces } from '../../../test/support/privacy/traces.js';
import { AUDIT_ACTIONS } from './actions.js';
import type { ChainedEvent } from './canonical.js';
import { cleanEvent, type AuditEventInput } from './event.js';
import { resolvePiiKey } from './keys.js';
import { ERASED_PREFIX, PII_PREFIX } from './pii.js';
import { Sealer } from './sealer.js';

const tag = () => randomBytes(4).toString('hex');

function person(id: string, t: string) {
  return {
    id,
    ip: `198.51.100.${(parseInt(t.slice(0, 2), 16) % 250) + 1}`,
    ua: `ShredProbe/${t} (X11; Linux x86_64)`,
    email: `shred-${t}@example.test`,
  };
}

/** Events about a person, as the modules write them: the request's address and agent, an email in metadata. */
function eventsOf(p: ReturnType<typeof person>): AuditEventInput[] {
  return [
    {
      action: AUDIT_ACTIONS.loginSucceeded,
      actor: p.id,
      outcome: 'success',
      target: { type: 'user', id: p.id },
      ip: p.ip,
      userAgent: p.ua,
      requestId: `req-${p.id.slice(0, 8)}`,
      metadata: { email: p.email, method: 'password' },
    },
    {
      action: AUDIT_ACTIONS.loginFailed,
      actor: 'anonymous',
      outcome: 'failure',
      target: { type: 'user', id: p.id },
      ip: p.ip,
      userAgent: p.ua,
      metadata: { reason: 'password' },
    },
  ];
}

async function rawRows(t: TestApp, needle: string): Promise<Record<string, unknown>[]> {
  return t.deps.db.query(`select * from audit_events where strpos(audit_events::text, $1) > 0`, [needle]);
}

async function exported(t: TestApp, admin: TestUser, format: 'csv' | 'jsonl', query = ''): Promise<string> {
  const res = await t.app.inject({
    method: 'GET',
    url: `/api/admin/audit/export?format=${format}${query}`,
    headers: admin.auth,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.body;
}

/** The admin API's events, with `target` flattened back to targetType/targetId. */
async function apiEvents(t: TestApp, admin: TestUser, query: string): Promise<ChainedEvent[]> {
  const res = await t.app.inject({ method: 'GET', url: `/api/admin/audit?${query}`, headers: admin.auth });
  expect(res.statusCode, res.body).toBe(200);
  type Viewed = Omit<ChainedEvent, 'targetType' | 'targetId'> & { target: { type: string; id: string } | null };
  return res.json<{ items: Viewed[] }>().items.map(({ target, ...e }) => ({
    ...e,
    targetType: target?.type ?? null,
    targetId: target?.id ?? null,
  }));
}

describe('personal data in the audit log is encrypted per subject', () => {
  let t: TestApp;
  let admin: TestUser;
  const a = person(randomUUID(), tag());
  const b = person(randomUUID(), tag());

  beforeAll(async () => {
    t = await buildTestApp();
    admin = await createUser(t.app, { role: 'admin' });
    for (const e of [...eventsOf(a), ...eventsOf(b)]) await t.app.audit.record(e);
    await t.app.audit.flush();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('raw SQL finds no IP, user agent or email in clear; the admin API and both exports decrypt them', async () => {
    for (const p of [a, b]) {
      expect(await findTraces(t.deps.db, { ip: p.ip, ua: p.ua, email: p.email })).toEqual({
        ip: [],
        ua: [],
        email: [],
      });
      // The rows are there, by their pseudonymous id, with ciphertext bound to the subject.
      const rows = await rawRows(t, p.id);
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const r of rows) {
        expect(String(r['ip'])).toMatch(new RegExp(`^${PII_PREFIX}u:${p.id}/\\d{4}-\\d{2}:`));
        expect(String(r['user_agent'])).toMatch(new RegExp(`^${PII_PREFIX}u:${p.id}/`));
      }
    }
    const items = await apiEvents(t, admin, `targetId=${a.id}`);
    expect(items.map((e) => [e.action, e.ip, e.userAgent])).toEqual([
      [AUDIT_ACTIONS.loginFailed, a.ip, a.ua],
      [AUDIT_ACTIONS.loginSucceeded, a.ip, a.ua],
    ]);
    expect(items[1]?.metadata['email']).toBe(a.email);
    // The ip filter still works (matched after decryption).
    expect((await apiEvents(t, admin, `ip=${b.ip}`)).every((e) => e.ip === b.ip && e.targetId === b.id)).toBe(true);
    expect(await apiEvents(t, admin, `ip=${b.ip}`)).toHaveLength(2);
    expect(await exported(t, admin, 'csv', `&targetId=${a.id}`)).toContain(a.ua);
    expect(await exported(t, admin, 'jsonl', `&targetId=${a.id}`)).toContain(a.email);
  });

  it('a ciphertext moved to another event or another field does not decrypt (AAD binds seq, field and subject)', async () => {
    const [one, two] = (await t.app.audit.repo.query({ targetId: a.id }, 2, 'asc')).map((e) => ({ ...e }));
    if (!one || !two) throw new Error('expected two events');
    // The attacker swaps the IP ciphertexts of two events of the same subject, and moves the user
    // agent into the IP field.
    const swapped = [
      { ...one, ip: two.ip },
      { ...two, ip: one.userAgent },
    ];
    const read = await t.app.audit.reveal(swapped);
    expect(read[0]?.ip).toBe(`${ERASED_PREFIX}${a.id}`);
    expect(read[1]?.ip).toBe(`${ERASED_PREFIX}${a.id}`);
    // Untouched copies still read.
    expect((await t.app.audit.reveal([one]))[0]?.ip).toBe(a.ip);
    // Relabelled to another subject (whose key exists): still nothing.
    const relabelled = String(one.ip).replace(`u:${a.id}/`, `u:${b.id}/`);
    expect((await t.app.audit.reveal([{ ...one, ip: relabelled }]))[0]?.ip).toBe(`${ERASED_PREFIX}${b.id}`);
  });

  it('the database holds wrapped keys only: no data key and not the key-encryption key', async () => {
    const kek = await resolvePiiKey(t.config);
    const keys = await t.deps.db.query<{ subject: string; wrapped: string }>(
      `select subject, wrapped from audit_pii_keys where split_part(subject, '/', 1) = $1`,
      [`u:${a.id}`],
    );
    expect(keys).toHaveLength(1);
    expect(keys[0]?.wrapped).toMatch(/^k1:[A-Za-z0-9_-]+$/);
    // 12-byte nonce + 32-byte key encrypted + 16-byte tag: no room for a clear key beside it.
    expect(Buffer.from(String(keys[0]?.wrapped).slice(3), 'base64url')).toHaveLength(60);
    const needles = { b64url: kek.toString('base64url'), b64: kek.toString('base64'), hex: kek.toString('hex') };
    expect(await findTraces(t.deps.db, needles)).toEqual({ b64url: [], b64: [], hex: [] });
  });

  it("destroying a subject's keys makes its data unreadable everywhere while the chain and its checkpoints verify; another subject still reads", async () => {
    await t.app.audit.checkpoint();
    await t.deps.db.transaction((tx) => t.app.audit.shredUser(a.id, a.email, tx));
    // An event about the erased subject still waiting in the inbox is sealed without its data.
    await t.app.audit.record(eventsOf(a)[0]!);
    await t.app.audit.flush();
    await t.app.audit.checkpoint();

    const verified = await t.app.audit.verify();
    expect(verified.ok, JSON.stringify(verified.damage)).toBe(true);
    expect(verified.checkpoints.valid).toBeGreaterThanOrEqual(2);

    const erased = `${ERASED_PREFIX}${a.id}`;
    const items = await apiEvents(t, admin, `targetId=${a.id}`);
    expect(items).toHaveLength(3);
    for (const e of items) {
      expect(e.ip).toBe(erased);
      expect(e.userAgent).toBe(erased);
    }
    expect(items[0]?.metadata['email']).toBe(erased);
    for (const format of ['csv', 'jsonl'] as const) {
      const body = await exported(t, admin, format);
      for (const needle of [a.ip, a.ua, a.email]) expect(body).not.toContain(needle);
      expect(body).toContain(b.ua);
    }
    expect(await apiEvents(t, admin, `ip=${a.ip}`)).toEqual([]);
    // Nothing in the database decrypts any more: every key of the subject is gone.
    const left = await t.deps.db.query(
      `select subject from audit_pii_keys where split_part(subject, '/', 1) = $1 and wrapped is not null`,
      [`u:${a.id}`],
    );
    expect(left).toEqual([]);
    // The other subject is untouched.
    const theirs = await apiEvents(t, admin, `targetId=${b.id}`);
    expect(theirs.map((e) => e.ip)).toEqual([b.ip, b.ip]);
  });
});

describe('an address that is no account yet (an invitation) is its own subject', () => {
  it('is keyed by an HMAC of the canonical email, and erasing the account that later holds the address shreds it', async () => {
    const t = await buildTestApp();
    try {
      const t1 = tag();
      const invitee = `Invited-${t1}@Example.test`;
      const other = `other-${t1}@example.test`;
      for (const email of [invitee, other])
        await t.app.audit.record({
          action: 'invitation.created',
          actor: 'system',
          outcome: 'success',
          target: { type: 'invitation', id: randomUUID() },
          metadata: { email, roles: ['editor'] },
        });
      await t.app.audit.flush();
      expect(await findTraces(t.deps.db, { invitee, other })).toEqual({ invitee: [], other: [] });
      const rows = await t.app.audit.repo.query({ action: 'invitation.created' }, 10);
      // The subject names no one: an HMAC under a key derived from AUDIT_PII_KEY, not a bare hash.
      for (const r of rows) expect(r.metadata['email']).toMatch(new RegExp(`^${PII_PREFIX}e:[0-9a-f]{32}/`));
      expect(JSON.stringify(rows)).not.toContain(
        createHash('sha256').update(invitee.toLowerCase()).digest('hex').slice(0, 32),
      );

      // The invitee registers, later is erased: the subject of its address goes too (case folded).
      const userId = randomUUID();
      await t.deps.db.transaction((tx) => t.app.audit.shredUser(userId, invitee.toLowerCase(), tx));
      const read = await t.app.audit.reveal(rows);
      const emails = read.map((e) => e.metadata['email']).sort();
      expect(emails).toHaveLength(2);
      expect(emails).toContain(other);
      expect(emails.find((e) => e !== other)).toMatch(new RegExp(`^${ERASED_PREFIX}e:[0-9a-f]{32}$`));
      expect((await t.app.audit.verify()).ok).toBe(true);
    } finally {
      await t.close();
    }
  }, 120_000);
});

describe('events sealed in clear before encryption are migrated, and the migration is verified', () => {
  let t: TestApp;
  let admin: TestUser;
  const a = person(randomUUID(), tag());
  const b = person(randomUUID(), tag());

  beforeAll(async () => {
    t = await buildTestApp();
    admin = await createUser(t.app, { role: 'admin' });
    await t.app.audit.flush();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('verifies the old chain, encrypts and re-chains it once; reads return the same values; an erasure later still verifies', async () => {
    // The old code path: events sealed by a sealer that does not encrypt, with signed checkpoints
    // over the clear-text form (in the database and in the files beside it).
    await t.app.audit.sealer.stop();
    const legacy = new Sealer({
      db: t.deps.db,
      clock: t.clock,
      key: t.app.audit.signingKey,
      files: t.app.audit.files,
      checkpointEvery: 2,
      checkpointIntervalS: 3600,
    });
    for (const e of [...eventsOf(a), ...eventsOf(b)]) await t.app.audit.repo.insertInbox(cleanEvent(e, t.clock.now()));
    await legacy.drain();
    expect((await rawRows(t, a.ip)).length).toBe(2);
    const before = await apiEvents(t, admin, 'limit=100');
    await t.deps.db.query(`insert into audit_pii_rechain (id, state) values (1, 'pending')`);
    const oldCheckpoints = (await t.app.audit.allCheckpoints()).length;
    expect(oldCheckpoints).toBeGreaterThan(0);

    expect(await t.app.audit.migratePii()).toBe('done');
    expect(await t.app.audit.migratePii()).toBe('none');

    for (const p of [a, b])
      expect(await findTraces(t.deps.db, { ip: p.ip, ua: p.ua, email: p.email })).toEqual({
        ip: [],
        ua: [],
        email: [],
      });
    const verified = await t.app.audit.verify();
    expect(verified.ok, JSON.stringify(verified.damage)).toBe(true);
    expect(verified.lastCheckpoint?.seq).toBe(verified.lastSeq);
    // Same values read back (the re-chained hashes differ, the content does not).
    const after = await apiEvents(t, admin, 'limit=100');
    const strip = (e: ChainedEvent) => ({ ...e, hash: undefined, prevHash: undefined });
    expect(
      after.filter((e) => e.action !== AUDIT_ACTIONS.auditPiiRechained && e.seq <= (before[0]?.seq ?? 0)).map(strip),
    ).toEqual(before.map(strip));
    const rechained = after.find((e) => e.action === AUDIT_ACTIONS.auditPiiRechained);
    expect(rechained?.metadata).toMatchObject({ fromSeq: 1 });

    await t.deps.db.transaction((tx) => t.app.audit.shredUser(a.id, null, tx));
    const again = await t.app.audit.verify();
    expect(again.ok, JSON.stringify(again.damage)).toBe(true);
    const erased = await apiEvents(t, admin, `targetId=${a.id}`);
    expect(erased.map((e) => [e.ip, e.userAgent, e.metadata['email'] ?? null])).toEqual([
      [`${ERASED_PREFIX}${a.id}`, `${ERASED_PREFIX}${a.id}`, null],
      [`${ERASED_PREFIX}${a.id}`, `${ERASED_PREFIX}${a.id}`, `${ERASED_PREFIX}${a.id}`],
    ]);
    expect((await apiEvents(t, admin, `targetId=${b.id}`)).map((e) => e.ip)).toEqual([b.ip, b.ip]);
    // A bundle of the whole retained chain verifies offline too.
    const bundle = await t.app.audit.exportBundle({ out: `${t.config.DATA_DIR}/bundle.jsonl` });
    expect((await t.app.audit.verifyBundle(bundle.file)).ok).toBe(true);
  });

  it('a tampered legacy chain is never re-chained (the migration refuses and changes nothing)', async () => {
    const t2 = await buildTestApp();
    try {
      await t2.app.audit.sealer.stop();
      const legacy = new Sealer({
        db: t2.deps.db,
        clock: t2.clock,
        key: t2.app.audit.signingKey,
        files: t2.app.audit.files,
        checkpointEvery: 1000,
        checkpointIntervalS: 3600,
      });
      for (const e of eventsOf(a)) await t2.app.audit.repo.insertInbox(cleanEvent(e, t2.clock.now()));
      await legacy.drain();
      await t2.deps.db.query(`insert into audit_pii_rechain (id, state) values (1, 'pending')`);
      // An insider edits a row (the trigger is dropped for the occasion).
      await t2.deps.db.exec(`alter table audit_events disable trigger audit_events_append_only`);
      await t2.deps.db.query(`update audit_events set user_agent = 'edited' where ip = $1`, [a.ip]);
      await t2.deps.db.exec(`alter table audit_events enable trigger audit_events_append_only`);
      expect(await t2.app.audit.migratePii()).toBe('refused');
      expect((await t2.app.audit.verify()).ok).toBe(false);
      expect((await rawRows(t2, a.ip)).length).toBe(2);
    } finally {
      await t2.close();
    }
  });
});

describe('AUDIT_PII_RETENTION_DAYS shreds old months, not the chain', () => {
  it('after the retention pass, the personal data of events older than the setting reads as erased; newer data and the chain stay', async () => {
    const t = await buildTestApp({ AUDIT_PII_RETENTION_DAYS: '30' });
    try {
      const old = person(randomUUID(), tag());
      await t.app.audit.record(eventsOf(old)[0]!);
      await t.app.audit.flush();
      await t.app.audit.checkpoint();
      t.clock.advance(70 * 86_400_000);
      const recent = person(randomUUID(), tag());
      await t.app.audit.record(eventsOf(recent)[0]!);
      await t.app.audit.flush();

      const plan = await t.app.privacyRetention.plan();
      const line = plan.lines.find((l) => l.rule === 'audit-pii');
      expect(line?.rows).toBeGreaterThan(0);
      expect(await t.app.audit.reveal(await t.app.audit.repo.query({ targetId: old.id }, 10))).toMatchObject([
        { ip: old.ip },
      ]);

      const pass = await t.app.privacyRetention.run();
      expect(pass.lines.find((l) => l.rule === 'audit-pii')?.rows).toBe(line?.rows);
      const [gone] = await t.app.audit.reveal(await t.app.audit.repo.query({ targetId: old.id }, 10));
      expect(gone?.ip).toBe(`${ERASED_PREFIX}${old.id}`);
      expect(gone?.metadata['email']).toBe(`${ERASED_PREFIX}${old.id}`);
      const [kept] = await t.app.audit.reveal(await t.app.audit.repo.query({ targetId: recent.id }, 10));
      expect(kept?.ip).toBe(recent.ip);
      const verified = await t.app.audit.verify();
      expect(verified.ok, JSON.stringify(verified.damage)).toBe(true);
      expect((await t.app.audit.repo.query({ action: AUDIT_ACTIONS.auditPiiShredded }, 5)).length).toBe(1);
    } finally {
      await t.close();
    }
  }, 120_000);
});
