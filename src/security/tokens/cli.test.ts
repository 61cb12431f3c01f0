/** `keys rotate|list` as an operator runs them, against the embedded database of DATA_DIR. */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDataDir, runCliInProcess } from '../../../test/helpers/cli.js';

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await migratedDataDir('pf-keys-cli-');
  env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
});
afterAll(async () => rm(dataDir, { recursive: true, force: true }));

const cli = (args: string[]) => runCliInProcess(args, { env });

describe('keys CLI', () => {
  it('rotate adds a signing key and retires the old one; list shows both', async () => {
    const first = await cli(['keys', 'list', '--json']);
    expect(first.stderr).toBe('');
    const before = JSON.parse(first.stdout) as { kid: string; state: string }[];
    expect(before.map((k) => k.state)).toEqual(['signing']);

    const rotated = await cli(['keys', 'rotate']);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(new RegExp(`^New signing key [A-Za-z0-9_-]+\\. Retired ${before[0]?.kid}`));

    const after = JSON.parse((await cli(['keys', 'list', '--json'])).stdout) as {
      kid: string;
      state: string;
      alg: string;
    }[];
    expect(after).toHaveLength(2);
    expect(after.find((k) => k.kid === before[0]?.kid)?.state).toBe('verify-only');
    expect(after.filter((k) => k.state === 'signing')).toHaveLength(1);

    const es = await cli(['keys', 'rotate', '--algorithm', 'ES256']);
    expect(es.code).toBe(0);
    const last = JSON.parse((await cli(['keys', 'list', '--json'])).stdout) as { state: string; alg: string }[];
    expect(last.find((k) => k.state === 'signing')?.alg).toBe('ES256');
  }, 90_000);

  it('refuses an unknown algorithm with one sentence', async () => {
    const res = await cli(['keys', 'rotate', '--algorithm', 'HS256']);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('Unknown algorithm "HS256": use EdDSA or ES256.\n');
  }, 30_000);

  it('refuses when JWT_SECRET no longer matches the stored keys', async () => {
    const res = await runCliInProcess(['keys', 'list'], {
      env: { ...env, JWT_SECRET: 'a-different-secret-of-at-least-32-characters' },
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /^signing key \S+ cannot be decrypted: JWT_SECRET differs from the one it was stored with\.\n$/,
    );
  }, 30_000);
});
