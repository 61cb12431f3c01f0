/**
 * No secret ever reaches the audit log (OWASP Logging Cheat Sheet; CWE-532 and CWE-117). Every
 * flow that handles one runs here with known values, modules even try to log them on purpose,
 * and then the whole table is scanned for the values and for anything shaped like a credential.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail } from '../../../test/helpers/factories.js';
import { cleanEvent, REDACTED } from './event.js';

let t: TestApp;
const secrets: string[] = [];
beforeAll(async () => {
  t = await buildTestApp({ RATE_LIMIT_ENABLED: 'false' });
});
afterAll(async () => {
  await t.close();
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url, payload, headers });

describe('secrets never enter the audit log', () => {
  it('redacts by field name and by value shape, and neutralises CR/LF', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const e = cleanEvent(
      {
        action: 'test.redaction',
        actor: 'system',
        outcome: 'success',
        userAgent: `curl/8\r\nX-Injected: yes ${jwt}`,
        target: { type: 'user', id: 'abc\nforged line' },
        metadata: {
          password: 'hunter2-hunter2',
          newPassword: 'x',
          refreshToken: 'opaque',
          sessionId: 'sess-123',
          totp: '123456',
          code: '654321',
          apiKey: 'k',
          nested: { authorization: 'Bearer abc.def.ghi', note: `header was Bearer ${jwt}`, hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' },
          list: ['-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----'],
          count: 3,
          ok: true,
        },
      },
      new Date(),
    );
    expect(e.metadata).toMatchObject({
      password: REDACTED,
      newPassword: REDACTED,
      refreshToken: REDACTED,
      sessionId: REDACTED,
      totp: REDACTED,
      code: REDACTED,
      apiKey: REDACTED,
      nested: { authorization: REDACTED, note: `header was ${REDACTED}`, hash: REDACTED },
      list: [REDACTED],
      count: 3,
      ok: true,
    });
    expect(e.userAgent).toBe(`curl/8\\r\\nX-Injected: yes ${REDACTED}`);
    expect(e.targetId).toBe('abc\\nforged line');
    expect(JSON.stringify(e)).not.toMatch(/hunter2|eyJ|argon2|sess-123|654321/);
  });

  it('refuses malformed events: action, actor, outcome, unknown fields', () => {
    const base = { action: 'a.b', actor: 'system', outcome: 'success' } as const;
    for (const bad of [
      { ...base, action: 'NoDots' },
      { ...base, action: 'a.b\nc.d' },
      { ...base, actor: 'root' },
      { ...base, actor: "system' or 1=1" },
      { ...base, outcome: 'maybe' },
      { ...base, password: 'x' },
    ]) {
      expect(() => cleanEvent(bad as never, new Date())).toThrow(/audit event was refused/);
    }
    // Oversized metadata is replaced by a marker, a lone surrogate cannot break the jsonb insert.
    expect(cleanEvent({ ...base, metadata: { blob: Array.from({ length: 40 }, () => 'x'.repeat(900)) } }, new Date()).metadata).toMatchObject({ _truncated: true });
    expect(cleanEvent({ ...base, metadata: { s: 'a\ud800b' } }, new Date()).metadata['s']).toBe('a\ufffdb');
  });

  it('after every flow that touches a secret, the table holds none of them', async () => {
    // Registration, login (right and wrong), refresh, admin-created users, a password typed into the email field.
    const email = uniqueEmail();
    const password = strongPassword();
    secrets.push(password);
    expect((await post('/api/auth/register', { email, password, name: 'S' })).statusCode).toBe(201);
    const login = await post('/api/auth/login', { email, password }, { 'user-agent': 'Agent\r\nX-Forged: 1' });
    const pair = login.json();
    secrets.push(pair.accessToken, pair.refreshToken);
    const wrong = `Wrong-${strongPassword()}`;
    secrets.push(wrong);
    await post('/api/auth/login', { email, password: wrong });
    await post('/api/auth/login', { email: `${wrong}@example.test`, password: wrong });
    const refreshed = (await post('/api/auth/refresh', { refreshToken: pair.refreshToken })).json();
    secrets.push(refreshed.accessToken, refreshed.refreshToken);
    await post('/api/auth/refresh', { refreshToken: `${pair.refreshToken}x` });
    const admin = await createUser(t.app, { role: 'admin' });
    secrets.push(admin.password, admin.accessToken, admin.refreshToken);
    const created = strongPassword();
    secrets.push(created);
    await post('/api/admin/users', { email: uniqueEmail(), name: 'C', password: created }, admin.auth);
    await post(`/api/nowhere?access_token=${pair.accessToken}`, { password }, { authorization: `Bearer ${pair.accessToken}` });
    // A module that tries to log secrets on purpose.
    await t.app.audit.record({
      action: 'test.careless.module',
      actor: admin.id,
      outcome: 'success',
      userAgent: `Bearer ${pair.accessToken}`,
      metadata: { password, token: pair.refreshToken, secret: t.deps.secrets.jwt, note: `token was ${pair.accessToken}` },
    });
    secrets.push(t.deps.secrets.jwt);

    await t.app.audit.flush();
    const rows = await t.deps.db.query<{ line: string }>(`select row_to_json(e)::text as line from audit_events e`);
    const inbox = await t.deps.db.query<{ line: string }>(`select row_to_json(i)::text as line from audit_inbox i`);
    const all = [...rows, ...inbox].map((r) => r.line).join('\n');
    expect(rows.length).toBeGreaterThan(10);
    for (const s of secrets) expect(all.includes(s), 'a secret value reached the audit log').toBe(false);
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{4,}\./);
    expect(all).not.toMatch(/\$argon2/);
    expect(all).not.toMatch(/Bearer [A-Za-z0-9]/);
    // No raw CR/LF in any stored string (JSON-escaped \r or \n would mean a literal control character).
    expect(all).not.toMatch(/(?<!\\)\\[rn]/);
  });
});
