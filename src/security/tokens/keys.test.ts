/**
 * The key ring: rotation keeps old tokens valid until they expire, JWKS lists what verifies,
 * private keys are encrypted at rest, a key can come from a file, ES256 works as well.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser } from '../../../test/helpers/factories.js';
import { secondNode } from '../../../test/helpers/tokens.js';
import { decryptPrivateKey, encryptPrivateKey, generateSigningKey, KeyRingError } from './keys.js';

interface Jwks {
  keys: { kid: string; alg: string; kty: string; crv: string; use: string; d?: string }[];
}

describe('key rotation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  const jwks = async () => (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<Jwks>();
  const me = (token: string) =>
    t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });

  it('publishes the public signing key, never a private part', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toContain('max-age');
    const { keys } = res.json<Jwks>();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(keys[0]?.d).toBeUndefined();
    expect(res.body).not.toMatch(/"d"\s*:/);
  });

  it('a token verifies against the published JWKS with an independent verifier (jose)', async () => {
    const u = await createUser(t.app);
    const set = createLocalJWKSet(await jwks());
    const { payload } = await jwtVerify(u.accessToken, set, {
      issuer: t.config.JWT_ISSUER,
      audience: t.config.JWT_AUDIENCE,
      currentDate: t.clock.now(),
    });
    expect(payload.sub).toBe(u.id);
  });

  it('after rotation: new tokens use the new kid, old tokens still verify, JWKS lists both; old key expires later', async () => {
    const u = await createUser(t.app);
    const oldKid = decodeProtectedHeader(u.accessToken).kid;
    const b = await secondNode(t.deps);
    try {
      const result = await t.app.tokens.ring.rotate();
      expect(result.retired).toEqual([oldKid]);
      const kids = (await jwks()).keys.map((k) => k.kid);
      expect(kids).toEqual(expect.arrayContaining([oldKid, result.kid]));

      const v = await createUser(t.app);
      expect(decodeProtectedHeader(v.accessToken).kid).toBe(result.kid);
      expect((await me(u.accessToken)).statusCode).toBe(200);
      // Node B learns the new key on first sight of its kid.
      const onB = await b.app.inject({
        method: 'GET',
        url: '/api/auth/me',
        headers: { authorization: `Bearer ${v.accessToken}` },
      });
      expect(onB.statusCode).toBe(200);

      // Once every token the old key signed has expired, it verifies nothing and leaves the JWKS.
      const window = Math.max(t.config.ACCESS_TOKEN_TTL, t.config.REFRESH_TOKEN_TTL) + t.config.JWT_CLOCK_TOLERANCE;
      t.clock.advance((window + 1) * 1000);
      try {
        expect((await jwks()).keys.map((k) => k.kid)).toEqual([result.kid]);
        const second = await t.app.tokens.ring.rotate();
        expect(second.deleted).toBe(1);
      } finally {
        t.clock.advance(-(window + 1) * 1000);
      }
    } finally {
      await b.close();
    }
  });

  it('stores private keys encrypted; the wrong JWT_SECRET cannot decrypt them', async () => {
    const rows = await t.deps.db.query<{ kid: string; private_key: string }>(
      `select kid, private_key from signing_keys`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.private_key).toMatch(/^v1\./);
      expect(row.private_key).not.toContain('PRIVATE KEY');
      expect(() => decryptPrivateKey('another-secret-of-at-least-32-chars!!', row.kid, row.private_key)).toThrow(
        KeyRingError,
      );
      // Bound to its kid: moving a ciphertext under another kid fails too.
      expect(() => decryptPrivateKey(t.deps.secrets.jwt, 'other-kid', row.private_key)).toThrow(KeyRingError);
    }
    const key = generateSigningKey('EdDSA');
    const sealed = encryptPrivateKey('s'.repeat(40), 'k1', key);
    expect(decryptPrivateKey('s'.repeat(40), 'k1', sealed).export({ format: 'der', type: 'pkcs8' })).toEqual(
      key.export({ format: 'der', type: 'pkcs8' }),
    );
  });
});

describe('signing key options', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pf-keys-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('ES256 when JWT_ALGORITHM=ES256', async () => {
    const t = await buildTestApp({ JWT_ALGORITHM: 'ES256' });
    try {
      const u = await createUser(t.app);
      expect(decodeProtectedHeader(u.accessToken).alg).toBe('ES256');
      expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: u.auth })).statusCode).toBe(200);
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        payload: { refreshToken: u.refreshToken },
      });
      expect(refreshed.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('a key from JWT_PRIVATE_KEY_FILE signs; keys rotate refuses with a clear sentence', async () => {
    const file = path.join(dir, 'jwt.pem');
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFile(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const t = await buildTestApp({ JWT_PRIVATE_KEY_FILE: file });
    try {
      const u = await createUser(t.app);
      const kid = decodeProtectedHeader(u.accessToken).kid;
      expect(kid).toBe(t.app.tokens.ring.signer().kid);
      expect(t.app.tokens.ring.signer().source).toBe('file');
      expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: u.auth })).statusCode).toBe(200);
      await expect(t.app.tokens.ring.rotate()).rejects.toThrow(/JWT_PRIVATE_KEY_FILE/);
    } finally {
      await t.close();
    }
  });

  it('refuses a key file that is not Ed25519 or P-256', async () => {
    const file = path.join(dir, 'rsa.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await expect(buildTestApp({ JWT_PRIVATE_KEY_FILE: file })).rejects.toThrow(/Ed25519 or ECDSA P-256/);
  });
});
