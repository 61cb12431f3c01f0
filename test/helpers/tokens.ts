/**
 * Test-only helpers for token security: mint tokens with chosen claims and headers using the
 * app's own signing key (what an attacker cannot do, so each test changes one thing at a time),
 * and start a second node on the same database.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SignJWT, type JWTHeaderParameters } from 'jose';
import { buildApp, type AppDeps } from '../../src/app.js';
import { openKv } from '../../src/platform/kv/index.js';

export function epochNow(app: FastifyInstance): number {
  return Math.floor(app.deps.clock.now().getTime() / 1000);
}

/** Claims of a valid access token for `userId`, to be altered by the test. */
export function accessClaims(app: FastifyInstance, userId: string, sid: string, ver = 0): Record<string, unknown> {
  const now = epochNow(app);
  const { config } = app.deps;
  return {
    iss: config.JWT_ISSUER,
    aud: config.JWT_AUDIENCE,
    sub: userId,
    jti: randomUUID(),
    type: 'access',
    iat: now,
    nbf: now,
    exp: now + config.ACCESS_TOKEN_TTL,
    sid,
    ver,
    fgp: 'x',
    amr: ['pwd'],
    auth_time: now,
  };
}

/** Signs with the app's current signing key (header fields may be overridden). */
export async function mint(
  app: FastifyInstance,
  claims: Record<string, unknown>,
  header: Partial<JWTHeaderParameters> = {},
): Promise<string> {
  const key = app.tokens.ring.signer();
  if (!key.privateKey) throw new Error('no private key');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

/**
 * A second app ("node") on the same database, with its own KV connection when Redis is used (so
 * messages really cross Redis), or the same in-memory KV otherwise (one process = one memory store).
 */
export async function secondNode(deps: AppDeps): Promise<{ app: FastifyInstance; close: () => Promise<void> }> {
  const kv =
    deps.kv.kind === 'redis'
      ? await openKv({
          url: deps.config.REDIS_URL,
          prefix: deps.config.KV_PREFIX,
          now: () => deps.clock.now().getTime(),
        })
      : deps.kv;
  const app = await buildApp({ ...deps, kv }, { logger: false });
  await app.ready();
  return {
    app,
    close: async () => {
      await app.close();
      if (kv !== deps.kv) await kv.close();
    },
  };
}

export function randomSecret(): string {
  return randomBytes(32).toString('hex');
}
