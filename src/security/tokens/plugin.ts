/**
 * Token security's lifecycle: `app.tokens` (the key ring, issuing, verifying, rotating and
 * revoking), its timers and its pub/sub channels. The request side lives beside it:
 * ./authenticate.ts (the `authenticate` hook, CSRF, cookies) and ./routes.ts.
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { KeyRing } from './keys.js';
import { RevocationCache } from './revocation.js';
import { TokenService, type TokenFailure } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService;
  }
}

export const KEYS_CHANNEL = 'auth:keys';

export const tokensPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, db, kv, clock, secrets } = app.deps;
    const verifyWindow = Math.max(config.ACCESS_TOKEN_TTL, config.REFRESH_TOKEN_TTL) + config.JWT_CLOCK_TOLERANCE;
    const ring = new KeyRing(db, clock, {
      algorithm: config.JWT_ALGORITHM,
      secret: secrets.jwt,
      privateKeyFile: config.JWT_PRIVATE_KEY_FILE,
      verifyWindowSeconds: verifyWindow,
      announce: () => kv.publish(KEYS_CHANNEL, 'rotated'),
    });
    await ring.init();
    const tokens = new TokenService(
      db,
      ring,
      (repo) => new RevocationCache(repo, kv, clock, { onError: (err) => app.log.warn({ err }, 'revocation channel') }),
      clock,
      {
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        accessTtl: config.ACCESS_TOKEN_TTL,
        refreshTtl: config.REFRESH_TOKEN_TTL,
        clockTolerance: config.JWT_CLOCK_TOLERANCE,
        reuseGrace: config.REFRESH_REUSE_GRACE,
        binding: config.TOKEN_BINDING,
        bindingParts: config.TOKEN_BINDING_PARTS,
        cacheSize: config.TOKEN_CACHE_SIZE,
      },
    );
    await tokens.revocation.start();
    // Housekeeping: rows of tokens that have all expired carry no information any more.
    const purge = setInterval(() => {
      tokens.purgeExpired().catch((err: unknown) => app.log.warn({ err }, 'token purge'));
    }, 3_600_000);
    purge.unref();
    app.addHook('onClose', async () => {
      clearInterval(purge);
      await tokens.revocation.stop();
    });
    // Another node rotated keys: reread the ring so this node signs with the new key too.
    const unsubscribeKeys = await kv
      .subscribe(
        KEYS_CHANNEL,
        () => void ring.reload().catch((err: unknown) => app.log.warn({ err }, 'key ring reload')),
      )
      .catch(() => null);
    app.addHook('onClose', async () => unsubscribeKeys?.());
    app.decorate('tokens', tokens);

    // Users whose roles or status change are reread everywhere; a disabled account loses every token.
    app.users.onChanged(async (userId, change) => {
      if (change.disabled === true) await tokens.revokeUser(userId, 'disabled');
      else await tokens.userChanged(userId);
    });

    // Cookies are parsed for every request (bearerTokenOf reads the access cookie in browser mode).
    await app.register(cookie);
  },
  { name: 'tokens', dependencies: ['deps', 'users', 'audit'] },
);

export type { TokenFailure };
