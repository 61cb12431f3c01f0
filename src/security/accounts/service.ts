/**
 * The account-security pieces the login, registration and password flows call. Everything here
 * works the same for identifiers with and without an account: the caller passes the user when it
 * found one, and nothing observable (status, body, Retry-After, timing of the await) depends on it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../http/errors.js';
import type { Queryable } from '../../platform/db/index.js';
import type { MfaMethod } from '../mfa/core.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import { BackgroundTasks } from './background.js';
import { Lockout, LockoutError, type FailureResult } from './lockout.js';
import { OneTimeTokens } from './one-time-tokens.js';
import { PasswordHistory } from './password-history.js';
import type { RevokeReason } from '../tokens/service.js';

/**
 * When every session of an account ends (`app.tokens.revokeUser`), whether every outstanding
 * one-time link ends too (`tokens.endAll`). An admin's action on the account does: an admin
 * reset (MFA reset, revoke-tokens), disabling. A password change or reset already ended them
 * where the password is written (flows.ts `write`), in the password's own transaction, so the
 * revocation that follows it has nothing left to end. "Log out everywhere" does not: it changes
 * no credential, and whoever holds a session (possibly an attacker) must not be able to destroy
 * the owner's "was this you?" or reset link with it. A Record, so a new reason cannot be added
 * without deciding.
 */
export const ENDS_ONE_TIME_LINKS: Record<RevokeReason, boolean> = {
  password_reset: false,
  password_change: false,
  admin: true,
  disabled: true,
  mfa_reset: true,
  logout_all: false,
};

/** How long an unlock link works. */
export const UNLOCK_TOKEN_TTL_SECONDS = 3600;
/** At most one unlock mail per account in this many ms (lockouts can follow each other). */
const UNLOCK_MAIL_INTERVAL_MS = 10 * 60_000;

/** The account a login attempt was for, when it exists. */
export interface KnownUser {
  id: string;
  email: string;
  name: string;
}

export interface LoginAttemptOptions {
  /**
   * Id of a device the owner trusted earlier (verified by the caller, e.g. from a signed cookie).
   * Its attempts are counted on a counter of their own, so an attacker locking the account does
   * not lock its owner out of a trusted device, while a stolen device still gets only THRESHOLD
   * guesses per stage.
   */
  trustedDeviceId?: string | null | undefined;
}

/**
 * What account protection asks of the second factor: trusted devices (they get their own lockout
 * and login budget) and step-up challenges for risky sign-ins. The MFA plugin, which declares
 * `accounts`, plugs it in; without MFA there are no trusted devices and no step-up.
 */
export interface SecondFactor {
  trustedDeviceOf(userId: string, request: FastifyRequest): Promise<string | null>;
  loginMethods(userId: string): Promise<MfaMethod[]>;
  /** A login challenge for these methods: the client completes it at /api/auth/mfa/verify. */
  challenge(userId: string, request: FastifyRequest, methods: MfaMethod[]): Promise<{ mfaToken: string }>;
}

export class AccountSecurity {
  /** Work after the answer (the unlock mail); the app waits for it on close, tests flush it. */
  readonly background: BackgroundTasks;
  /** Set once by the MFA plugin (`useSecondFactor`). */
  secondFactor: SecondFactor | null = null;

  constructor(
    private readonly app: FastifyInstance,
    readonly tokens: OneTimeTokens,
    readonly lockout: Lockout,
    readonly passwordHistory: PasswordHistory,
  ) {
    this.background = new BackgroundTasks(app.log);
  }

  useSecondFactor(port: SecondFactor): void {
    this.secondFactor = port;
  }

  private scope(options: LoginAttemptOptions): string | undefined {
    return options.trustedDeviceId ? `device:${options.trustedDeviceId}` : undefined;
  }

  /**
   * Call before verifying any credential of a login (password, TOTP, backup code). Reserves one
   * attempt atomically; throws LockoutError (429 ACCOUNT_LOCKED + Retry-After) when the identifier
   * is locked or all its remaining attempts are already in flight.
   * Every guardLogin must be followed by onLoginFailure, onLoginSuccess or onLoginAbandoned.
   */
  async guardLogin(identifier: string, options: LoginAttemptOptions = {}): Promise<void> {
    const r = await failClosed(this.app, () => this.lockout.begin(identifier, this.scope(options)));
    if (!r.admitted) throw new LockoutError(r.retryAfterSeconds);
  }

  /**
   * The id of the owner's trusted device when the login presents a live device token
   * (X-Device-Token header or the MFA device cookie) for the account of `identifier`; null
   * otherwise. Without a device token nothing is looked up, so ordinary logins cost the same
   * for known and unknown identifiers.
   */
  trustedDeviceFor(identifier: string, request: FastifyRequest): Promise<string | null> {
    // Asked twice per login (the shield's per-account limit, then the lockout): looked up once.
    const known = this.devices.get(request);
    if (known && known.identifier === identifier) return known.device;
    const device = this.lookUpTrustedDevice(identifier, request);
    this.devices.set(request, { identifier, device });
    return device;
  }

  private readonly devices = new WeakMap<FastifyRequest, { identifier: string; device: Promise<string | null> }>();

  private async lookUpTrustedDevice(identifier: string, request: FastifyRequest): Promise<string | null> {
    const secondFactor = this.secondFactor;
    if (!secondFactor) return null;
    const user = await this.app.users.repo.getByEmail(identifier);
    if (!user || user.disabled) return null;
    return secondFactor.trustedDeviceOf(user.id, request);
  }

  /**
   * A wrong credential. Counts it; when it locks the identifier, records `account.locked` and,
   * for an existing account (pass `user`), mails its owner a one-time unlock link — in the
   * background, so the response takes the same time with or without an account.
   */
  async onLoginFailure(
    identifier: string,
    options: LoginAttemptOptions & {
      /** The account, or a function that finds it (only called when this failure locks). */
      user?: KnownUser | null | undefined | (() => Promise<KnownUser | null>);
      request?: FastifyRequest | undefined;
    } = {},
  ): Promise<FailureResult> {
    const result = await failClosed(this.app, () => this.lockout.recordFailure(identifier, this.scope(options)));
    if (result.lockedNow) {
      const context = options.request ? this.app.audit.contextOf(options.request) : {};
      const user = (typeof options.user === 'function' ? await options.user() : options.user) ?? null;
      await this.app.audit.record({
        action: AUDIT_ACTIONS.lockout,
        actor: 'anonymous',
        outcome: 'denied',
        target: user ? { type: 'user', id: user.id } : null,
        metadata: {
          level: result.level,
          lockedSeconds: result.retryAfterSeconds,
          trustedDevice: Boolean(options.trustedDeviceId),
        },
        ...context,
      });
      if (user && !options.trustedDeviceId) {
        const lockedSeconds = result.retryAfterSeconds;
        this.background.run('unlock mail', () => this.sendUnlockMail(user, lockedSeconds));
      }
    }
    return result;
  }

  /** A successful login: the identifier (and the trusted device's counter) start afresh. */
  async onLoginSuccess(identifier: string, options: LoginAttemptOptions = {}): Promise<void> {
    await this.lockout.reset(identifier);
    const scope = this.scope(options);
    if (scope) await this.lockout.reset(identifier, scope);
  }

  /** The attempt ended without a verdict on the credential (e.g. a server error): frees its slot. */
  async onLoginAbandoned(identifier: string, options: LoginAttemptOptions = {}): Promise<void> {
    await this.lockout.release(identifier, this.scope(options));
  }

  /**
   * Mails the owner a one-time unlock link (at most one per UNLOCK_MAIL_INTERVAL; older unlock
   * links die). Returns false when one was sent recently.
   */
  async sendUnlockMail(user: KnownUser, lockedSeconds: number, tx?: Queryable): Promise<boolean> {
    const fresh = await this.app.deps.kv.set(`acct:unlockmail:${user.id}`, '1', {
      ttlMs: UNLOCK_MAIL_INTERVAL_MS,
      nx: true,
    });
    if (!fresh) return false;
    const send = async (q: Queryable) => {
      const token = await this.tokens.issue('unlock', user.id, UNLOCK_TOKEN_TTL_SECONDS, q, { replace: true });
      await this.app.mail.enqueue(
        this.app.mail.templates.unlockAccount({
          to: { address: user.email, name: user.name },
          token,
          lockedSeconds,
          ttlSeconds: UNLOCK_TOKEN_TTL_SECONDS,
        }),
        q,
      );
    };
    if (tx) await send(tx);
    else await this.app.deps.db.transaction(send);
    return true;
  }

  /**
   * The owner proved they read the account's mailbox (an unlock link, a completed reset): the
   * lockout and the per-account login limit (`login-account`, every policy keyed by the body's
   * email) start afresh, so what an attacker spent on the account no longer keeps its owner out.
   * Never fails the flow that called it: a KV error is logged.
   */
  async ownerProven(email: string): Promise<void> {
    try {
      await this.lockout.reset(email);
      await this.app.shield.limiter.forgetBodyKey('email', email);
    } catch (err) {
      this.app.log.warn({ err }, 'could not clear the lockout or login limit of an account');
    }
  }

  /**
   * Follows an unlock link: lifts the lockout of the account's email and empties its login
   * limit. Returns the user id, or null for any unusable token (the caller answers INVALID_TOKEN).
   */
  async unlockWithToken(token: unknown, request?: FastifyRequest): Promise<string | null> {
    return this.app.deps.db.transaction(async (tx) => {
      const grant = await this.tokens.consume('unlock', token, tx);
      if (!grant) return null;
      const user = await this.app.users.repo.get(grant.userId, tx);
      if (!user) return null;
      await this.ownerProven(user.email);
      await this.app.audit.record(
        {
          action: 'account.unlocked',
          actor: user.id,
          outcome: 'success',
          target: { type: 'user', id: user.id },
          ...(request ? this.app.audit.contextOf(request) : {}),
        },
        tx,
      );
      return user.id;
    });
  }
}

/**
 * The lockout lives in the KV (Redis across nodes). If it cannot be reached, no login is let
 * through uncounted: the answer is 503 LOGIN_UNAVAILABLE with Retry-After (fail closed), whatever
 * RATE_LIMIT_FAIL_CLOSED says about the rate limiter.
 */
async function failClosed<T>(app: FastifyInstance, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof AppError) throw err;
    app.log.error({ err }, 'account lockout store unreachable: refusing sign-ins');
    throw new AppError(
      503,
      'LOGIN_UNAVAILABLE',
      'Sign-in temporarily unavailable',
      'Sign-in is temporarily unavailable; try again shortly',
      { headers: { 'retry-after': '5' } },
    );
  }
}

/** EMAIL_VERIFICATION, or its default: required in production, optional elsewhere. */
export function emailVerificationMode(config: {
  EMAIL_VERIFICATION?: 'required' | 'optional' | undefined;
  NODE_ENV: string;
}): 'required' | 'optional' {
  return config.EMAIL_VERIFICATION ?? (config.NODE_ENV === 'production' ? 'required' : 'optional');
}
