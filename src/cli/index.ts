import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.js';
import { loadEnvFile } from '../config/env-file.js';
import { AppError } from '../http/errors.js';
import { ROLES, type Role } from '../users/policy.js';
import { registerAuditCommands } from './audit.js';
import { registerBackupCommands } from './backup.js';
import { CliError } from './errors.js';

/**
 * The admin CLI: thin commands over the modules. Every failure is one sentence on stderr and a
 * non-zero exit; no stack traces for operator mistakes.
 *
 * Commands are registered cheaply and loaded lazily: this file (and each register*Commands)
 * imports only commander and light modules, and every action loads its implementation with
 * `await import(...)` when it runs. `backup create` then loads the backup code and nothing
 * else, which keeps the start fast and the memory inside the backup's budget. To add a command
 * (e.g. `keys rotate`), declare its name, description and options here, and put the work in a
 * module of its own:
 *
 *   keys.command('rotate').description('...').option('--dry-run', '...', false)
 *     .action(async (opts: { dryRun: boolean }) => (await import('./keys.js')).keysRotate(opts));
 *
 * Never import a service, the database or a command module at the top of this file.
 */
interface UsersCreateOptions {
  email: string;
  name: string;
  role: string;
  mustChangePassword: boolean;
  temporaryPassword: boolean;
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
    .option('--temporary-password', 'the password is temporary: the user must change it at first login', false)
    .option('--must-change-password', 'same as --temporary-password', false)
    .action(async (opts: UsersCreateOptions) => {
      if (!(ROLES as readonly string[]).includes(opts.role)) {
        throw new CliError(`Unknown role "${opts.role}": use one of ${ROLES.join(', ')}.`);
      }
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(opts.email))
        throw new CliError(`"${opts.email}" is not an email address.`);
      const { usersCreate } = await import('./users.js');
      await usersCreate({
        email: opts.email,
        name: opts.name,
        role: opts.role as Role,
        // --temporary-password (docs/ACCOUNT_SECURITY.md); --must-change-password is its older name.
        mustChangePassword: opts.mustChangePassword || opts.temporaryPassword,
      });
    });

  users
    .command('list')
    .description('List users.')
    .option('--json', 'print JSON instead of a table', false)
    .action(async (opts: { json: boolean }) => (await import('./users.js')).usersList(opts));

  const db = program.command('db').description('Database maintenance.');
  db.command('migrate')
    .description('Apply pending migrations (the server also does this at start).')
    .action(async () => (await import('./users.js')).dbMigrate());

  const keys = program.command('keys').description('The JWT signing key ring (docs/JWT_SECURITY_GUIDE.md).');
  keys
    .command('rotate')
    .description('Add a new signing key; older keys stop signing and keep verifying until their tokens expire.')
    .option('--algorithm <alg>', 'EdDSA or ES256 (default: JWT_ALGORITHM)')
    .action(async (opts: { algorithm?: string }) => {
      if (opts.algorithm !== undefined && opts.algorithm !== 'EdDSA' && opts.algorithm !== 'ES256') {
        throw new CliError(`Unknown algorithm "${opts.algorithm}": use EdDSA or ES256.`);
      }
      await (await import('./keys.js')).keysRotate(opts);
    });
  keys
    .command('list')
    .description('List the signing keys and what each still does.')
    .option('--json', 'print JSON', false)
    .action(async (opts: { json: boolean }) => (await import('./keys.js')).keysList(opts));

  program
    .command('mfa')
    .description('Multi-factor authentication (docs/MFA.md).')
    .command('rewrap-keys')
    .description('Re-encrypt every TOTP secret under the first key of MFA_ENCRYPTION_KEY (after adding a new key).')
    .action(async () => (await import('./mfa.js')).mfaRewrapKeys());

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
