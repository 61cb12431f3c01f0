import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoginGates } from './gates.js';
import { AppError } from '../http/errors.js';
import type { Queryable } from '../platform/db/index.js';
import { AUDIT_ACTIONS } from '../security/audit/actions.js';
import type { Restriction } from '../security/tokens/claims.js';
import { clientFactsOf } from '../http/request-identity.js';
import type { IssuedPair } from '../security/tokens/service.js';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from '../users/password.js';
import type { UserRow } from '../users/repository.js';
import type { PreparedUser, UsersService } from '../users/service.js';

export type LoginFailureReason = 'unknown_account' | 'wrong_password' | 'account_disabled' | 'email_unverified';

/**
 * One answer for every failed login: the client must not learn which emails exist. What really
 * happened travels on the error object for the audit log only (never into the problem body).
 */
export class LoginFailedError extends AppError {
  constructor(
    readonly reason: LoginFailureReason,
    readonly userId: string | null,
  ) {
    super(401, 'INVALID_CREDENTIALS', 'Unauthorized', 'Email or password is incorrect');
  }
}

export interface CompleteLoginOptions {
  amr: string[];
  /** Epoch seconds of the sign-in; defaults to now. */
  authTime?: number;
  restriction?: Restriction | undefined;
  extra?: Record<string, unknown> | undefined;
  /** The account's row when the caller has just read it (password login): not read again. */
  user?: Pick<UserRow, 'mustChangePassword'> | undefined;
}

/** The 200 body of a completed sign-in (login, MFA verify, passkey sign-in). */
export interface LoginSuccessBody extends Record<string, unknown> {
  accessToken?: string;
  refreshToken?: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshExpiresIn: number;
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The pair a sign-in or refresh issued in this request (browser mode turns it into cookies). */
    issuedPair: IssuedPair | null;
  }
}

/**
 * Runs after every completed sign-in (password, MFA verify, passkey), once its session exists. It
 * may return fields to add to the sign-in answer (e.g. `accountDeletionCancelled`).
 */
export type LoginCompletedListener = (ctx: {
  request: FastifyRequest;
  userId: string;
  sessionId: string;
  amr: readonly string[];
}) => Promise<void | Record<string, unknown>>;

export class AuthService {
  /** The checks after the password matched, in their declared order (./gates.ts). */
  readonly gates = new LoginGates();
  private readonly completedListeners: LoginCompletedListener[] = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly users: UsersService,
  ) {}

  /**
   * Creates an account. `afterInsert` runs inside the insert's transaction (so an audit event
   * commits with the account), while the password is hashed before that transaction opens.
   */
  register(
    input: { email: string; password: string; name: string },
    afterInsert?: (user: UserRow, tx: Queryable) => Promise<void>,
  ) {
    return this.users.create({ ...input, role: 'user' }, undefined, afterInsert);
  }

  /** A registration's checks and password hash, without touching the database (see UsersService.prepare). */
  prepareRegistration(input: { email: string; password: string; name: string }): Promise<PreparedUser> {
    return this.users.prepare({ ...input, role: 'user' });
  }

  /** Writes a prepared registration: EMAIL_TAKEN (409) when the email already has an account. */
  registerPrepared(prepared: PreparedUser, afterInsert?: (user: UserRow, tx: Queryable) => Promise<void>) {
    return this.users.insert(prepared, undefined, afterInsert);
  }

  /** The account whose password this is, or LoginFailedError (same answer and time for every failure). */
  async checkPassword(email: string, password: string): Promise<UserRow> {
    const user = await this.users.repo.getByEmail(email.trim());
    // Always run one argon2 verification, against a dummy hash when the user is unknown, so
    // both failures cost the same time.
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    if (!user) throw new LoginFailedError('unknown_account', null);
    if (!ok) throw new LoginFailedError('wrong_password', user.id);
    if (user.disabled) throw new LoginFailedError('account_disabled', user.id);
    if (needsRehash(user.passwordHash)) {
      await this.users.repo.update(user.id, { passwordHash: await hashPassword(password) });
    }
    return user;
  }

  /**
   * Registers a listener run at the end of every completed sign-in (suspicious-login checks,
   * known devices and networks). A listener that throws fails the sign-in, so listeners catch
   * what is not worth that.
   */
  onLoginCompleted(listener: LoginCompletedListener): void {
    this.completedListeners.push(listener);
  }

  /**
   * Finishes a sign-in: a new session and token pair, the audit event, and (browser mode) the
   * cookies. Login, MFA verification and passkey sign-in all end here.
   */
  async completeLogin(
    request: FastifyRequest,
    userId: string,
    options: CompleteLoginOptions,
  ): Promise<LoginSuccessBody> {
    const amr = [...new Set(options.amr)];
    // Every way of signing in (password, MFA verify, passkey) ends here, so an account that must
    // change its password gets the restricted token whichever way it came.
    // This is the one place that decides it. A gate's restriction (MFA enrollment past its
    // deadline) comes first; the body still says that a password change is due.
    let { restriction, extra } = options;
    const user = options.user ?? (await this.users.repo.get(userId));
    if (user?.mustChangePassword) {
      restriction ??= 'password_change';
      extra = { ...extra, passwordChangeRequired: true };
    }
    const pair = await this.app.tokens.startSession(
      {
        userId,
        amr,
        ...(options.authTime !== undefined ? { authTime: new Date(options.authTime * 1000) } : {}),
        restriction,
      },
      clientFactsOf(request),
    );
    request.issuedPair = pair;
    await this.app.audit.record({
      action: AUDIT_ACTIONS.loginSucceeded,
      actor: userId,
      outcome: 'success',
      target: { type: 'user', id: userId },
      metadata: {
        session: pair.sessionId,
        amr,
        ...(restriction ? { restriction } : {}),
      },
      ...this.app.audit.contextOf(request),
    });
    await this.app.audit.record({
      action: AUDIT_ACTIONS.tokenIssued,
      actor: userId,
      outcome: 'success',
      target: { type: 'session', id: pair.sessionId },
      metadata: {
        kid: this.app.tokens.ring.signer().kid,
        accessExpiresIn: pair.expiresIn,
        refreshExpiresIn: pair.refreshExpiresIn,
      },
      ...this.app.audit.contextOf(request),
    });
    for (const listener of this.completedListeners) {
      const added = await listener({ request, userId, sessionId: pair.sessionId, amr });
      if (added) extra = { ...extra, ...added };
    }
    return { ...(extra ?? {}), ...bodyOf(pair) };
  }
}

/** The token fields of a response body (browser mode removes the tokens themselves later). */
export function bodyOf(pair: IssuedPair): LoginSuccessBody {
  return {
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    tokenType: pair.tokenType,
    expiresIn: pair.expiresIn,
    refreshExpiresIn: pair.refreshExpiresIn,
    sessionId: pair.sessionId,
  };
}
