/**
 * `invitations create|list|revoke` (docs/ACCOUNT_SECURITY.md "Registration and invitations"): the
 * operator's way to let someone in, the first owner of a fresh production install included
 * (REGISTRATION=invite there). Loaded only when one of them runs (src/cli/index.ts registers
 * them without importing this module).
 *
 * The operator is root on the host: no role ceiling applies (`validateRoleNames` with the
 * operator as grantor), and audit events name `system` as the actor. The mail is queued in the
 * outbox (a running server delivers it). When mail only goes to the outbox folder (no SMTP_URL),
 * the link is printed, since nobody would receive it otherwise.
 */
import os from 'node:os';
import type { Config } from '../config/index.js';
import { PublicUrl } from '../config/public-url.js';
import { systemClock } from '../platform/clock.js';
import { defaultFrom, Mailer, mailLink, MAIL_LINK_PATHS, transportFor } from '../platform/mail/index.js';
import { Invitations, toPublicInvitation } from '../security/invitations/service.js';
import { UsersService } from '../users/service.js';
import { withAuditedPlatform } from './platform.js';

async function withInvitations<T>(
  fn: (invitations: Invitations, config: Config, mailer: Mailer) => Promise<T>,
): Promise<T> {
  return withAuditedPlatform(async ({ config, deps, audit }) => {
    const publicUrl = new PublicUrl(config);
    const mailer = new Mailer({
      db: deps.db,
      clock: systemClock,
      transport: transportFor(config),
      from: defaultFrom(config, publicUrl),
      publicUrl,
      maxAttempts: config.MAIL_MAX_ATTEMPTS,
      baseBackoffMs: config.MAIL_RETRY_DELAY * 1000,
      pollIntervalMs: 0,
    });
    const osUser = os.userInfo().username;
    const invitations = new Invitations({
      db: deps.db,
      clock: systemClock,
      mail: mailer,
      // Which operator account ran the command, as `keys rotate` records it.
      audit: { record: (event, tx) => audit.record({ ...event, metadata: { ...event.metadata, osUser } }, tx) },
      users: new UsersService(deps.db, config.PASSWORD_MIN_SCORE),
      ttlSeconds: config.INVITATION_TTL,
    });
    return fn(invitations, config, mailer);
  });
}

/** Options are checked by the caller (src/cli/index.ts) before this module is even loaded. */
export async function invitationsCreate(opts: { email: string; roles: string[] }): Promise<void> {
  await withInvitations(async (invitations, config, mailer) => {
    const { invitation, token } = await invitations.create({ email: opts.email, roles: opts.roles }, 'operator');
    const expires = invitation.expiresAt.toISOString();
    process.stdout.write(
      `Invited ${invitation.email} as ${invitation.roles.join(', ')} (${invitation.id}), valid until ${expires}.\n`,
    );
    if (mailer.transportKind === 'file') {
      // No SMTP_URL: the mail only lands in DATA_DIR/outbox/. Hand this link to the person yourself.
      process.stdout.write(
        `Mail goes to the outbox folder only (SMTP_URL is unset); give this link to the invitee, it works once:\n${mailLink(new PublicUrl(config), MAIL_LINK_PATHS.acceptInvite, token)}\n`,
      );
    } else {
      process.stdout.write('The invitation mail is queued; a running server delivers it.\n');
    }
  });
}

export async function invitationsList(opts: { json: boolean }): Promise<void> {
  await withInvitations(async (invitations) => {
    const now = systemClock.now();
    const all = [];
    let before: string | undefined;
    for (;;) {
      const page = await invitations.list({ limit: 500, before });
      all.push(...page.map((row) => toPublicInvitation(row, now)));
      if (page.length < 500) break;
      before = page.at(-1)?.id;
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
      return;
    }
    if (all.length === 0) {
      process.stdout.write('No invitations.\n');
      return;
    }
    for (const i of all) {
      process.stdout.write(
        `${i.id}  ${i.state.padEnd(8)}  ${i.email}  ${i.roles.join(',')}  expires ${i.expiresAt}${i.accountExists ? '  (account exists)' : ''}\n`,
      );
    }
  });
}

export async function invitationsRevoke(opts: { id: string }): Promise<void> {
  await withInvitations(async (invitations) => {
    const row = await invitations.revoke(opts.id, 'operator');
    process.stdout.write(`Withdrew the invitation of ${row.email} (${row.id}).\n`);
  });
}
