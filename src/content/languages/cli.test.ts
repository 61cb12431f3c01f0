/** `portfolio-admin languages ...` as an operator uses it: the same rules as the API, one clear sentence on a mistake. */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDataDir, runCliInProcess } from '../../../test/helpers/cli.js';

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await migratedDataDir('pf-cli-lang-');
  // The embedded database only: the CLI must not touch a shared test database.
  env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCliInProcess(['languages', ...args], { env });

describe('cli languages', () => {
  it('adds, lists, switches the default and removes', async () => {
    const added = await cli(['add', 'PT-br', '--fallback', 'en']);
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(
      /^Added pt-BR {2}Brazilian Portuguese \(português \(Brasil\)\) {2}falls back to en\.\n$/,
    );
    const setDefault = await cli(['set-default', 'pt-br']);
    expect(setDefault.stdout).toBe('The default language is now pt-BR.\n');
    const listed = await cli(['list', '--json']);
    const all = JSON.parse(listed.stdout) as { code: string; isDefault: boolean }[];
    expect(all.map((l) => [l.code, l.isDefault])).toEqual([
      ['pt-BR', true],
      ['en', false],
    ]);
    // The default cannot go; another language can.
    const refused = await cli(['remove', 'pt-BR']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^"pt-BR" is the default language and cannot be deleted/);
    expect((await cli(['set-default', 'en'])).code).toBe(0);
    const removed = await cli(['remove', 'pt-BR']);
    expect(removed.stdout).toBe('Removed pt-BR.\n');
  }, 300_000);

  it('fails with one clear sentence on a bad code or a fallback loop', async () => {
    const bad = await cli(['add', 'english']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/is not a language tag/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect((await cli(['add', 'es'])).code).toBe(0);
    const loop = await cli(['add', 'gl', '--fallback', 'gl']);
    expect(loop.stderr).toMatch(/would loop/);
  }, 300_000);
});
