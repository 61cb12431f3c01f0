/**
 * The login challenge: after the password, a login that needs a second factor gets an
 * `mfaToken` bound to its client. Verifying spends the factor and consumes the challenge in one
 * transaction: if either loses its race, both roll back. Passkeys (passkeys.ts) complete the same
 * challenges.
 */
import type { Queryable } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import type { RequestContext } from '../audit/event.js';
import {
  MFA_MAX_ATTEMPTS,
  MFA_TOKEN_TTL_MS,
  type FactorInput,
  type MfaCore,
  type MfaMethod,
  type VerifiedFactor,
} from './core.js';
import { newToken, sameText, tokenHash } from './crypto.js';
import { mfaErrors } from './errors.js';
import type { FactorChecks } from './factors.js';
import type { ChallengeRow } from './repository.js';

/** A live login challenge of this client, with the attempt it took. */
export type TakenChallenge = ChallengeRow & { userId: string; attempt: number };

/** Thrown inside a transaction to roll it back; never leaves this module. */
class Rollback extends Error {
  constructor(readonly reason: 'factor' | 'challenge') {
    super(reason);
  }
}

export class LoginChallenges {
  constructor(
    private readonly core: MfaCore,
    private readonly factors: FactorChecks,
  ) {}

  /** Starts the second step of a login: a random 256-bit mfaToken, stored hashed with its binding. */
  async createLoginChallenge(
    userId: string,
    binding: string,
    ctx: RequestContext,
    methods: readonly MfaMethod[],
  ): Promise<{ mfaToken: string; expiresAt: Date }> {
    const { core } = this;
    const mfaToken = newToken();
    const now = core.now();
    const expiresAt = new Date(now.getTime() + MFA_TOKEN_TTL_MS);
    await core.d.db.transaction(async (tx) => {
      await core.repo.challenges.createChallenge(
        {
          id: newId(),
          kind: 'login',
          tokenHash: tokenHash(mfaToken),
          userId,
          bindingHash: binding,
          webauthnChallenge: null,
          expiresAt,
        },
        now,
        tx,
      );
      await core.audit('mfa.challenge.issued', userId, 'success', ctx, { methods }, tx);
    });
    return { mfaToken, expiresAt };
  }

  /**
   * The live login challenge of an mfaToken presented by this client, after taking one attempt
   * from it. Everything that is not a live challenge of this client answers MFA_TOKEN_INVALID.
   */
  async takeLoginChallenge(mfaToken: string, binding: string, ctx: RequestContext): Promise<TakenChallenge> {
    const { core } = this;
    const ch = await core.repo.challenges.getChallenge('login', tokenHash(mfaToken));
    const now = core.now();
    if (!ch || !ch.userId || ch.usedAt !== null || ch.expiresAt.getTime() <= now.getTime()) {
      await core.audit('mfa.verify.failed', ch?.userId ?? 'anonymous', 'failure', ctx, {
        reason: ch ? 'token_spent_or_expired' : 'token_unknown',
      });
      throw mfaErrors.tokenInvalid();
    }
    // The token was issued to another client: someone replaying a stolen mfaToken. The attempt
    // is taken (a thief burns the challenge down) and the answer is the same as for a dead token.
    const attempt = await core.repo.challenges.takeAttempt(ch.id, MFA_MAX_ATTEMPTS, now);
    if (!sameText(ch.bindingHash, binding)) {
      await this.factors.factorFailed(ch.userId, 'none', ctx, { reason: 'binding_mismatch' });
      throw mfaErrors.tokenInvalid();
    }
    if (attempt === null) {
      await core.audit('mfa.verify.failed', ch.userId, 'failure', ctx, { reason: 'token_out_of_attempts' });
      throw mfaErrors.tokenInvalid();
    }
    return { ...ch, userId: ch.userId, attempt };
  }

  /**
   * Completes a login challenge with a code: the factor and the challenge are spent together or
   * not at all. Returns who logged in and the methods used.
   */
  async verifyLogin(
    mfaToken: string,
    factor: FactorInput,
    binding: string,
    ctx: RequestContext,
  ): Promise<{ userId: string; factor: VerifiedFactor }> {
    const ch = await this.takeLoginChallenge(mfaToken, binding, ctx);
    return this.completeChallenge(ch, ctx, 'code' in factor ? 'totp' : 'backup_code', (tx) =>
      this.factors.spendFactor(ch.userId, factor, tx),
    );
  }

  /** Shared by codes and passkeys: spend the factor and consume the challenge in one transaction. */
  async completeChallenge(
    ch: TakenChallenge,
    ctx: RequestContext,
    method: MfaMethod,
    spend: (tx: Queryable) => Promise<VerifiedFactor | null>,
  ): Promise<{ userId: string; factor: VerifiedFactor }> {
    const { core } = this;
    const outcome = await this.factors.underLockout(ch.userId, async () => {
      try {
        const spent = await core.d.db.transaction(async (tx) => {
          if (!(await core.repo.challenges.consumeChallenge(ch.id, core.now(), tx))) throw new Rollback('challenge');
          const factor = await spend(tx);
          if (!factor) throw new Rollback('factor');
          return factor;
        });
        return { verdict: 'pass' as const, value: spent as VerifiedFactor | Rollback['reason'] };
      } catch (err) {
        if (!(err instanceof Rollback)) throw err;
        // A spent challenge says nothing about the code: only a wrong factor counts as a failure.
        return { verdict: err.reason === 'factor' ? ('fail' as const) : ('none' as const), value: err.reason };
      }
    });
    if (outcome === 'challenge') {
      await core.audit('mfa.verify.failed', ch.userId, 'failure', ctx, { method, reason: 'token_spent_or_expired' });
      throw mfaErrors.tokenInvalid();
    }
    if (outcome === 'factor') {
      const attemptsLeft = Math.max(0, MFA_MAX_ATTEMPTS - ch.attempt);
      await core.audit('mfa.verify.failed', ch.userId, 'failure', ctx, {
        method,
        purpose: 'login',
        attempt: ch.attempt,
        attemptsLeft,
      });
      throw mfaErrors.codeInvalid({ attemptsLeft });
    }
    await core.audit('mfa.verify.succeeded', ch.userId, 'success', ctx, { method, purpose: 'login' });
    await this.factors.afterFactor(ch.userId, outcome, ctx, 'login');
    return { userId: ch.userId, factor: outcome };
  }
}
