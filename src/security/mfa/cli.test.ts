/** `mfa rewrap-keys` as an operator runs it after adding a key (the rewrap itself: totp-login.test.ts). */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDataDir, runCliInProcess } from '../../../test/helpers/cli.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await migratedDataDir('pf-mfa-cli-');
});
afterAll(async () => rm(dataDir, { recursive: true, force: true }));

describe('mfa CLI', () => {
  it('rewrap-keys runs against the configured database and reports what it did', async () => {
    const res = await runCliInProcess(['mfa', 'rewrap-keys'], {
      env: { DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Re-encrypted 0 TOTP secret\(s\) under key \S+\.\n$/);
  }, 60_000);

  it('refuses a malformed MFA_ENCRYPTION_KEY by naming it, without a stack trace', async () => {
    const res = await runCliInProcess(['mfa', 'rewrap-keys'], {
      env: { DATA_DIR: dataDir, LOG_LEVEL: 'silent', MFA_ENCRYPTION_KEY: 'short' },
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/MFA_ENCRYPTION_KEY/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
