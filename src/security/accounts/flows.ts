/**
 * Password reset, password change and email verification (docs/ACCOUNT_SECURITY.md).
 *
 * Enumeration: forgot-password, resend-verification and (EMAIL_VERIFICATION=required)
 * registration answer the same status and body whether or not the email has an account. Their
 * account-dependent work (insert, token, mail) runs in the background after the answer, so the
 * time of the answer does not depend on it either. Registration checks and hashes the password
 * before answering on both paths (the same work, independent of the account).
 */
import { userEvent } from '../audit/event.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../http/errors.js';
import type { Queryable } from '../../platform/db/index.js';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../../users/password.js';
import type { UserRow } from '../../users/repository.js';
import { recordRegister } from '../audit/auth-events.js';
import type { BackgroundTasks } from './background.js';
import { accountErrors } from './errors.js';
import { emailVerificationMode, type AccountSecurity } from './service.js';

/** At most one reset or verification mail per account in this many ms. */
export const ACCOUNT_MAIL_INTERVAL_MS = 60_000;
/** At most one "someone tried to register with your email" mail per account in this many ms. */
export const REGISTER_ATTEMPT_MAIL_INTERVAL_MS = 3_600_000;

type Ctx = ReturnType<FastifyInstance['audit']['contextOf']>;

export class AccountFlows {
  constructor(
    private readonly app: FastifyInstance,
    private readonly accounts: AccountSecurity,
    private readonly background: BackgroundTasks,
  ) {}

  private get config() {
    return this.app.deps.config;
  }

  private now(): Date {
    return this.app.deps.clock.now();
  }

  /** One mail of this kind per account per interval (shared by every node through the KV). */
  private async firstInInterval(kind: string, userId: string, intervalMs: number): Promise<boolean> {
    return this.app.deps.kv.set(`acct:mail:${kind}:${userId}`, '1', { ttlMs: intervalMs, nx: true });
  }

  private async audit(
    action: string,
    userId: string | null,
    outcome: 'success' | 'failure' | 'denied',
    ctx: Ctx,
    metadata: Record<string, unknown> = {},
    tx?: Queryable,
  ): Promise<void> {
    await this.app.audit.record(userEvent(action, userId, outcome, ctx, metadata), tx);
  }

  // ---- password reset -------------------------------------------------------------------------

  /** POST /api/auth/password/forgot: the answer never waits for (or depends on) the account. */
  forgot(email: string, request: FastifyRequest): void {
    const ctx = this.app.audit.contextOf(request);
    this.background.run('password forgot', async () => {
      const user = await this.app.users.repo.getByEmail(email.trim());
      if (!user || user.disabled) {
        await this.audit('account.password.reset_requested', user?.id ?? null, 'denied', ctx, {
          reason: user ? 'account_disabled' : 'unknown_account',
        });
        return;
      }
      if (!(await this.firstInInterval('reset', user.id, ACCOUNT_MAIL_INTERVAL_MS))) {
        await this.audit('account.password.reset_requested', user.id, 'denied', ctx, { reason: 'throttled' });
        return;
      }
      const ttl = this.config.PASSWORD_RESET_TTL;
      await this.app.deps.db.transaction(async (tx) => {
        const token = await this.accounts.tokens.issue('password_reset', user.id, ttl, tx, { replace: true });
        await this.app.mail.enqueue(
          this.app.mail.templates.passwordReset({
            to: { address: user.email, name: user.name },
            token,
            ttlSeconds: ttl,
          }),
          tx,
        );
        await this.audit('account.password.reset_requested', user.id, 'success', ctx, {}, tx);
      });
    });
  }

  /**
   * The checks every new password passes before anything is written: the policy (length,
   * common and breached passwords, the user's own name and email), then not the current one nor
   * any of the last PASSWORD_HISTORY. Returns its hash.
   */
  private async prepare(user: UserRow, newPassword: string): Promise<string> {
    await checkPasswordPolicy(newPassword, this.config.PASSWORD_MIN_SCORE, [user.email, user.name]);
    await this.accounts.passwordHistory.assertNotReused(user.id, newPassword);
    return hashPassword(newPassword);
  }

  /**
   * Sets the new hash and keeps the replaced one in the history (in the caller's transaction).
   * Every password change and reset passes here, so here every outstanding one-time link of the
   * account ends, in the same transaction (a reset or "was this you?" link mailed before the
   * change never works after it).
   */
  private async write(userId: string, hash: string, tx: Queryable): Promise<void> {
    const rows = await tx.query<{ hash: string }>(`select password_hash as hash from users where id = $1 for update`, [
      userId,
    ]);
    const previous = rows[0]?.hash;
    if (previous === undefined) throw accountErrors.invalidToken();
    await tx.query(`update users set password_hash = $2, must_change_password = false, updated_at = $3 where id = $1`, [
      userId,
      hash,
      this.now(),
    ]);
    await this.accounts.passwordHistory.remember(userId, previous, tx);
    await this.accounts.tokens.endAll(userId, tx);
  }

  /**
   * POST /api/auth/password/reset. The token is checked first without using it (a weak new
   * password does not burn the link), then used up in the transaction that sets the password.
   * Afterwards every session, refresh token, one-time link and trusted device of the user is
   * dead, the lockout is lifted, and the owner gets a notice.
   */
  async reset(token: string, newPassword: string, request: FastifyRequest): Promise<void> {
    const ctx = this.app.audit.contextOf(request);
    const grant = await this.accounts.tokens.peek('password_reset', token);
    const user = grant ? await this.app.users.repo.get(grant.userId) : undefined;
    if (!grant || !user || user.disabled) {
      await this.audit('account.password.reset', user?.id ?? null, 'failure', ctx, { reason: 'invalid_token' });
      throw accountErrors.invalidToken();
    }
    const hash = await this.prepare(user, newPassword);
    await this.app.deps.db.transaction(async (tx) => {
      if (!(await this.accounts.tokens.consume('password_reset', token, tx))) throw accountErrors.invalidToken();
      // Every other link (another reset, unlock, "was this you?") dies with the old password.
      await this.write(user.id, hash, tx);
      // Following a link mailed to the address proves the address.
      await tx.query(
        `update users set email_verified_at = coalesce(email_verified_at, $2), email_verification_pending = false
         where id = $1`,
        [user.id, this.now()],
      );
      await this.app.mail.enqueue(
        this.app.mail.templates.passwordResetNotice({ to: { address: user.email, name: user.name }, at: this.now() }),
        tx,
      );
      await this.audit('account.password.reset', user.id, 'success', ctx, {}, tx);
    });
    // Sessions and refresh tokens on every node; trusted devices through the tokens' revocation hook.
    await this.app.tokens.revokeUser(user.id, 'password_reset');
    // The owner proved the mailbox: whatever an attacker spent on the account (its lockout, its
    // per-account login budget) is given back, so the new password works at once.
    await this.accounts.ownerProven(user.email);
  }

  // ---- password change ------------------------------------------------------------------------

  /**
   * POST /api/auth/password/change. The current password is a credential like a login's: a
   * wrong one counts toward the lockout (a stolen session cannot guess it freely). Other
   * sessions end; the current one stays (the route issues a fresh pair for a forced change).
   */
  async change(
    userId: string,
    sessionId: string,
    currentPassword: string,
    newPassword: string,
    request: FastifyRequest,
  ): Promise<{ endedSessions: number }> {
    const ctx = this.app.audit.contextOf(request);
    const user = await this.app.users.get(userId);
    await this.accounts.guardLogin(user.email);
    let ok: boolean;
    try {
      ok = await verifyPassword(user.passwordHash, currentPassword);
    } catch (err) {
      await this.accounts.onLoginAbandoned(user.email);
      throw err;
    }
    if (!ok) {
      await this.accounts.onLoginFailure(user.email, { user, request });
      await this.audit('account.password.changed', user.id, 'failure', ctx, { reason: 'wrong_current_password' });
      throw new AppError(400, 'INVALID_CURRENT_PASSWORD', 'Password rejected', 'The current password is not correct');
    }
    await this.accounts.onLoginSuccess(user.email).catch(() => undefined);
    const hash = await this.prepare(user, newPassword);
    await this.app.deps.db.transaction(async (tx) => {
      await this.write(user.id, hash, tx);
      await this.app.mail.enqueue(
        this.app.mail.templates.passwordChanged({ to: { address: user.email, name: user.name }, at: this.now() }),
        tx,
      );
      await this.audit('account.password.changed', user.id, 'success', ctx, { forced: user.mustChangePassword }, tx);
    });
    const endedSessions = await this.app.tokens.revokeOtherSessions(user.id, sessionId, 'password_change');
    return { endedSessions };
  }

  // ---- email verification ---------------------------------------------------------------------

  /** Queues a verification link for the account (in the caller's transaction). */
  async sendVerification(user: Pick<UserRow, 'id' | 'email' | 'name'>, tx: Queryable): Promise<void> {
    const ttl = this.config.EMAIL_VERIFICATION_TTL;
    const token = await this.accounts.tokens.issue('email_verify', user.id, ttl, tx, {
      replace: true,
      metadata: { email: user.email },
    });
    await this.app.mail.enqueue(
      this.app.mail.templates.emailVerification({
        to: { address: user.email, name: user.name },
        token,
        ttlSeconds: ttl,
      }),
      tx,
    );
  }

  /** POST /api/auth/register with EMAIL_VERIFICATION=optional: 201 and a verification mail. */
  async register(input: { email: string; password: string; name: string }, request: FastifyRequest): Promise<UserRow> {
    return this.app.auth.register(input, async (created, tx) => {
      await recordRegister(this.app, request, created.id, tx);
      await this.sendVerification(created, tx);
    });
  }

  /**
   * POST /api/auth/register with EMAIL_VERIFICATION=required: the same 202 after the same work
   * for a new and a taken email. Before the answer runs only what does not depend on the account:
   * the checks (a weak password is a 400 either way) and one argon2 hash. Everything that does
   * (the insert, the verification mail, or the owner's "someone tried" notice at most once an
   * hour) runs in the background after the answer, like forgot-password.
   */
  async registerQuietly(input: { email: string; password: string; name: string }, request: FastifyRequest) {
    const ctx = this.app.audit.contextOf(request);
    const prepared = await this.app.auth.prepareRegistration(input);
    this.background.run('register', async () => {
      try {
        await this.app.auth.registerPrepared(prepared, async (created, tx) => {
          await tx.query(`update users set email_verification_pending = true where id = $1`, [created.id]);
          await recordRegister(this.app, request, created.id, tx);
          await this.sendVerification(created, tx);
        });
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'EMAIL_TAKEN')) throw err;
        await this.registerAttempt(prepared.email, ctx);
      }
    });
  }

  /** A registration for a taken email: audited, and the owner told (at most once an hour). */
  private async registerAttempt(email: string, ctx: Ctx): Promise<void> {
    const user = await this.app.users.repo.getByEmail(email);
    if (!user) return;
    await this.audit('auth.register', user.id, 'denied', ctx, { reason: 'email_taken' });
    if (!(await this.firstInInterval('register', user.id, REGISTER_ATTEMPT_MAIL_INTERVAL_MS))) return;
    await this.app.mail.enqueue(
      this.app.mail.templates.registerAttempt({ to: { address: user.email, name: user.name }, at: this.now() }),
    );
  }

  /** True when this account may not sign in yet: EMAIL_VERIFICATION=required and not verified. */
  async verificationPending(userId: string): Promise<boolean> {
    if (emailVerificationMode(this.config) !== 'required') return false;
    const rows = await this.app.deps.db.query<{ pending: boolean }>(
      `select email_verification_pending as pending from users where id = $1`,
      [userId],
    );
    return rows[0]?.pending === true;
  }

  /** POST /api/auth/email/verify. Null for any unusable token. */
  async verify(token: unknown, request: FastifyRequest): Promise<string | null> {
    const ctx = this.app.audit.contextOf(request);
    return this.app.deps.db.transaction(async (tx) => {
      const grant = await this.accounts.tokens.consume('email_verify', token, tx);
      if (!grant) return null;
      const user = await this.app.users.repo.get(grant.userId, tx);
      // A link for an address the account no longer has proves nothing about the current one.
      if (!user || (typeof grant.metadata['email'] === 'string' && grant.metadata['email'] !== user.email)) return null;
      await tx.query(
        `update users set email_verified_at = coalesce(email_verified_at, $2), email_verification_pending = false
         where id = $1`,
        [user.id, this.now()],
      );
      await this.audit('account.email.verified', user.id, 'success', ctx, {}, tx);
      return user.id;
    });
  }

  /** POST /api/auth/email/resend: the same 202 for every email; a mail only to unverified accounts. */
  resend(email: string, request: FastifyRequest): void {
    const ctx = this.app.audit.contextOf(request);
    this.background.run('verification resend', async () => {
      const user = await this.app.users.repo.getByEmail(email.trim());
      if (!user || user.disabled) return;
      const rows = await this.app.deps.db.query<{ verifiedAt: Date | null }>(
        `select email_verified_at as "verifiedAt" from users where id = $1`,
        [user.id],
      );
      if (rows[0]?.verifiedAt) return;
      if (!(await this.firstInInterval('verify', user.id, ACCOUNT_MAIL_INTERVAL_MS))) return;
      await this.app.deps.db.transaction(async (tx) => {
        await this.sendVerification(user, tx);
        await this.audit('account.email.verification_sent', user.id, 'success', ctx, {}, tx);
      });
    });
  }
}
