/**
 * `keys rotate|list`: the JWT signing key ring (src/security/tokens/keys.ts). Loaded only when one
 * of them runs (src/cli/index.ts registers them without importing this module).
 */
import os from 'node:os';
import { loadConfig } from '../config/index.js';
import { closePlatform, openPlatform } from '../platform/bootstrap.js';
import { systemClock } from '../platform/clock.js';
import { createAuditService } from '../security/audit/service.js';
import { AUDIT_ACTIONS } from '../security/audit/actions.js';
import { KeyRing, KeyRingError, type SigningAlgorithm } from '../security/tokens/keys.js';
import { KEYS_CHANNEL } from '../security/tokens/plugin.js';
import { CliError } from './errors.js';

async function withRing<T>(
  fn: (ring: KeyRing, deps: Awaited<ReturnType<typeof openPlatform>>) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const deps = await openPlatform(config).catch((err: unknown) => {
    throw new CliError(`Cannot open the database: ${err instanceof Error ? err.message : String(err)}`);
  });
  try {
    const ring = new KeyRing(deps.db, systemClock, {
      algorithm: config.JWT_ALGORITHM,
      secret: deps.secrets.jwt,
      privateKeyFile: config.JWT_PRIVATE_KEY_FILE,
      verifyWindowSeconds: Math.max(config.ACCESS_TOKEN_TTL, config.REFRESH_TOKEN_TTL) + config.JWT_CLOCK_TOLERANCE,
      // Running servers reread the ring at once (they would also on first sight of the new kid).
      announce: () => deps.kv.publish(KEYS_CHANNEL, 'rotated').catch(() => undefined),
    });
    try {
      await ring.init();
      return await fn(ring, deps);
    } catch (err) {
      if (err instanceof KeyRingError) throw new CliError(err.message);
      throw err;
    }
  } finally {
    await closePlatform(deps);
  }
}

export async function keysRotate(opts: { algorithm?: string }): Promise<void> {
  const algorithm = opts.algorithm as SigningAlgorithm | undefined;
  await withRing(async (ring, deps) => {
    const result = await ring.rotate(algorithm);
    const audit = await createAuditService(
      { db: deps.db, clock: systemClock, config: deps.config },
      { createKey: true },
    );
    try {
      await audit.record({
        action: AUDIT_ACTIONS.keysRotated,
        actor: 'system',
        outcome: 'success',
        target: { type: 'signing_key', id: result.kid },
        metadata: { retired: result.retired, deleted: result.deleted, osUser: os.userInfo().username },
      });
    } finally {
      await audit.stop();
    }
    process.stdout.write(
      `New signing key ${result.kid}.` +
        (result.retired.length
          ? ` Retired ${result.retired.join(', ')} (still verifying until their tokens expire).`
          : '') +
        (result.deleted ? ` Deleted ${result.deleted} expired key(s).` : '') +
        '\n',
    );
  });
}

export async function keysList(opts: { json: boolean }): Promise<void> {
  await withRing(async (ring) => {
    const now = Date.now();
    const rows = ring.list().map((k) => ({
      kid: k.kid,
      alg: k.alg,
      source: k.source,
      state: k.expiresAt && k.expiresAt.getTime() <= now ? 'expired' : k.retiredAt ? 'verify-only' : 'signing',
      createdAt: k.createdAt.toISOString(),
      verifiesUntil: k.expiresAt?.toISOString() ?? null,
    }));
    if (opts.json) {
      process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      return;
    }
    for (const r of rows)
      process.stdout.write(
        `${r.kid}  ${r.alg}  ${r.state}  created ${r.createdAt}${r.verifiesUntil ? `  verifies until ${r.verifiesUntil}` : ''}\n`,
      );
  });
}
