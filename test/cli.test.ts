/**
 * The admin CLI as an operator uses it: passwords only from stdin, one clear sentence and a
 * non-zero exit on every mistake, --help everywhere. The commands run in this process
 * (test/helpers/cli.ts), on a fresh DATA_DIR: creating the embedded database is tested here. The
 * last describe spawns the real binary, where the process boundary is what is tested.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from './helpers/cli.js';
import { runTs } from './helpers/spawn.js';
import { TEST_DATABASE_URL } from './helpers/services.js';

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-cli-'));
  // The CLI always runs on the embedded database here: it must not touch a shared test database.
  env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  void TEST_DATABASE_URL;
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const cli = (args: string[], input?: string) =>
  runCliInProcess(args, { env, ...(input === undefined ? {} : { input }) });

describe('cli', () => {
  it('db migrate applies, then has nothing to do', async () => {
    const first = await cli(['db', 'migrate']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Applied migrations 1.*schema version is \d+/);
    const second = await cli(['db', 'migrate']);
    expect(second.stdout).toMatch(/Nothing to apply/);
    // Creates the embedded database (initdb in a child process): tens of seconds on a loaded machine.
  }, 180_000);

  it('users create reads the password from stdin and users list shows the user', async () => {
    const created = await cli(
      ['users', 'create', '--email', 'root@example.test', '--name', 'Root', '--role', 'admin'],
      'Violet-Harbor-Lantern-42\n',
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^Created admin root@example\.test \([0-9a-f-]{36}\)\.\n$/);
    const listed = await cli(['users', 'list', '--json']);
    expect(listed.code).toBe(0);
    const users = JSON.parse(listed.stdout) as { email: string; role: string }[];
    expect(users).toContainEqual(expect.objectContaining({ email: 'root@example.test', role: 'admin' }));
  }, 60_000);

  it('refuses a password given on the command line (there is no such option)', async () => {
    const res = await cli([
      'users',
      'create',
      '--email',
      'x@example.test',
      '--name',
      'X',
      '--password',
      'Violet-Harbor-Lantern-42',
    ]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/unknown option '--password'/);
  });

  it.each([
    [
      ['users', 'create', '--email', 'y@example.test', '--name', 'Y', '--role', 'god'],
      'Violet-Harbor-Lantern-42',
      /Unknown role "god"/,
    ],
    [['users', 'create', '--email', 'nope', '--name', 'Y'], 'Violet-Harbor-Lantern-42', /not an email address/],
    [['users', 'create', '--email', 'z@example.test', '--name', 'Z'], 'password1234', /password/i],
    [
      ['users', 'create', '--email', 'root@example.test', '--name', 'Again'],
      'Violet-Harbor-Lantern-43',
      /already exists/,
    ],
    [['users', 'create', '--email', 'w@example.test', '--name', 'W'], '', /No password/],
    [['frobnicate'], '', /unknown command/],
  ])(
    'fails with one clear sentence: %j',
    async (args, input, message) => {
      const res = await cli(args, input);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(message);
      expect(res.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    },
    60_000,
  );

  it('fails clearly on bad configuration', async () => {
    const res = await runCliInProcess(['users', 'list'], { env: { ...env, DATABASE_URL: 'mysql://nope' } });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/DATABASE_URL/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help works on every command', async () => {
    for (const args of [
      ['--help'],
      ['users', '--help'],
      ['users', 'create', '--help'],
      ['users', 'list', '--help'],
      ['db', 'migrate', '--help'],
    ]) {
      const res = await cli(args);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/Usage:/);
    }
  }, 60_000);
});

/**
 * SPAWNED, on purpose: the real `portfolio-admin` process (src/cli/main.ts under tsx), because the
 * process boundary is what these check: its exit status, and a configuration that fails before any
 * command loads gives one clear sentence and no stack trace. Keep this list short (2-4 s each).
 */
describe('cli: the real binary', () => {
  const real = (args: string[], extraEnv: Record<string, string> = {}) =>
    runTs('src/cli/main.ts', args, { env: { ...env, ...extraEnv } });

  it('exits 0 after --help and 1 after an unknown command, with one sentence', async () => {
    const help = await real(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: portfolio-admin/);
    const unknown = await real(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(unknown.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  }, 60_000);

  it('fails clearly on bad configuration: non-zero exit, names the variable, no stack trace', async () => {
    const res = await real(['users', 'list'], { DATABASE_URL: 'mysql://nope' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/DATABASE_URL/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
