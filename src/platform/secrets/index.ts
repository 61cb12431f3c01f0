import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Embedded mode only: a secret the operator did not configure is generated once and kept in
 * DATA_DIR/secrets (mode 0600), so tokens survive restarts on a laptop. Production refuses to
 * start without configured secrets (see config), because a generated key differs per node.
 */
export async function loadOrCreateSecret(dataDir: string, name: string, bytes = 48): Promise<string> {
  if (!/^[a-z0-9_-]+$/.test(name)) throw new Error(`invalid secret name ${name}`);
  const dir = path.resolve(dataDir, 'secrets');
  const file = path.join(dir, name);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(bytes).toString('base64url');
  // 'wx' fails if another process created it meanwhile; then read theirs so both agree.
  try {
    await writeFile(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return (await readFile(file, 'utf8')).trim();
  }
}
