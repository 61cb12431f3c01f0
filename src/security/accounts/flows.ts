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
import { recordRegister } from '../../auth/events.js';
import { answerNowWorkLater } from '../../http/answer-now.js';
import type { BackgroundTasks } from './background.js';
import { accountErrors } from './errors.js';
import { emailVerificationMode, type AccountSecurity } from './service.js';

/** At most one reset or verification mail per account in this many ms. */
export const ACCOUNT_MAIL_INTERVAL_MS = 60_000;
/** At most one "someone tried to register with your email" mail per account in this many ms. */
export const REGISTER_ATTEMPT_MAIL_INTERVAL_MS = 3_600_000;

type Ctx = ReturnType<FastifyInstance['audit']['contextOf']>;

type LinkKind = 'password_reset' | 'email_verify';

/** The links mailed on request (forgot password, resend verification): task name, throttle key, audit action. */
const MAILED_LINKS = {
  password_reset: {
    task: 'password forgot',
    throttle: 'reset',
    action: 'account.password.reset_requested',
    auditRefusals: true,
  },
  email_verify: {
    task: 'verification resend',
    throttle: 'verify',
    action: 'account.email.verification_sent',
    auditRefusals: false,
  },
} as const;

export class AccountFlows {
  constructor(
    private readonly app: FastifyInstance,
    private readonly accounts: AccountSecurity,
    private readonly background: BackgroundTasks,
  ) {}

  private get config() {
    return this.app.deps.config;
  }

  /** Every read and write of the `users` row goes through the users repository. */
  private get users() {
    return this.app.users.repo;
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

  /** POST /api/auth/password/forgot: a reset link to an enabled account; refusals are audited. */
  async forgot(email: string, request: FastifyRequest): Promise<void> {
    await this.mailLinkLater('password_reset', email, request);
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
    const previous = await this.users.lockPasswordHash(userId, tx);
    if (previous === undefined) throw accountErrors.invalidToken();
    await this.users.setPassword(userId, hash, this.now(), tx);
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
    const user = grant ? await this.users.get(grant.userId) : undefined;
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
      await this.users.markEmailVerified(user.id, this.now(), tx);
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
    const endedSessions = await this.app.tokens.sessions.revokeOthers(user.id, sessionId, 'password_change');
    return { endedSessions };
  }

  // ---- email verification ---------------------------------------------------------------------

  /**
   * Queues a reset or verification link for the account (in the caller's transaction); it
   * replaces the account's earlier link of that kind. A verification link names the address it
   * proves.
   */
  private async sendLink(kind: LinkKind, user: Pick<UserRow, 'id' | 'email' | 'name'>, tx: Queryable): Promise<void> {
    const reset = kind === 'password_reset';
    const ttl = reset ? this.config.PASSWORD_RESET_TTL : this.config.EMAIL_VERIFICATION_TTL;
    const token = await this.accounts.tokens.issue(kind, user.id, ttl, tx, {
      replace: true,
      ...(reset ? {} : { metadata: { email: user.email } }),
    });
    const mail = { to: { address: user.email, name: user.name }, token, ttlSeconds: ttl };
    const { templates } = this.app.mail;
    await this.app.mail.enqueue(reset ? templates.passwordReset(mail) : templates.emailVerification(mail), tx);
  }

  /** POST /api/auth/register with EMAIL_VERIFICATION=optional: 201 and a verification mail. */
  async register(input: { email: string; password: string; name: string }, request: FastifyRequest): Promise<UserRow> {
    return this.app.auth.register(input, async (created, tx) => {
      await recordRegister(this.app, request, created.id, tx);
      await this.sendLink('email_verify', created, tx);
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
    await answerNowWorkLater(this.background, {
      name: 'register',
      before: () => this.app.auth.prepareRegistration(input),
      after: async (prepared) => {
        try {
          await this.app.auth.registerPrepared(prepared, async (created, tx) => {
            await this.users.setVerificationPending(created.id, tx);
            await recordRegister(this.app, request, created.id, tx);
            await this.sendLink('email_verify', created, tx);
          });
        } catch (err) {
          if (!(err instanceof AppError && err.code === 'EMAIL_TAKEN')) throw err;
          await this.registerAttempt(prepared.email, ctx);
        }
      },
    });
  }

  /** A registration for a taken email: audited, and the owner told (at most once an hour). */
  private async registerAttempt(email: string, ctx: Ctx): Promise<void> {
    const user = await this.users.getByEmail(email);
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
    return (await this.users.emailVerification(userId))?.pending === true;
  }

  /** POST /api/auth/email/verify. Null for any unusable token. */
  async verify(token: unknown, request: FastifyRequest): Promise<string | null> {
    const ctx = this.app.audit.contextOf(request);
    return this.app.deps.db.transaction(async (tx) => {
      const grant = await this.accounts.tokens.consume('email_verify', token, tx);
      if (!grant) return null;
      const user = await this.users.get(grant.userId, tx);
      // A link for an address the account no longer has proves nothing about the current one.
      if (!user || (typeof grant.metadata['email'] === 'string' && grant.metadata['email'] !== user.email)) return null;
      await this.users.markEmailVerified(user.id, this.now(), tx);
      await this.audit('account.email.verified', user.id, 'success', ctx, {}, tx);
      return user.id;
    });
  }

  /** POST /api/auth/email/resend: a new verification link, only to an unverified account. */
  async resend(email: string, request: FastifyRequest): Promise<void> {
    await this.mailLinkLater('email_verify', email, request, async (user) => {
      return !(await this.users.emailVerification(user.id))?.verifiedAt;
    });
  }

  /**
   * Forgot password and resend verification, one path: the same 202 for every email, and the
   * answer never waits for (or depends on) the account. After it, an enabled account that `wants`
   * the link gets it, at most once per ACCOUNT_MAIL_INTERVAL_MS.
   */
  private async mailLinkLater(
    kind: LinkKind,
    email: string,
    request: FastifyRequest,
    wants?: (user: UserRow) => Promise<boolean>,
  ): Promise<void> {
    const link = MAILED_LINKS[kind];
    const ctx = this.app.audit.contextOf(request);
    const refused = async (userId: string | null, reason: string) => {
      if (link.auditRefusals) await this.audit(link.action, userId, 'denied', ctx, { reason });
    };
    await answerNowWorkLater(this.background, {
      name: link.task,
      after: async () => {
        const user = await this.users.getByEmail(email.trim());
        if (!user || user.disabled) return refused(user?.id ?? null, user ? 'account_disabled' : 'unknown_account');
        if (wants && !(await wants(user))) return;
        if (!(await this.firstInInterval(link.throttle, user.id, ACCOUNT_MAIL_INTERVAL_MS)))
          return refused(user.id, 'throttled');
        await this.app.deps.db.transaction(async (tx) => {
          await this.sendLink(kind, user, tx);
          await this.audit(link.action, user.id, 'success', ctx, {}, tx);
        });
      },
    });
  }
}
