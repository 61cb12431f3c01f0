import path from 'node:path';
import type { AppDeps } from '../app.js';
import type { Config } from '../config/index.js';
import { systemClock, type Clock } from './clock.js';
import { openDb, type Db } from './db/index.js';
import { freshDatabaseSteps, migrate } from './db/migrate.js';
import { loadOrCreateSecret } from './secrets/index.js';

/**
 * Opens the platform adapters the configuration asks for (embedded defaults when nothing is
 * configured) and applies pending migrations. Shared by the server and the CLI.
 */
export async function openPlatform(config: Config, clock: Clock = systemClock): Promise<AppDeps> {
  // A new embedded database is migrated by the child that creates it (platform/db/pglite.ts);
  // migrate() then finds nothing to do. Everywhere else it applies what is pending.
  const db = await openDatabase(config, { migrateNew: true });
  try {
    await migrate(db);
    // Loaded here, not at import: CLI commands that only open the database never load the KV
    // adapters (and their Redis client).
    const { openKv } = await import('./kv/index.js');
    const kv = await openKv({ url: config.REDIS_URL, prefix: config.KV_PREFIX, now: () => clock.now().getTime() });
    const jwt = config.JWT_SECRET ?? (await loadOrCreateSecret(config.DATA_DIR, 'jwt'));
    return { config, db, kv, clock, secrets: { jwt } };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

/** `migrateNew`: a new embedded database is created with every migration applied. */
export function openDatabase(config: Config, options: { migrateNew?: boolean } = {}): Promise<Db> {
  return openDb({
    url: config.DATABASE_URL,
    dataDir: path.join(config.DATA_DIR, 'pgdata'),
    poolSize: config.DATABASE_POOL_SIZE,
    ...(options.migrateNew ? { firstBoot: freshDatabaseSteps() } : {}),
  });
}

export async function closePlatform(deps: Pick<AppDeps, 'db' | 'kv'>): Promise<void> {
  await Promise.allSettled([deps.kv.close(), deps.db.close()]);
}
