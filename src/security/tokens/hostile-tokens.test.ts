/**
 * The hostile-token corpus: every way we know to get a token past verification, each answered
 * 401 problem+json with one and the same public message (no oracle), never 500.
 */
import { sign as cryptoSign, generateKeyPairSync } from 'node:crypto';
import { decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, type TestUser } from '../../../test/helpers/factories.js';
import { accessClaims, mint } from '../../../test/helpers/tokens.js';

const PUBLIC_DETAIL = 'The token is invalid or has expired';

describe('hostile tokens', () => {
  let t: TestApp;
  let u: TestUser;
  let claims: Record<string, unknown>;

  beforeAll(async () => {
    t = await buildTestApp();
    u = await createUser(t.app);
    claims = decodeJwt(u.accessToken);
  });
  afterAll(async () => t.close());

  async function me(token: string) {
    return t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });
  }
  async function refresh(token: string) {
    return t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: token } });
  }
  function expectRefused(res: Awaited<ReturnType<typeof me>>) {
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json<{ code: string; detail: string; stack?: unknown }>();
    expect(body.code).toBe('INVALID_TOKEN');
    expect(body.detail).toBe(PUBLIC_DETAIL);
    expect(body.stack).toBeUndefined();
    expect(res.headers['www-authenticate']).toContain('invalid_token');
  }

  const signer = () => t.app.tokens.ring.signer();

  const corpus: [string, () => Promise<string>][] = [
    ['alg: none', async () => new UnsecuredJWT(claims).encode()],
    [
      'HS256 signed with the public key PEM (algorithm confusion)',
      async () => {
        const pem = signer().publicKey.export({ format: 'pem', type: 'spki' }).toString();
        return new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', kid: signer().kid, typ: 'JWT' })
          .sign(new TextEncoder().encode(pem));
      },
    ],
    [
      'HS256 signed with the JWK x value (algorithm confusion)',
      async () => {
        const jwk = t.app.tokens.ring.jwks().keys[0];
        return new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', kid: signer().kid })
          .sign(new TextEncoder().encode(String(jwk?.x ?? 'x')));
      },
    ],
    [
      'unknown kid, signed by the attacker',
      async () => {
        const { privateKey } = generateKeyPairSync('ed25519');
        return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'attacker-key' }).sign(privateKey);
      },
    ],
    [
      'the real kid, signed by the attacker',
      async () => {
        const { privateKey } = generateKeyPairSync('ed25519');
        return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: signer().kid }).sign(privateKey);
      },
    ],
    ['kid with a path', async () => mint(t.app, claims, { kid: '../../../../etc/passwd' })],
    ['kid with SQL', async () => mint(t.app, claims, { kid: "x' OR '1'='1' --" })],
    ['no kid', async () => mint(t.app, claims, { kid: undefined as unknown as string })],
    [
      'ES256 header on an Ed25519 signature by the real key',
      async () => {
        const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const input = `${b64({ alg: 'ES256', kid: signer().kid, typ: 'JWT' })}.${b64(claims)}`;
        const key = signer().privateKey;
        if (!key) throw new Error('no key');
        return `${input}.${cryptoSign(null, Buffer.from(input), key).toString('base64url')}`;
      },
    ],
    [
      'expired',
      async () =>
        mint(t.app, {
          ...claims,
          iat: Number(claims['iat']) - 7200,
          nbf: Number(claims['nbf']) - 7200,
          exp: Number(claims['iat']) - 3600,
        }),
    ],
    ['nbf in the future', async () => mint(t.app, { ...claims, nbf: Number(claims['iat']) + 3600 })],
    ['wrong iss', async () => mint(t.app, { ...claims, iss: 'https://evil.example' })],
    ['wrong aud', async () => mint(t.app, { ...claims, aud: 'another-api' })],
    ['no type claim', async () => mint(t.app, { ...claims, type: undefined })],
    ['a refresh token used as an access token', async () => u.refreshToken],
    ['no sid claim', async () => mint(t.app, { ...claims, sid: undefined })],
    ['amr not a list', async () => mint(t.app, { ...claims, amr: 'pwd' })],
    ['unknown restriction', async () => mint(t.app, { ...claims, scp: 'superuser' })],
    [
      'tampered payload with the original signature',
      async () => {
        const [h, , s] = u.accessToken.split('.');
        const payload = Buffer.from(
          JSON.stringify({ ...claims, sub: '00000000-0000-7000-8000-000000000000' }),
        ).toString('base64url');
        return `${h}.${payload}.${s}`;
      },
    ],
    [
      'tampered role-like claim added, original signature',
      async () => {
        const [h, , s] = u.accessToken.split('.');
        return `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${s}`;
      },
    ],
    ['truncated', async () => u.accessToken.slice(0, -10)],
    ['signature removed', async () => u.accessToken.split('.').slice(0, 2).join('.') + '.'],
    ['16 KB token', async () => `${'a'.repeat(8000)}.${'b'.repeat(8000)}.${'c'.repeat(400)}`],
    ['bad base64', async () => '!!!.@@@.###'],
    ['not a JWT at all', async () => 'hello'],
    [
      'JSON array payload',
      async () =>
        `${u.accessToken.split('.')[0]}.${Buffer.from('[1,2]').toString('base64url')}.${u.accessToken.split('.')[2]}`,
    ],
    ['ver from the future', async () => mint(t.app, { ...claims, ver: 99 })],
    [
      'a session that does not exist',
      async () => mint(t.app, { ...claims, sid: '01900000-0000-7000-8000-000000000000' }),
    ],
  ];

  it.each(corpus)('refuses %s on an access route', async (_name, make) => {
    expectRefused(await me(await make()));
  });

  it('refuses an access token used as a refresh token, and the refresh corpus', async () => {
    expectRefused(await refresh(u.accessToken));
    for (const [, make] of corpus) {
      const token = await make();
      if (token === u.refreshToken) continue;
      expectRefused(await refresh(token));
    }
  });

  it('refuses the valid token of a disabled user', async () => {
    const v = await createUser(t.app);
    expect((await me(v.accessToken)).statusCode).toBe(200);
    await t.app.users.update(v.id, { disabled: true });
    expectRefused(await me(v.accessToken));
    expectRefused(await refresh(v.refreshToken));
  });

  it('refuses the valid token of a deleted user', async () => {
    const v = await createUser(t.app);
    await t.deps.db.query('delete from users where id = $1', [v.id]);
    expectRefused(await me(v.accessToken));
    expectRefused(await refresh(v.refreshToken));
  });

  it('refuses a token from before logout-all, and its refresh token', async () => {
    const v = await createUser(t.app);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: v.email, password: v.password },
    });
    const second = again.json<{ accessToken: string; refreshToken: string }>();
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout-all',
      headers: { authorization: `Bearer ${second.accessToken}` },
    });
    expect(out.statusCode).toBe(204);
    expectRefused(await me(v.accessToken));
    expectRefused(await me(second.accessToken));
    expectRefused(await refresh(v.refreshToken));
    expectRefused(await refresh(second.refreshToken));
    // Signing in again works: logout-all is not a lockout.
    const fresh = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: v.email, password: v.password },
    });
    expect((await me(fresh.json<{ accessToken: string }>().accessToken)).statusCode).toBe(200);
  });

  it('refuses a forged token with valid claims of a real session but the attacker key', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const forged = await new SignJWT(accessClaims(t.app, u.id, String(claims['sid'])))
      .setProtectedHeader({ alg: 'EdDSA', kid: signer().kid })
      .sign(privateKey);
    expectRefused(await me(forged));
  });

  it('writes verification failures to the audit log with their reason, never the token', async () => {
    await me('!!!.@@@.###');
    await t.app.audit.flush();
    const rows = await t.deps.db.query<{ metadata: { reason: string }; actor: string }>(
      `select metadata, actor from audit_events where action = 'token.verify.failed'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.metadata.reason)).toContain('malformed');
    const all = JSON.stringify(await t.deps.db.query(`select * from audit_events`));
    expect(all).not.toContain(u.accessToken);
  });
});
