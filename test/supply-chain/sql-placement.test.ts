/**
 * docs/ARCHITECTURE.md: repositories are the only code with SQL. The lint rule
 * `project/sql-placement` (eslint.config.js, part of `npm run lint`) refuses SQL text anywhere
 * else in src/; these tests plant queries and check that the real rule, as configured for each
 * path, refuses them outside a repository and lets them be inside one.
 */
import { readFile } from 'node:fs/promises';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const RULE = 'project/sql-placement';

/**
 * The rule exactly as eslint.config.js configures it for `filePath` (files, ignores and the
 * allow-list resolved by ESLint itself), run alone without type information, so planted text
 * can be linted without writing it into src/.
 */
async function problems(code: string, filePath: string, force = false): Promise<string[]> {
  const resolved = (await new ESLint().calculateConfigForFile(filePath)) as Linter.Config;
  const setting = force ? 'error' : resolved.rules?.[RULE];
  if (setting === undefined) return [];
  const eslint = new ESLint({
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        plugins: { project: (await sqlPlugin()) ?? {} },
        languageOptions: { parser: tseslint.parser },
        rules: { [RULE]: setting },
      },
    ],
  });
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? ''}: ${m.message}`);
}

/** The plugin that holds the rule, as the config for any src file loads it. */
async function sqlPlugin() {
  const resolved = (await new ESLint().calculateConfigForFile('src/app.ts')) as Linter.Config;
  return resolved.plugins?.['project'];
}

/** Queries in the shapes the code base writes them. */
const PLANTED = [
  "await db.query('select id, email from users where id = $1', [id]);",
  'await db.query(`select ${COLUMNS} from mail_outbox where id = $1`, [id]);',
  'await tx.query(`SELECT count(*)::int AS n FROM signing_keys`);',
  "await tx.query(`select pg_advisory_xact_lock(hashtext('signing_keys'))`);",
  'await tx.query(`insert into login_devices (user_id, family) values ($1, $2)`, [a, b]);',
  'await tx.query(`update users set email_verification_pending = true where id = $1`, [id]);',
  'await tx.query(`update one_time_tokens t set used_at = $2 from live`, [a, b]);',
  'await tx.query(`delete from password_history where user_id = $1`, [id]);',
  'await tx.query(`with live as (select 1) update t set x = 1 from live`);',
  'await client.query(`create database ${name} template template0`);',
  'const rows = await sql`select * from users where id = ${id}`;',
  'const rows = await db.sql`users where id = ${id}`;',
];

describe('SQL placement (SQL text only in repositories, migrations and the db platform)', () => {
  it('refuses each planted query in a service file', async () => {
    for (const line of PLANTED) {
      const found = await problems(`${line}\n`, 'src/security/accounts/flows.ts');
      expect(found, line).toEqual([expect.stringContaining(`${RULE}: SQL belongs in the feature's repository.ts`)]);
    }
  });

  it('refuses SQL in every kind of src file that is not a repository', async () => {
    const code = "export const q = 'select id from users where id = $1';\n";
    for (const file of [
      'src/security/tokens/keys.ts',
      'src/platform/mail/outbox.ts',
      'src/cli/backup-actions.ts',
      'src/backup/db.ts',
      'src/users/repository-helpers.ts',
      'src/security/accounts/planted.ts',
    ]) {
      expect(await problems(code, file), file).toHaveLength(1);
    }
  });

  it('lets a repository, the db platform and its migrations hold SQL, and tests seed tables freely', async () => {
    const code = PLANTED.join('\n') + '\n';
    for (const file of [
      'src/security/accounts/repository.ts',
      'src/users/repository.ts',
      'src/platform/mail/repository.ts',
      'src/platform/db/index.ts',
      'src/platform/db/migrations/0099_planted.ts',
      'src/security/accounts/flows.test.ts',
    ]) {
      expect(await problems(code, file), file).toEqual([]);
    }
  });

  it('does not mistake prose for SQL', async () => {
    const prose = [
      'Select a file to upload',
      'Delete a file and its stored objects',
      'Create a portfolio',
      'Reset my password',
      'Set BACKUP_PASSPHRASE or BACKUP_PASSPHRASE_FILE, not both',
      'update the settings and try again',
      'Cannot create the scratch database drill_x (the DATABASE_URL user needs CREATEDB)',
      'Delete backups older than BACKUP_RETENTION_DAYS, keeping the newest one',
      'with it as the owner',
    ];
    const code = prose.map((p, i) => `export const s${i} = ${JSON.stringify(p)};`).join('\n') + '\n';
    expect(await problems(code, 'src/security/accounts/flows.ts')).toEqual([]);
    // A restore plan's step, built in a template: "drop schemas public (12 tables), auth (3 tables)".
    const step =
      'export const step = `in one transaction: drop schema${n === 1 ? "" : "s"} ${names}, then load the dump`;\n';
    expect(await problems(step, 'src/backup/restore.ts')).toEqual([]);
  });

  it('each allow-listed file still holds SQL (no stale entry) and is allowed with a reason', async () => {
    const config = await readFile('eslint.config.js', 'utf8');
    const entries = [...config.matchAll(/file: '([^']+)',\s*reason: '([^']+)'/g)];
    expect(entries.length).toBeGreaterThan(0);
    for (const [, file = '', reason = ''] of entries) {
      expect(reason.length, file).toBeGreaterThan(20);
      const text = await readFile(file, 'utf8');
      expect(await problems(text, file), file).toEqual([]);
      expect((await problems(text, file, true)).length, file).toBeGreaterThan(0);
    }
  });

  it('runs in `npm run lint` on every src file', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['lint']).toBe('eslint .');
    const resolved = (await new ESLint().calculateConfigForFile('src/security/accounts/flows.ts')) as Linter.Config;
    expect(resolved.rules?.[RULE]).toEqual([2]);
  });
});
