/**
 * One-time tokens for links in mails: password reset, email verification, unlock, "was this you?".
 *
 * - 256 random bits, base64url (43 characters): unguessable, and short enough for a link.
 * - Only SHA-256(token) is stored. A leaked table yields no usable link, and the lookup is by
 *   the hash, so how far a database index compare gets says nothing about the token itself
 *   (no timing oracle on the secret, no constant-time compare needed on our side).
 * - `consume` is one UPDATE ... WHERE used_at IS NULL AND expires_at > now RETURNING: of two
 *   concurrent uses exactly one gets the row, on PostgreSQL and PGlite alike.
 * - The purpose is part of the match: a verification token never resets a password.
 * - Every token carries the account's `credential_version` at issue, and is honoured only while
 *   the account still has that version. `endAll` raises it: one statement ends every outstanding
 *   link of the account (reset, unlock, "was this you?", verification, any purpose added later),
 *   including one being issued concurrently. It runs on every password change and reset, an
 *   admin reset and disabling the account (src/security/accounts/service.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { UsersRepository } from '../../users/repository.js';
import { OneTimeTokenRepository, type TokenGrant } from './repository.js';

export type { TokenGrant } from './repository.js';

export type TokenPurpose =
  'password_reset' | 'email_verify' | 'unlock' | 'suspicious_login' | (string & { readonly __purpose?: never });

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const PURPOSE_PATTERN = /^[a-z][a-z_]{0,39}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** True when the string has the shape of a token (43 base64url characters). */
export function isTokenShaped(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_PATTERN.test(token);
}

export class OneTimeTokens {
  private readonly repo: OneTimeTokenRepository;
  private readonly users: UsersRepository;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.repo = new OneTimeTokenRepository(db);
    this.users = new UsersRepository(db);
  }

  /**
   * Issues a token for `userId`, valid `ttlSeconds`. `replace` first invalidates the user's
   * unused tokens of the same purpose, so only the newest reset/verification link works.
   * Returns the token itself: put it in the mail, never in a log.
   */
  async issue(
    purpose: TokenPurpose,
    userId: string,
    ttlSeconds: number,
    tx?: Queryable,
    options: { metadata?: Record<string, unknown>; replace?: boolean } = {},
  ): Promise<string> {
    if (!PURPOSE_PATTERN.test(purpose)) throw new Error(`invalid token purpose "${purpose}"`);
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new Error('ttlSeconds must be positive');
    const q = tx ?? this.db;
    const now = this.clock.now();
    if (options.replace) await this.revoke(userId, purpose, q);
    const token = randomBytes(32).toString('base64url');
    // Bound to the credentials as they are now: a change committed later ends it.
    const stored = await this.repo.insert(
      {
        hash: hashToken(token),
        purpose,
        userId,
        metadata: options.metadata ?? {},
        createdAt: now,
        expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
      },
      q,
    );
    if (!stored) throw new Error('one-time token for an unknown user');
    return token;
  }

  /**
   * Uses a token up: returns its grant the first time, null for anything else (unknown,
   * tampered, other purpose, expired, already used). The caller answers all of those alike.
   */
  async consume(purpose: TokenPurpose, token: unknown, tx?: Queryable): Promise<TokenGrant | null> {
    if (!isTokenShaped(token)) return null;
    return (await this.repo.consume(hashToken(token), purpose, this.clock.now(), tx ?? this.db)) ?? null;
  }

  /** Whether a token would be accepted now, without using it (e.g. to show the reset form). */
  async peek(purpose: TokenPurpose, token: unknown, tx?: Queryable): Promise<TokenGrant | null> {
    if (!isTokenShaped(token)) return null;
    return (await this.repo.peek(hashToken(token), purpose, this.clock.now(), tx ?? this.db)) ?? null;
  }

  /**
   * Kills a user's unused tokens: of one purpose, or of every purpose when omitted (after a
   * password reset, every outstanding link dies). Returns how many were revoked.
   */
  async revoke(userId: string, purpose?: TokenPurpose, tx?: Queryable): Promise<number> {
    return this.repo.revoke(userId, purpose ?? null, this.clock.now(), tx ?? this.db);
  }

  /**
   * Ends every outstanding link of the account, of every purpose, at once: raises its credential
   * version (tokens issued under an older one are refused from now on, even one whose issuing
   * transaction has not committed yet) and marks the unused ones used. Call it in the
   * transaction of the change.
   */
  async endAll(userId: string, tx?: Queryable): Promise<number> {
    const q = tx ?? this.db;
    await this.users.bumpCredentialVersion(userId, q);
    return this.revoke(userId, undefined, q);
  }

  /** Deletes tokens expired or used before `before` (housekeeping). */
  async deleteStale(before: Date, tx?: Queryable): Promise<number> {
    return this.repo.deleteStale(before, tx ?? this.db);
  }
}
