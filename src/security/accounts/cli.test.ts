/** `users create --temporary-password` (and its alias --must-change-password) through the real CLI. */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDataDir, runCliInProcess } from '../../../test/helpers/cli.js';

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await migratedDataDir('pf-cli-accounts-');
  env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const cli = (args: string[], input?: string) =>
  runCliInProcess(args, { env, ...(input === undefined ? {} : { input }) });

describe('users create', () => {
  it('--temporary-password and --must-change-password mark the account; without them it is not', async () => {
    for (const [email, flag] of [
      ['temp@example.test', '--temporary-password'],
      ['alias@example.test', '--must-change-password'],
      ['plain@example.test', null],
    ] as const) {
      const res = await cli(
        ['users', 'create', '--email', email, '--name', 'T', ...(flag ? [flag] : [])],
        'Violet-Harbor-Lantern-42\n',
      );
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout.includes('must be changed at first login')).toBe(flag !== null);
    }
    const list = await cli(['users', 'list', '--json']);
    const users = JSON.parse(list.stdout) as { email: string; mustChangePassword: boolean }[];
    const flags = Object.fromEntries(users.map((u) => [u.email, u.mustChangePassword]));
    expect(flags).toEqual({ 'temp@example.test': true, 'alias@example.test': true, 'plain@example.test': false });
  }, 120_000);
});
