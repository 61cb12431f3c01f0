/**
 * Where the checkpoint signing key comes from: AUDIT_SIGNING_KEY, or (embedded mode only) a key
 * generated once under DATA_DIR/secrets. Production refuses to start without a configured key
 * (src/config/index.ts): a generated key would differ per node and die with the machine.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config/index.js';
import { loadOrCreateSecret } from '../../platform/secrets/index.js';
import { parsePiiKey } from './pii.js';
import { parseSigningKey, type SigningKey } from './signing.js';

export const GENERATED_KEY_NAME = 'audit-signing';

export async function resolveSigningKey(
  config: Pick<Config, 'AUDIT_SIGNING_KEY' | 'DATA_DIR'>,
  options: { create: boolean },
): Promise<SigningKey | undefined> {
  if (config.AUDIT_SIGNING_KEY) return parseSigningKey(config.AUDIT_SIGNING_KEY);
  if (options.create) return parseSigningKey(await loadOrCreateSecret(config.DATA_DIR, GENERATED_KEY_NAME, 32));
  try {
    return parseSigningKey(await readFile(path.resolve(config.DATA_DIR, 'secrets', GENERATED_KEY_NAME), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export const GENERATED_PII_KEY_NAME = 'audit-pii';

/**
 * AUDIT_PII_KEY, the key that wraps the audit log's personal-data keys (./pii.ts), or (embedded
 * mode only) one generated once under DATA_DIR/secrets. Never stored in the database, so a backup
 * holds only wrapped keys. Production refuses to start without it (src/config/index.ts).
 */
export async function resolvePiiKey(config: Pick<Config, 'AUDIT_PII_KEY' | 'DATA_DIR'>): Promise<Buffer> {
  if (config.AUDIT_PII_KEY) return config.AUDIT_PII_KEY;
  return parsePiiKey(await loadOrCreateSecret(config.DATA_DIR, GENERATED_PII_KEY_NAME, 32));
}
