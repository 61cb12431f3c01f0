/**
 * `roles list|create|grant|revoke|delete`: roles for operators (docs/ROLES.md). Loaded only when
 * one of them runs (src/cli/index.ts registers them without importing this module).
 *
 * The operator is root on the host, so there is no escalation ceiling; every other rule of the
 * admin API holds (known permissions, built-in roles, the last account holding user:manage, a
 * role in use). Changes are audited (actor `system`, the OS user in metadata) and announced on
 * the revocation channel, so running servers reread the accounts at once (with Redis; in the
 * embedded mode the server rereads them within a minute).
 */
import os from 'node:os';
import { LanguageService } from '../content/languages/service.js';
import { systemClock } from '../platform/clock.js';
import type { Queryable } from '../platform/db/index.js';
import { AUDIT_ACTIONS } from '../security/audit/actions.js';
import type { AuditService } from '../security/audit/service.js';
import { REVOCATION_CHANNEL } from '../security/tokens/revocation.js';
import { canonicalEmail } from '../users/email.js';
import type { RoleChange } from '../users/roles.js';
import { UsersService, type UserAccessChange } from '../users/service.js';
import { CliError } from './errors.js';
import { withAuditedPlatform } from './platform.js';

async function withRoles<T>(fn: (users: UsersService, audit: AuditService) => Promise<T>): Promise<T> {
  return withAuditedPlatform(async ({ config, deps, audit }) => {
    const users = new UsersService(deps.db, config.PASSWORD_MIN_SCORE);
    // The same rule as the admin API: a role's languages are enabled site languages.
    const languages = new LanguageService(deps.db, systemClock, audit);
    users.roles.setLanguageCheck((codes, tx) => languages.requireEnabled(codes, tx));
    users.onChanged(async (id) => {
      await deps.kv.publish(REVOCATION_CHANNEL, JSON.stringify({ t: 'user', id })).catch(() => undefined);
    });
    return fn(users, audit);
  });
}

const osUser = () => os.userInfo().username;

function roleRecorder(audit: AuditService) {
  return async (change: RoleChange, tx: Queryable) => {
    const action =
      change.kind === 'created'
        ? AUDIT_ACTIONS.roleCreated
        : change.kind === 'updated'
          ? AUDIT_ACTIONS.roleUpdated
          : AUDIT_ACTIONS.roleDeleted;
    const name = change.kind === 'updated' ? change.after.name : change.role.name;
    await audit.record(
      {
        action,
        actor: 'system',
        outcome: 'success',
        target: { type: 'role', id: name },
        metadata: {
          osUser: osUser(),
          ...(change.kind === 'deleted' ? { reassignTo: change.reassignTo, affectedUsers: change.affectedUsers } : {}),
          ...(change.kind === 'created'
            ? { permissions: change.role.permissions, languages: change.role.languages }
            : {}),
        },
      },
      tx,
    );
  };
}

function accessRecorder(audit: AuditService) {
  return async (change: UserAccessChange, tx: Queryable) =>
    audit.record(
      {
        action: AUDIT_ACTIONS.userAccessChanged,
        actor: 'system',
        outcome: 'success',
        target: { type: 'user', id: change.userId },
        metadata: {
          rolesBefore: change.rolesBefore,
          rolesAfter: change.rolesAfter,
          before: { permissions: change.permissionsBefore },
          after: { permissions: change.permissionsAfter },
          osUser: osUser(),
        },
      },
      tx,
    );
}

export const splitList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

export async function rolesList(opts: { json: boolean }): Promise<void> {
  await withRoles(async (users) => {
    const roles = await users.roles.list();
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(roles, null, 2)}\n`);
      return;
    }
    for (const r of roles) {
      process.stdout.write(
        `${r.name.padEnd(16)}  ${String(r.userCount).padStart(5)} user(s)  ${r.builtIn ? 'built-in  ' : '          '}` +
          `${r.permissions.join(',')}${r.languages ? `  languages: ${r.languages.join(',')}` : ''}\n`,
      );
    }
  });
}

export async function rolesCreate(
  name: string,
  opts: { permissions: string; description?: string; languages?: string },
): Promise<void> {
  await withRoles(async (users, audit) => {
    const languages = splitList(opts.languages);
    const role = await users.roles.create(
      null,
      {
        name,
        description: opts.description ?? name,
        permissions: splitList(opts.permissions),
        languages: languages.length > 0 ? languages : null,
      },
      roleRecorder(audit),
    );
    process.stdout.write(`Created role ${role.name} (${role.permissions.join(', ') || 'no permissions'}).\n`);
  });
}

export async function rolesDelete(name: string, opts: { reassignTo?: string }): Promise<void> {
  await withRoles(async (users, audit) => {
    await users.roles.delete(null, name, opts.reassignTo, roleRecorder(audit));
    process.stdout.write(
      `Deleted role ${name}${opts.reassignTo ? `; its holders now hold ${opts.reassignTo}` : ''}.\n`,
    );
  });
}

/** grant adds the role to the account's roles; revoke takes it away. */
export async function rolesAssign(kind: 'grant' | 'revoke', email: string, role: string): Promise<void> {
  if (canonicalEmail(email) === null) throw new CliError(`"${email}" is not an email address.`);
  await withRoles(async (users, audit) => {
    const user = await users.repo.getByEmail(email);
    if (!user) throw new CliError(`No account with the email ${email}.`);
    if (kind === 'revoke' && !user.roles.includes(role)) throw new CliError(`${email} does not hold the role ${role}.`);
    const roles = kind === 'grant' ? [...new Set([...user.roles, role])] : user.roles.filter((r) => r !== role);
    if (roles.length === 0) throw new CliError(`${email} would hold no role: grant another role first.`);
    const updated = await users.update(user.id, { roles }, { record: accessRecorder(audit) });
    process.stdout.write(`${email} now holds ${updated.roles.join(', ')}.\n`);
  });
}
