import { Command, CommanderError } from 'commander';
import { loadEnvFile } from '../config/env-file.js';
import { AppError } from '../http/errors.js';
import { ROLES } from '../users/policy.js';
import { registerAuditCommands } from './audit.js';
import { registerBackupCommands } from './backup.js';
import { registerLanguageCommands } from './languages.js';
import { registerPrivacyCommands } from './privacy.js';
import { registerSettingsCommands } from './settings.js';
import { CliError } from './errors.js';
import { withCliStdin, type CliInput } from './io.js';

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
 * Never import a service, the database, the configuration schema or a command module at the top
 * of this file: `portfolio-admin --help` loads commander and this file's few light imports only
 * (test/footprint.test.ts).
 */
interface UsersCreateOptions {
  email: string;
  name: string;
  role: string[];
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
    .option(
      '--role <role>',
      `a role to grant: built-in (${ROLES.join(', ')}) or one made with \`roles create\` (repeatable; default: user)`,
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--temporary-password', 'the password is temporary: the user must change it at first login', false)
    .option('--must-change-password', 'same as --temporary-password', false)
    .action(async (opts: UsersCreateOptions) => {
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(opts.email))
        throw new CliError(`"${opts.email}" is not an email address.`);
      const { usersCreate } = await import('./users.js');
      await usersCreate({
        email: opts.email,
        name: opts.name,
        // Checked against the role table (custom roles included) before the password is read.
        roles: opts.role.length > 0 ? [...new Set(opts.role)] : ['user'],
        // --temporary-password (docs/ACCOUNT_SECURITY.md); --must-change-password is its older name.
        mustChangePassword: opts.mustChangePassword || opts.temporaryPassword,
      });
    });

  users
    .command('list')
    .description('List users.')
    .option('--json', 'print JSON instead of a table', false)
    .action(async (opts: { json: boolean }) => (await import('./users.js')).usersList(opts));

  const invitations = program
    .command('invitations')
    .description('Invite people to create an account (REGISTRATION=invite or closed; docs/ACCOUNT_SECURITY.md).');
  invitations
    .command('create')
    .description(
      'Invite an email into roles: queues the mail with a single-use link (INVITATION_TTL), and prints the link when mail only goes to the outbox folder (no SMTP_URL).',
    )
    .requiredOption('--email <email>', 'the address to invite')
    .option(
      '--role <role>',
      'a role to grant (repeatable; default: user)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async (opts: { email: string; role: string[] }) => {
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(opts.email))
        throw new CliError(`"${opts.email}" is not an email address.`);
      const roles = opts.role.length > 0 ? opts.role : ['user'];
      await (await import('./invitations.js')).invitationsCreate({ email: opts.email, roles });
    });
  invitations
    .command('list')
    .description('List invitations, newest first, with their state (pending, accepted, revoked, expired).')
    .option('--json', 'print JSON instead of a table', false)
    .action(async (opts: { json: boolean }) => (await import('./invitations.js')).invitationsList(opts));
  invitations
    .command('revoke')
    .description('Withdraw an invitation: its link stops working at once.')
    .argument('<id>', 'the invitation id (from `invitations list`)')
    .action(async (id: string) => {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
        throw new CliError(`"${id}" is not an invitation id.`);
      await (await import('./invitations.js')).invitationsRevoke({ id });
    });

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

  const roles = program.command('roles').description('Roles and permissions (docs/ROLES.md).');
  roles
    .command('list')
    .description('List roles with their permissions, languages and number of holders.')
    .option('--json', 'print JSON', false)
    .action(async (opts: { json: boolean }) => (await import('./roles.js')).rolesList(opts));
  roles
    .command('create <name>')
    .description('Create a role (a slug such as translator-es).')
    .requiredOption('--permissions <list>', 'comma-separated permissions of the catalogue (see `roles list`)')
    .option('--description <text>', 'what the role is for')
    .option('--languages <list>', 'limit the role to these languages (comma-separated tags): translations only')
    .action(async (name: string, opts: { permissions: string; description?: string; languages?: string }) =>
      (await import('./roles.js')).rolesCreate(name, opts),
    );
  roles
    .command('delete <name>')
    .description('Delete a role; one that accounts hold needs --reassign-to.')
    .option('--reassign-to <role>', 'the role its holders get instead')
    .action(async (name: string, opts: { reassignTo?: string }) =>
      (await import('./roles.js')).rolesDelete(name, opts),
    );
  roles
    .command('grant <email> <role>')
    .description('Give an account a role (in addition to its others).')
    .action(async (email: string, role: string) => (await import('./roles.js')).rolesAssign('grant', email, role));
  roles
    .command('revoke <email> <role>')
    .description('Take a role from an account (never the last user:manage).')
    .action(async (email: string, role: string) => (await import('./roles.js')).rolesAssign('revoke', email, role));

  registerAuditCommands(program);
  registerBackupCommands(program);
  registerLanguageCommands(program);
  registerPrivacyCommands(program);
  registerSettingsCommands(program);

  for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    cmd.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
  }
  return program;
}

/**
 * Runs one command and resolves to its exit code; it never exits the process itself (src/cli/main.ts
 * does), and whatever the command opened (database, KV, timers) is closed when it resolves, so it can
 * be embedded: test/helpers/cli.ts runs commands in the test's own process. `stdin` replaces
 * process.stdin as the commands' standard input (src/cli/io.ts).
 */
export async function runCli(argv: string[], options: { stdin?: CliInput } = {}): Promise<number> {
  try {
    loadEnvFile();
    await withCliStdin(options.stdin, () => buildCli().parseAsync(argv, { from: 'user' }));
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0; usage errors were already printed.
      return err.exitCode;
    }
    // Only a command that loaded the configuration can have failed on it, so this import is a
    // cache hit then; --help and usage errors never load the configuration schema.
    const { ConfigError } = await import('../config/index.js');
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
