/**
 * Invitations (docs/ACCOUNT_SECURITY.md "Registration and invitations"): an admin invites an
 * email into roles; the mailed link creates the account, its email verified, under every
 * REGISTRATION policy.
 *
 * - The token is 256 random bits (base64url, 43 characters), mailed and never stored: the row
 *   holds its SHA-256, looked up by that hash (no timing oracle on the secret itself).
 * - Single use: acceptance locks the row (`for update`) and marks it accepted in the transaction
 *   that creates the account, so of two concurrent uses exactly one creates an account; the other
 *   is a replay (410 INVITATION_USED, audited).
 * - Roles are checked when the invitation is made (known roles, no escalation beyond the inviter's
 *   own permissions: `validateRoleNames` in src/users/policy.ts, the one check of role names) and again when it is accepted, against the inviter
 *   as they are then: an inviter since disabled or stripped of those permissions no longer
 *   grants them (410 INVITATION_REVOKED).
 * - Whether an email has an account is told to the admin only (409 EMAIL_TAKEN when inviting, and
 *   `accountExists` in the list). At acceptance a taken email answers exactly like an unknown
 *   token (400 INVITATION_INVALID, before any password hashing, as an unknown token does).
 * - Ended invitations (accepted, revoked, expired) stay listed, and a replay of their link is told
 *   apart (410), for INVITATION_RETENTION_MS after they ended; then the hourly housekeeping
 *   (`deleteStale`, scheduled by the plugin) deletes the row, and the link is an unknown token
 *   (400 INVITATION_INVALID). The audit events of the invitation stay in the audit log.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import { pgErrorCode, UNIQUE_VIOLATION, type Db, type Queryable } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import type { Mailer } from '../../platform/mail/index.js';
import { AppError, httpErrors } from '../../http/errors.js';
import { canonicalEmail } from '../../users/email.js';
import type { UserRow } from '../../users/repository.js';
import { actorPermissions, validateRoleNames, type RoleGrantor } from '../../users/policy.js';
import type { UsersService } from '../../users/service.js';
import { hashToken, isTokenShaped } from '../accounts/one-time-tokens.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import type { AuditEventInput, RequestContext } from '../audit/event.js';
import { invitationErrors } from './errors.js';
import { InvitationRepository, type InvitationListRow, type InvitationRow } from './repository.js';

export type InvitationState = 'pending' | 'accepted' | 'revoked' | 'expired';

/** How long an ended invitation's row is kept after it was accepted, revoked or expired. */
export const INVITATION_RETENTION_MS = 30 * 86_400_000;

export interface InvitationDeps {
  db: Db;
  clock: Clock;
  mail: Pick<Mailer, 'enqueue' | 'templates'>;
  audit: { record(event: AuditEventInput, tx?: Queryable): Promise<void> };
  users: UsersService;
  /** INVITATION_TTL, seconds. */
  ttlSeconds: number;
}

/** Who acts: a signed-in admin (their id and permissions), or the operator at the CLI. */
export type Inviter = { userId: string; permissions: ReadonlySet<string> } | 'operator';

/** The request part of an audit event (`app.audit.contextOf`); empty for the CLI. */
type Ctx = Partial<RequestContext>;

export interface PublicInvitation {
  id: string;
  email: string;
  roles: string[];
  invitedBy: string | null;
  createdAt: string;
  expiresAt: string;
  state: InvitationState;
  acceptedAt: string | null;
  revokedAt: string | null;
  /** Whether the email has an account now (admin list only). */
  accountExists?: boolean;
}

export function stateOf(row: InvitationRow, now: Date): InvitationState {
  if (row.acceptedAt) return 'accepted';
  if (row.revokedAt) return 'revoked';
  return row.expiresAt.getTime() <= now.getTime() ? 'expired' : 'pending';
}

export function toPublicInvitation(row: InvitationRow | InvitationListRow, now: Date): PublicInvitation {
  return {
    id: row.id,
    email: row.email,
    roles: row.roles,
    invitedBy: row.invitedBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    state: stateOf(row, now),
    acceptedAt: row.acceptedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    ...('accountExists' in row ? { accountExists: row.accountExists } : {}),
  };
}

/** What acceptance refuses, decided inside or before its transaction and answered after it. */
type Refusal = { reason: string; error: AppError; invitation: InvitationRow | null; replay?: boolean };

export class Invitations {
  readonly repo: InvitationRepository;

  constructor(private readonly d: InvitationDeps) {
    this.repo = new InvitationRepository(d.db);
  }

  private now(): Date {
    return this.d.clock.now();
  }

  private actorOf(inviter: Inviter): string {
    return inviter === 'operator' ? 'system' : inviter.userId;
  }

  private event(
    action: string,
    actor: string,
    outcome: AuditEventInput['outcome'],
    invitationId: string | null,
    ctx: Ctx,
    metadata: Record<string, unknown> = {},
  ): AuditEventInput {
    return {
      action,
      actor,
      outcome,
      target: invitationId ? { type: 'invitation', id: invitationId } : null,
      metadata,
      ...ctx,
    };
  }

  /**
   * Invites `email` into `roles` and queues the mail with the link, in one transaction that also
   * withdraws any open invitation of the same email. Returns the row and the token (the CLI
   * prints it when mail only goes to the outbox folder; the API never shows it).
   */
  async create(
    input: { email: string; roles: readonly string[] },
    inviter: Inviter,
    ctx: Ctx = {},
  ): Promise<{ invitation: InvitationRow; token: string }> {
    const email = input.email.trim();
    const canonical = canonicalEmail(email);
    if (canonical === null)
      throw httpErrors.validation('email must be a valid email address', [
        { path: '/email', message: 'must be a valid email address' },
      ]);
    const grantor: RoleGrantor = inviter === 'operator' ? 'operator' : inviter;
    const roles = await validateRoleNames(input.roles, this.d.db, grantor);
    if (await this.d.users.repo.getByEmail(email)) throw invitationErrors.emailTaken();
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const row: InvitationRow = {
      id: newId(),
      email,
      emailCanonical: canonical,
      roles,
      invitedBy: inviter === 'operator' ? null : inviter.userId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.d.ttlSeconds * 1000),
      acceptedAt: null,
      acceptedUserId: null,
      revokedAt: null,
      revokedBy: null,
    };
    const actor = this.actorOf(inviter);
    try {
      await this.d.db.transaction(async (tx) => {
        const superseded = await this.repo.revokeOpenFor(canonical, row.invitedBy, now, tx);
        for (const id of superseded) {
          await this.d.audit.record(
            this.event(AUDIT_ACTIONS.invitationRevoked, actor, 'success', id, ctx, {
              reason: 'superseded',
              by: row.id,
            }),
            tx,
          );
        }
        await this.repo.insert({ ...row, tokenHash: hashToken(token) }, tx);
        await this.d.mail.enqueue(
          this.d.mail.templates.invitation({ to: { address: email }, token, ttlSeconds: this.d.ttlSeconds, roles }),
          tx,
        );
        await this.d.audit.record(
          this.event(AUDIT_ACTIONS.invitationCreated, actor, 'success', row.id, ctx, {
            email,
            roles,
            expiresAt: row.expiresAt.toISOString(),
            ...(superseded.length ? { superseded } : {}),
          }),
          tx,
        );
      });
    } catch (err) {
      // Another invitation for this email committed between our update and insert.
      if (pgErrorCode(err) === UNIQUE_VIOLATION) throw invitationErrors.concurrent();
      throw err;
    }
    return { invitation: row, token };
  }

  /** The admin list, newest first. */
  /** Housekeeping: deletes invitations ended more than INVITATION_RETENTION_MS ago; how many. */
  async deleteStale(): Promise<number> {
    return this.repo.deleteEndedBefore(new Date(this.now().getTime() - INVITATION_RETENTION_MS));
  }

  async list(page: { limit: number; before?: string | undefined }): Promise<InvitationListRow[]> {
    return this.repo.list(page);
  }

  /** Withdraws an invitation: 404 for none, 409 once accepted; withdrawing twice changes nothing. */
  async revoke(id: string, inviter: Inviter, ctx: Ctx = {}): Promise<InvitationRow> {
    const by = inviter === 'operator' ? null : inviter.userId;
    return this.d.db.transaction(async (tx) => {
      const row = await this.repo.get(id, tx, { forUpdate: true });
      if (!row) throw invitationErrors.notFound();
      if (row.acceptedAt) throw invitationErrors.alreadyAccepted();
      if (row.revokedAt) return row;
      const now = this.now();
      await this.repo.revoke(id, by, now, tx);
      await this.d.audit.record(
        this.event(AUDIT_ACTIONS.invitationRevoked, this.actorOf(inviter), 'success', id, ctx, {
          email: row.email,
          state: stateOf(row, now),
        }),
        tx,
      );
      return { ...row, revokedAt: now, revokedBy: by };
    });
  }

  /** Why an invitation cannot be used now, or null when it can. */
  private async refusal(row: InvitationRow | undefined, tx?: Queryable): Promise<Refusal | null> {
    if (!row) return { reason: 'unknown_token', error: invitationErrors.invalid(), invitation: null };
    const state = stateOf(row, this.now());
    if (state === 'accepted') return { reason: 'used', error: invitationErrors.used(), invitation: row, replay: true };
    if (state === 'revoked') return { reason: 'revoked', error: invitationErrors.revoked(), invitation: row };
    if (state === 'expired') return { reason: 'expired', error: invitationErrors.expired(), invitation: row };
    // The same answer as an unknown token: only the admin learns that the email has an account.
    if (await this.d.users.repo.getByEmail(row.email, tx))
      return { reason: 'email_taken', error: invitationErrors.invalid(), invitation: row };
    // The inviter as they are now: disabled, or no longer holding what the roles carry.
    if (row.invitedBy !== null) {
      const inviter = await this.d.users.repo.getAuth(row.invitedBy, tx);
      let grants = inviter !== undefined && !inviter.disabled;
      if (inviter && grants) {
        try {
          await validateRoleNames(row.roles, tx ?? this.d.db, actorPermissions(inviter));
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          grants = false;
        }
      }
      if (!grants) return { reason: 'inviter_lost_rights', error: invitationErrors.revoked(), invitation: row };
    } else {
      try {
        await validateRoleNames(row.roles, tx ?? this.d.db, 'operator');
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        return { reason: 'role_gone', error: invitationErrors.revoked(), invitation: row };
      }
    }
    return null;
  }

  private async refuse(r: Refusal, ctx: Ctx): Promise<never> {
    const id = r.invitation?.id ?? null;
    await this.d.audit.record(
      r.replay
        ? this.event(AUDIT_ACTIONS.invitationReplayRefused, 'anonymous', 'denied', id, ctx, {
            acceptedAt: r.invitation?.acceptedAt?.toISOString() ?? null,
          })
        : this.event(AUDIT_ACTIONS.invitationAccepted, 'anonymous', 'failure', id, ctx, { reason: r.reason }),
    );
    throw r.error;
  }

  /**
   * POST /api/auth/invitations/accept: creates the account with the invitation's email and
   * roles, its email verified. The invitation is checked first without using it (a weak password
   * does not burn the link), then locked and used up in the account's transaction.
   */
  async accept(input: { token: string; password: string; name: string }, ctx: Ctx = {}): Promise<UserRow> {
    const hash = isTokenShaped(input.token) ? hashToken(input.token) : null;
    const first = hash === null ? undefined : await this.repo.byTokenHash(hash);
    const early = await this.refusal(first);
    if (early || !first || hash === null)
      return this.refuse(
        early ?? { reason: 'unknown_token', error: invitationErrors.invalid(), invitation: null },
        ctx,
      );
    // The registration checks and the argon2 hash, outside the transaction.
    const prepared = await this.d.users.prepare({ email: first.email, name: input.name, password: input.password });
    let outcome: { user: UserRow } | { refused: Refusal };
    try {
      outcome = await this.d.db.transaction(async (tx) => {
        const row = await this.repo.byTokenHash(hash, tx, { forUpdate: true });
        const late = await this.refusal(row, tx);
        if (late || !row)
          return { refused: late ?? { reason: 'unknown_token', error: invitationErrors.invalid(), invitation: null } };
        const now = this.now();
        const user = await this.d.users.insert(prepared, tx, async (created, q) => {
          await this.d.users.repo.setRoles(created.id, row.roles, q);
          // The link was mailed to this address: following it proves the address.
          await this.d.users.repo.markEmailVerified(created.id, now, q);
          if (!(await this.repo.markAccepted(row.id, created.id, now, q)))
            throw new Error('invitation changed while locked');
          await this.d.audit.record(
            this.event(AUDIT_ACTIONS.invitationAccepted, created.id, 'success', row.id, ctx, {
              user: created.id,
              roles: row.roles,
              invitedBy: row.invitedBy,
            }),
            q,
          );
        });
        const fresh = await this.d.users.repo.get(user.id, tx);
        if (!fresh) throw new Error('user vanished after insert');
        return { user: fresh };
      });
    } catch (err) {
      // An account for the email committed concurrently: the same answer as an unknown token.
      if (err instanceof AppError && err.code === 'EMAIL_TAKEN')
        return this.refuse({ reason: 'email_taken', error: invitationErrors.invalid(), invitation: first }, ctx);
      throw err;
    }
    if ('refused' in outcome) return this.refuse(outcome.refused, ctx);
    return outcome.user;
  }
}
