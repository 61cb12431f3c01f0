/**
 * Password hashing parameters. The suite hashes with cheap argon2 parameters to run fast
 * (test/setup.ts, test/helpers/argon2.ts); these tests pin down that this can only ever happen in
 * a test run: production hashes are argon2id m=19 MiB, t=2, p=1, the override is refused by any
 * process that is not a vitest worker with NODE_ENV=test, and no code under src/ calls it.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_ARGON2_OPTIONS, useRealArgon2 } from '../../test/helpers/argon2.js';
import { ROOT, runTs } from '../../test/helpers/spawn.js';
import { hashPassword, needsRehash, useTestArgon2Options, verifyPassword } from './password.js';

const PRODUCTION_PREFIX = '$argon2id$v=19$m=19456,t=2,p=1$';
const OVERRIDE = 'test/support/users/argon2-override.ts';

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(full)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

describe('argon2 parameters', () => {
  it('hashes with the production parameters (m=19 MiB, t=2, p=1) when a test asks for them', async () => {
    useRealArgon2();
    const hash = await hashPassword('Violet-Harbor-Lantern-42');
    expect(hash.startsWith(PRODUCTION_PREFIX)).toBe(true);
    expect(needsRehash(hash)).toBe(false);
    expect(await verifyPassword(hash, 'Violet-Harbor-Lantern-42')).toBe(true);
  });

  it('the suite hashes cheaply (test/setup.ts), and such a hash is one a production login upgrades', async () => {
    const cheap = await hashPassword('Violet-Harbor-Lantern-42');
    expect(cheap.startsWith('$argon2id$v=19$m=8,t=1,p=1$')).toBe(true);
    expect(await verifyPassword(cheap, 'Violet-Harbor-Lantern-42')).toBe(true);
    useRealArgon2();
    expect(needsRehash(cheap)).toBe(true);
  });

  it('a process started the way npm start starts it (NODE_ENV=production, no vitest) refuses the override', async () => {
    const run = await runTs(OVERRIDE, [], { env: { NODE_ENV: 'production', VITEST: '' }, timeoutMs: 110_000 });
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { refused: boolean; error: string; prefix: string };
    expect(out.refused).toBe(true);
    expect(out.error).toMatch(/test runs only/);
    expect(out.prefix).toBe(PRODUCTION_PREFIX);
  }, 120_000);

  it.each([
    ['NODE_ENV=production inside a vitest worker', { NODE_ENV: 'production', VITEST: 'true' }],
    ['NODE_ENV=test outside vitest', { NODE_ENV: 'test', VITEST: undefined }],
    ['NODE_ENV unset', { NODE_ENV: undefined, VITEST: 'true' }],
  ])('refuses the override with %s', async (_, env) => {
    const saved = { NODE_ENV: process.env['NODE_ENV'], VITEST: process.env['VITEST'] };
    const set = (vars: Record<string, string | undefined>) => {
      for (const [k, v] of Object.entries(vars)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    };
    set(env);
    try {
      expect(() => useTestArgon2Options(TEST_ARGON2_OPTIONS)).toThrow(/test runs only/);
    } finally {
      set(saved);
    }
    // Still the suite's parameters: the refused call changed nothing.
    expect((await hashPassword('Violet-Harbor-Lantern-42')).startsWith('$argon2id$v=19$m=8,t=1,p=1$')).toBe(true);
  });

  it('no code under src/ calls the override (only its definition and tests mention it)', async () => {
    const callers: string[] = [];
    for (const file of await sourceFiles(path.join(ROOT, 'src'))) {
      if (path.relative(ROOT, file) === path.join('src', 'users', 'password.ts')) continue;
      if ((await readFile(file, 'utf8')).includes('useTestArgon2Options')) callers.push(path.relative(ROOT, file));
    }
    expect(callers).toEqual([]);
  });
});
