/** `portfolio-admin settings ...` as an operator uses it: the API's checks, one clear sentence on a mistake. */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDataDir, runCliInProcess } from '../../test/helpers/cli.js';

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await migratedDataDir('pf-cli-settings-');
  // The embedded database only: the CLI must not touch a shared test database.
  env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCliInProcess(['settings', ...args], { env });

describe('cli settings', () => {
  it('sets, shows and resets a setting; refuses a bad key or value in one sentence', async () => {
    const set = await cli(['set', 'publicCacheMaxAge', '120']);
    expect(set.stderr).toBe('');
    expect(set.stdout).toBe('publicCacheMaxAge is now 120 (database).\n');
    const got = JSON.parse((await cli(['get', '--json'])).stdout) as Record<string, { value: unknown; source: string }>;
    expect(got['publicCacheMaxAge']).toMatchObject({ value: 120, source: 'database' });
    expect(got['siteName']).toMatchObject({ value: 'Portfolio', source: 'default' });
    expect((await cli(['reset', 'publicCacheMaxAge'])).stdout).toBe('publicCacheMaxAge is now 60 (default).\n');
    const badKey = await cli(['set', 'isAdmin', 'true']);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/^Unknown setting "isAdmin"/);
    const badValue = await cli(['set', 'publicCacheMaxAge', '-5']);
    expect(badValue.code).toBe(1);
    expect(badValue.stderr).toMatch(/is not a valid value for publicCacheMaxAge/);
    expect(badValue.stderr).not.toMatch(/\n\s+at /);
  }, 300_000);
});
