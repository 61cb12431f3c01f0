/**
 * Invitations and the registration policy as an attacker probes them: every route against
 * anonymous, a user, an editor and an admin; hostile bodies; the link used twice, after it
 * expired, after it was withdrawn or superseded, by two clients at once; an invitation into a role
 * the inviter does not hold, and one whose inviter lost that role; an email that has an account
 * (told to the admin only); REGISTRATION open, invite and closed. The accepted account signs in
 * with its roles and a verified email.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail, type TestUser } from '../../../test/helpers/factories.js';
import { loginAs, mailsTo, tokenIn } from '../../../test/support/accounts/helpers.js';
import { registrationMode } from '../../auth/registration.js';
import { toPublicInvitation } from './service.js';

let t: TestApp;
let admin: TestUser;
let editor: TestUser;
let user: TestUser;
beforeAll(async () => {
  t = await buildTestApp({ PUBLIC_URL: 'https://cms.example/app', MAIL_POLL_INTERVAL: '0' });
  admin = await createUser(t.app, { role: 'admin' });
  editor = await createUser(t.app, { role: 'editor' });
  user = await createUser(t.app);
});
afterAll(async () => {
  await t?.close();
});

type Method = 'GET' | 'POST' | 'DELETE';
const req = (method: Method, url: string, who?: TestUser, payload?: unknown) =>
  t.app.inject({
    method,
    url,
    ...(who ? { headers: who.auth } : {}),
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });

const invite = (who: TestUser, email: string, roles: string[] = ['editor']) =>
  req('POST', '/api/admin/invitations', who, { email, roles });

const accept = (token: string, password = strongPassword(), name = 'Invited Person') =>
  req('POST', '/api/auth/invitations/accept', undefined, { token, password, name });

/** Invites `email` as the admin and returns the invitation and the token from the mailed link. */
async function invited(email = uniqueEmail('inv'), roles: string[] = ['editor']) {
  const res = await invite(admin, email, roles);
  expect(res.statusCode, res.body).toBe(201);
  const mails = await mailsTo(t.app, email, 'invitation');
  return { id: res.json<{ id: string }>().id, email, token: tokenIn(mails.at(-1)) };
}

async function auditEvents(action: string, targetId?: string) {
  return t.deps.db.query<{
    actor: string;
    outcome: string;
    target_id: string | null;
    metadata: Record<string, unknown>;
  }>(
    `select actor, outcome, target_id, metadata from audit_inbox where action = $1 and ($2::text is null or target_id = $2)
     union all select actor, outcome, target_id, metadata from audit_events where action = $1 and ($2::text is null or target_id = $2)`,
    [action, targetId ?? null],
  );
}

describe('who may use the invitation routes', () => {
  it('anonymous → 401 on every admin route', async () => {
    expect((await req('GET', '/api/admin/invitations')).statusCode).toBe(401);
    expect(
      (await req('POST', '/api/admin/invitations', undefined, { email: uniqueEmail(), roles: ['user'] })).statusCode,
    ).toBe(401);
    const del = await req('DELETE', '/api/admin/invitations/0190a6d4-0000-7000-8000-000000000000');
    expect(del.statusCode).toBe(401);
    expect(del.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it.each(['user', 'editor'] as const)(
    'a %s gets 403 FORBIDDEN and cannot invite themselves a second account',
    async (role) => {
      const who = role === 'user' ? user : editor;
      const { id } = await invited();
      for (const res of [
        await req('GET', '/api/admin/invitations', who),
        await invite(who, uniqueEmail('sock'), ['admin']),
        await invite(who, uniqueEmail('sock'), ['user']),
        await req('DELETE', `/api/admin/invitations/${id}`, who),
      ]) {
        expect(res.statusCode).toBe(403);
        expect(res.json().code).toBe('FORBIDDEN');
      }
      // Nothing was created or withdrawn by those attempts.
      const list = (await req('GET', '/api/admin/invitations?limit=100', admin)).json<{
        items: { id: string; state: string; email: string }[];
      }>();
      expect(list.items.find((i) => i.id === id)?.state).toBe('pending');
      expect(list.items.some((i) => i.email.startsWith('sock-'))).toBe(false);
    },
  );

  it('an admin invites, lists and withdraws; an unknown id is 404 INVITATION_NOT_FOUND', async () => {
    const { id, email } = await invited();
    const list = await req('GET', '/api/admin/invitations', admin);
    expect(list.statusCode).toBe(200);
    const item = list.json().items.find((i: { id: string }) => i.id === id);
    expect(item).toMatchObject({
      email,
      roles: ['editor'],
      invitedBy: admin.id,
      state: 'pending',
      accountExists: false,
    });
    expect(Date.parse(item.expiresAt) - Date.parse(item.createdAt)).toBe(t.config.INVITATION_TTL * 1000);
    expect((await req('DELETE', `/api/admin/invitations/${id}`, admin)).statusCode).toBe(204);
    const missing = await req('DELETE', '/api/admin/invitations/0190a6d4-0000-7000-8000-000000000000', admin);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('INVITATION_NOT_FOUND');
    expect((await req('DELETE', '/api/admin/invitations/not-a-uuid', admin)).statusCode).toBe(400);
  });

  it('lists every invitation once across pages, newest first', async () => {
    for (let i = 0; i < 3; i++) await invited();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await req('GET', `/api/admin/invitations?limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin);
      expect(res.statusCode).toBe(200);
      const page = res.json<{ items: { id: string }[]; nextCursor: string | null }>();
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort().reverse());
    expect((await req('GET', '/api/admin/invitations?cursor=bad!', admin)).statusCode).toBe(400);
  });

  it('needs a recent sign-in to invite or withdraw (step-up), not to list', async () => {
    const fresh = await createUser(t.app, { role: 'admin' });
    const { id } = await invited();
    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    try {
      expect((await req('GET', '/api/admin/invitations', fresh)).statusCode).toBe(200);
      const created = await invite(fresh, uniqueEmail());
      expect(created.statusCode).toBe(401);
      expect(created.json().code).toBe('REAUTH_REQUIRED');
      const revoked = await req('DELETE', `/api/admin/invitations/${id}`, fresh);
      expect(revoked.json().code).toBe('REAUTH_REQUIRED');
    } finally {
      t.clock.advance(-(t.config.REAUTH_MAX_AGE + 1) * 1000);
    }
  });
});

describe('hostile bodies', () => {
  it.each([
    ['unknown field', { email: 'a@example.test', roles: ['user'], admin: true }],
    ['no roles', { email: 'a@example.test', roles: [] }],
    ['roles missing', { email: 'a@example.test' }],
    ['roles not an array', { email: 'a@example.test', roles: 'admin' }],
    ['a role of the wrong type', { email: 'a@example.test', roles: [1] }],
    ['10,000 roles', { email: 'a@example.test', roles: Array.from({ length: 10_000 }, (_, i) => `r${i}`) }],
    ['a huge role name', { email: 'a@example.test', roles: ['x'.repeat(100_000)] }],
    ['a bad email', { email: 'not-an-email', roles: ['user'] }],
    ['a non-ASCII email', { email: 'ädа@example.test', roles: ['user'] }],
    ['a huge email', { email: `${'a'.repeat(300)}@example.test`, roles: ['user'] }],
    ['an email of the wrong type', { email: ['a@example.test'], roles: ['user'] }],
    ['null', null],
  ])('create: %s → 400', async (_name, body) => {
    const res = await req('POST', '/api/admin/invitations', admin, body);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json().code).toBe('VALIDATION_FAILED');
  });

  it('create: an unknown or repeated role → 400 UNKNOWN_ROLE / DUPLICATE_ROLE, and nothing is mailed', async () => {
    const email = uniqueEmail('unknown-role');
    for (const roles of [['root'], ['user', 'superuser'], ['Admin'], ['admin '], ['../admin']]) {
      const res = await invite(admin, email, roles);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('UNKNOWN_ROLE');
    }
    const twice = await invite(admin, email, ['user', 'user']);
    expect(twice.statusCode).toBe(400);
    expect(twice.json().code).toBe('DUPLICATE_ROLE');
    expect(await mailsTo(t.app, email)).toHaveLength(0);
  });

  it.each([
    ['unknown field', { token: 'x', password: strongPassword(), name: 'N', roles: ['admin'] }],
    ['an email chosen by the caller', { token: 'x', password: strongPassword(), name: 'N', email: 'me@example.test' }],
    ['token missing', { password: strongPassword(), name: 'N' }],
    ['token of the wrong type', { token: 12345, password: strongPassword(), name: 'N' }],
    ['a huge token', { token: 'A'.repeat(100_000), password: strongPassword(), name: 'N' }],
    ['a huge password', { token: 'x', password: 'p'.repeat(100_000), name: 'N' }],
    ['a huge name', { token: 'x', password: strongPassword(), name: 'n'.repeat(10_000) }],
    ['an empty name', { token: 'x', password: strongPassword(), name: '' }],
    ['an array', [{ token: 'x' }]],
  ])('accept: %s → 400 VALIDATION_FAILED', async (_name, body) => {
    const res = await req('POST', '/api/auth/invitations/accept', undefined, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
  });

  it('accept: unknown, tampered and malformed tokens → 400 INVITATION_INVALID, one body for all', async () => {
    const { token } = await invited();
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const bodies = [];
    for (const bad of [
      flipped,
      'A'.repeat(43),
      'short',
      `${token}x`,
      token.toLowerCase() === token ? 'z' : token.toLowerCase(),
    ]) {
      const res = await accept(bad);
      expect(res.statusCode).toBe(400);
      const { requestId: _r, ...body } = res.json();
      bodies.push(JSON.stringify(body));
    }
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0] as string).code).toBe('INVITATION_INVALID');
    // The real link still works.
    expect((await accept(token)).statusCode).toBe(201);
  });
});

describe('accepting an invitation', () => {
  it('mails PUBLIC_URL/accept-invite?token= with a 256-bit token that is stored only hashed, and never answers it', async () => {
    const email = uniqueEmail('link');
    const res = await invite(admin, email, ['editor']);
    expect(res.statusCode).toBe(201);
    const [mail] = await mailsTo(t.app, email, 'invitation');
    expect(mail?.text).toMatch(/https:\/\/cms\.example\/app\/accept-invite\?token=[A-Za-z0-9_-]{43}\b/);
    const token = tokenIn(mail);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(res.body).not.toContain(token);
    const rows = await t.deps.db.query<Record<string, unknown>>(`select * from invitations where id = $1`, [
      res.json().id,
    ]);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]?.['token_hash']).toBe(createHash('sha256').update(token).digest('base64url'));
  });

  it('creates the account with the invited email and roles, its email verified; it signs in', async () => {
    const { id, email, token } = await invited(uniqueEmail('Ada'), ['editor', 'user']);
    const password = strongPassword();
    // A weak password is refused by the registration policy and does not use up the link.
    const weak = await accept(token, 'password1234');
    expect(weak.statusCode).toBe(400);
    expect(weak.json().code).toBe('WEAK_PASSWORD');

    const res = await accept(token, password, 'Ada Invited');
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toMatchObject({ email, name: 'Ada Invited', role: 'editor', emailVerified: true });
    expect([...body.user.roles].sort()).toEqual(['editor', 'user']);
    expect(res.body).not.toMatch(/argon2|passwordHash|token/);

    const verification = await t.app.users.repo.emailVerification(body.user.id);
    expect(verification?.verifiedAt).toBeInstanceOf(Date);
    expect(verification?.pending).toBe(false);
    const login = await loginAs(t.app, email, password);
    expect(login.statusCode).toBe(200);
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${login.json().accessToken}` },
    });
    expect([...me.json().user.roles].sort()).toEqual(['editor', 'user']);
    expect(me.json().user.permissions).toContain('content:write_any');

    const item = (await req('GET', '/api/admin/invitations?limit=100', admin))
      .json()
      .items.find((i: { id: string }) => i.id === id);
    expect(item).toMatchObject({ state: 'accepted', accountExists: true });
    const [event] = await auditEvents('invitation.accepted', id);
    expect(event).toMatchObject({ actor: body.user.id, outcome: 'success' });
    expect((await auditEvents('invitation.created', id))[0]).toMatchObject({ actor: admin.id, outcome: 'success' });
  });

  it('works once: a replay is 410 INVITATION_USED and audited, also for two clients at once', async () => {
    const { id, token } = await invited();
    expect((await accept(token)).statusCode).toBe(201);
    const replay = await accept(token);
    expect(replay.statusCode).toBe(410);
    expect(replay.json().code).toBe('INVITATION_USED');
    expect(await auditEvents('invitation.replay_refused', id)).toEqual([
      expect.objectContaining({ actor: 'anonymous', outcome: 'denied' }),
    ]);

    const race = await invited();
    const answers = await Promise.all([accept(race.token), accept(race.token), accept(race.token)]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 410, 410]);
    const accounts = await t.deps.db.query(`select 1 from users where email_canonical = $1`, [
      race.email.toLowerCase(),
    ]);
    expect(accounts).toHaveLength(1);
  });

  it('expires after INVITATION_TTL: 410 INVITATION_EXPIRED', async () => {
    const { id, token } = await invited();
    t.clock.advance(t.config.INVITATION_TTL * 1000 + 1000);
    try {
      const res = await accept(token);
      expect(res.statusCode).toBe(410);
      expect(res.json().code).toBe('INVITATION_EXPIRED');
      // (The admin's tokens have expired too by now: the list is read through the service.)
      const row = (await t.app.invitations.list({ limit: 100 })).find((i) => i.id === id);
      expect(row && toPublicInvitation(row, t.clock.now()).state).toBe('expired');
    } finally {
      t.clock.advance(-(t.config.INVITATION_TTL * 1000 + 1000));
    }
  });

  it('dies when withdrawn (410 INVITATION_REVOKED) or superseded by a new invitation of the email', async () => {
    const { id, token } = await invited();
    expect((await req('DELETE', `/api/admin/invitations/${id}`, admin)).statusCode).toBe(204);
    expect((await req('DELETE', `/api/admin/invitations/${id}`, admin)).statusCode).toBe(204);
    const res = await accept(token);
    expect(res.statusCode).toBe(410);
    expect(res.json().code).toBe('INVITATION_REVOKED');
    expect(await auditEvents('invitation.revoked', id)).toHaveLength(1);

    const first = await invited(uniqueEmail('twice'));
    const second = await invited(first.email, ['user']);
    expect((await accept(first.token)).json().code).toBe('INVITATION_REVOKED');
    const ok = await accept(second.token);
    expect(ok.statusCode).toBe(201);
    expect(ok.json().user.roles).toEqual(['user']);
    const done = await req('DELETE', `/api/admin/invitations/${second.id}`, admin);
    expect(done.statusCode).toBe(409);
    expect(done.json().code).toBe('INVITATION_ACCEPTED');
  });
});

describe('no escalation, no enumeration', () => {
  it('an inviter cannot grant a role with permissions they do not hold', async () => {
    await t.deps.db.query(
      `insert into roles (name, description, built_in) values ('user-manager', 'Manages users', false)`,
    );
    await t.deps.db.query(
      `insert into role_permissions (role, permission) values ('user-manager', 'user:manage'), ('user-manager', 'portfolio:read'), ('user-manager', 'portfolio:write')`,
    );
    const manager = await createUser(t.app);
    await t.app.users.repo.setRoles(manager.id, ['user-manager', 'user']);
    const relogin = await loginAs(t.app, manager.email, manager.password);
    const auth = { authorization: `Bearer ${relogin.json().accessToken}` };
    const as = (roles: string[]) =>
      t.app.inject({
        method: 'POST',
        url: '/api/admin/invitations',
        headers: auth,
        payload: { email: uniqueEmail(), roles },
      });
    for (const roles of [['admin'], ['editor'], ['user', 'editor']]) {
      const res = await as(roles);
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('ROLE_ESCALATION');
    }
    expect((await as(['user'])).statusCode).toBe(201);
    expect((await as(['user-manager'])).statusCode).toBe(201);
  });

  it('an invitation dies with its inviter’s rights: inviter disabled → 410 INVITATION_REVOKED', async () => {
    const other = await createUser(t.app, { role: 'admin' });
    const email = uniqueEmail('orphan');
    expect((await invite(other, email, ['admin'])).statusCode).toBe(201);
    const token = tokenIn((await mailsTo(t.app, email, 'invitation')).at(-1));
    const disabled = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${other.id}`,
      headers: admin.auth,
      payload: { disabled: true },
    });
    expect(disabled.statusCode).toBe(200);
    const res = await accept(token);
    expect(res.statusCode).toBe(410);
    expect(res.json().code).toBe('INVITATION_REVOKED');
    expect(await t.app.users.repo.getByEmail(email)).toBeUndefined();
  });

  it('an email with an account: the admin is told (409 EMAIL_TAKEN); the link holder gets the unknown-token answer', async () => {
    const taken = await invite(admin, user.email.toUpperCase(), ['user']);
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('EMAIL_TAKEN');
    expect(await mailsTo(t.app, user.email, 'invitation')).toHaveLength(0);

    // Invited first, then the address registers on its own (REGISTRATION=open here).
    const { id, email, token } = await invited();
    const reg = await req('POST', '/api/auth/register', undefined, {
      email,
      password: strongPassword(),
      name: 'Early',
    });
    expect(reg.statusCode).toBe(201);
    const res = await accept(token);
    const unknown = await accept('B'.repeat(43));
    expect(res.statusCode).toBe(unknown.statusCode);
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
    expect(strip(res.json())).toEqual(strip(unknown.json()));
    const item = (await req('GET', '/api/admin/invitations?limit=100', admin))
      .json()
      .items.find((i: { id: string }) => i.id === id);
    expect(item).toMatchObject({ state: 'pending', accountExists: true });
    expect((await auditEvents('invitation.accepted', id))[0]).toMatchObject({
      outcome: 'failure',
      metadata: { reason: 'email_taken' },
    });
  });
});

describe('REGISTRATION', () => {
  it('defaults to invite in production and open elsewhere', () => {
    expect(registrationMode({ NODE_ENV: 'production' })).toBe('invite');
    expect(registrationMode({ NODE_ENV: 'development' })).toBe('open');
    expect(registrationMode({ NODE_ENV: 'test' })).toBe('open');
    expect(registrationMode({ NODE_ENV: 'production', REGISTRATION: 'open' })).toBe('open');
    expect(registrationMode({ NODE_ENV: 'test', REGISTRATION: 'closed' })).toBe('closed');
  });

  it('open: registration works (201)', async () => {
    const res = await req('POST', '/api/auth/register', undefined, {
      email: uniqueEmail(),
      password: strongPassword(),
      name: 'Open',
    });
    expect(res.statusCode).toBe(201);
  });

  it.each(['invite', 'closed'] as const)(
    '%s: POST /api/auth/register is 403 REGISTRATION_CLOSED for any body; invitations still work',
    async (mode) => {
      const app = await buildTestApp({ REGISTRATION: mode, EMAIL_VERIFICATION: 'required', MAIL_POLL_INTERVAL: '0' });
      try {
        const email = uniqueEmail(mode);
        for (const payload of [
          { email, password: strongPassword(), name: 'Closed' },
          { email },
          'not json',
          { admin: true },
        ]) {
          const res = await app.app.inject({ method: 'POST', url: '/api/auth/register', payload });
          expect(res.statusCode).toBe(403);
          expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
          expect(res.json().code).toBe('REGISTRATION_CLOSED');
        }
        expect(await app.app.users.repo.getByEmail(email)).toBeUndefined();
        expect(await mailsTo(app.app, email)).toHaveLength(0);

        const owner = await createUser(app.app, { role: 'admin' });
        const res = await app.app.inject({
          method: 'POST',
          url: '/api/admin/invitations',
          headers: owner.auth,
          payload: { email, roles: ['user'] },
        });
        expect(res.statusCode).toBe(201);
        const token = tokenIn((await mailsTo(app.app, email, 'invitation'))[0]);
        const password = strongPassword();
        const accepted = await app.app.inject({
          method: 'POST',
          url: '/api/auth/invitations/accept',
          payload: { token, password, name: 'Invited' },
        });
        expect(accepted.statusCode).toBe(201);
        // EMAIL_VERIFICATION=required: the invited account is verified, so it signs in at once.
        expect((await loginAs(app.app, email, password)).statusCode).toBe(200);
      } finally {
        await app.close();
      }
    },
  );
});

describe('the accept route under the shield', () => {
  it('is limited per client in its own bucket (invitation-accept), apart from registration', async () => {
    const app = await buildTestApp({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_REGISTER_PER_MINUTE: '2',
      RATE_LIMIT_REGISTER_PER_HOUR: '5',
      REGISTRATION: 'closed',
    });
    try {
      const from = (url: string, payload: object) =>
        app.app.inject({ method: 'POST', url, remoteAddress: '198.51.100.7', payload });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push(
          (await from('/api/auth/invitations/accept', { token: 'C'.repeat(43), password: strongPassword(), name: 'N' }))
            .statusCode,
        );
      }
      expect(statuses).toEqual([400, 400, 429, 429]);
      // Registration has its own bucket: the spent accept bucket does not refuse it as a 429.
      expect(
        (await from('/api/auth/register', { email: uniqueEmail(), password: strongPassword(), name: 'N' })).statusCode,
      ).toBe(403);
      const other = await app.app.inject({
        method: 'POST',
        url: '/api/auth/invitations/accept',
        remoteAddress: '203.0.113.9',
        payload: { token: 'C'.repeat(43), password: strongPassword(), name: 'N' },
      });
      expect(other.statusCode).toBe(400);
    } finally {
      await app.close();
    }
  });
});
