import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { loadEnvFile } from '../config/env-file.js';
import { AppError } from '../http/errors.js';
import { openDatabase } from '../platform/bootstrap.js';
import type { Db } from '../platform/db/index.js';
import { currentVersion, migrate } from '../platform/db/migrate.js';
import { ROLES, type Role } from '../users/policy.js';
import { UsersService, toPublicUser } from '../users/service.js';
import { registerAuditCommands } from './audit.js';
import { registerBackupCommands } from './backup.js';

/**
 * The admin CLI: thin commands over the modules. Every failure is one sentence on stderr and a
 * non-zero exit; no stack traces for operator mistakes.
 */
class CliError extends Error {}

export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if ((stream as NodeJS.ReadStream).isTTY) {
    throw new CliError('Pipe the password on standard input, e.g. `printf %s "$PASSWORD" | portfolio-admin users create ...`.');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  // One trailing newline (from echo or a heredoc) is not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function withDb<T>(fn: (db: Db, config: Config) => Promise<T>, options: { migrate?: boolean } = { migrate: true }): Promise<T> {
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

export function buildCli(): Command {
  const program = new Command('portfolio-admin')
    .description('Administer the portfolio backend (uses the same configuration as the server).')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const users = program.command('users').description('Manage user accounts.');
  users
    .command('create')
    .description('Create a user; the password is read from standard input, never from the command line.')
    .requiredOption('--email <email>', 'the login email')
    .requiredOption('--name <name>', 'display name')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'user')
    .option('--must-change-password', 'force a password change at first login', false)
    .action(async (opts: { email: string; name: string; role: string; mustChangePassword: boolean }) => {
      if (!(ROLES as readonly string[]).includes(opts.role)) {
        throw new CliError(`Unknown role "${opts.role}": use one of ${ROLES.join(', ')}.`);
      }
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(opts.email)) throw new CliError(`"${opts.email}" is not an email address.`);
      const password = await readStdin();
      if (password === '') throw new CliError('No password on standard input.');
      await withDb(async (db, config) => {
        const service = new UsersService(db, config.PASSWORD_MIN_SCORE);
        const user = await service.create({
          email: opts.email,
          name: opts.name,
          password,
          role: opts.role as Role,
          mustChangePassword: opts.mustChangePassword,
        });
        const u = toPublicUser(user);
        process.stdout.write(`Created ${u.role} ${u.email} (${u.id}).\n`);
      });
    });

  users
    .command('list')
    .description('List users.')
    .option('--json', 'print JSON instead of a table', false)
    .action(async (opts: { json: boolean }) => {
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
          process.stdout.write(`${u.id}  ${u.role.padEnd(6)}  ${u.disabled ? 'disabled' : 'active  '}  ${u.email}  ${u.name}\n`);
        }
      });
    });

  const db = program.command('db').description('Database maintenance.');
  db.command('migrate')
    .description('Apply pending migrations (the server also does this at start).')
    .action(async () => {
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
    });

  registerAuditCommands(program);
  registerBackupCommands(program);

  for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    cmd.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
  }
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    loadEnvFile();
    await buildCli().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0; usage errors were already printed.
      return err.exitCode;
    }
    const message =
      err instanceof ConfigError
        ? err.message
        : err instanceof CliError || err instanceof AppError
          ? err.message
          : `Unexpected error: ${err instanceof Error ? err.message : String(err)}`;
    process.stderr.write(`${message.replace(/\.?$/, '.')}\n`);
    return 1;
  }
}
