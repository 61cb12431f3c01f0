/**
 * `portfolio-admin roles ...` as an operator uses it, on the embedded database of a temporary
 * DATA_DIR: the API's rules hold at the command line too (the last user:manage holder, a role in
 * use, unknown permissions), each mistake is one sentence and a non-zero exit.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDataDir, runCliInProcess } from '../../test/helpers/cli.js';

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await migratedDataDir('pf-cli-roles-');
  env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const cli = (args: string[], input?: string) =>
  runCliInProcess(args, { env, ...(input === undefined ? {} : { input }) });

describe('roles cli', () => {
  it('creates, grants, lists, refuses what the API refuses, and deletes with reassignment', async () => {
    expect(
      (
        await cli(
          ['users', 'create', '--email', 'root@example.test', '--name', 'Root', '--role', 'admin'],
          'Violet-Harbor-Lantern-42\n',
        )
      ).code,
    ).toBe(0);
    expect(
      (await cli(['users', 'create', '--email', 'tr@example.test', '--name', 'Tr'], 'Violet-Harbor-Lantern-43\n')).code,
    ).toBe(0);

    const bad = await cli([
      'roles',
      'create',
      'translator-es',
      '--permissions',
      'content:write_any,root:all',
      '--languages',
      'es',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Unknown permission: root:all/);

    const createTranslator = () =>
      cli([
        'roles',
        'create',
        'translator-es',
        '--permissions',
        'content:read_any,content:write_any',
        '--languages',
        'es',
      ]);
    const notEnabled = await createTranslator();
    expect(notEnabled.code).not.toBe(0);
    expect(notEnabled.stderr).toMatch(/"es" is not an enabled language/);
    expect((await cli(['languages', 'add', 'es'])).code).toBe(0);

    const made = await createTranslator();
    expect(made.stderr).toBe('');
    expect(made.stdout).toMatch(/Created role translator-es/);
    expect((await cli(['roles', 'grant', 'tr@example.test', 'translator-es'])).stdout).toMatch(
      /now holds translator-es, user/,
    );

    const listed = JSON.parse((await cli(['roles', 'list', '--json'])).stdout) as {
      name: string;
      userCount: number;
      languages: string[] | null;
    }[];
    expect(listed.find((r) => r.name === 'translator-es')).toMatchObject({ userCount: 1, languages: ['es'] });

    expect((await cli(['roles', 'grant', 'root@example.test', 'user'])).code).toBe(0);
    const last = await cli(['roles', 'revoke', 'root@example.test', 'admin']);
    expect(last.code).not.toBe(0);
    expect(last.stderr).toMatch(/user:manage/);
    const inUse = await cli(['roles', 'delete', 'translator-es']);
    expect(inUse.code).not.toBe(0);
    expect(inUse.stderr).toMatch(/reassignTo/);
    const deleted = await cli(['roles', 'delete', 'translator-es', '--reassign-to', 'user']);
    expect(deleted.code).toBe(0);
    const users = JSON.parse((await cli(['users', 'list', '--json'])).stdout) as { email: string; roles: string[] }[];
    expect(users.find((u) => u.email === 'tr@example.test')?.roles).toEqual(['user']);
  }, 400_000);

  it('users create takes any existing role, custom ones included, repeatable; an unknown one is one sentence and exit 1', async () => {
    const made = await cli(['roles', 'create', 'reviewer', '--permissions', 'content:read_any']);
    expect(made.code, made.stderr).toBe(0);

    const created = await cli(
      ['users', 'create', '--email', 'rev@example.test', '--name', 'Rev', '--role', 'reviewer', '--role', 'editor'],
      'Violet-Harbor-Lantern-44\n',
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(
      /^Created (editor, reviewer|reviewer, editor) rev@example\.test \([0-9a-f-]{36}\)\.\n$/,
    );
    const alone = await cli(
      ['users', 'create', '--email', 'rev2@example.test', '--name', 'Rev2', '--role', 'reviewer', '--role', 'reviewer'],
      'Violet-Harbor-Lantern-45\n',
    );
    expect(alone.code, alone.stderr).toBe(0);

    for (const roles of [['ghost'], ['editor', 'ghost'], ['Reviewer']]) {
      const email = `bad-${roles.length}-${roles.at(-1)!.length}@example.test`;
      const res = await cli(
        ['users', 'create', '--email', email, '--name', 'Bad', ...roles.flatMap((r) => ['--role', r])],
        'Violet-Harbor-Lantern-46\n',
      );
      expect(res.code, roles.join(' ')).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/^Unknown role "[^"]+": use one of [a-z, -]*\breviewer\b.*\.\n$/);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
    }

    const users = JSON.parse((await cli(['users', 'list', '--json'])).stdout) as { email: string; roles: string[] }[];
    expect(users.find((u) => u.email === 'rev@example.test')?.roles.sort()).toEqual(['editor', 'reviewer']);
    expect(users.find((u) => u.email === 'rev2@example.test')?.roles).toEqual(['reviewer']);
    // No account was made for any refused command.
    expect(users.filter((u) => u.email.startsWith('bad-'))).toEqual([]);
  }, 400_000);
});
