/**
 * Account erasure (docs/PRIVACY.md "Erasure"), attacked the way a person who wants to be forgotten,
 * or an attacker, would: after the job, no table, no column, no stored object and no mail file
 * holds the person's email, name, addresses or user agents (the audit log's are shredded: their
 * keys are destroyed, nothing decrypts them); nothing signs in; the audit chain still
 * verifies. Before it, the mailed link or a sign-in cancels. The last admin cannot be erased, not
 * even by two admins erasing each other at the same moment.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../../test/helpers/factories.js';
import { loginAs, mailsTo, tokenIn, type Client } from '../../../../test/support/accounts/helpers.js';
import { enrollTotp, oathCode } from '../../../../test/support/mfa/helpers.js';
import { filesHolding, findTraces } from '../../../../test/support/privacy/traces.js';
import { png, upload, uploadTestApp } from '../../../../test/support/uploads/helpers.js';
import { erasureLedgerDir } from './ledger.js';

const DAY = 86_400_000;
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

let t: TestApp;
beforeAll(async () => {
  t = await uploadTestApp();
}, 120_000);
afterAll(async () => {
  await t?.close();
});

/** A fresh sign-in (a recent one: the step-up) from a client; the Authorization header. */
async function signIn(user: Pick<TestUser, 'email' | 'password'>, client: Client = {}) {
  const res = await loginAs(t.app, user.email, user.password, client);
  expect(res.statusCode, res.body).toBe(200);
  return { authorization: `Bearer ${res.json<{ accessToken: string }>().accessToken}` };
}

function eraseOwn(headers: Record<string, string>, payload: Record<string, unknown>) {
  return t.app.inject({ method: 'DELETE', url: '/api/account', headers, payload });
}

async function isErased(id: string): Promise<boolean> {
  const [row] = await t.deps.db.query<{ erased: boolean }>(
    `select erased_at is not null as erased from users where id = $1`,
    [id],
  );
  return row?.erased === true;
}

describe('an erased account leaves no trace', () => {
  const tag = randomBytes(4).toString('hex');
  const email = `zq-${tag}@example.test`;
  const name = `Zebulon Quixote ${tag}`;
  const ip1 = '203.0.113.77';
  const ip2 = '198.51.100.23';
  const ua1 = `ErasureProbe/${tag} ${FIREFOX}`;
  const ua2 = `ErasureProbeTwo/${tag} (Macintosh; Intel Mac OS X 14_5)`;
  let subject: TestUser;
  let mediaKeys: string[] = [];

  it(
    "in every table and text/json column (the audit log's ciphertext decrypts no more), in the media store and in the outbox; the audit chain verifies",
    { timeout: 180_000 },
    async () => {
      subject = await createUser(t.app, { email, name });
      const other = await createUser(t.app);
      await signIn(subject, { ip: ip1, ua: ua1 });
      const auth = await signIn(subject, { ip: ip2, ua: ua2 });
      const me = { ...subject, auth };
      const p = await createPortfolio(t.app, me, { published: true, visibility: 'public', title: `Work of ${name}` });
      const up = await upload(
        t.app,
        me,
        { portfolioId: p.id },
        { name: `${tag}.png`, type: 'image/png', data: await png() },
      );
      expect(up.statusCode, up.body).toBeLessThan(300);
      await t.app.uploads.settled();
      const media = await t.deps.db.query<{ variants: Record<string, { key: string }>; quarantine_key: string | null }>(
        `select variants, quarantine_key from media where portfolio_id = $1`,
        [p.id],
      );
      mediaKeys = media.flatMap((m) => [...Object.values(m.variants).map((v) => v.key), m.quarantine_key ?? []].flat());
      expect(mediaKeys.length).toBeGreaterThan(0);
      for (const key of mediaKeys) expect(await t.app.uploads.store.head(key)).not.toBeNull();

      // A visitor writes to the subject; the subject writes to someone else with its own address.
      const theirs = await createPortfolio(t.app, other, { published: true, visibility: 'public' });
      for (const [slug, body] of [
        [p.slug, { name: 'A visitor', email: `visitor-${tag}@example.test`, message: `Dear ${name}, hello` }],
        [theirs.slug, { name, email, message: `Hi, this is ${name}` }],
      ] as const) {
        const res = await t.app.inject({
          method: 'POST',
          url: `/api/public/portfolios/${slug}/contact`,
          payload: body,
        });
        expect(res.statusCode, res.body).toBe(202);
      }
      const forgot = await t.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email } });
      expect(forgot.statusCode).toBe(202);
      await t.app.accounts.background.flush();
      await t.app.mail.runOnce();
      const outbox = path.join(t.config.DATA_DIR, 'outbox');
      // The mail files do name the subject now: the erasure is what removes them.
      expect(await filesHolding(outbox, [email])).not.toEqual([]);

      const requested = await eraseOwn(auth, { password: subject.password });
      expect(requested.statusCode, requested.body).toBe(202);
      expect(requested.json()).toEqual({
        status: 'scheduled',
        scheduledFor: new Date(t.clock.now().getTime() + 7 * DAY).toISOString(),
      });
      // Signed out everywhere at once.
      expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: auth })).statusCode).toBe(401);
      expect((await mailsTo(t.app, email, 'account_deletion_scheduled')).length).toBe(1);

      // Not before its time.
      t.clock.advance(7 * DAY - 60_000);
      expect((await t.app.privacyErasure.tick()).erased).toEqual([]);
      t.clock.advance(2 * 60_000);
      await t.app.mail.runOnce();
      expect((await t.app.privacyErasure.tick()).erased).toEqual([subject.id]);
      await t.app.audit.flush();

      const traces = await findTraces(t.deps.db, { email, name, ip1, ip2, ua1, ua2 });
      // The audit log keeps its events, but their personal data was encrypted under the subject's
      // keys, which the erasure destroyed (crypto-shredding, src/security/audit/pii.ts).
      expect(traces).toEqual({ email: [], name: [], ip1: [], ip2: [], ua1: [], ua2: [] });
      // The ciphertext is still there, and nothing decrypts it with any remaining key: every read
      // path goes through reveal(), which shows the placeholder.
      const about = await t.app.audit.repo.query({ targetId: subject.id }, 1000);
      expect(about.some((e) => String(e.ip).startsWith('pii1:'))).toBe(true);
      const readable = JSON.stringify(await t.app.audit.reveal(about));
      for (const needle of [email, ip1, ip2, ua1, ua2]) expect(readable).not.toContain(needle);
      expect(readable).toContain(`erased-subject:${subject.id}`);
      for (const key of mediaKeys) expect(await t.app.uploads.store.head(key)).toBeNull();
      expect(await filesHolding(outbox, [email, name])).toEqual([]);
      expect(await filesHolding(path.join(t.config.DATA_DIR, 'uploads'), [email, name])).toEqual([]);

      const [row] = await t.deps.db.query<Record<string, unknown>>(
        `select email, name, disabled, password_hash from users where id = $1`,
        [subject.id],
      );
      expect(row).toEqual({
        email: `erased-${subject.id}@erased.invalid`,
        name: 'Erased account',
        disabled: true,
        password_hash: '!erased',
      });
      for (const table of ['portfolios', 'media', 'auth_sessions', 'refresh_tokens', 'one_time_tokens', 'user_roles']) {
        const col = table === 'portfolios' ? 'owner_id' : table === 'media' ? 'uploaded_by' : 'user_id';
        const [n] = await t.deps.db.query<{ n: number }>(`select count(*)::int as n from ${table} where ${col} = $1`, [
          subject.id,
        ]);
        expect(n?.n, table).toBe(0);
      }

      // The chain and its signed checkpoints still verify: no event was deleted or changed.
      const verified = await t.app.audit.verify();
      expect(verified.ok).toBe(true);
      const ledger = await readFile(path.join(erasureLedgerDir(t.config.DATA_DIR), 'ledger.jsonl'), 'utf8');
      expect(ledger).toContain(`"subject":"${subject.id}"`);
      expect(ledger).not.toContain(email);
    },
  );

  it(
    'afterwards nothing can be recovered: signing in answers like an unknown account, the job does nothing more',
    { timeout: 180_000 },
    async () => {
      const unknown = await loginAs(t.app, `nobody-${tag}@example.test`, subject.password);
      const erased = await loginAs(t.app, email, subject.password);
      expect(erased.statusCode).toBe(unknown.statusCode);
      expect(erased.json<{ code: string }>().code).toBe(unknown.json<{ code: string }>().code);
      const placeholder = await loginAs(t.app, `erased-${subject.id}@erased.invalid`, '!erased');
      expect(placeholder.statusCode).toBe(unknown.statusCode);
      // The reset link mailed before the erasure is gone with it.
      const reset = await t.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email } });
      expect(reset.statusCode).toBe(202);
      await t.app.accounts.background.flush();
      expect(await mailsTo(t.app, email)).toEqual([]);
      expect((await t.app.privacyErasure.tick()).erased).toEqual([]);
    },
  );
});

describe('during the grace period the erasure can be cancelled', () => {
  it('from the mailed link (once; the job then leaves the account alone)', { timeout: 180_000 }, async () => {
    const user = await createUser(t.app);
    const res = await eraseOwn(await signIn(user), { password: user.password });
    expect(res.statusCode, res.body).toBe(202);
    const token = tokenIn((await mailsTo(t.app, user.email, 'account_deletion_scheduled'))[0]);
    const cancel = () => t.app.inject({ method: 'POST', url: '/api/account/deletion/cancel', payload: { token } });
    const first = await cancel();
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ status: 'cancelled' });
    const again = await cancel();
    expect(again.statusCode).toBe(400);
    expect(again.json<{ code: string }>().code).toBe('INVALID_TOKEN');
    t.clock.advance(8 * DAY);
    await t.app.privacyErasure.tick();
    expect(await isErased(user.id)).toBe(false);
    await signIn(user);
    expect((await mailsTo(t.app, user.email, 'account_deletion_cancelled')).length).toBe(1);
  });

  it('by signing in: the answer says so (accountDeletionCancelled), once', { timeout: 180_000 }, async () => {
    const user = await createUser(t.app);
    expect((await eraseOwn(await signIn(user), { password: user.password })).statusCode).toBe(202);
    const token = tokenIn((await mailsTo(t.app, user.email, 'account_deletion_scheduled'))[0]);
    const login = await loginAs(t.app, user.email, user.password);
    expect(login.statusCode).toBe(200);
    expect(login.json<{ accountDeletionCancelled?: boolean }>().accountDeletionCancelled).toBe(true);
    const next = await loginAs(t.app, user.email, user.password);
    expect(next.json<{ accountDeletionCancelled?: boolean }>().accountDeletionCancelled).toBeUndefined();
    // The mailed link of the cancelled request no longer works.
    const late = await t.app.inject({ method: 'POST', url: '/api/account/deletion/cancel', payload: { token } });
    expect(late.statusCode).toBe(400);
    t.clock.advance(8 * DAY);
    await t.app.privacyErasure.tick();
    expect(await isErased(user.id)).toBe(false);
  });

  it(
    'but not once the job started: a started erasure is finished, the link is refused',
    { timeout: 180_000 },
    async () => {
      const user = await createUser(t.app);
      expect((await eraseOwn(await signIn(user), { password: user.password })).statusCode).toBe(202);
      const token = tokenIn((await mailsTo(t.app, user.email, 'account_deletion_scheduled'))[0]);
      t.clock.advance(8 * DAY);
      // The claim alone (a node that died right after it): the erasure is resumed, never cancelled.
      await t.app.privacyErasure.repo.claimDue(t.clock.now(), 100);
      expect(await t.app.privacyErasure.cancelOnSignIn(user.id, {})).toBe(false);
      const late = await t.app.inject({ method: 'POST', url: '/api/account/deletion/cancel', payload: { token } });
      expect(late.statusCode).toBe(400);
      await t.app.privacyErasure.tick();
      expect(await isErased(user.id)).toBe(true);
    },
  );
});

describe('the request is a step-up', () => {
  it(
    'refuses a wrong password, a missing or wrong second factor, and an old sign-in',
    { timeout: 180_000 },
    async () => {
      const user = await createUser(t.app);
      const auth = await signIn(user);
      const wrong = await eraseOwn(auth, { password: `${user.password}x` });
      expect([wrong.statusCode, wrong.json<{ code: string }>().code]).toEqual([401, 'INVALID_CREDENTIALS']);

      const { secret } = await enrollTotp(t.app, t.clock, { ...user, auth });
      const mfaAuth = await signInWithTotp(user, secret);
      const noCode = await eraseOwn(mfaAuth, { password: user.password });
      expect([noCode.statusCode, noCode.json<{ code: string }>().code]).toEqual([401, 'MFA_CODE_REQUIRED']);
      const badCode = await eraseOwn(mfaAuth, { password: user.password, code: '000000' });
      expect([badCode.statusCode, badCode.json<{ code: string }>().code]).toEqual([401, 'MFA_CODE_INVALID']);

      t.clock.advance((t.config.REAUTH_MAX_AGE + 60) * 1000);
      const stale = await eraseOwn(mfaAuth, {
        password: user.password,
        code: oathCode(secret, t.clock.now().getTime()),
      });
      expect(stale.statusCode).toBe(401);
      expect(['REAUTH_REQUIRED', 'UNAUTHORIZED', 'INVALID_TOKEN']).toContain(stale.json<{ code: string }>().code);
      expect(await t.app.privacyErasure.pending(user.id)).toBeUndefined();

      const fresh = await signInWithTotp(user, secret);
      const ok = await eraseOwn(fresh, { password: user.password, code: oathCode(secret, t.clock.now().getTime()) });
      expect(ok.statusCode, ok.body).toBe(202);
    },
  );
});

async function signInWithTotp(user: TestUser, secret: string) {
  const res = await loginAs(t.app, user.email, user.password);
  const { mfaToken } = res.json<{ mfaToken: string }>();
  t.clock.advance(30_000);
  const verify = await t.app.inject({
    method: 'POST',
    url: '/api/auth/mfa/verify',
    remoteAddress: '127.0.0.1',
    headers: { 'user-agent': FIREFOX },
    payload: { mfaToken, code: oathCode(secret, t.clock.now().getTime()) },
  });
  expect(verify.statusCode, verify.body).toBe(200);
  t.clock.advance(30_000);
  return { authorization: `Bearer ${verify.json<{ accessToken: string }>().accessToken}` };
}

describe('admins', () => {
  it('erase a user (disabled at once); re-enabling the account cancels', { timeout: 180_000 }, async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const adminAuth = await signIn(admin);
    const user = await createUser(t.app);
    const res = await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${user.id}`, headers: adminAuth });
    expect(res.statusCode, res.body).toBe(202);
    expect((await loginAs(t.app, user.email, user.password)).statusCode).not.toBe(200);
    const enable = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${user.id}`,
      headers: adminAuth,
      payload: { disabled: false },
    });
    expect(enable.statusCode, enable.body).toBe(200);

    // Without user:manage: refused; its own account goes through DELETE /api/account.
    const plain = await createUser(t.app);
    const refused = await t.app.inject({
      method: 'DELETE',
      url: `/api/admin/users/${user.id}`,
      headers: await signIn(plain),
    });
    expect(refused.statusCode).toBe(403);
    const own = await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${admin.id}`, headers: adminAuth });
    expect([own.statusCode, own.json<{ code: string }>().code]).toEqual([409, 'CANNOT_ERASE_OWN_ACCOUNT']);

    t.clock.advance(8 * DAY);
    await t.app.privacyErasure.tick();
    expect(await isErased(user.id)).toBe(false);
    expect((await loginAs(t.app, user.email, user.password)).statusCode).toBe(200);
  });
});

describe('the last admin cannot be erased', () => {
  it(
    'two admins erasing each other at the same moment: exactly one is scheduled, the other is 409 LAST_USER_MANAGER',
    { timeout: 180_000 },
    async () => {
      // A database of its own: these two are its only admins.
      const app = await buildTestApp();
      try {
        const [count] = await app.deps.db.query<{ n: number }>(`select count(*)::int as n from users`);
        expect(count?.n).toBe(0);
        const a = await createUser(app.app, { role: 'admin' });
        const b = await createUser(app.app, { role: 'admin' });
        // Both past authentication and every check before the transaction, at once: the decision
        // is the transaction's (the roles lock, then the count of the other managers).
        const erasure = app.app.privacyErasure;
        const results = await Promise.allSettled([
          erasure.request(b.id, { actorId: a.id, context: {} }, true),
          erasure.request(a.id, { actorId: b.id, context: {} }, true),
        ]);
        const outcomes = results.map((r) =>
          r.status === 'fulfilled' ? 'scheduled' : ((r.reason as { code?: string }).code ?? String(r.reason)),
        );
        expect(outcomes.sort()).toEqual(['LAST_USER_MANAGER', 'scheduled']);
        const survivor = results[0]?.status === 'fulfilled' ? a : b;
        const loser = survivor === a ? b : a;

        // Over HTTP: the loser is refused (its tokens already ended), the survivor cannot erase
        // itself, nor take user:manage from itself while the other's erasure is pending.
        const late = await app.app.inject({
          method: 'DELETE',
          url: `/api/admin/users/${survivor.id}`,
          headers: loser.auth,
        });
        expect([401, 409]).toContain(late.statusCode);
        const self = await app.app.inject({
          method: 'DELETE',
          url: '/api/account',
          headers: survivor.auth,
          payload: { password: survivor.password },
        });
        expect([self.statusCode, self.json<{ code: string }>().code]).toEqual([409, 'LAST_USER_MANAGER']);
        await expect(app.app.users.update(survivor.id, { roles: ['user'] })).rejects.toMatchObject({
          code: 'LAST_USER_MANAGER',
        });
        expect(await erasure.pending(survivor.id)).toBeUndefined();
      } finally {
        await app.close();
      }
    },
  );
});

describe('ACCOUNT_DELETION_GRACE_DAYS=0', () => {
  it('erases at once', { timeout: 180_000 }, async () => {
    const app = await buildTestApp({ ACCOUNT_DELETION_GRACE_DAYS: '0' });
    try {
      const user = await createUser(app.app);
      const res = await app.app.inject({
        method: 'DELETE',
        url: '/api/account',
        headers: { authorization: `Bearer ${user.accessToken}` },
        payload: { password: user.password },
      });
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json<{ scheduledFor: string }>().scheduledFor).toBe(app.clock.now().toISOString());
      const [row] = await app.deps.db.query<{ erased: boolean }>(
        `select erased_at is not null as erased from users where id = $1`,
        [user.id],
      );
      expect(row?.erased).toBe(true);
      expect((await loginAs(app.app, user.email, user.password)).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});
