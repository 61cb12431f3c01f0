/**
 * `users create|list` and `db migrate`: loaded only when one of them runs (src/cli/index.ts
 * registers them without importing this module).
 */
import type { Config } from '../config/index.js';
import { loadConfig } from '../config/index.js';
import { openDatabase } from '../platform/bootstrap.js';
import type { Db } from '../platform/db/index.js';
import { currentVersion, migrate } from '../platform/db/migrate.js';
import { AppError } from '../http/errors.js';
import { validateRoleNames } from '../users/policy.js';
import { UsersService, toPublicUser } from '../users/service.js';
import { CliError } from './errors.js';
import { cliStdin } from './io.js';

export async function readStdin(stream: NodeJS.ReadableStream = cliStdin()): Promise<string> {
  if ((stream as NodeJS.ReadStream).isTTY) {
    throw new CliError(
      'Pipe the password on standard input, e.g. `printf %s "$PASSWORD" | portfolio-admin users create ...`.',
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  // One trailing newline (from echo or a heredoc) is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function withDb<T>(
  fn: (db: Db, config: Config) => Promise<T>,
  options: { migrate?: boolean } = { migrate: true },
): Promise<T> {
  const config = loadConfig();
  const db = await openDatabase(config).catch((err: unknown) => {
    throw new CliError(`Cannot open the database: ${err instanceof Error ? err.message : String(err)}.`);
  });
  try {
    if (options.migrate !== false) await migrate(db);
    return await fn(db, config);
  } finally {
    await db.close();
  }
}

/**
 * The roles exist in the role table (built-in or custom, `validateRoleNames`, the one check of
 * role names): an unknown one is one sentence naming the roles there are. Checked before the
 * password is read; the insert checks them again in its transaction.
 */
async function checkRoles(db: Db, service: UsersService, roles: readonly string[]): Promise<void> {
  try {
    await validateRoleNames(roles, db);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'UNKNOWN_ROLE') throw err;
    const known = (await service.roles.list()).map((r) => r.name);
    const name = roles.find((r) => !known.includes(r)) ?? roles[0];
    throw new CliError(`Unknown role "${name}": use one of ${known.join(', ')} (or create it with \`roles create\`).`);
  }
}

/** Options are checked by the caller (src/cli/index.ts) before this module is even loaded. */
export async function usersCreate(opts: {
  email: string;
  name: string;
  /** One or more role names (built-in or custom), without duplicates. */
  roles: readonly string[];
  mustChangePassword: boolean;
}): Promise<void> {
  await withDb(async (db, config) => {
    const service = new UsersService(db, config.PASSWORD_MIN_SCORE);
    await checkRoles(db, service, opts.roles);
    const password = await readStdin();
    if (password === '') throw new CliError('No password on standard input.');
    const user = await service.create({
      email: opts.email,
      name: opts.name,
      password,
      roles: opts.roles,
      mustChangePassword: opts.mustChangePassword,
    });
    const u = toPublicUser(user);
    process.stdout.write(
      `Created ${u.roles.join(', ')} ${u.email} (${u.id})${u.mustChangePassword ? '; the password must be changed at first login' : ''}.\n`,
    );
  });
}

export async function usersList(opts: { json: boolean }): Promise<void> {
  await withDb(async (db, config) => {
    const service = new UsersService(db, config.PASSWORD_MIN_SCORE);
    const all = [];
    let after: string | undefined;
    for (;;) {
      const page = await service.repo.list({ limit: 500, after });
      all.push(...page.map(toPublicUser));
      if (page.length < 500) break;
      after = page.at(-1)?.id;
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
      return;
    }
    if (all.length === 0) {
      process.stdout.write('No users.\n');
      return;
    }
    for (const u of all) {
      process.stdout.write(
        `${u.id}  ${u.role.padEnd(6)}  ${u.disabled ? 'disabled' : 'active  '}  ${u.email}  ${u.name}\n`,
      );
    }
  });
}

export async function dbMigrate(): Promise<void> {
  await withDb(
    async (handle) => {
      const applied = await migrate(handle);
      const version = await currentVersion(handle);
      process.stdout.write(
        applied.length > 0
          ? `Applied migrations ${applied.join(', ')}; schema version is ${version}.\n`
          : `Nothing to apply; schema version is ${version}.\n`,
      );
    },
    { migrate: false },
  );
}
